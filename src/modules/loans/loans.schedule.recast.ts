/**
 * Schedules rebuilt mid-life from an outstanding principal:
 * - `reschedule`: a new term (and maybe rate or frequency) from a date, for the collections area — the same
 *   arithmetic as a new loan's schedule, without an upfront fee and without the product's grace (unless given),
 *   numbered on from the instalments already kept; pass the holiday calendar as for a new schedule;
 * - `prepaymentRecast`: after an extra principal payment, the remaining instalments by the product's prepayment
 *   policy — `reduce_term` keeps the level (an annuity's instalment, or the principal part of flat and equal
 *   principal) and drops the instalments no longer needed; `reduce_instalment` keeps the count (and the due dates)
 *   and lowers the instalments.
 * Interest in a rebuilt schedule runs on the new outstanding (flat interest too) for whole periods: the first
 * remaining period is charged on the balance after the prepayment.
 */
import { dueDates, isWeekday, type WorkingDayTest } from './loans.calendar.ts';
import {
  type Period,
  periodsFrom,
  planLines,
  type ScheduleLine,
  scheduleProblems,
} from './loans.schedule.ts';
import type { PrepaymentPolicy, ProductTerms, RepaymentFrequency } from './loans.terms.ts';

export interface RescheduleInput {
  /** The principal the new schedule repays (minor units). */
  outstanding: bigint;
  currency: string;
  /** The terms the new schedule follows (frequency, interest method and calculation, rate, grace). */
  terms: ProductTerms;
  /** The new number of instalments. */
  term: number;
  /** A new nominal annual rate (percent), overriding terms.annual_rate. */
  annualRate?: string;
  /** A new repayment frequency, overriding terms.frequency. */
  frequency?: RepaymentFrequency;
  /**
   * Grace on the new schedule (instalments without principal / with interest deferred). Default none: the
   * product's grace belonged to the start of the original loan and is not granted again by a reschedule.
   */
  gracePrincipalPeriods?: number;
  graceInterestPeriods?: number;
  /** The date the new schedule counts from (its first period starts here). */
  from: string;
  /** The seq of the first new instalment (the number of instalments kept + 1). */
  firstSeq: number;
  isWorkingDay?: WorkingDayTest;
}

/** A new schedule for the outstanding principal (see the file comment). Refuses impossible terms (RangeError). */
export function reschedule(input: RescheduleInput): ScheduleLine[] {
  const terms: ProductTerms = {
    ...input.terms,
    annual_rate: input.annualRate ?? input.terms.annual_rate,
    frequency: input.frequency ?? input.terms.frequency,
    grace_principal_periods: input.gracePrincipalPeriods ?? 0,
    grace_interest_periods: input.graceInterestPeriods ?? 0,
    upfront_fee: null,
  };
  if (input.outstanding <= 0n) throw new RangeError('outstanding must be positive to reschedule');
  if (!Number.isInteger(input.firstSeq) || input.firstSeq < 1) throw new RangeError('firstSeq must be >= 1');
  const problems = scheduleProblems(terms, input.term);
  if (problems.length > 0) throw new RangeError(`Cannot reschedule: ${problems.join('; ')}`);
  const dates = dueDates(input.from, terms.frequency, input.term, input.isWorkingDay ?? isWeekday);
  return planLines({
    principal: input.outstanding,
    currency: input.currency,
    terms,
    periods: periodsFrom(input.from, dates),
    firstSeq: input.firstSeq,
    gracePrincipal: terms.grace_principal_periods,
    graceInterest: terms.grace_interest_periods,
    firstFee: 0n,
  });
}

export interface RecastInput {
  /** The principal still owed on `remaining` after the extra payment (minor units). */
  outstanding: bigint;
  currency: string;
  /** The loan's frozen terms. */
  terms: ProductTerms;
  /** Default terms.prepayment. */
  policy?: PrepaymentPolicy;
  /** The instalments not yet due, as scheduled before the prepayment, in seq order; their due dates are kept. */
  remaining: readonly ScheduleLine[];
  /** Where the first remaining period starts: the previous instalment's due date, or the disbursement date. */
  periodStart: string;
  /** Interest an interest grace deferred from instalments already due and not yet charged on any instalment. */
  deferredInterest?: bigint;
}

/** The most frequent value (the first seen among equals); undefined for none. */
function mostFrequent(values: readonly bigint[]): bigint | undefined {
  const counts = new Map<bigint, number>();
  let best: bigint | undefined;
  let bestCount = 0;
  for (const value of values) {
    const count = (counts.get(value) ?? 0) + 1;
    counts.set(value, count);
    if (count > bestCount) {
      best = value;
      bestCount = count;
    }
  }
  return best;
}

/**
 * The remaining instalments after a prepayment (see the file comment): the same seqs and due dates, fewer of them
 * for reduce_term. Empty when nothing is outstanding. Fees already on the remaining lines stay where they were.
 */
export function prepaymentRecast(input: RecastInput): ScheduleLine[] {
  const { outstanding, currency, terms, remaining } = input;
  if (outstanding < 0n) throw new RangeError('outstanding must not be negative');
  if (outstanding === 0n || remaining.length === 0) return [];
  const policy = input.policy ?? terms.prepayment;
  const firstSeq = remaining[0]!.seq;
  const periods: Period[] = periodsFrom(
    input.periodStart,
    remaining.map((line) => line.due_date),
  );
  const passed = firstSeq - 1;

  let level: bigint | undefined;
  if (policy === 'reduce_term') {
    const levelLines = remaining.slice(0, -1).filter((line) => line.principal_due > 0n);
    level = mostFrequent(
      levelLines.map((line) =>
        terms.interest_method === 'declining_equal_instalments'
          ? line.principal_due + line.interest_due
          : line.principal_due,
      ),
    );
  } else if (policy !== 'reduce_instalment') throw new RangeError(`Unknown prepayment policy "${policy}"`);

  const lines = planLines({
    principal: outstanding,
    currency,
    terms,
    periods,
    firstSeq,
    gracePrincipal: (terms.grace_principal_periods ?? 0) - passed,
    graceInterest: (terms.grace_interest_periods ?? 0) - passed,
    firstFee: 0n,
    instalment: level,
    deferredInterest: input.deferredInterest,
  });
  remaining.forEach((line, index) => {
    lines[index]!.fee_due = line.fee_due;
  });
  if (policy === 'reduce_instalment') return lines;

  // reduce_term: stop at the instalment that repays the last of the principal.
  let repaid = 0n;
  const kept: ScheduleLine[] = [];
  for (const line of lines) {
    kept.push(line);
    repaid += line.principal_due;
    if (repaid === outstanding) break;
  }
  // Fees (and interest still deferred by a grace) of dropped instalments are not lost: they fall due with the last
  // kept one. A dropped line carries no interest of its own: its balance is zero.
  const lastKept = kept[kept.length - 1]!;
  for (const line of lines.slice(kept.length)) {
    lastKept.fee_due += line.fee_due;
    lastKept.interest_due += line.interest_due;
  }
  return kept;
}
