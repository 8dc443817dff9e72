/**
 * Close-of-business test fixtures: an active loan inserted directly (schedule from generateSchedule, its four ledger
 * accounts, the disbursement posted from bank settlement), a repayment of one whole instalment by the design's rules
 * (interest beyond what was recognised goes straight to income), and snapshots of every table close of business
 * touches, so a rerun can be compared byte for byte.
 */
import { eq, sql } from 'drizzle-orm';
import { ledgerModule } from '../../src/modules/ledger/index.ts';
import { loansModule } from '../../src/modules/loans/index.ts';
import { LoanLedger, lockLoan } from '../../src/modules/loans/loans.ledger.ts';
import { generateSchedule } from '../../src/modules/loans/loans.schedule.ts';
import { loanInstalments, loans, loanTransactions } from '../../src/modules/loans/loans.tables.ts';
import { inTransaction, rawRows } from '../../src/platform/db.ts';
import { humanNumber, uuidv7 } from '../../src/platform/ids.ts';
import type { TestContext } from './app.ts';
import { insertApplication, type LoanCustomer, type TestProduct } from './loans.ts';

function larger(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

export function loanLedgerOf(t: TestContext): LoanLedger {
  return new LoanLedger(t.application.system.api(ledgerModule));
}

export function loansApi(t: TestContext) {
  return t.application.system.api(loansModule);
}

/** An active loan disbursed on `disbursedOn` (the principal posted from bank settlement, no fee). */
export async function insertActiveLoan(
  t: TestContext,
  input: {
    customer: LoanCustomer;
    product: TestProduct;
    principal: bigint;
    term: number;
    disbursedOn: string;
  },
): Promise<{ id: string; number: string }> {
  const ledger = loanLedgerOf(t);
  const db = t.deps.database.db;
  await ledger.ensureHouseAccounts(db, input.product.code, input.product.currency);
  const settlement = await ledger.ledger.houseAccount(`settlement:${input.product.currency}`);
  const applicationId = await insertApplication(t, {
    customerId: input.customer.id,
    product: input.product,
    amountMinor: input.principal,
    term: input.term,
    status: 'approved',
  });
  const lines = generateSchedule({
    principal: input.principal,
    currency: input.product.currency,
    term: input.term,
    terms: input.product.terms,
    disbursedOn: input.disbursedOn,
  });
  const id = uuidv7();
  const number = humanNumber('LN');
  await inTransaction(db, async (tx) => {
    await tx.insert(loans).values({
      id,
      number,
      applicationId,
      customerId: input.customer.id,
      productId: input.product.id,
      productVersion: input.product.version,
      terms: input.product.terms,
      currency: input.product.currency,
      principalMinor: input.principal,
      term: input.term,
      status: 'active',
      walletId: input.customer.wallet.id,
      disbursedOn: input.disbursedOn,
      disbursedAt: new Date(),
    });
    await tx.insert(loanInstalments).values(
      lines.map((line) => ({
        loanId: id,
        seq: line.seq,
        dueDate: line.due_date,
        principalDue: line.principal_due,
        interestDue: line.interest_due,
        feeDue: line.fee_due,
        status: 'pending' as const,
      })),
    );
    const accounts = await ledger.createLoanAccounts(tx, { id, number, currency: input.product.currency });
    const key = `loan:${id}:disbursement`;
    const batch = await ledger.postLoanMovement(tx, {
      key,
      code: 'loan_disbursement',
      loan: {
        id,
        number,
        currency: input.product.currency,
        productId: input.product.id,
        productCode: input.product.code,
        principalAccountId: accounts.principal,
        interestAccountId: accounts.interest,
        feeAccountId: accounts.fee,
        penaltyAccountId: accounts.penalty,
      },
      legs: [
        { debit: 'principal', credit: { account: settlement }, amount: input.principal, code: 'principal' },
      ],
      narration: `Loan ${number} disbursement`,
    });
    await tx.insert(loanTransactions).values({
      id: uuidv7(),
      loanId: id,
      type: 'disbursement',
      amountMinor: input.principal,
      currency: input.product.currency,
      ledgerBatchId: batch?.batchId ?? null,
      dedupeKey: key,
      businessDate: input.disbursedOn,
      actorType: 'system',
    });
  });
  return { id, number };
}

/** The parts a whole-instalment repayment pays, and how much of the interest the receivable holds. */
export interface InstalmentState {
  principalDue: bigint;
  interestDue: bigint;
  feeDue: bigint;
  penaltyDue: bigint;
  principalPaid: bigint;
  interestPaid: bigint;
  feePaid: bigint;
  penaltyPaid: bigint;
  interestAccrued: bigint;
}

export function wholeInstalmentPayment(row: InstalmentState) {
  const principal = row.principalDue - row.principalPaid;
  const interest = row.interestDue - row.interestPaid;
  const fee = row.feeDue - row.feePaid;
  const penalty = row.penaltyDue - row.penaltyPaid;
  const recognised = row.interestAccrued > row.interestPaid ? row.interestAccrued - row.interestPaid : 0n;
  const fromReceivable = interest < recognised ? interest : recognised;
  return {
    principal,
    interest,
    fee,
    penalty,
    fromReceivable,
    toIncome: interest - fromReceivable,
    total: principal + interest + fee + penalty,
  };
}

/** Staff record a bank payment of everything instalment `seq` owes, on business date `date`. */
export async function payInstalment(
  t: TestContext,
  loanId: string,
  seq: number,
  date: string,
): Promise<bigint> {
  const ledger = loanLedgerOf(t);
  const db = t.deps.database.db;
  const [head] = await db.select({ currency: loans.currency }).from(loans).where(eq(loans.id, loanId));
  const settlement = await ledger.ledger.houseAccount(`settlement:${head!.currency}`);
  return inTransaction(db, async (tx) => {
    const loan = (await lockLoan(tx, loanId))!;
    const [row] = await tx
      .select()
      .from(loanInstalments)
      .where(sql`${loanInstalments.loanId} = ${loanId} and ${loanInstalments.seq} = ${seq}`);
    const pay = wholeInstalmentPayment(row!);
    if (pay.total === 0n) return 0n;
    const key = `test-repayment:${loanId}:${seq}:${date}`;
    const batch = await ledger.postLoanMovement(tx, {
      key,
      code: 'loan_repayment',
      loan,
      legs: [
        { debit: { account: settlement }, credit: 'principal', amount: pay.principal, code: 'principal' },
        { debit: { account: settlement }, credit: 'interest', amount: pay.fromReceivable, code: 'interest' },
        { debit: { account: settlement }, credit: 'interest_income', amount: pay.toIncome, code: 'interest' },
        { debit: { account: settlement }, credit: 'fee', amount: pay.fee, code: 'fee' },
        { debit: { account: settlement }, credit: 'penalty', amount: pay.penalty, code: 'penalty' },
      ],
      narration: `Loan ${loan.number} repayment`,
    });
    await tx
      .update(loanInstalments)
      .set({
        principalPaid: row!.principalDue,
        interestPaid: row!.interestDue,
        feePaid: row!.feeDue,
        penaltyPaid: row!.penaltyDue,
        interestAccrued: larger(row!.interestAccrued, row!.interestDue),
        status: 'paid',
      })
      .where(sql`${loanInstalments.loanId} = ${loanId} and ${loanInstalments.seq} = ${seq}`);
    await tx.insert(loanTransactions).values({
      id: uuidv7(),
      loanId,
      type: 'repayment',
      amountMinor: pay.total,
      currency: loan.currency,
      source: 'bank',
      ledgerBatchId: batch?.batchId ?? null,
      dedupeKey: key,
      businessDate: date,
      actorType: 'user',
    });
    return pay.total;
  });
}

const SNAPSHOT_TABLES: Record<string, string> = {
  loans: 'id',
  loan_instalments: 'loan_id, seq',
  loan_transactions: 'dedupe_key',
  loan_interest_earned: 'loan_id, seq',
  loan_reminders_sent: 'loan_id, seq, kind',
  loan_collection_cases: 'id',
  loan_promises_to_pay: 'id',
  loan_cob_runs: 'business_date',
  ledger_accounts: 'id',
  ledger_batches: 'id',
  ledger_transfers: 'id',
  ledger_entries: 'id',
  ledger_deferred_deltas: 'id',
  notifications: 'id',
};

/** Every row of the tables close of business touches, as text (a rerun must leave it identical). */
export async function snapshot(t: TestContext): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [table, order] of Object.entries(SNAPSHOT_TABLES)) {
    const rows = await rawRows<{ row: string }>(
      t.deps.database.db,
      sql.raw(`select row_to_json(x)::text as row from ${table} x order by ${order}`),
    );
    out[table] = rows.map((r) => r.row).join('\n');
  }
  return out;
}
