/**
 * Rebuilt schedules (reschedule, prepayment recast) and seeded property loops over random valid terms: principal
 * sums exactly, nothing is negative, due dates strictly increase and are working days.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addDays, holidayCalendar, isWeekday } from './loans.calendar.ts';
import {
  annuityInstalment,
  generateSchedule,
  periodRate,
  prepaymentRecast,
  reschedule,
  roundHalfEven,
  type ScheduleLine,
  scheduleTotals,
} from './loans.schedule.ts';
import {
  INTEREST_CALCULATIONS,
  INTEREST_METHODS,
  type ProductTerms,
  REPAYMENT_FREQUENCIES,
} from './loans.terms.ts';

function terms(overrides: Partial<ProductTerms> = {}): ProductTerms {
  return {
    min_amount_minor: '1',
    max_amount_minor: '1000000000000',
    min_term: 1,
    max_term: 400,
    frequency: 'monthly',
    interest_method: 'declining_equal_instalments',
    interest_calculation: 'per_period',
    annual_rate: '12',
    grace_principal_periods: 0,
    grace_interest_periods: 0,
    upfront_fee: null,
    late_penalty: null,
    allocation_order: ['penalty', 'fee', 'interest', 'principal'],
    prepayment: 'reduce_term',
    overpayment: 'future_instalments',
    eligibility: {},
    fraud_threshold: 70,
    auto_approve_limit_minor: '0',
    maker_checker_above_minor: '0',
    ...overrides,
  };
}

const reference = (overrides: Partial<ProductTerms> = {}) =>
  generateSchedule({
    principal: 10_000_000n,
    currency: 'KES',
    term: 12,
    terms: terms(overrides),
    disbursedOn: '2026-01-15',
  });

/** The reference loan after 3 instalments, with an extra principal payment of 10,000.00. */
function afterPrepayment(overrides: Partial<ProductTerms>) {
  const lines = reference(overrides);
  const remaining = lines.slice(3);
  const outstanding = scheduleTotals(remaining).principal - 1_000_000n;
  return { lines, remaining, outstanding, periodStart: lines[2]!.due_date };
}

describe('prepaymentRecast', () => {
  test('reduce_term keeps the 8,884.88 instalment and drops instalments from the end', () => {
    const { remaining, outstanding, periodStart } = afterPrepayment({});
    const lines = prepaymentRecast({ outstanding, currency: 'KES', terms: terms(), remaining, periodStart });
    assert.ok(lines.length < remaining.length);
    assert.equal(lines.length, 8);
    assert.equal(scheduleTotals(lines).principal, outstanding);
    for (const line of lines.slice(0, -1)) assert.equal(line.principal_due + line.interest_due, 888_488n);
    assert.ok(lines.at(-1)!.principal_due + lines.at(-1)!.interest_due <= 888_488n);
    assert.deepEqual(
      lines.map((line) => [line.seq, line.due_date]),
      remaining.slice(0, 8).map((line) => [line.seq, line.due_date]),
    );
    // The first remaining period is charged on the balance after the prepayment: 1 % of it.
    assert.equal(lines[0]!.interest_due, roundHalfEven(outstanding, 100n));
  });

  test('reduce_instalment keeps the count and the dates, with a smaller level instalment', () => {
    const { remaining, outstanding, periodStart } = afterPrepayment({});
    const lines = prepaymentRecast({
      outstanding,
      currency: 'KES',
      terms: terms(),
      policy: 'reduce_instalment',
      remaining,
      periodStart,
    });
    assert.equal(lines.length, 9);
    const level = annuityInstalment(outstanding, periodRate(terms()), 9);
    assert.ok(level < 888_488n);
    assert.equal(lines[0]!.principal_due + lines[0]!.interest_due, level);
    assert.equal(scheduleTotals(lines).principal, outstanding);
    assert.deepEqual(
      lines.map((line) => line.due_date),
      remaining.map((line) => line.due_date),
    );
  });

  test('equal principal, reduce_term: the principal part stays 8,333.33', () => {
    const { remaining, outstanding, periodStart } = afterPrepayment({
      interest_method: 'declining_equal_principal',
    });
    const lines = prepaymentRecast({
      outstanding,
      currency: 'KES',
      terms: terms({ interest_method: 'declining_equal_principal' }),
      remaining,
      periodStart,
    });
    for (const line of lines.slice(0, -1)) assert.equal(line.principal_due, 833_333n);
    assert.equal(scheduleTotals(lines).principal, outstanding);
    // 7,500,001 − 1,000,000 = 6,500,001: 7 × 833,333 and 666,670 on the eighth.
    assert.equal(lines.length, 8);
    assert.equal(lines.at(-1)!.principal_due, 666_670n);
  });

  test('nothing outstanding: no instalments left', () => {
    const { remaining, periodStart } = afterPrepayment({});
    assert.deepEqual(
      prepaymentRecast({ outstanding: 0n, currency: 'KES', terms: terms(), remaining, periodStart }),
      [],
    );
  });
});

describe('reschedule', () => {
  test('a new term and rate from a date, numbered on from the kept instalments, without a fee', () => {
    const base = terms({ upfront_fee: { mode: 'first_instalment', fixed_minor: '5000' } });
    const lines = reschedule({
      outstanding: 5_000_000n,
      currency: 'KES',
      terms: base,
      term: 6,
      annualRate: '18',
      from: '2026-06-10',
      firstSeq: 5,
    });
    assert.deepEqual(
      lines.map((line) => line.seq),
      [5, 6, 7, 8, 9, 10],
    );
    assert.equal(lines[0]!.due_date, '2026-07-10');
    assert.equal(lines[0]!.interest_due, 75_000n); // 1.5 % of 5,000,000
    assert.equal(lines[0]!.fee_due, 0n);
    assert.equal(scheduleTotals(lines).principal, 5_000_000n);
    const fresh = generateSchedule({
      principal: 5_000_000n,
      currency: 'KES',
      term: 6,
      terms: terms({ annual_rate: '18' }),
      disbursedOn: '2026-06-10',
    });
    assert.deepEqual(
      lines.map((line) => ({ ...line, seq: line.seq - 4 })),
      fresh,
    );
  });

  test("the product's grace is not granted again unless asked; the frequency may change", () => {
    const graced = terms({
      interest_method: 'declining_equal_principal',
      grace_principal_periods: 2,
      grace_interest_periods: 1,
    });
    const plain = reschedule({
      outstanding: 600_000n,
      currency: 'KES',
      terms: graced,
      term: 3,
      from: '2026-06-10',
      firstSeq: 1,
    });
    assert.ok(plain.every((line) => line.principal_due > 0n && line.interest_due > 0n));
    const weekly = reschedule({
      outstanding: 600_000n,
      currency: 'KES',
      terms: graced,
      term: 3,
      frequency: 'weekly',
      gracePrincipalPeriods: 1,
      from: '2026-06-10',
      firstSeq: 1,
      isWorkingDay: holidayCalendar(['2026-06-17']),
    });
    assert.deepEqual(
      weekly.map((line) => [line.due_date, line.principal_due]),
      [
        ['2026-06-18', 0n],
        ['2026-06-24', 300_000n],
        ['2026-07-01', 300_000n],
      ],
    );
  });

  test('impossible terms are refused', () => {
    assert.throws(() =>
      reschedule({
        outstanding: 1_000n,
        currency: 'KES',
        terms: terms(),
        term: 0,
        from: '2026-06-10',
        firstSeq: 1,
      }),
    );
    assert.throws(() =>
      reschedule({
        outstanding: 0n,
        currency: 'KES',
        terms: terms(),
        term: 3,
        from: '2026-06-10',
        firstSeq: 1,
      }),
    );
  });
});

/** A small deterministic generator (LCG): the same cases on every run. */
function seeded(seed: number) {
  let state = seed;
  return (limit: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state % limit;
  };
}

function checkLines(
  lines: ScheduleLine[],
  principal: bigint,
  start: string,
  workingDay: (d: string) => boolean,
) {
  assert.equal(scheduleTotals(lines).principal, principal);
  let previous = start;
  lines.forEach((line, index) => {
    assert.equal(line.seq, lines[0]!.seq + index);
    assert.ok(
      line.principal_due >= 0n && line.interest_due >= 0n && line.fee_due >= 0n,
      JSON.stringify(index),
    );
    assert.ok(line.due_date > previous, `${line.due_date} after ${previous}`);
    assert.ok(workingDay(line.due_date), `${line.due_date} is a working day`);
    previous = line.due_date;
  });
}

describe('properties over random valid terms', () => {
  test('generateSchedule and prepaymentRecast: exact principal, no negatives, increasing working due dates', () => {
    const next = seeded(20_261_207);
    const currencies = ['KES', 'UGX', 'KWD', 'JPY', 'USD'];
    for (let round = 0; round < 400; round += 1) {
      const frequency = REPAYMENT_FREQUENCIES[next(4)]!;
      const term = 1 + next(frequency === 'daily' ? 120 : 36);
      const t = terms({
        frequency,
        interest_method: INTEREST_METHODS[next(3)]!,
        interest_calculation: INTEREST_CALCULATIONS[next(2)]!,
        annual_rate: `${next(60)}.${next(100)}`,
        grace_principal_periods: next(3) === 0 ? next(term) : 0,
        grace_interest_periods: next(3) === 0 ? next(term) : 0,
        upfront_fee:
          next(2) === 0 ? { mode: 'first_instalment', fixed_minor: `${next(1000)}`, percent: '1.25' } : null,
        prepayment: next(2) === 0 ? 'reduce_term' : 'reduce_instalment',
      });
      const principal = BigInt(1 + next(1_000_000_000));
      const disbursedOn = addDays('2026-01-01', next(1500));
      const holidays = Array.from({ length: next(20) }, () => addDays(disbursedOn, next(400)));
      const workingDay = next(2) === 0 ? holidayCalendar(holidays) : isWeekday;
      const currency = currencies[next(currencies.length)]!;
      const lines = generateSchedule({
        principal,
        currency,
        term,
        terms: t,
        disbursedOn,
        isWorkingDay: workingDay,
      });
      assert.equal(lines.length, term);
      checkLines(lines, principal, disbursedOn, workingDay);
      lines.slice(0, t.grace_principal_periods).forEach((line) => {
        if (line.seq < term) assert.equal(line.principal_due, 0n);
      });
      lines.slice(0, t.grace_interest_periods).forEach((line) => {
        assert.equal(line.interest_due, 0n);
      });

      if (term < 2) continue;
      const cut = 1 + next(term - 1);
      const remaining = lines.slice(cut);
      const owed = scheduleTotals(remaining).principal;
      const outstanding = owed - BigInt(next(Number(owed > 1_000_000_000n ? 1_000_000_000n : owed + 1n)));
      const recast = prepaymentRecast({
        outstanding,
        currency,
        terms: t,
        remaining,
        periodStart: lines[cut - 1]!.due_date,
      });
      if (outstanding === 0n) assert.deepEqual(recast, []);
      else {
        checkLines(recast, outstanding, lines[cut - 1]!.due_date, workingDay);
        if (t.prepayment === 'reduce_instalment') assert.equal(recast.length, remaining.length);
        else assert.ok(recast.length <= remaining.length);
      }
    }
  });
});
