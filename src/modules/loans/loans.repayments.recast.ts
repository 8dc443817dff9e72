/**
 * The schedule after a principal prepayment (overpayment policy `future_instalments`): the instalments not yet due
 * are laid out again by the schedule area's `prepaymentRecast` on the principal left, by the product's prepayment
 * policy — `reduce_instalment` keeps their number and lowers each; `reduce_term` keeps the instalment and drops the
 * instalments no longer needed from the end. A line keeps the interest already recognised on it (daily products)
 * and the fees the instalments carried.
 */
import { and, desc, eq, lte } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import type { LockedLoan } from './loans.ledger.ts';
import {
  type InstalmentRow,
  openInstalments,
  replaceInstalmentsAfter,
} from './loans.repayments.repository.ts';
import { prepaymentRecast } from './loans.schedule.recast.ts';
import type { ScheduleLine } from './loans.schedule.ts';
import { loanInstalments } from './loans.tables.ts';

const max = (a: bigint, b: bigint) => (a > b ? a : b);

/**
 * Lines for the instalments after the prepayment (pure): `prepaymentRecast` of the schedule area over what the
 * instalments not yet due still owe. When no principal is left, the running instalment keeps only its fee.
 */
export function recastLines(input: {
  loan: Pick<LockedLoan, 'terms' | 'currency'>;
  future: readonly InstalmentRow[];
  previousDue: string;
  principal: bigint;
}): ScheduleLine[] {
  const { loan, future, principal } = input;
  if (future.length === 0) return [];
  const remaining: ScheduleLine[] = future.map((row) => ({
    seq: row.seq,
    due_date: row.dueDate,
    principal_due: row.principalDue - row.principalPaid,
    interest_due: row.interestDue - row.interestPaid,
    fee_due: row.feeDue - row.feePaid,
  }));
  if (principal <= 0n) {
    const fees = remaining.reduce((sum, line) => sum + line.fee_due, 0n);
    return [{ ...remaining[0]!, principal_due: 0n, interest_due: 0n, fee_due: fees }];
  }
  return prepaymentRecast({
    outstanding: principal,
    currency: loan.currency,
    terms: loan.terms,
    remaining,
    periodStart: input.previousDue,
  });
}

/**
 * Recasts the loan's instalments not yet due after `prepayment` was credited to its principal account (the caller
 * holds the loan's lock and has already applied the payment to the instalments due).
 */
export async function recastAfterPrepayment(
  tx: Executor,
  loan: LockedLoan,
  today: string,
  prepayment: bigint,
): Promise<void> {
  const open = await openInstalments(tx, loan.id);
  const future = open.filter((row) => row.dueDate > today);
  if (future.length === 0) return;
  const first = future[0]!;
  const [previous] = await tx
    .select({ dueDate: loanInstalments.dueDate })
    .from(loanInstalments)
    .where(and(eq(loanInstalments.loanId, loan.id), lte(loanInstalments.seq, first.seq - 1)))
    .orderBy(desc(loanInstalments.seq))
    .limit(1);
  const previousDue = previous?.dueDate ?? loan.disbursedOn ?? today;
  const left = future.reduce((sum, row) => sum + row.principalDue - row.principalPaid, 0n) - prepayment;
  const lines = recastLines({ loan, future, previousDue, principal: left });
  const recognised = new Map(future.map((row) => [row.seq, row.interestAccrued]));
  const kept = lines
    .map((line) => ({ ...line, interest_due: max(line.interest_due, recognised.get(line.seq) ?? 0n) }))
    // A line that owes nothing would never be paid (and the loan never close).
    .filter((line) => line.principal_due + line.interest_due + line.fee_due > 0n);
  await replaceInstalmentsAfter(tx, loan.id, first.seq - 1, kept, recognised);
}
