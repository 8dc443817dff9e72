/**
 * Close of business for one loan and one business date, inside the caller's short transaction (the loan row locked
 * first, so a repayment on the same loan waits). Idempotent per date: a loan whose `last_cob_date` is the date (or
 * later) is left alone, and `last_cob_date` is set in the same transaction as everything else, so a rerun changes
 * nothing and a crash resumes where it stopped. Ledger keys derive from (loan, date, kind), a second line of defence.
 *
 * - daily products: one day's `dailyInterest` on the outstanding principal for each day from `accrued_through` + 1
 *   to the date, into the instalment whose period holds the day (the first after an interest grace); an instalment's
 *   `interest_accrued` is max(earned, paid); once its due date has passed its `interest_due` is what it earned (or
 *   what was paid, if more);
 * - per-period products: on an instalment's due date its interest is recognised (`interest_accrued = interest_due`);
 * - what is newly recognised posts Dr interest receivable / Cr interest income;
 * - instalments due before the date and not fully paid become `overdue`; days past due count from the oldest one;
 * - the late penalty, once per instalment, `after_days` after its due date: Dr penalty receivable / Cr penalty income.
 */
import { and, asc, eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { addDays, assertBusinessDate, daysBetween } from './loans.calendar.ts';
import { loanInterestEarned } from './loans.cob.tables.ts';
import { type LoanLedger, type LockedLoan, lockLoan } from './loans.ledger.ts';
import { applyRatio, percentToRatio } from './loans.schedule.rational.ts';
import { dailyInterest } from './loans.schedule.ts';
import { loanInstalments, loans, loanTransactions } from './loans.tables.ts';
import { type ArrearsBucket, bucketOf, type ProductTerms } from './loans.terms.ts';

export type InstalmentRow = typeof loanInstalments.$inferSelect;

const max = (a: bigint, b: bigint) => (a > b ? a : b);

/** A business date from a request: a real calendar date, else 422 naming the field. */
export function checkedDate(value: string, field: string): string {
  try {
    return assertBusinessDate(value);
  } catch {
    throw commonErrors.validation(`${value} is not a calendar date`, {
      errors: [{ field, message: 'is not a calendar date (YYYY-MM-DD)' }],
    });
  }
}

/** Today's business date (UTC). */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** What an instalment still owes, all parts. */
export function unpaidOf(row: InstalmentRow): bigint {
  return (
    row.principalDue -
    row.principalPaid +
    (row.interestDue - row.interestPaid) +
    (row.feeDue - row.feePaid) +
    (row.penaltyDue - row.penaltyPaid)
  );
}

/** The late penalty on an overdue instalment: fixed, or a percent of what it owes (principal, interest, fee). */
export function latePenalty(terms: Pick<ProductTerms, 'late_penalty'>, row: InstalmentRow): bigint {
  const rule = terms.late_penalty;
  if (!rule) return 0n;
  if (rule.type === 'fixed') return BigInt(rule.value);
  const base =
    row.principalDue - row.principalPaid + (row.interestDue - row.interestPaid) + (row.feeDue - row.feePaid);
  return base > 0n ? applyRatio(base, percentToRatio(rule.value)) : 0n;
}

/** Which instalment a day's interest belongs to: the first due on or after it (the last past maturity). */
export function accrualTarget(
  rows: readonly InstalmentRow[],
  day: string,
  graceInterestPeriods: number,
): InstalmentRow {
  let target = rows.find((row) => row.dueDate >= day) ?? rows.at(-1)!;
  if (target.seq <= graceInterestPeriods)
    target = rows.find((row) => row.seq === graceInterestPeriods + 1) ?? target;
  return target;
}

export interface LoanDayOutcome {
  loan: LockedLoan;
  instalments: InstalmentRow[];
  /** The previous business date closed for the loan (its disbursement date before the first close). */
  previous: string;
  daysPastDue: number;
  bucket: ArrearsBucket;
  interestPosted: bigint;
  penaltyPosted: bigint;
}

/** The loan transaction and ledger posting of one close-of-business movement, keyed by (loan, date, kind). */
async function postCobMovement(
  tx: Executor,
  ledger: LoanLedger,
  loan: LockedLoan,
  date: string,
  kind: 'interest' | `penalty:${number}`,
  amount: bigint,
): Promise<void> {
  if (amount <= 0n) return;
  const key = `loan:${loan.id}:cob:${date}:${kind}`;
  const interest = kind === 'interest';
  const batch = await ledger.postLoanMovement(tx, {
    key,
    code: interest ? 'loan_interest_accrual' : 'loan_penalty',
    loan,
    legs: [
      interest
        ? { debit: 'interest', credit: 'interest_income', amount, code: 'interest' }
        : { debit: 'penalty', credit: 'penalty_income', amount, code: 'penalty' },
    ],
    narration: interest ? `Loan ${loan.number} interest ${date}` : `Loan ${loan.number} late penalty`,
  });
  await tx
    .insert(loanTransactions)
    .values({
      id: uuidv7(),
      loanId: loan.id,
      type: interest ? 'interest_accrual' : 'penalty',
      amountMinor: amount,
      currency: loan.currency,
      ledgerBatchId: batch?.batchId ?? null,
      dedupeKey: key,
      businessDate: date,
      actorType: 'system',
    })
    .onConflictDoNothing({ target: loanTransactions.dedupeKey });
}

/** Daily accrual: adds each day's interest to the instalments' earned interest; returns the seqs it changed. */
async function accrueDaily(
  tx: Executor,
  loan: LockedLoan,
  rows: InstalmentRow[],
  date: string,
): Promise<Map<number, bigint>> {
  const earned = new Map<number, bigint>();
  const from = loan.accruedThrough ?? loan.disbursedOn!;
  if (from >= date) return earned;
  const stored = await tx.select().from(loanInterestEarned).where(eq(loanInterestEarned.loanId, loan.id));
  for (const row of stored) earned.set(row.seq, row.earnedMinor);
  let principal = 0n;
  for (const row of rows) principal += row.principalDue - row.principalPaid;
  const daily = dailyInterest(principal, loan.terms, loan.currency);
  const grace = loan.terms.grace_interest_periods ?? 0;
  const added = new Map<number, bigint>();
  for (let day = addDays(from, 1); day <= date; day = addDays(day, 1)) {
    if (daily === 0n) break;
    const target = accrualTarget(rows, day, grace);
    added.set(target.seq, (added.get(target.seq) ?? 0n) + daily);
  }
  for (const [seq, amount] of added) {
    const total = (earned.get(seq) ?? 0n) + amount;
    earned.set(seq, total);
    await tx
      .insert(loanInterestEarned)
      .values({ loanId: loan.id, seq, earnedMinor: total })
      .onConflictDoUpdate({
        target: [loanInterestEarned.loanId, loanInterestEarned.seq],
        set: { earnedMinor: total },
      });
  }
  return earned;
}

/**
 * Closes `date` for the loan: returns null when there is nothing to do (not active, already closed for the date, or
 * disbursed later), else what it did (the caller adds reminders and collections in the same transaction).
 */
export async function closeLoanDay(
  tx: Executor,
  ledger: LoanLedger,
  loanId: string,
  date: string,
): Promise<LoanDayOutcome | null> {
  const loan = await lockLoan(tx, loanId);
  if (loan?.status !== 'active' || !loan.disbursedOn || loan.disbursedOn > date) return null;
  if (loan.lastCobDate && loan.lastCobDate >= date) return null;
  const rows = await tx
    .select()
    .from(loanInstalments)
    .where(eq(loanInstalments.loanId, loan.id))
    .orderBy(asc(loanInstalments.seq));
  if (rows.length === 0) return null;
  const before = new Map(rows.map((row) => [row.seq, { ...row }]));
  const daily = loan.terms.interest_calculation === 'daily';

  // Interest recognition.
  let interest = 0n;
  const earned = daily ? await accrueDaily(tx, loan, rows, date) : null;
  for (const row of rows) {
    const old = row.interestAccrued;
    if (earned) {
      const own = earned.get(row.seq) ?? 0n;
      row.interestAccrued = max(max(own, row.interestPaid), old);
      if (row.dueDate <= date) row.interestDue = max(own, row.interestPaid);
    } else if (row.dueDate <= date && row.interestAccrued < row.interestDue) {
      row.interestAccrued = row.interestDue;
    }
    interest += row.interestAccrued - old;
  }
  await postCobMovement(tx, ledger, loan, date, 'interest', interest);

  // Overdue, penalties, status.
  let penalties = 0n;
  let oldestUnpaid: string | null = null;
  for (const row of rows) {
    if (row.dueDate > date) continue;
    if (unpaidOf(row) <= 0n) {
      if (row.status !== 'paid') {
        row.status = 'paid';
        row.paidAt = new Date();
      }
      continue;
    }
    if (row.dueDate === date) {
      const anyPaid = row.principalPaid + row.interestPaid + row.feePaid + row.penaltyPaid > 0n;
      row.status = anyPaid ? 'partially_paid' : 'pending';
      continue;
    }
    row.status = 'overdue';
    row.paidAt = null;
    oldestUnpaid ??= row.dueDate;
    const rule = loan.terms.late_penalty;
    if (rule && !row.penaltyAppliedOn && daysBetween(row.dueDate, date) >= rule.after_days) {
      const penalty = latePenalty(loan.terms, row);
      row.penaltyAppliedOn = date;
      row.penaltyDue += penalty;
      penalties += penalty;
      await postCobMovement(tx, ledger, loan, date, `penalty:${row.seq}`, penalty);
    }
  }

  for (const row of rows) {
    const was = before.get(row.seq)!;
    if (
      was.interestAccrued === row.interestAccrued &&
      was.interestDue === row.interestDue &&
      was.status === row.status &&
      was.penaltyDue === row.penaltyDue &&
      was.penaltyAppliedOn === row.penaltyAppliedOn
    )
      continue;
    await tx
      .update(loanInstalments)
      .set({
        interestAccrued: row.interestAccrued,
        interestDue: row.interestDue,
        status: row.status,
        penaltyDue: row.penaltyDue,
        penaltyAppliedOn: row.penaltyAppliedOn,
        paidAt: row.paidAt,
      })
      .where(and(eq(loanInstalments.loanId, loan.id), eq(loanInstalments.seq, row.seq)));
  }

  const daysPastDue = oldestUnpaid ? daysBetween(oldestUnpaid, date) : 0;
  const bucket = bucketOf(daysPastDue);
  await tx
    .update(loans)
    .set({
      lastCobDate: date,
      accruedThrough: daily ? date : loan.accruedThrough,
      daysPastDue,
      arrearsBucket: bucket,
      updatedAt: new Date(),
    })
    .where(eq(loans.id, loan.id));
  return {
    loan,
    instalments: rows,
    previous: loan.lastCobDate ?? loan.disbursedOn,
    daysPastDue,
    bucket,
    interestPosted: interest,
    penaltyPosted: penalties,
  };
}
