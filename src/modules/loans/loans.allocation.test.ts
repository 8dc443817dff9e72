/**
 * How payments split over instalments (oldest first, by the product's order, never beyond what is outstanding) and
 * what a payoff quote charges (per-period: the current instalment's interest; daily: the days accrued to date).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  allocate,
  allocationTotals,
  checkAllocationOrder,
  type InstalmentBalance,
} from './loans.allocation.ts';
import {
  dailyInterest,
  generateSchedule,
  type InstalmentPosition,
  payoffQuote,
  type ScheduleLine,
} from './loans.schedule.ts';
import type { AllocationPart, ProductTerms } from './loans.terms.ts';

const balance = (seq: number, penalty: bigint, fee: bigint, interest: bigint, principal: bigint) => ({
  seq,
  penalty,
  fee,
  interest,
  principal,
});

describe('allocate', () => {
  const due = [balance(1, 500n, 200n, 1_000n, 8_000n), balance(2, 0n, 0n, 900n, 8_100n)];

  test('oldest first, penalty → fee → interest → principal by default', () => {
    const result = allocate(2_000n, due);
    assert.deepEqual(result, {
      perInstalment: [{ seq: 1, penalty: 500n, fee: 200n, interest: 1_000n, principal: 300n }],
      overpayment: 0n,
    });
  });

  test('the rest of an instalment before the next one, then the overpayment', () => {
    const result = allocate(20_000n, due);
    assert.deepEqual(result.perInstalment, [
      { seq: 1, penalty: 500n, fee: 200n, interest: 1_000n, principal: 8_000n },
      { seq: 2, penalty: 0n, fee: 0n, interest: 900n, principal: 8_100n },
    ]);
    assert.equal(result.overpayment, 1_300n);
    assert.deepEqual(allocationTotals(result), {
      penalty: 500n,
      fee: 200n,
      interest: 1_900n,
      principal: 16_100n,
      overpayment: 1_300n,
    });
  });

  test("the product's order within an instalment", () => {
    const order: AllocationPart[] = ['principal', 'interest', 'fee', 'penalty'];
    assert.deepEqual(allocate(8_500n, due, order).perInstalment, [
      { seq: 1, penalty: 0n, fee: 0n, interest: 500n, principal: 8_000n },
    ]);
  });

  test('nothing to pay, nothing paid: zero payment and empty instalments', () => {
    assert.deepEqual(allocate(0n, due), { perInstalment: [], overpayment: 0n });
    assert.deepEqual(allocate(700n, []), { perInstalment: [], overpayment: 700n });
    // A settled instalment is skipped, not listed with zeros.
    assert.deepEqual(
      allocate(100n, [balance(1, 0n, 0n, 0n, 0n), balance(2, 0n, 0n, 50n, 50n)]).perInstalment,
      [{ seq: 2, penalty: 0n, fee: 0n, interest: 50n, principal: 50n }],
    );
  });

  test('bad input is refused', () => {
    assert.throws(() => allocate(-1n, due), RangeError);
    assert.throws(() => allocate(1n, [balance(1, 0n, -1n, 0n, 0n)]), RangeError);
    assert.throws(() => checkAllocationOrder(['penalty', 'fee', 'interest']), RangeError);
    assert.throws(() => checkAllocationOrder(['penalty', 'fee', 'fee', 'principal']), RangeError);
  });

  test('property: splits + overpayment = payment, never beyond outstanding, oldest settled first', () => {
    let seed = 42;
    const next = (limit: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % limit;
    };
    const orders: AllocationPart[][] = [
      ['penalty', 'fee', 'interest', 'principal'],
      ['interest', 'principal', 'penalty', 'fee'],
      ['principal', 'interest', 'fee', 'penalty'],
    ];
    for (let round = 0; round < 500; round += 1) {
      const instalments: InstalmentBalance[] = Array.from({ length: 1 + next(6) }, (_, index) =>
        balance(
          index + 1,
          BigInt(next(3) === 0 ? next(500) : 0),
          BigInt(next(300)),
          BigInt(next(5_000)),
          BigInt(next(50_000)),
        ),
      );
      const order = orders[next(orders.length)]!;
      const payment = BigInt(next(200_000));
      const result = allocate(payment, instalments, order);
      const totals = allocationTotals(result);
      assert.equal(
        totals.penalty + totals.fee + totals.interest + totals.principal + totals.overpayment,
        payment,
      );
      let lastFilled = 0;
      for (const split of result.perInstalment) {
        const owed = instalments.find((item) => item.seq === split.seq)!;
        for (const part of order) assert.ok(split[part] >= 0n && split[part] <= owed[part]);
        lastFilled = split.seq;
      }
      // Every instalment before the last one touched is settled in full.
      for (const owed of instalments.filter((item) => item.seq < lastFilled)) {
        const split = result.perInstalment.find((item) => item.seq === owed.seq);
        for (const part of order) assert.equal(split?.[part] ?? 0n, owed[part]);
      }
      if (result.overpayment > 0n) {
        const outstanding = instalments.reduce(
          (s, i) => s + i.penalty + i.fee + i.interest + i.principal,
          0n,
        );
        assert.equal(payment - result.overpayment, outstanding);
      }
    }
  });
});

const TERMS = {
  annual_rate: '12',
  frequency: 'monthly',
  interest_method: 'declining_equal_instalments',
  interest_calculation: 'per_period',
  grace_principal_periods: 0,
  grace_interest_periods: 0,
  upfront_fee: null,
} as unknown as ProductTerms;

function positions(lines: ScheduleLine[]): InstalmentPosition[] {
  return lines.map((line) => ({
    seq: line.seq,
    dueDate: line.due_date,
    principalDue: line.principal_due,
    principalPaid: 0n,
    interestDue: line.interest_due,
    interestPaid: 0n,
    interestAccrued: 0n,
    feeDue: line.fee_due,
    feePaid: 0n,
    penaltyDue: 0n,
    penaltyPaid: 0n,
  }));
}

/** The reference loan (KES 100,000.00, 12 %, 12 months from 2026-01-15) with its first `paid` instalments paid. */
function referenceLoan(paid: number): InstalmentPosition[] {
  const lines = generateSchedule({
    principal: 10_000_000n,
    currency: 'KES',
    term: 12,
    terms: TERMS,
    disbursedOn: '2026-01-15',
  });
  return positions(lines).map((row, index) =>
    index < paid
      ? {
          ...row,
          principalPaid: row.principalDue,
          interestPaid: row.interestDue,
          interestAccrued: row.interestDue,
        }
      : row,
  );
}

describe('payoffQuote', () => {
  test('per period: the principal left plus the whole interest of the period the date falls in', () => {
    // Due dates: 02-16, 03-16, 04-15, … Two paid; 2026-04-01 is in instalment 3's period.
    const quote = payoffQuote({
      asOf: '2026-04-01',
      currency: 'KES',
      terms: TERMS,
      disbursedOn: '2026-01-15',
      instalments: referenceLoan(2),
      accruedThrough: null,
    });
    assert.equal(quote.principal, 10_000_000n - 788_488n - 796_373n);
    assert.equal(quote.interest, 84_151n);
    assert.equal(quote.total, quote.principal + 84_151n);
    assert.equal(quote.fee + quote.penalty + quote.unaccruedInterest, 0n);
    // allocate() of the total over the balances settles everything and leaves nothing over.
    const split = allocate(quote.total, quote.balances);
    assert.equal(split.overpayment, 0n);
    assert.equal(allocationTotals(split).interest, 84_151n);
  });

  test('per period: on a due date that instalment is charged, the next period not yet; nothing on day one', () => {
    const rows = referenceLoan(1);
    rows[1] = { ...rows[1]!, penaltyDue: 5_000n, interestAccrued: rows[1]!.interestDue };
    const onDue = payoffQuote({
      asOf: '2026-03-16',
      currency: 'KES',
      terms: TERMS,
      disbursedOn: '2026-01-15',
      instalments: rows,
      accruedThrough: null,
    });
    assert.equal(onDue.interest, 92_115n);
    assert.equal(onDue.penalty, 5_000n);
    const dayOne = payoffQuote({
      asOf: '2026-01-15',
      currency: 'KES',
      terms: TERMS,
      disbursedOn: '2026-01-15',
      instalments: referenceLoan(0),
      accruedThrough: null,
    });
    assert.deepEqual([dayOne.principal, dayOne.interest, dayOne.total], [10_000_000n, 0n, 10_000_000n]);
  });

  test('interest paid ahead on a later instalment is credited', () => {
    const rows = referenceLoan(2);
    rows[5] = { ...rows[5]!, interestPaid: 10_000n };
    const quote = payoffQuote({
      asOf: '2026-04-01',
      currency: 'KES',
      terms: TERMS,
      disbursedOn: '2026-01-15',
      instalments: rows,
      accruedThrough: null,
    });
    assert.equal(quote.interest, 84_151n - 10_000n);
  });

  test('daily: what close of business recognised plus the days it has not run yet', () => {
    const terms = { ...TERMS, interest_calculation: 'daily' } as ProductTerms;
    const lines = generateSchedule({
      principal: 10_000_000n,
      currency: 'KES',
      term: 12,
      terms,
      disbursedOn: '2026-01-15',
    });
    const rows = positions(lines);
    const perDay = dailyInterest(10_000_000n, terms, 'KES');
    // Close of business ran through 2026-01-25 (10 days accrued on instalment 1); quote on 2026-01-28.
    rows[0] = { ...rows[0]!, interestAccrued: 10n * perDay };
    const quote = payoffQuote({
      asOf: '2026-01-28',
      currency: 'KES',
      terms,
      disbursedOn: '2026-01-15',
      instalments: rows,
      accruedThrough: '2026-01-25',
    });
    assert.equal(quote.unaccruedInterest, 3n * perDay);
    assert.equal(quote.interest, 13n * perDay);
    assert.equal(quote.total, 10_000_000n + 13n * perDay);
    // Never accrued: counted from the disbursement.
    const fresh = payoffQuote({
      asOf: '2026-01-28',
      currency: 'KES',
      terms,
      disbursedOn: '2026-01-15',
      instalments: positions(lines),
      accruedThrough: null,
    });
    assert.equal(fresh.interest, 13n * perDay);
  });

  test('fees due anywhere on the schedule are part of the payoff', () => {
    const terms = {
      ...TERMS,
      upfront_fee: { mode: 'first_instalment', fixed_minor: '5000' },
    } as ProductTerms;
    const lines = generateSchedule({
      principal: 10_000_000n,
      currency: 'KES',
      term: 12,
      terms,
      disbursedOn: '2026-01-15',
    });
    const quote = payoffQuote({
      asOf: '2026-01-20',
      currency: 'KES',
      terms,
      disbursedOn: '2026-01-15',
      instalments: positions(lines),
      accruedThrough: null,
    });
    assert.equal(quote.fee, 5_000n);
    assert.equal(quote.interest, 100_000n);
  });
});
