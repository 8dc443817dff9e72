/**
 * How a payment is split over a loan's instalments: oldest instalment first (the caller passes them in seq order,
 * each with what is still outstanding per part), and within an instalment by the product's allocation order
 * (default penalty → fee → interest → principal). A part never receives more than is outstanding on it; what is
 * left after every instalment is the overpayment, which the product's overpayment policy handles.
 */
import { minBigint } from './loans.schedule.rational.ts';
import { ALLOCATION_PARTS, type AllocationPart, DEFAULT_ALLOCATION_ORDER } from './loans.terms.ts';

export type { AllocationPart } from './loans.terms.ts';

/** What is still outstanding on one instalment, per part (minor units, >= 0). */
export interface InstalmentBalance {
  seq: number;
  penalty: bigint;
  fee: bigint;
  interest: bigint;
  principal: bigint;
}

/** What a payment puts on one instalment, per part. */
export interface InstalmentSplit {
  seq: number;
  penalty: bigint;
  fee: bigint;
  interest: bigint;
  principal: bigint;
}

export interface Allocation {
  /** One entry per instalment that received something, in the order given. */
  perInstalment: InstalmentSplit[];
  /** The part of the payment beyond everything outstanding. */
  overpayment: bigint;
}

/** An order that names each part exactly once (a product's allocation_order); refuses anything else. */
export function checkAllocationOrder(order: readonly AllocationPart[]): AllocationPart[] {
  const seen = new Set(order);
  if (order.length !== ALLOCATION_PARTS.length || seen.size !== order.length)
    throw new RangeError(`An allocation order names each of ${ALLOCATION_PARTS.join(', ')} once`);
  for (const part of order)
    if (!ALLOCATION_PARTS.includes(part)) throw new RangeError(`Unknown allocation part "${part}"`);
  return [...order];
}

/**
 * Splits `payment` over `instalments` (oldest first) by `order` within each. Refuses a negative payment or a
 * negative outstanding amount (a caller's bug).
 */
export function allocate(
  payment: bigint,
  instalments: readonly InstalmentBalance[],
  order: readonly AllocationPart[] = DEFAULT_ALLOCATION_ORDER,
): Allocation {
  if (payment < 0n) throw new RangeError('payment must not be negative');
  const parts = checkAllocationOrder(order);
  let left = payment;
  const perInstalment: InstalmentSplit[] = [];
  for (const instalment of instalments) {
    if (left === 0n) break;
    const split: InstalmentSplit = { seq: instalment.seq, penalty: 0n, fee: 0n, interest: 0n, principal: 0n };
    let received = 0n;
    for (const part of parts) {
      const outstanding = instalment[part];
      if (outstanding < 0n)
        throw new RangeError(`instalment ${instalment.seq} has a negative ${part} outstanding`);
      const take = minBigint(left, outstanding);
      split[part] = take;
      left -= take;
      received += take;
      if (left === 0n) break;
    }
    if (received > 0n) perInstalment.push(split);
  }
  return { perInstalment, overpayment: left };
}

/** The sum of the splits per part, plus the overpayment: what a loan transaction's `allocation` records. */
export function allocationTotals(allocation: Allocation): Record<AllocationPart | 'overpayment', bigint> {
  const totals = { penalty: 0n, fee: 0n, interest: 0n, principal: 0n, overpayment: allocation.overpayment };
  for (const split of allocation.perInstalment) {
    totals.penalty += split.penalty;
    totals.fee += split.fee;
    totals.interest += split.interest;
    totals.principal += split.principal;
  }
  return totals;
}
