/**
 * What closes a loan on a business date (a payoff or foreclosure quote): every unpaid principal, fee and penalty,
 * the interest recognised and unpaid, plus
 * - per_period products: the whole interest of the instalment whose period contains the date (Fineract's default
 *   for a foreclosure) — a period runs from the day after the previous due date (or the disbursement) to its own
 *   due date, so nothing of it is charged on the disbursement day or on the previous instalment's due date;
 * - daily products: the interest accrued to date, i.e. what close of business has already put in
 *   `interest_accrued` plus one `dailyInterest(outstanding principal)` for each day after `accruedThrough` up to and
 *   including the date (the convention: close of business for day D accrues the interest of the day ending on D,
 *   counting from the day after the disbursement — the same days the schedule projects).
 * Interest of later instalments is not charged. Interest already paid beyond what the quote charges (paid ahead on
 * a later instalment) is credited against the quoted interest.
 */
import type { InstalmentBalance } from './loans.allocation.ts';
import { daysBetween } from './loans.calendar.ts';
import { maxBigint, minBigint } from './loans.schedule.rational.ts';
import { dailyInterest } from './loans.schedule.ts';
import type { ProductTerms } from './loans.terms.ts';

/** An instalment's position; a `loan_instalments` row (drizzle's select type) fits as it is. */
export interface InstalmentPosition {
  seq: number;
  dueDate: string;
  principalDue: bigint;
  principalPaid: bigint;
  interestDue: bigint;
  interestPaid: bigint;
  /** Interest recognised so far (close of business). */
  interestAccrued: bigint;
  feeDue: bigint;
  feePaid: bigint;
  penaltyDue: bigint;
  penaltyPaid: bigint;
}

export interface PayoffInput {
  /** The business date the loan would close on (YYYY-MM-DD). */
  asOf: string;
  currency: string;
  terms: Pick<ProductTerms, 'annual_rate' | 'interest_calculation'>;
  disbursedOn: string;
  instalments: readonly InstalmentPosition[];
  /**
   * Daily products: the last business date whose day of interest is already in `interestAccrued` (the loan's last
   * close of business), or null when none has been accrued. Ignored for per_period products.
   */
  accruedThrough: string | null;
}

export interface PayoffQuote {
  asOf: string;
  principal: bigint;
  interest: bigint;
  fee: bigint;
  penalty: bigint;
  total: bigint;
  /** Daily products: the interest of the days after `accruedThrough` that close of business has not accrued yet. */
  unaccruedInterest: bigint;
  /**
   * What the quote counts as outstanding, per instalment in seq order (only instalments with something to pay):
   * `allocate(quote.total, quote.balances, order)` splits a payoff so that it leaves nothing, and interest the quote
   * does not charge (later periods) is not on it.
   */
  balances: InstalmentBalance[];
}

const positive = (value: bigint) => maxBigint(value, 0n);

/** The payoff quote on `asOf` (see the file comment). */
export function payoffQuote(input: PayoffInput): PayoffQuote {
  const { asOf, currency, terms, disbursedOn } = input;
  const rows = [...input.instalments].sort((a, b) => a.seq - b.seq);
  const daily = terms.interest_calculation === 'daily';

  let principal = 0n;
  for (const row of rows) principal += positive(row.principalDue - row.principalPaid);

  // The instalment whose period contains asOf: the first not yet due (null once all are due).
  const currentIndex = rows.findIndex((row) => row.dueDate > asOf);
  const periodStart =
    currentIndex < 0 ? null : currentIndex === 0 ? disbursedOn : rows[currentIndex - 1]!.dueDate;

  let unaccruedInterest = 0n;
  if (daily) {
    const since = input.accruedThrough ?? disbursedOn;
    const days = Math.min(daysBetween(since, asOf), daysBetween(disbursedOn, asOf));
    if (days > 0) unaccruedInterest = BigInt(days) * dailyInterest(principal, terms, currency);
  }
  // Where the unaccrued days land: the current instalment, or the last one once all are due.
  const pendingIndex = currentIndex < 0 ? rows.length - 1 : currentIndex;

  const charged = rows.map((row, index) => {
    if (daily) {
      const recognised =
        row.dueDate <= asOf ? maxBigint(row.interestDue, row.interestAccrued) : row.interestAccrued;
      return recognised + (index === pendingIndex ? unaccruedInterest : 0n);
    }
    if (row.dueDate <= asOf) return maxBigint(row.interestDue, row.interestAccrued);
    if (index === currentIndex && periodStart !== null && asOf > periodStart) return row.interestDue;
    return row.interestAccrued;
  });

  // Interest paid ahead on instalments the quote does not charge is credited, oldest balance first.
  let credit = 0n;
  rows.forEach((row, index) => {
    credit += positive(row.interestPaid - charged[index]!);
  });

  const balances: InstalmentBalance[] = [];
  let interest = 0n;
  let fee = 0n;
  let penalty = 0n;
  rows.forEach((row, index) => {
    let rowInterest = positive(charged[index]! - row.interestPaid);
    const credited = minBigint(credit, rowInterest);
    rowInterest -= credited;
    credit -= credited;
    const balance: InstalmentBalance = {
      seq: row.seq,
      penalty: positive(row.penaltyDue - row.penaltyPaid),
      fee: positive(row.feeDue - row.feePaid),
      interest: rowInterest,
      principal: positive(row.principalDue - row.principalPaid),
    };
    interest += balance.interest;
    fee += balance.fee;
    penalty += balance.penalty;
    if (balance.penalty + balance.fee + balance.interest + balance.principal > 0n) balances.push(balance);
  });

  return {
    asOf,
    principal,
    interest,
    fee,
    penalty,
    total: principal + interest + fee + penalty,
    unaccruedInterest,
    balances,
  };
}
