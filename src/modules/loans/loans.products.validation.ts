/**
 * Product terms: the conversion between the API's shape (money as JSON integers) and the stored one (ProductTerms,
 * money as decimal strings), and the rules the schema cannot say (ranges in order, rates within bounds, a fee that
 * leaves something to disburse, the allocation order a permutation of the four parts, a known KYC tier).
 */
import type { Static } from 'typebox';
import { commonErrors } from '../../platform/errors.ts';
import type { TermsChange, TermsIn, TermsView } from './loans.products.schemas.ts';
import {
  ALLOCATION_PARTS,
  DEFAULT_ALLOCATION_ORDER,
  type LatePenalty,
  type ProductTerms,
  type UpfrontFee,
} from './loans.terms.ts';

export type TermsInput = Static<typeof TermsIn>;
export type TermsChangeInput = Static<typeof TermsChange>;
export type TermsOut = Static<typeof TermsView>;

export interface FieldError {
  field: string;
  message: string;
  rule: string;
}

const RATE_SCALE = 1_000_000n;
const RATE = /^(0|[1-9][0-9]{0,3})(\.([0-9]{1,6}))?$/;

/** A percent string as millionths of a percent ("13.75" → 13_750_000n); null when it is not a rate. */
export function rateMicros(text: string): bigint | null {
  const match = RATE.exec(text);
  if (!match) return null;
  const fraction = (match[3] ?? '').padEnd(6, '0');
  return BigInt(match[1]!) * RATE_SCALE + BigInt(fraction);
}

function upfrontFeeStored(fee: NonNullable<TermsInput['upfront_fee']>): UpfrontFee {
  return {
    mode: fee.mode,
    ...(fee.fixed_minor !== undefined ? { fixed_minor: String(fee.fixed_minor) } : {}),
    ...(fee.percent !== undefined ? { percent: fee.percent } : {}),
  };
}

/** The stored terms of a new product (defaults filled in). */
export function termsFromInput(input: TermsInput): ProductTerms {
  return {
    min_amount_minor: String(input.min_amount_minor),
    max_amount_minor: String(input.max_amount_minor),
    min_term: input.min_term,
    max_term: input.max_term,
    frequency: input.frequency,
    interest_method: input.interest_method,
    interest_calculation: input.interest_calculation,
    annual_rate: input.annual_rate,
    grace_principal_periods: input.grace_principal_periods ?? 0,
    grace_interest_periods: input.grace_interest_periods ?? 0,
    upfront_fee: input.upfront_fee ? upfrontFeeStored(input.upfront_fee) : null,
    late_penalty: input.late_penalty ? ({ ...input.late_penalty } as LatePenalty) : null,
    allocation_order: input.allocation_order ?? [...DEFAULT_ALLOCATION_ORDER],
    prepayment: input.prepayment ?? 'reduce_term',
    overpayment: input.overpayment ?? 'future_instalments',
    eligibility: { ...(input.eligibility ?? {}) },
    fraud_threshold: input.fraud_threshold,
    auto_approve_limit_minor: String(input.auto_approve_limit_minor),
    maker_checker_above_minor: String(input.maker_checker_above_minor),
  };
}

/** The current terms with the changed fields replaced. */
export function termsWithChange(current: ProductTerms, change: TermsChangeInput): ProductTerms {
  const next: ProductTerms = structuredClone(current);
  const money = [
    'min_amount_minor',
    'max_amount_minor',
    'auto_approve_limit_minor',
    'maker_checker_above_minor',
  ];
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined) continue;
    if (money.includes(key)) (next as unknown as Record<string, unknown>)[key] = String(value);
    else if (key === 'upfront_fee')
      next.upfront_fee =
        value === null ? null : upfrontFeeStored(value as NonNullable<TermsInput['upfront_fee']>);
    else if (key === 'late_penalty')
      next.late_penalty = value === null ? null : { ...(value as LatePenalty) };
    else if (key === 'eligibility') next.eligibility = { ...(value as object) };
    else if (key === 'allocation_order')
      next.allocation_order = [...(value as ProductTerms['allocation_order'])];
    else (next as unknown as Record<string, unknown>)[key] = value;
  }
  return next;
}

/** Stored terms as the API shows them (money as integers). */
export function termsView(terms: ProductTerms): TermsOut {
  const fee = terms.upfront_fee;
  return {
    min_amount_minor: BigInt(terms.min_amount_minor),
    max_amount_minor: BigInt(terms.max_amount_minor),
    min_term: terms.min_term,
    max_term: terms.max_term,
    frequency: terms.frequency,
    interest_method: terms.interest_method,
    interest_calculation: terms.interest_calculation,
    annual_rate: terms.annual_rate,
    grace_principal_periods: terms.grace_principal_periods,
    grace_interest_periods: terms.grace_interest_periods,
    upfront_fee: fee
      ? {
          mode: fee.mode,
          ...(fee.fixed_minor !== undefined ? { fixed_minor: BigInt(fee.fixed_minor) } : {}),
          ...(fee.percent !== undefined ? { percent: fee.percent } : {}),
        }
      : null,
    late_penalty: terms.late_penalty ? { ...terms.late_penalty } : null,
    allocation_order: [...terms.allocation_order],
    prepayment: terms.prepayment,
    overpayment: terms.overpayment,
    eligibility: { ...terms.eligibility },
    fraud_threshold: terms.fraud_threshold,
    auto_approve_limit_minor: BigInt(terms.auto_approve_limit_minor),
    maker_checker_above_minor: BigInt(terms.maker_checker_above_minor),
  };
}

/**
 * The rules across fields. `knownTier` says whether a KYC tier code exists. Field names are the request's
 * (`body.terms.<field>`), as the schema's own errors name them.
 */
export async function termsErrors(
  terms: ProductTerms,
  knownTier: (code: string) => Promise<boolean>,
): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  const fail = (field: string, message: string, rule = 'terms') =>
    errors.push({ field: `body.terms.${field}`, message, rule });
  const minAmount = BigInt(terms.min_amount_minor);
  const maxAmount = BigInt(terms.max_amount_minor);
  if (minAmount > maxAmount) fail('min_amount_minor', 'must not exceed max_amount_minor');
  if (terms.min_term > terms.max_term) fail('min_term', 'must not exceed max_term');
  const annual = rateMicros(terms.annual_rate);
  if (annual === null || annual > 1000n * RATE_SCALE) fail('annual_rate', 'must be a percent from 0 to 1000');
  if (terms.grace_principal_periods >= terms.min_term)
    fail('grace_principal_periods', 'must leave at least one instalment with principal (less than min_term)');
  if (terms.grace_interest_periods >= terms.min_term)
    fail('grace_interest_periods', 'must be less than min_term');
  if (terms.interest_method === 'flat' && terms.interest_calculation === 'daily')
    fail(
      'interest_calculation',
      'daily accrual is on the outstanding balance; a flat product charges per_period',
    );
  const fee = terms.upfront_fee;
  if (fee) {
    if (fee.fixed_minor === undefined && fee.percent === undefined)
      fail('upfront_fee', 'needs fixed_minor, percent or both');
    const percent = fee.percent === undefined ? 0n : rateMicros(fee.percent);
    if (percent === null || percent > 100n * RATE_SCALE)
      fail('upfront_fee.percent', 'must be a percent from 0 to 100');
    if (fee.mode === 'deduct' && percent !== null) {
      // What is deducted from the smallest loan must leave something to disburse.
      const deducted = BigInt(fee.fixed_minor ?? '0') + (minAmount * percent) / (100n * RATE_SCALE);
      if (deducted >= minAmount)
        fail('upfront_fee', 'a deducted fee must be less than min_amount_minor (nothing would be disbursed)');
    }
  }
  const penalty = terms.late_penalty;
  if (penalty) {
    if (penalty.type === 'fixed' && !/^[1-9][0-9]{0,17}$/.test(penalty.value))
      fail('late_penalty.value', 'a fixed penalty is a positive whole number of minor units');
    if (penalty.type === 'percent') {
      const rate = rateMicros(penalty.value);
      if (rate === null || rate === 0n || rate > 100n * RATE_SCALE)
        fail('late_penalty.value', 'a percent penalty is above 0 and at most 100');
    }
  }
  const order = terms.allocation_order;
  if (order.length !== ALLOCATION_PARTS.length || ALLOCATION_PARTS.some((part) => !order.includes(part)))
    fail('allocation_order', `must name each of ${ALLOCATION_PARTS.join(', ')} once`);
  const tier = terms.eligibility.min_kyc_tier;
  if (tier !== undefined && !(await knownTier(tier)))
    fail('eligibility.min_kyc_tier', `unknown KYC tier ${tier}`);
  return errors;
}

export function termsInvalid(errors: FieldError[]) {
  return commonErrors.validation('The product terms are not valid', { errors });
}
