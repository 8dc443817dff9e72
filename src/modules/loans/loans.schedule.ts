/**
 * A loan's repayment schedule, computed exactly: amounts are bigint minor units, rates are percent strings turned into
 * bigint fractions (loans.schedule.rational.ts), and each amount is rounded once, half-even, to whole minor units
 * (amounts are already minor units, so the currency's exponent is carried by the unit itself). The rounding residual
 * of principal — and of flat interest — goes on the last instalment, so the principal due always sums to the
 * principal exactly.
 *
 * Due dates count from the disbursement's business date (loans.calendar.ts). Interest:
 * - flat: on the original principal, for every period;
 * - declining_equal_instalments (annuity): on the outstanding balance, the level instalment computed over the periods
 *   that carry principal;
 * - declining_equal_principal: on the outstanding balance, the principal split evenly.
 * interest_calculation `per_period` charges the period rate (annual / 12, 26, 52 or 365) on the balance;
 * `daily` projects `dailyInterest(balance)` (annual / 365, rounded per day) for each actual day of the period —
 * exactly what close of business accrues day by day while the balance does not change.
 *
 * Grace: the first `grace_principal_periods` instalments carry no principal (an annuity is then computed over the
 * remaining periods). The first `grace_interest_periods` instalments carry no interest, and the interest they would
 * have carried is DEFERRED to the first instalment after the grace — Fineract's "grace on interest payment", not its
 * "grace on interest charged" (which waives it). Nothing is waived: the total interest is the same as without it.
 */
import { currencyInfo } from '../../platform/money.ts';
import { daysBetween, dueDates, isWeekday, type WorkingDayTest } from './loans.calendar.ts';
import {
  annuityInstalment,
  applyRatio,
  maxBigint,
  minBigint,
  percentToRatio,
  type Ratio,
  roundHalfEven,
} from './loans.schedule.rational.ts';
import type { ProductTerms, RepaymentFrequency } from './loans.terms.ts';

// The rest of the shared schedule functions, so callers find them all here.
export {
  type InstalmentPosition,
  type PayoffInput,
  type PayoffQuote,
  payoffQuote,
} from './loans.schedule.payoff.ts';
export type { Ratio } from './loans.schedule.rational.ts';
export { annuityInstalment, percentToRatio, roundHalfEven } from './loans.schedule.rational.ts';
export {
  prepaymentRecast,
  type RecastInput,
  type RescheduleInput,
  reschedule,
} from './loans.schedule.recast.ts';

export interface ScheduleLine {
  /** 1-based instalment number. */
  seq: number;
  due_date: string;
  principal_due: bigint;
  interest_due: bigint;
  fee_due: bigint;
}

export interface ScheduleInput {
  /** Minor units. */
  principal: bigint;
  currency: string;
  /** The number of instalments. */
  term: number;
  terms: ProductTerms;
  /** The disbursement's business date (YYYY-MM-DD): due dates count from it. */
  disbursedOn: string;
  /** Default Monday to Friday; pass `holidayCalendar(loan_holidays dates)` to skip holidays too. */
  isWorkingDay?: WorkingDayTest;
}

export const PERIODS_PER_YEAR: Readonly<Record<RepaymentFrequency, number>> = {
  daily: 365,
  weekly: 52,
  biweekly: 26,
  monthly: 12,
};

/** The day-count basis of daily interest: actual days over a 365-day year. */
export const DAYS_PER_YEAR = 365;

/** The nominal annual rate as a fraction (12 % → 12/100). */
export function annualRate(terms: Pick<ProductTerms, 'annual_rate'>): Ratio {
  return percentToRatio(terms.annual_rate);
}

/** The rate per repayment period: annual / 12 (monthly), 26 (biweekly), 52 (weekly) or 365 (daily). */
export function periodRate(terms: Pick<ProductTerms, 'annual_rate' | 'frequency'>): Ratio {
  const annual = annualRate(terms);
  const periods = PERIODS_PER_YEAR[terms.frequency];
  if (periods === undefined) throw new RangeError(`Unknown repayment frequency "${terms.frequency}"`);
  return { num: annual.num, den: annual.den * BigInt(periods) };
}

/** The rate for one day: annual / 365. */
export function dailyRate(terms: Pick<ProductTerms, 'annual_rate'>): Ratio {
  const annual = annualRate(terms);
  return { num: annual.num, den: annual.den * BigInt(DAYS_PER_YEAR) };
}

/**
 * One day's interest on an outstanding principal: outstanding × annual / 365, rounded half-even to whole minor
 * units. Close of business accrues exactly this each day; the schedule of a `daily` product projects it for each day
 * of a period. Zero for a zero or negative balance. Refuses an unknown currency.
 */
export function dailyInterest(
  outstanding: bigint,
  terms: Pick<ProductTerms, 'annual_rate'>,
  currency: string,
): bigint {
  currencyInfo(currency);
  if (outstanding <= 0n) return 0n;
  return applyRatio(outstanding, dailyRate(terms));
}

/**
 * The interest a balance earns over one period from `from` to `due`: the period rate for `per_period`, the actual
 * days × `dailyInterest` for `daily`.
 */
export function periodInterest(
  balance: bigint,
  terms: Pick<ProductTerms, 'annual_rate' | 'frequency' | 'interest_calculation'>,
  currency: string,
  from: string,
  due: string,
): bigint {
  if (balance <= 0n) return 0n;
  if (terms.interest_calculation === 'daily') {
    return BigInt(Math.max(0, daysBetween(from, due))) * dailyInterest(balance, terms, currency);
  }
  return applyRatio(balance, periodRate(terms));
}

/**
 * The upfront fee on a principal: fixed_minor + percent of the principal (rounded half-even); 0 without a fee.
 * Its mode says where it goes: `deduct` — withheld from the amount disbursed (the schedule's fee_due stays 0);
 * `first_instalment` — instalment 1's fee_due (generateSchedule puts it there).
 */
export function upfrontFee(
  principal: bigint,
  terms: Pick<ProductTerms, 'upfront_fee'>,
  currency: string,
): bigint {
  currencyInfo(currency);
  const fee = terms.upfront_fee;
  if (!fee) return 0n;
  const fixed = fee.fixed_minor ? BigInt(fee.fixed_minor) : 0n;
  if (fixed < 0n) throw new RangeError('upfront_fee.fixed_minor must not be negative');
  const percent = fee.percent ? applyRatio(principal, percentToRatio(fee.percent)) : 0n;
  return fixed + percent;
}

/** The fee withheld from the disbursement: upfrontFee for mode `deduct`, else 0. */
export function deductedFee(
  principal: bigint,
  terms: Pick<ProductTerms, 'upfront_fee'>,
  currency: string,
): bigint {
  return terms.upfront_fee?.mode === 'deduct' ? upfrontFee(principal, terms, currency) : 0n;
}

/** What keeps these terms from producing a schedule of `term` instalments (empty when they can). */
export function scheduleProblems(terms: ProductTerms, term: number): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(term) || term < 1)
    problems.push('term must be a positive whole number of instalments');
  if (PERIODS_PER_YEAR[terms.frequency] === undefined)
    problems.push(`unknown frequency "${terms.frequency}"`);
  try {
    percentToRatio(terms.annual_rate);
  } catch {
    problems.push('annual_rate must be a non-negative decimal percent');
  }
  const gp = terms.grace_principal_periods ?? 0;
  const gi = terms.grace_interest_periods ?? 0;
  if (!Number.isInteger(gp) || gp < 0) problems.push('grace_principal_periods must be a whole number >= 0');
  else if (gp >= term) problems.push('grace_principal_periods must be less than the term');
  if (!Number.isInteger(gi) || gi < 0) problems.push('grace_interest_periods must be a whole number >= 0');
  else if (gi >= term) problems.push('grace_interest_periods must be less than the term');
  const fee = terms.upfront_fee;
  if (fee) {
    if (fee.fixed_minor !== undefined && !/^(0|[1-9][0-9]*)$/.test(fee.fixed_minor))
      problems.push('upfront_fee.fixed_minor must be a whole number of minor units');
    if (fee.percent !== undefined) {
      try {
        percentToRatio(fee.percent);
      } catch {
        problems.push('upfront_fee.percent must be a non-negative decimal percent');
      }
    }
  }
  return problems;
}

/** One period of a plan: from the previous due date (or the disbursement) to its due date. */
export interface Period {
  from: string;
  due: string;
}

/** What `planLines` lays out: a balance over given periods (used by generateSchedule, reschedule and recasts). */
export interface Plan {
  principal: bigint;
  currency: string;
  terms: ProductTerms;
  periods: Period[];
  /** The seq of the first line (1 for a new schedule). */
  firstSeq: number;
  gracePrincipal: number;
  graceInterest: number;
  /** Fee due on the first line. */
  firstFee: bigint;
  /**
   * A level to keep (reduce_term): the annuity's instalment, or the principal part per line of flat / equal
   * principal. Computed from the principal and the periods that carry principal otherwise.
   */
  instalment?: bigint;
  /** Interest deferred by an interest grace before this plan starts, due with its first interest-bearing line. */
  deferredInterest?: bigint;
}

/** The schedule lines of a plan (see the file comment for the methods). */
export function planLines(plan: Plan): ScheduleLine[] {
  const { principal, currency, terms, periods } = plan;
  const n = periods.length;
  if (n < 1) throw new RangeError('a schedule needs at least one instalment');
  if (principal < 0n) throw new RangeError('principal must not be negative');
  const gp = Math.max(0, Math.min(plan.gracePrincipal, n - 1));
  const gi = Math.max(0, Math.min(plan.graceInterest, n - 1));
  const principalPeriods = n - gp;
  const method = terms.interest_method;
  const rate = periodRate(terms);

  const level =
    plan.instalment ??
    (method === 'declining_equal_instalments'
      ? annuityInstalment(principal, rate, principalPeriods)
      : roundHalfEven(principal, BigInt(principalPeriods)));
  // Flat per-period interest: the total over all periods, spread evenly with the residual on the last line.
  const flatTotal = roundHalfEven(principal * rate.num * BigInt(n), rate.den);
  const flatPart = roundHalfEven(flatTotal, BigInt(n));
  let flatCharged = 0n;

  let balance = principal;
  let deferred = plan.deferredInterest ?? 0n;
  const lines: ScheduleLine[] = [];
  for (let i = 0; i < n; i += 1) {
    const { from, due } = periods[i]!;
    const last = i === n - 1;
    let interest: bigint;
    if (method === 'flat') {
      if (terms.interest_calculation === 'daily')
        interest = periodInterest(principal, terms, currency, from, due);
      else {
        const left = flatTotal - flatCharged;
        interest = last ? left : minBigint(left, flatPart);
        flatCharged += interest;
      }
    } else interest = periodInterest(balance, terms, currency, from, due);

    let principalDue = 0n;
    if (i >= gp) {
      if (last) principalDue = balance;
      else {
        const wanted = method === 'declining_equal_instalments' ? level - interest : level;
        principalDue = minBigint(maxBigint(wanted, 0n), balance);
      }
    }
    balance -= principalDue;

    let interestDue: bigint;
    if (i < gi) {
      deferred += interest;
      interestDue = 0n;
    } else {
      interestDue = interest + deferred;
      deferred = 0n;
    }
    lines.push({
      seq: plan.firstSeq + i,
      due_date: due,
      principal_due: principalDue,
      interest_due: interestDue,
      fee_due: i === 0 ? plan.firstFee : 0n,
    });
  }
  return lines;
}

/** Periods between successive dates, the first starting on `start`. */
export function periodsFrom(start: string, dates: readonly string[]): Period[] {
  return dates.map((due, index) => ({ from: index === 0 ? start : dates[index - 1]!, due }));
}

/**
 * A new loan's schedule: `term` instalments from the disbursement date. Refuses (RangeError) terms that cannot
 * produce one — check `scheduleProblems` first to answer a 4xx.
 */
export function generateSchedule(input: ScheduleInput): ScheduleLine[] {
  const { principal, currency, term, terms, disbursedOn } = input;
  currencyInfo(currency);
  if (principal <= 0n) throw new RangeError('principal must be positive');
  const problems = scheduleProblems(terms, term);
  if (problems.length > 0) throw new RangeError(`Cannot build a schedule: ${problems.join('; ')}`);
  const dates = dueDates(disbursedOn, terms.frequency, term, input.isWorkingDay ?? isWeekday);
  return planLines({
    principal,
    currency,
    terms,
    periods: periodsFrom(disbursedOn, dates),
    firstSeq: 1,
    gracePrincipal: terms.grace_principal_periods ?? 0,
    graceInterest: terms.grace_interest_periods ?? 0,
    firstFee: terms.upfront_fee?.mode === 'first_instalment' ? upfrontFee(principal, terms, currency) : 0n,
  });
}

/** Totals of a schedule's lines. */
export function scheduleTotals(lines: readonly ScheduleLine[]): {
  principal: bigint;
  interest: bigint;
  fee: bigint;
} {
  let principal = 0n;
  let interest = 0n;
  let fee = 0n;
  for (const line of lines) {
    principal += line.principal_due;
    interest += line.interest_due;
    fee += line.fee_due;
  }
  return { principal, interest, fee };
}
