/**
 * The SQL of repayments and automatic collection: a loan's instalments still open, what a payment puts on each, the
 * loan transaction that records it, the loan's closing, and the loans a collection run or an inbound credit looks at.
 * Every function takes the executor (or transaction) it runs on; the callers hold the loan's row lock (`lockLoan`)
 * while they change a loan.
 */
import { and, asc, eq, gt, inArray, lte, ne, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import type { ScheduleLine } from './loans.schedule.ts';
import {
  type InstalmentState,
  loanInstalments,
  loanProducts,
  loans,
  loanTransactions,
} from './loans.tables.ts';

export type InstalmentRow = typeof loanInstalments.$inferSelect;
export type LoanTransactionRow = typeof loanTransactions.$inferSelect;
export type LoanTransactionInsert = typeof loanTransactions.$inferInsert;
type LoanRow = typeof loans.$inferSelect;

/** A loan by id with its product's code, without a lock (the checks before the use case's transaction). */
export async function loanById(
  executor: Executor,
  id: string,
): Promise<(LoanRow & { productCode: string }) | undefined> {
  const [row] = await executor
    .select({ loan: loans, productCode: loanProducts.code })
    .from(loans)
    .innerJoin(loanProducts, eq(loanProducts.id, loans.productId))
    .where(eq(loans.id, id))
    .limit(1);
  return row ? { ...row.loan, productCode: row.productCode } : undefined;
}

/** The loan's instalments not yet paid in full, oldest first. */
export function openInstalments(executor: Executor, loanId: string): Promise<InstalmentRow[]> {
  return executor
    .select()
    .from(loanInstalments)
    .where(and(eq(loanInstalments.loanId, loanId), ne(loanInstalments.status, 'paid')))
    .orderBy(asc(loanInstalments.seq));
}

/** What one payment adds to an instalment, per part, with the instalment's state after it. */
export interface InstalmentPayment {
  seq: number;
  penalty: bigint;
  fee: bigint;
  interest: bigint;
  principal: bigint;
  status: InstalmentState;
  /** The interest due after the payment (lowered only when an early payoff waives interest not yet run). */
  interestDue: bigint;
  /** Interest recognised after the payment: interest paid before it was recognised counts as recognised. */
  interestAccrued: bigint;
  paidAt: Date | null;
}

/**
 * Adds the payment to the instalment's paid columns (the table's CHECK refuses paying more than is due, so two
 * movements can never together over-allocate even if a caller forgot the loan's lock).
 */
export async function payInstalment(tx: Executor, loanId: string, payment: InstalmentPayment): Promise<void> {
  await tx
    .update(loanInstalments)
    .set({
      penaltyPaid: sql`${loanInstalments.penaltyPaid} + ${payment.penalty}`,
      feePaid: sql`${loanInstalments.feePaid} + ${payment.fee}`,
      interestPaid: sql`${loanInstalments.interestPaid} + ${payment.interest}`,
      principalPaid: sql`${loanInstalments.principalPaid} + ${payment.principal}`,
      interestDue: payment.interestDue,
      interestAccrued: payment.interestAccrued,
      status: payment.status,
      paidAt: payment.paidAt,
    })
    .where(and(eq(loanInstalments.loanId, loanId), eq(loanInstalments.seq, payment.seq)));
}

/**
 * Replaces the instalments after `afterSeq` with a recast schedule (a prepayment that reduced the term or the
 * instalment); the new lines are numbered from afterSeq + 1.
 */
export async function replaceInstalmentsAfter(
  tx: Executor,
  loanId: string,
  afterSeq: number,
  lines: readonly ScheduleLine[],
  recognised: ReadonlyMap<number, bigint>,
): Promise<void> {
  await tx
    .delete(loanInstalments)
    .where(and(eq(loanInstalments.loanId, loanId), gt(loanInstalments.seq, afterSeq)));
  if (lines.length === 0) return;
  await tx.insert(loanInstalments).values(
    lines.map((line, index) => ({
      loanId,
      seq: afterSeq + index + 1,
      dueDate: line.due_date,
      principalDue: line.principal_due,
      interestDue: line.interest_due,
      feeDue: line.fee_due,
      interestAccrued: recognised.get(afterSeq + index + 1) ?? 0n,
      status: 'pending' as const,
    })),
  );
}

export async function transactionByKey(
  executor: Executor,
  dedupeKey: string,
): Promise<LoanTransactionRow | undefined> {
  const [row] = await executor
    .select()
    .from(loanTransactions)
    .where(eq(loanTransactions.dedupeKey, dedupeKey))
    .limit(1);
  return row;
}

export async function insertLoanTransaction(
  tx: Executor,
  values: LoanTransactionInsert,
): Promise<LoanTransactionRow> {
  const [row] = await tx.insert(loanTransactions).values(values).returning();
  return row!;
}

export async function closeLoan(tx: Executor, loanId: string, at: Date): Promise<void> {
  await tx
    .update(loans)
    .set({
      status: 'closed',
      closedAt: at,
      arrearsBucket: 'current',
      daysPastDue: 0,
      updatedAt: at,
    })
    .where(eq(loans.id, loanId));
}

/**
 * Active loans with an open instalment due on one of `dates` (the due date and the retry days after it), by id
 * after `afterId`: one page of a collection run.
 */
export async function loansDueOn(
  executor: Executor,
  dates: readonly string[],
  afterId: string | null,
  limit: number,
): Promise<{ id: string }[]> {
  if (dates.length === 0) return [];
  return executor
    .selectDistinct({ id: loans.id })
    .from(loans)
    .innerJoin(loanInstalments, eq(loanInstalments.loanId, loans.id))
    .where(
      and(
        eq(loans.status, 'active'),
        ne(loanInstalments.status, 'paid'),
        inArray(loanInstalments.dueDate, [...dates]),
        afterId ? gt(loans.id, afterId) : undefined,
      ),
    )
    .orderBy(asc(loans.id))
    .limit(limit);
}

/**
 * The customer's active loans collected from this wallet that have an open instalment due on or before `today`
 * (by customer first: loans are indexed by customer, and every completed payment asks).
 */
export async function loansOwingFromWallet(
  executor: Executor,
  customerId: string,
  walletId: string,
  today: string,
): Promise<{ id: string }[]> {
  return executor
    .selectDistinct({ id: loans.id })
    .from(loans)
    .innerJoin(loanInstalments, eq(loanInstalments.loanId, loans.id))
    .where(
      and(
        eq(loans.customerId, customerId),
        eq(loans.walletId, walletId),
        eq(loans.status, 'active'),
        ne(loanInstalments.status, 'paid'),
        lte(loanInstalments.dueDate, today),
      ),
    )
    .orderBy(asc(loans.id));
}
