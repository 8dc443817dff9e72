/**
 * The loans module's ledger accounting (docs/adr, "Loan accounting"): each loan owns four asset accounts (principal,
 * interest receivable, fee receivable, penalty receivable) whose balances ARE the loan's outstanding amounts; each
 * product and currency has house accounts for interest, fee and penalty income, write-off expense and recovery income.
 * Every loan movement (disbursement, repayment, accrual, penalty, write-off, recovery) posts through
 * `LoanLedger.postLoanMovement`, keyed by the loan transaction's dedupe key so a replay has one ledger effect.
 */
import { eq } from 'drizzle-orm';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { LedgerService, Leg, PostedBatch } from '../ledger/index.ts';
import { loanProducts, loans } from './loans.tables.ts';

export type LoanRow = typeof loans.$inferSelect;

/** The loan's own accounts (asset, guarded so they never go below zero). */
export const LOAN_PARTS = ['principal', 'interest', 'fee', 'penalty'] as const;
export type LoanPart = (typeof LOAN_PARTS)[number];

const PART_NAMES: Record<LoanPart, string> = {
  principal: 'principal outstanding',
  interest: 'interest receivable',
  fee: 'fees receivable',
  penalty: 'penalties receivable',
};

/** The product-level house accounts, one per product and currency: `<prefix>:<productCode>:<CUR>`. */
export const LOAN_HOUSE_ACCOUNTS = {
  interest_income: { prefix: 'loan_interest_income', name: 'Loan interest income', kind: 'income' },
  fee_income: { prefix: 'loan_fee_income', name: 'Loan fee income', kind: 'income' },
  penalty_income: { prefix: 'loan_penalty_income', name: 'Loan penalty income', kind: 'income' },
  write_off_expense: { prefix: 'loan_write_off_expense', name: 'Loan write-off expense', kind: 'expense' },
  recovery_income: { prefix: 'loan_recovery_income', name: 'Loan recovery income', kind: 'income' },
} as const;
export type LoanHouseAccount = keyof typeof LOAN_HOUSE_ACCOUNTS;

/** The code of a product's house account (`loan_fee_income:cash_advance:KES`). */
export function loanHouseCode(kind: LoanHouseAccount, productCode: string, currency: string): string {
  return `${LOAN_HOUSE_ACCOUNTS[kind].prefix}:${productCode}:${currency}`;
}

/** The code of one of the loan's own accounts (`loan:LN-5520193847:principal`). */
export function loanAccountCode(loanNumber: string, part: LoanPart): string {
  return `loan:${loanNumber}:${part}`;
}

/**
 * One side of a loan leg: one of the loan's own accounts by part, a product house account by kind, or any other
 * ledger account by id (the customer's wallet, `settlement:<CUR>`).
 */
export type LoanAccountRef = LoanPart | LoanHouseAccount | { account: string };

export interface LoanLeg {
  debit: LoanAccountRef;
  credit: LoanAccountRef;
  amount: bigint;
  /** What the leg is: principal, fee, interest, penalty, write_off, recovery … */
  code: string;
}

/** What `postLoanMovement` needs of the loan: its id, number, currency, product and ledger accounts. */
export type LoanForPosting = Pick<
  LoanRow,
  | 'id'
  | 'number'
  | 'currency'
  | 'productId'
  | 'principalAccountId'
  | 'interestAccountId'
  | 'feeAccountId'
  | 'penaltyAccountId'
> & { productCode: string };

export interface LoanOutstanding {
  principal: bigint;
  interest: bigint;
  fee: bigint;
  penalty: bigint;
  total: bigint;
}

const ZERO_OUTSTANDING: LoanOutstanding = { principal: 0n, interest: 0n, fee: 0n, penalty: 0n, total: 0n };

export type LockedLoan = LoanRow & { productCode: string };

/**
 * Locks the loan row until the transaction ends (every movement on a loan holds it: one at a time per loan) and
 * returns it with its product's code (what `postLoanMovement` needs for the house accounts).
 */
export async function lockLoan(tx: Executor, id: string): Promise<LockedLoan | undefined> {
  const [row] = await tx
    .select({ loan: loans, productCode: loanProducts.code })
    .from(loans)
    .innerJoin(loanProducts, eq(loanProducts.id, loans.productId))
    .where(eq(loans.id, id))
    .for('update', { of: loans });
  return row ? { ...row.loan, productCode: row.productCode } : undefined;
}

function isPart(ref: LoanAccountRef): ref is LoanPart {
  return typeof ref === 'string' && (LOAN_PARTS as readonly string[]).includes(ref);
}

export class LoanLedger {
  readonly ledger: LedgerService;

  constructor(ledger: LedgerService) {
    this.ledger = ledger;
  }

  /**
   * Creates the loan's four ledger accounts (at disbursement) and records their ids on the loan row; returns the
   * ids by part. Idempotent: a loan that already has them keeps them.
   */
  async createLoanAccounts(
    tx: Executor,
    loan: Pick<LoanRow, 'id' | 'number' | 'currency'> &
      Partial<
        Pick<LoanRow, 'principalAccountId' | 'interestAccountId' | 'feeAccountId' | 'penaltyAccountId'>
      >,
  ): Promise<Record<LoanPart, string>> {
    if (loan.principalAccountId && loan.interestAccountId && loan.feeAccountId && loan.penaltyAccountId)
      return {
        principal: loan.principalAccountId,
        interest: loan.interestAccountId,
        fee: loan.feeAccountId,
        penalty: loan.penaltyAccountId,
      };
    const ids = {} as Record<LoanPart, string>;
    for (const part of LOAN_PARTS) {
      const row = await this.ledger.createAccount(tx, {
        code: loanAccountCode(loan.number, part),
        name: `Loan ${loan.number} ${PART_NAMES[part]}`,
        currency: loan.currency,
        kind: 'asset',
        creditsMustNotExceedDebits: true,
      });
      ids[part] = row.id;
    }
    await tx
      .update(loans)
      .set({
        principalAccountId: ids.principal,
        interestAccountId: ids.interest,
        feeAccountId: ids.fee,
        penaltyAccountId: ids.penalty,
        updatedAt: new Date(),
      })
      .where(eq(loans.id, loan.id));
    return ids;
  }

  /**
   * The id of a product's house account (income and expense accounts take deltas, like `fee_income`: close of business
   * posts to them for every loan). Created on first use; `ensureHouseAccounts` creates them committed beforehand.
   */
  houseAccount(tx: Executor, kind: LoanHouseAccount, productCode: string, currency: string): Promise<string> {
    const spec = LOAN_HOUSE_ACCOUNTS[kind];
    return this.ledger.houseAccount(
      loanHouseCode(kind, productCode, currency),
      { name: `${spec.name} (${productCode})`, kind: spec.kind, deferred: true },
      tx,
    );
  }

  /**
   * Creates a product's house accounts in a transaction of their own (disbursement calls it first). The ledger caches
   * a house account's id once seen: one created inside a transaction that then rolled back would stay cached with
   * no row behind it, so they are created committed before any movement uses them.
   */
  async ensureHouseAccounts(db: Executor, productCode: string, currency: string): Promise<void> {
    await inTransaction(db, async (tx) => {
      for (const kind of Object.keys(LOAN_HOUSE_ACCOUNTS) as LoanHouseAccount[])
        await this.houseAccount(tx, kind, productCode, currency);
    });
  }

  async #resolve(tx: Executor, loan: LoanForPosting, ref: LoanAccountRef): Promise<string> {
    if (typeof ref === 'object') return ref.account;
    if (isPart(ref)) {
      const id = {
        principal: loan.principalAccountId,
        interest: loan.interestAccountId,
        fee: loan.feeAccountId,
        penalty: loan.penaltyAccountId,
      }[ref];
      if (!id) throw new Error(`loan ${loan.number} has no ${ref} account (not disbursed)`);
      return id;
    }
    return this.houseAccount(tx, ref, loan.productCode, loan.currency);
  }

  /**
   * Posts a loan movement in the caller's transaction: zero legs are dropped; `key` is the loan transaction's dedupe
   * key (a second posting with it returns the first batch); metadata `{loan_id, narration}`. Returns null when every
   * leg was zero (nothing to post). `caps`: credited accounts that must not exceed a cap (the wallet's max balance).
   */
  async postLoanMovement(
    tx: Executor,
    input: {
      key: string;
      code: string;
      loan: LoanForPosting;
      legs: LoanLeg[];
      narration: string;
      caps?: { accountId: string; cap: bigint }[];
    },
  ): Promise<PostedBatch | null> {
    const legs: Leg[] = [];
    for (const leg of input.legs) {
      if (leg.amount < 0n) throw new Error(`negative loan leg ${leg.code}: ${leg.amount}`);
      if (leg.amount === 0n) continue;
      legs.push({
        debit: await this.#resolve(tx, input.loan, leg.debit),
        credit: await this.#resolve(tx, input.loan, leg.credit),
        amount: leg.amount,
        code: leg.code,
      });
    }
    if (legs.length === 0) return null;
    return this.ledger.post(tx, {
      key: input.key,
      code: input.code,
      reference: input.loan.number,
      metadata: { loan_id: input.loan.id, narration: input.narration },
      legs,
      caps: input.caps,
    });
  }

  /** The loan's outstanding amounts: the balances of its four accounts (zero before disbursement). */
  async loanOutstanding(
    executor: Executor,
    loan: Pick<LoanRow, 'principalAccountId' | 'interestAccountId' | 'feeAccountId' | 'penaltyAccountId'>,
  ): Promise<LoanOutstanding> {
    const ids = {
      principal: loan.principalAccountId,
      interest: loan.interestAccountId,
      fee: loan.feeAccountId,
      penalty: loan.penaltyAccountId,
    };
    const present = Object.values(ids).filter((id): id is string => Boolean(id));
    if (present.length === 0) return { ...ZERO_OUTSTANDING };
    const rows = await this.ledger.accounts(present, executor);
    // The loan's accounts are never deferred: the posted totals are the balance.
    const byId = new Map(rows.map((row) => [row.id, row.debitsPosted - row.creditsPosted]));
    const out = { ...ZERO_OUTSTANDING };
    for (const part of LOAN_PARTS) {
      const id = ids[part];
      out[part] = id ? (byId.get(id) ?? 0n) : 0n;
    }
    out.total = out.principal + out.interest + out.fee + out.penalty;
    return out;
  }
}
