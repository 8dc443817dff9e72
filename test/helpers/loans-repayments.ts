/**
 * An active (disbursed) loan for the repayment and collection tests, inserted directly with the instalments a test
 * needs, due relative to today: the loan's four ledger accounts are created and funded as disbursement and close of
 * business would leave them (principal, recognised interest of the instalments already due, fees, penalties), so the
 * ledger balances equal what the instalments owe. The disbursement's counter-entry is the settlement account, not the
 * wallet, so a test decides what the wallet holds.
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { loansModule } from '../../src/modules/loans/index.ts';
import { addDays } from '../../src/modules/loans/loans.calendar.ts';
import { LoanLedger, type LoanLeg } from '../../src/modules/loans/loans.ledger.ts';
import { loanInstalments, loans } from '../../src/modules/loans/loans.tables.ts';
import { inTransaction } from '../../src/platform/db.ts';
import { humanNumber, uuidv7 } from '../../src/platform/ids.ts';
import type { TestContext } from './app.ts';
import { insertApplication, type LoanCustomer, type TestProduct } from './loans.ts';

export interface InstalmentSpec {
  /** Days from today (negative: already due). */
  dueIn: number;
  principal: bigint;
  interest: bigint;
  fee?: bigint;
  penalty?: bigint;
  /** Interest recognised so far (default: all of it once due, none before). */
  accrued?: bigint;
}

export interface ActiveLoan {
  id: string;
  number: string;
  principal: bigint;
}

/** Today's business date (UTC). */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

export async function activeLoan(
  t: TestContext,
  customer: LoanCustomer,
  product: TestProduct,
  instalments: InstalmentSpec[],
  options: { accruedThrough?: string } = {},
): Promise<ActiveLoan> {
  const db = t.deps.database.db;
  const principal = instalments.reduce((sum, line) => sum + line.principal, 0n);
  const applicationId = await insertApplication(t, {
    customerId: customer.id,
    product,
    amountMinor: principal,
    term: instalments.length,
    status: 'approved',
  });
  const id = uuidv7();
  const number = humanNumber('LN');
  const now = today();
  const ledger = new LoanLedger(t.application.ledger);
  await ledger.ensureHouseAccounts(db, product.code, product.currency);
  const settlement = await t.application.ledger.houseAccount(`settlement:${product.currency}`);
  await inTransaction(db, async (tx) => {
    await tx.insert(loans).values({
      id,
      number,
      applicationId,
      customerId: customer.id,
      productId: product.id,
      productVersion: product.version,
      terms: product.terms,
      currency: product.currency,
      principalMinor: principal,
      term: instalments.length,
      status: 'active',
      walletId: customer.wallet.id,
      disbursedAt: new Date(),
      disbursedOn: addDays(now, instalments[0]!.dueIn - 30),
      accruedThrough: options.accruedThrough ?? null,
    });
    await tx.insert(loanInstalments).values(
      instalments.map((line, index) => ({
        loanId: id,
        seq: index + 1,
        dueDate: addDays(now, line.dueIn),
        principalDue: line.principal,
        interestDue: line.interest,
        feeDue: line.fee ?? 0n,
        penaltyDue: line.penalty ?? 0n,
        interestAccrued: accruedOf(line),
        status: line.dueIn < 0 ? ('overdue' as const) : ('pending' as const),
      })),
    );
    const accounts = await ledger.createLoanAccounts(tx, { id, number, currency: product.currency });
    const recognised = instalments.map((line) => ({ ...line, interest: accruedOf(line) }));
    const sum = (lines: InstalmentSpec[], pick: (line: InstalmentSpec) => bigint | undefined) =>
      lines.reduce((total, line) => total + (pick(line) ?? 0n), 0n);
    const legs: LoanLeg[] = [
      { debit: 'principal', credit: { account: settlement }, amount: principal, code: 'principal' },
      {
        debit: 'interest',
        credit: 'interest_income',
        amount: sum(recognised, (l) => l.interest),
        code: 'interest',
      },
      { debit: 'fee', credit: 'fee_income', amount: sum(instalments, (l) => l.fee), code: 'fee' },
      {
        debit: 'penalty',
        credit: 'penalty_income',
        amount: sum(instalments, (l) => l.penalty),
        code: 'penalty',
      },
    ];
    await ledger.postLoanMovement(tx, {
      key: `test-loan:${randomUUID()}`,
      code: 'loan_disbursement',
      loan: {
        id,
        number,
        currency: product.currency,
        productId: product.id,
        productCode: product.code,
        ...ids(accounts),
      },
      legs,
      narration: `Loan ${number} disbursement`,
    });
  });
  return { id, number, principal };
}

function accruedOf(line: InstalmentSpec): bigint {
  return line.accrued ?? (line.dueIn <= 0 ? line.interest : 0n);
}

function ids(accounts: Record<'principal' | 'interest' | 'fee' | 'penalty', string>) {
  return {
    principalAccountId: accounts.principal,
    interestAccountId: accounts.interest,
    feeAccountId: accounts.fee,
    penaltyAccountId: accounts.penalty,
  };
}

/** The repayments area of the running app. */
export function repaymentsOf(t: TestContext) {
  return t.application.system.api(loansModule).repayments;
}

/** The loan's instalments, oldest first, with amounts as bigint. */
export async function instalmentsOf(t: TestContext, loanId: string) {
  return t.deps.database.db
    .select()
    .from(loanInstalments)
    .where(eq(loanInstalments.loanId, loanId))
    .orderBy(loanInstalments.seq);
}

/** The loan row. */
export async function loanRow(t: TestContext, loanId: string) {
  const [row] = await t.deps.database.db.select().from(loans).where(eq(loans.id, loanId));
  return row!;
}

/** The balances of the loan's four ledger accounts. */
export async function loanBalances(t: TestContext, loanId: string) {
  const ledger = new LoanLedger(t.application.ledger);
  return ledger.loanOutstanding(t.deps.database.db, await loanRow(t, loanId));
}
