/**
 * What a payment does to a loan, worked out from the loan's open instalments before anything is written (pure: no
 * database, no clock). Three cases:
 * - it covers the payoff (everything owed today): every instalment is settled, interest not yet run is waived, the
 *   loan closes; more than the payoff is never taken;
 * - otherwise it is split over the instalments due by today, oldest first by the product's allocation order; the
 *   rest (the overpayment) goes by the product's policy: `return_to_wallet` (not taken, or paid back to the wallet
 *   for cash and bank), or `future_instalments` (a principal prepayment, the schedule recast by `terms.prepayment`;
 *   what principal cannot absorb is not taken);
 * - automatic collection takes only what is due (never an overpayment).
 * Interest paid beyond what was recognised (posted to the receivable) goes to interest income, and the instalment's
 * `interest_accrued` rises to what was paid, so the receivable always equals recognised-but-unpaid interest.
 */
import { allocate, type InstalmentBalance } from './loans.allocation.ts';
import type { LoanRow } from './loans.ledger.ts';
import type { InstalmentRow } from './loans.repayments.repository.ts';
import { payoffQuote } from './loans.schedule.payoff.ts';
import { type AllocationPart, DEFAULT_ALLOCATION_ORDER, type ProductTerms } from './loans.terms.ts';

export type Parts = Record<AllocationPart, bigint>;

const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);

export function zeroParts(): Parts {
  return { penalty: 0n, fee: 0n, interest: 0n, principal: 0n };
}

export function sumParts(parts: Parts): bigint {
  return parts.penalty + parts.fee + parts.interest + parts.principal;
}

/** What an instalment still owes per part. */
export function outstandingOf(row: InstalmentRow): InstalmentBalance {
  return {
    seq: row.seq,
    penalty: row.penaltyDue - row.penaltyPaid,
    fee: row.feeDue - row.feePaid,
    interest: row.interestDue - row.interestPaid,
    principal: row.principalDue - row.principalPaid,
  };
}

/** Recognised interest not yet paid on an instalment (what its share of the interest receivable is). */
function recognisedUnpaid(row: InstalmentRow): bigint {
  return max(row.interestAccrued - row.interestPaid, 0n);
}

/** Instalments due on or before `today` (those a repayment or a collection pays). */
export function dueBy(rows: readonly InstalmentRow[], today: string): InstalmentRow[] {
  return rows.filter((row) => row.dueDate <= today);
}

export interface PayoffBreakdown {
  penalty: bigint;
  fee: bigint;
  /** Recognised-but-unpaid interest, plus the running period's interest (see `payoffQuote`). */
  interest: bigint;
  principal: bigint;
  total: bigint;
  /** What each instalment gets when the payoff is paid, by seq. */
  perInstalment: Map<number, Parts>;
}

/** What a payoff needs of the loan. */
export type PayoffLoan = Pick<LoanRow, 'currency' | 'disbursedOn' | 'accruedThrough'> & {
  terms: Pick<ProductTerms, 'annual_rate' | 'interest_calculation'>;
};

/**
 * What pays the loan off today (`payoffQuote` of the schedule area): all principal, every fee and penalty, recognised
 * interest not yet paid, and the running period's interest (per-period products) or the days not yet accrued (daily
 * products); later periods' interest is not owed. Split per instalment so a payoff settles each exactly.
 */
export function payoffBreakdown(
  rows: readonly InstalmentRow[],
  loan: PayoffLoan,
  today: string,
): PayoffBreakdown {
  const quote = payoffQuote({
    asOf: today,
    currency: loan.currency,
    terms: loan.terms,
    disbursedOn: loan.disbursedOn ?? rows[0]?.dueDate ?? today,
    instalments: rows,
    accruedThrough: loan.accruedThrough,
  });
  const perInstalment = new Map<number, Parts>();
  for (const balance of quote.balances) {
    const { seq, ...parts } = balance;
    perInstalment.set(seq, parts);
  }
  return {
    penalty: quote.penalty,
    fee: quote.fee,
    interest: quote.interest,
    principal: quote.principal,
    total: quote.total,
    perInstalment,
  };
}

export type RepaymentKind = 'repayment' | 'auto_collection';

export interface PlanInput {
  kind: RepaymentKind;
  /** Offered: the amount asked for (repayment) or what the wallet holds (collection). */
  amount: bigint;
  /** The source can hand back money it gave beyond what the loan takes (cash and bank: to the wallet). */
  refundable: boolean;
  loan: PayoffLoan & { terms: Pick<ProductTerms, 'allocation_order' | 'overpayment'> };
  today: string;
  /** The loan's open instalments, oldest first. */
  open: readonly InstalmentRow[];
}

export interface InstalmentChange {
  seq: number;
  paid: Parts;
  /** The instalment's interest_due after the payment (lowered only when a payoff waives interest not yet run). */
  interestDue: bigint;
  interestAccrued: bigint;
  settled: boolean;
}

export interface PaymentPlan {
  /** Taken from the source. */
  taken: bigint;
  /** Paid back to the customer's wallet out of what was taken (cash or bank beyond what the loan takes). */
  refund: bigint;
  /** Offered but not taken (wallet payments beyond what the loan takes). */
  untaken: bigint;
  /** Applied to instalments, per part. */
  parts: Parts;
  /** The interest part that goes to the receivable; the rest of it is income recognised now. */
  interestFromReceivable: bigint;
  /** Principal prepaid ahead of the schedule (the schedule is recast). */
  prepayment: bigint;
  changes: InstalmentChange[];
  /** The payment settles everything: the loan closes. */
  payoff: boolean;
}

function changeFor(row: InstalmentRow, paid: Parts, waive: boolean): InstalmentChange {
  const interestPaid = row.interestPaid + paid.interest;
  const interestDue = waive ? interestPaid : row.interestDue;
  const owed = outstandingOf(row);
  const settled =
    paid.penalty === owed.penalty &&
    paid.fee === owed.fee &&
    paid.principal === owed.principal &&
    interestPaid === interestDue;
  return {
    seq: row.seq,
    paid,
    interestDue,
    interestAccrued: max(row.interestAccrued, interestPaid),
    settled,
  };
}

/** How much of an instalment's interest payment comes off the receivable (the rest is income now). */
function fromReceivable(row: InstalmentRow, interest: bigint): bigint {
  return min(interest, recognisedUnpaid(row));
}

export function planPayment(input: PlanInput): PaymentPlan {
  const { open, today } = input;
  const bySeq = new Map(open.map((row) => [row.seq, row]));
  const terms = input.loan.terms;
  const payoff = payoffBreakdown(open, input.loan, today);
  const parts = zeroParts();
  const changes: InstalmentChange[] = [];
  let interestFromReceivable = 0n;
  const record = (row: InstalmentRow, paid: Parts, waive: boolean) => {
    for (const part of Object.keys(parts) as AllocationPart[]) parts[part] += paid[part];
    interestFromReceivable += fromReceivable(row, paid.interest);
    changes.push(changeFor(row, paid, waive));
  };

  if (input.kind === 'repayment' && payoff.total > 0n && input.amount >= payoff.total) {
    for (const row of open) record(row, payoff.perInstalment.get(row.seq) ?? zeroParts(), true);
    const beyond = input.amount - payoff.total;
    return {
      taken: input.refundable ? input.amount : payoff.total,
      refund: input.refundable ? beyond : 0n,
      untaken: input.refundable ? 0n : beyond,
      parts,
      interestFromReceivable,
      prepayment: 0n,
      changes,
      payoff: true,
    };
  }

  const due = dueBy(open, today);
  const order = terms.allocation_order?.length ? terms.allocation_order : DEFAULT_ALLOCATION_ORDER;
  const allocation = allocate(input.amount, due.map(outstandingOf), order);
  for (const split of allocation.perInstalment) {
    const { seq, ...paid } = split;
    record(bySeq.get(seq)!, paid, false);
  }
  let beyond = allocation.overpayment;
  let prepayment = 0n;
  if (input.kind === 'repayment' && beyond > 0n && terms.overpayment === 'future_instalments') {
    const futurePrincipal = open
      .filter((row) => row.dueDate > today)
      .reduce((sum, row) => sum + row.principalDue - row.principalPaid, 0n);
    prepayment = min(beyond, futurePrincipal);
    beyond -= prepayment;
  }
  if (input.kind === 'auto_collection') beyond = 0n;
  const applied = sumParts(parts) + prepayment;
  return {
    taken: input.refundable ? applied + beyond : applied,
    refund: input.refundable ? beyond : 0n,
    untaken: input.refundable ? 0n : input.amount - applied,
    parts: { ...parts, principal: parts.principal + prepayment },
    interestFromReceivable,
    prepayment,
    changes,
    payoff: false,
  };
}
