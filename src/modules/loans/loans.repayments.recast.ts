/**
 * The schedule after a principal prepayment (overpayment policy `future_instalments`): the instalments not yet due
 * are laid out again by `planLines` over their own due dates on the principal left, by the product's prepayment
 * policy — `reduce_instalment` keeps their number and lowers each; `reduce_term` keeps the instalment (the level
 * annuity payment, or the principal per instalment) and drops the instalments no longer needed from the end. A
 * line keeps the interest already recognised on it (daily products) and the fee it carried.
 */
import { and, desc, eq, lte } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import type { LockedLoan } from './loans.ledger.ts';
import {
  type InstalmentRow,
  openInstalments,
  replaceInstalmentsAfter,
} from './loans.repayments.repository.ts';
import { type Period, planLines, type ScheduleLine } from './loans.schedule.ts';
import { loanInstalments } from './loans.tables.ts';

const max = (a: bigint, b: bigint) => (a > b ? a : b);

/** Lines for the instalments after the prepayment (pure). `previousDue`: where the first one's period starts. */
export function recastLines(input: {
  loan: Pick<LockedLoan, 'terms' | 'currency'>;
  future: readonly InstalmentRow[];
  previousDue: string;
  principal: bigint;
}): ScheduleLine[] {
  const { loan, future, principal } = input;
  if (future.length === 0) return [];
  const terms = loan.terms;
  const first = future[0]!;
  // Every principal prepaid: only what the running instalment carries (its fee) is left.
  if (principal <= 0n)
    return [
      { seq: first.seq, due_date: first.dueDate, principal_due: 0n, interest_due: 0n, fee_due: first.feeDue },
    ];
  const periods: Period[] = future.map((row, index) => ({
    from: index === 0 ? input.previousDue : future[index - 1]!.dueDate,
    due: row.dueDate,
  }));
  const elapsed = first.seq - 1;
  const base = {
    principal,
    currency: loan.currency,
    terms,
    firstSeq: first.seq,
    gracePrincipal: Math.max(0, (terms.grace_principal_periods ?? 0) - elapsed),
    graceInterest: Math.max(0, (terms.grace_interest_periods ?? 0) - elapsed),
    firstFee: first.feeDue,
  };
  if (terms.prepayment === 'reduce_instalment') return planLines({ ...base, periods });
  if (terms.interest_method === 'declining_equal_instalments') {
    // The level payment stays (the first future line's, unless it is the last, which carries the residual).
    const level = first.principalDue + first.interestDue;
    const lines = planLines({ ...base, periods, instalment: future.length > 1 ? level : undefined });
    while (lines.length > 1 && lines.at(-1)!.principal_due === 0n && lines.at(-1)!.fee_due === 0n)
      lines.pop();
    // The last line kept takes whatever principal is left.
    const placed = lines.reduce((sum, line) => sum + line.principal_due, 0n);
    lines.at(-1)!.principal_due += principal - placed;
    return lines;
  }
  const perLine = first.principalDue > 0n ? first.principalDue : principal;
  const needed = Number((principal + perLine - 1n) / perLine);
  const count = Math.max(1, Math.min(future.length, needed));
  return planLines({ ...base, periods: periods.slice(0, count) });
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
