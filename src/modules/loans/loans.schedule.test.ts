/**
 * The schedule's money and dates, exactly: the reference vectors (KES 100,000.00 at 12 % over 12 months), the other
 * methods, grace, holidays, month-end clamping, 0- and 3-exponent currencies, and a seeded property loop.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  addMonths,
  addPeriods,
  daysBetween,
  dueDates,
  holidayCalendar,
  isWeekday,
  nextWorkingDay,
} from './loans.calendar.ts';
import {
  annuityInstalment,
  dailyInterest,
  deductedFee,
  generateSchedule,
  percentToRatio,
  periodRate,
  roundHalfEven,
  type ScheduleLine,
  scheduleProblems,
  scheduleTotals,
  upfrontFee,
} from './loans.schedule.ts';
import type { ProductTerms } from './loans.terms.ts';

function testTerms(overrides: Partial<ProductTerms> = {}): ProductTerms {
  return {
    min_amount_minor: '100000',
    max_amount_minor: '100000000',
    min_term: 1,
    max_term: 60,
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

const parts = (line: ScheduleLine) => [line.principal_due, line.interest_due, line.fee_due];

describe('the reference vectors (KES 100,000.00, 12 % nominal, 12 monthly instalments, per period)', () => {
  test('declining balance, equal instalments: 8,884.88 a month, 6,618.53 of interest', () => {
    const lines = generateSchedule({
      principal: 10_000_000n,
      currency: 'KES',
      term: 12,
      terms: testTerms(),
      disbursedOn: '2026-01-15',
    });
    assert.equal(lines.length, 12);
    assert.deepEqual(parts(lines[0]!), [788_488n, 100_000n, 0n]);
    assert.deepEqual(parts(lines[1]!), [796_373n, 92_115n, 0n]);
    for (const line of lines.slice(0, 11)) assert.equal(line.principal_due + line.interest_due, 888_488n);
    assert.deepEqual(parts(lines[11]!), [879_688n, 8_797n, 0n]);
    assert.equal(lines[11]!.principal_due + lines[11]!.interest_due, 888_485n);
    assert.deepEqual(scheduleTotals(lines), { principal: 10_000_000n, interest: 661_853n, fee: 0n });
    assert.deepEqual(
      lines.map((line) => line.seq),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    );
  });

  test('flat: 9,333.33 a month (8,333.33 + 1,000.00), the last principal 8,333.37', () => {
    const lines = generateSchedule({
      principal: 10_000_000n,
      currency: 'KES',
      term: 12,
      terms: testTerms({ interest_method: 'flat' }),
      disbursedOn: '2026-01-15',
    });
    for (const line of lines.slice(0, 11)) assert.deepEqual(parts(line), [833_333n, 100_000n, 0n]);
    assert.deepEqual(parts(lines[11]!), [833_337n, 100_000n, 0n]);
    assert.deepEqual(scheduleTotals(lines), { principal: 10_000_000n, interest: 1_200_000n, fee: 0n });
  });
});

describe('other methods and frequencies', () => {
  test('declining balance, equal principal: 8,333.33 of principal, interest falling by 83.33 a month', () => {
    const lines = generateSchedule({
      principal: 10_000_000n,
      currency: 'KES',
      term: 12,
      terms: testTerms({ interest_method: 'declining_equal_principal' }),
      disbursedOn: '2026-01-15',
    });
    assert.deepEqual(parts(lines[0]!), [833_333n, 100_000n, 0n]);
    assert.deepEqual(parts(lines[1]!), [833_333n, 91_667n, 0n]); // 9,166,667 × 1 % = 91,666.67
    assert.deepEqual(parts(lines[11]!), [833_337n, 8_333n, 0n]); // 833,337 × 1 % = 8,333.37
    assert.equal(scheduleTotals(lines).principal, 10_000_000n);
    assert.equal(scheduleTotals(lines).interest, 650_000n);
  });

  test('weekly at 26 %: the period rate is 0.5 %, due dates every 7 days', () => {
    const terms = testTerms({ frequency: 'weekly', annual_rate: '26' });
    assert.deepEqual(periodRate(terms), { num: 26n, den: 5200n });
    const lines = generateSchedule({
      principal: 1_000_000n,
      currency: 'KES',
      term: 4,
      terms,
      disbursedOn: '2026-03-02',
    });
    assert.deepEqual(
      lines.map((line) => line.due_date),
      ['2026-03-09', '2026-03-16', '2026-03-23', '2026-03-30'],
    );
    // 1,000,000 × 0.005 / (1 − 1.005^−4) = 253,132.79…
    assert.equal(annuityInstalment(1_000_000n, periodRate(terms), 4), 253_133n);
    assert.deepEqual(parts(lines[0]!), [248_133n, 5_000n, 0n]);
    assert.equal(scheduleTotals(lines).principal, 1_000_000n);
  });

  test('biweekly and daily periods; daily instalments skip the weekend without sharing a date', () => {
    assert.equal(addPeriods('2026-03-02', 'biweekly', 2), '2026-03-30');
    // Thursday 2026-03-05: Fri, then Sat and Sun both move to Monday — the second goes on to Tuesday.
    assert.deepEqual(dueDates('2026-03-05', 'daily', 4), [
      '2026-03-06',
      '2026-03-09',
      '2026-03-10',
      '2026-03-11',
    ]);
  });

  test('daily interest calculation projects annual/365 per actual day of each period', () => {
    const terms = testTerms({ interest_calculation: 'daily', interest_method: 'declining_equal_principal' });
    assert.equal(dailyInterest(10_000_000n, terms, 'KES'), 3_288n); // 10,000,000 × 0.12 / 365 = 3,287.67
    const lines = generateSchedule({
      principal: 10_000_000n,
      currency: 'KES',
      term: 3,
      terms,
      disbursedOn: '2026-01-15',
    });
    // 2026-01-15 → 2026-02-16 (the 15th is a Sunday): 32 days; → 2026-03-16: 28 days; → 2026-04-15: 30 days.
    assert.deepEqual(
      lines.map((line) => line.due_date),
      ['2026-02-16', '2026-03-16', '2026-04-15'],
    );
    assert.equal(lines[0]!.interest_due, 32n * 3_288n);
    assert.equal(lines[1]!.interest_due, 28n * dailyInterest(6_666_667n, terms, 'KES'));
    assert.equal(lines[2]!.interest_due, 30n * dailyInterest(3_333_334n, terms, 'KES'));
  });

  test('daily interest on an annuity: the level from the period rate, the split by actual days', () => {
    const terms = testTerms({ interest_calculation: 'daily' });
    const lines = generateSchedule({
      principal: 10_000_000n,
      currency: 'KES',
      term: 12,
      terms,
      disbursedOn: '2026-01-15',
    });
    // First period 32 days: 32 × 3,288 = 105,216 of interest, so 888,488 − 105,216 of principal.
    assert.deepEqual(parts(lines[0]!), [783_272n, 105_216n, 0n]);
    for (const line of lines.slice(0, 11)) assert.equal(line.principal_due + line.interest_due, 888_488n);
    assert.equal(scheduleTotals(lines).principal, 10_000_000n);
  });

  test('a zero rate: principal only, in equal parts', () => {
    const lines = generateSchedule({
      principal: 1_000n,
      currency: 'KES',
      term: 3,
      terms: testTerms({ annual_rate: '0' }),
      disbursedOn: '2026-01-15',
    });
    assert.deepEqual(
      lines.map((line) => [line.principal_due, line.interest_due]),
      [
        [333n, 0n],
        [333n, 0n],
        [334n, 0n],
      ],
    );
  });
});

describe('grace', () => {
  test('principal grace: interest only first, the annuity over the remaining periods', () => {
    const lines = generateSchedule({
      principal: 10_000_000n,
      currency: 'KES',
      term: 14,
      terms: testTerms({ grace_principal_periods: 2 }),
      disbursedOn: '2026-01-15',
    });
    assert.deepEqual(parts(lines[0]!), [0n, 100_000n, 0n]);
    assert.deepEqual(parts(lines[1]!), [0n, 100_000n, 0n]);
    // Then exactly the 12-month reference schedule.
    assert.deepEqual(parts(lines[2]!), [788_488n, 100_000n, 0n]);
    assert.deepEqual(parts(lines[13]!), [879_688n, 8_797n, 0n]);
    assert.equal(scheduleTotals(lines).interest, 661_853n + 200_000n);
  });

  test('interest grace is deferred (grace on interest payment), never waived', () => {
    const plain = generateSchedule({
      principal: 10_000_000n,
      currency: 'KES',
      term: 12,
      terms: testTerms(),
      disbursedOn: '2026-01-15',
    });
    const graced = generateSchedule({
      principal: 10_000_000n,
      currency: 'KES',
      term: 12,
      terms: testTerms({ grace_interest_periods: 2 }),
      disbursedOn: '2026-01-15',
    });
    assert.equal(graced[0]!.interest_due, 0n);
    assert.equal(graced[1]!.interest_due, 0n);
    assert.equal(graced[2]!.interest_due, 100_000n + 92_115n + 84_151n);
    assert.deepEqual(
      graced.map((line) => line.principal_due),
      plain.map((line) => line.principal_due),
    );
    assert.equal(scheduleTotals(graced).interest, scheduleTotals(plain).interest);
  });

  test('grace as long as the term is refused', () => {
    assert.ok(scheduleProblems(testTerms({ grace_principal_periods: 3 }), 3).length > 0);
    assert.throws(() =>
      generateSchedule({
        principal: 1_000n,
        currency: 'KES',
        term: 3,
        terms: testTerms({ grace_interest_periods: 3 }),
        disbursedOn: '2026-01-15',
      }),
    );
  });
});

describe('dates', () => {
  test('month ends clamp from the start date, not from the previous due date', () => {
    assert.equal(addMonths('2026-01-31', 1), '2026-02-28');
    assert.equal(addMonths('2028-01-31', 1), '2028-02-29');
    assert.equal(addMonths('2026-01-31', 2), '2026-03-31');
    assert.equal(addMonths('2026-11-30', 3), '2027-02-28');
    const always = () => true;
    assert.deepEqual(dueDates('2026-01-31', 'monthly', 4, always), [
      '2026-02-28',
      '2026-03-31',
      '2026-04-30',
      '2026-05-31',
    ]);
  });

  test('weekends and holidays move a due date to the next working day', () => {
    assert.equal(isWeekday('2026-03-07'), false); // Saturday
    assert.equal(nextWorkingDay('2026-03-07'), '2026-03-09');
    const calendar = holidayCalendar(['2026-03-09', '2026-03-10']);
    assert.equal(nextWorkingDay('2026-03-07', calendar), '2026-03-11');
    const lines = generateSchedule({
      principal: 300_000n,
      currency: 'KES',
      term: 3,
      terms: testTerms({ frequency: 'weekly' }),
      disbursedOn: '2026-02-23',
      isWorkingDay: calendar,
    });
    assert.deepEqual(
      lines.map((line) => line.due_date),
      ['2026-03-02', '2026-03-11', '2026-03-16'],
    );
    assert.equal(daysBetween('2026-02-28', '2026-03-01'), 1);
  });

  test('bad dates and calendars are refused', () => {
    assert.throws(() => addMonths('2026-02-30', 1), RangeError);
    assert.throws(() => nextWorkingDay('2026-03-07', () => false), RangeError);
  });
});

describe('currencies, fees and rounding', () => {
  test('half-even rounding', () => {
    assert.equal(roundHalfEven(5n, 2n), 2n);
    assert.equal(roundHalfEven(7n, 2n), 4n);
    assert.equal(roundHalfEven(11n, 4n), 3n);
    assert.equal(roundHalfEven(-5n, 2n), -2n);
    assert.deepEqual(percentToRatio('13.75'), { num: 1375n, den: 10_000n });
    assert.throws(() => percentToRatio('-1'), RangeError);
    assert.throws(() => percentToRatio('1e2'), RangeError);
  });

  test('a 0-exponent currency (UGX 1,000,000 at 24 % over 6 months)', () => {
    const lines = generateSchedule({
      principal: 1_000_000n,
      currency: 'UGX',
      term: 6,
      terms: testTerms({ annual_rate: '24' }),
      disbursedOn: '2026-01-15',
    });
    // 1,000,000 × 0.02 / (1 − 1.02^−6) = 178,525.81 → 178,526.
    assert.deepEqual(parts(lines[0]!), [158_526n, 20_000n, 0n]);
    assert.equal(scheduleTotals(lines).principal, 1_000_000n);
    assert.equal(scheduleTotals(lines).interest, 71_154n);
  });

  test('a 3-exponent currency (KWD 1,000.000 at 6 % over 3 months)', () => {
    const lines = generateSchedule({
      principal: 1_000_000n,
      currency: 'KWD',
      term: 3,
      terms: testTerms({ annual_rate: '6', interest_method: 'declining_equal_principal' }),
      disbursedOn: '2026-01-15',
    });
    assert.deepEqual(lines.map(parts), [
      [333_333n, 5_000n, 0n],
      [333_333n, 3_333n, 0n], // 666,667 × 0.005 = 3,333.335 fils → 3,333
      [333_334n, 1_667n, 0n],
    ]);
  });

  test('the upfront fee: on instalment 1 or deducted from the disbursement', () => {
    const first = testTerms({
      upfront_fee: { mode: 'first_instalment', fixed_minor: '5000', percent: '1.5' },
    });
    assert.equal(upfrontFee(10_000_000n, first, 'KES'), 5_000n + 150_000n);
    const lines = generateSchedule({
      principal: 10_000_000n,
      currency: 'KES',
      term: 12,
      terms: first,
      disbursedOn: '2026-01-15',
    });
    assert.equal(lines[0]!.fee_due, 155_000n);
    assert.ok(lines.slice(1).every((line) => line.fee_due === 0n));
    assert.equal(deductedFee(10_000_000n, first, 'KES'), 0n);

    const deduct = testTerms({ upfront_fee: { mode: 'deduct', percent: '2.5' } });
    assert.equal(upfrontFee(333n, deduct, 'KES'), 8n); // 8.325 → 8
    assert.equal(upfrontFee(100n, deduct, 'KES'), 2n); // 2.5 → 2 (half-even)
    assert.equal(deductedFee(100n, deduct, 'KES'), 2n);
    const plain = generateSchedule({
      principal: 10_000_000n,
      currency: 'KES',
      term: 12,
      terms: deduct,
      disbursedOn: '2026-01-15',
    });
    assert.ok(plain.every((line) => line.fee_due === 0n));
  });

  test('an unknown currency is refused', () => {
    assert.throws(() => dailyInterest(100n, testTerms(), 'XXX'));
  });
});
