/**
 * The terms of a loan product version. A product's terms are versioned (`loan_product_versions.terms`); a loan copies
 * the version it was approved with into `loans.terms`, so a later product change never alters a running loan.
 * Money is a decimal string of minor units (jsonb convention, migration 0029); rates are decimal strings of percent
 * ("12", "13.75") so schedule arithmetic stays exact (bigint over a power-of-ten denominator).
 */

export const REPAYMENT_FREQUENCIES = ['daily', 'weekly', 'biweekly', 'monthly'] as const;
export type RepaymentFrequency = (typeof REPAYMENT_FREQUENCIES)[number];

/** flat: interest on the original principal; declining_*: on the outstanding balance. */
export const INTEREST_METHODS = ['flat', 'declining_equal_instalments', 'declining_equal_principal'] as const;
export type InterestMethod = (typeof INTEREST_METHODS)[number];

/** per_period: the period rate on the balance at each due date; daily: accrued each day on the outstanding balance. */
export const INTEREST_CALCULATIONS = ['per_period', 'daily'] as const;
export type InterestCalculation = (typeof INTEREST_CALCULATIONS)[number];

export const ALLOCATION_PARTS = ['penalty', 'fee', 'interest', 'principal'] as const;
export type AllocationPart = (typeof ALLOCATION_PARTS)[number];

export const PREPAYMENT_POLICIES = ['reduce_term', 'reduce_instalment'] as const;
export type PrepaymentPolicy = (typeof PREPAYMENT_POLICIES)[number];

/** What happens to money paid beyond everything due now: held against future instalments, or returned. */
export const OVERPAYMENT_POLICIES = ['future_instalments', 'return_to_wallet'] as const;
export type OverpaymentPolicy = (typeof OVERPAYMENT_POLICIES)[number];

export interface UpfrontFee {
  /** deduct: taken from the amount disbursed; first_instalment: added to the first instalment's fee due. */
  mode: 'deduct' | 'first_instalment';
  /** A fixed amount (minor units) … */
  fixed_minor?: string;
  /** … or a percent of the principal ("1.5"). Both may be set: they add up. */
  percent?: string;
}

export interface LatePenalty {
  type: 'fixed' | 'percent';
  /** fixed: minor units; percent: percent of the overdue instalment's unpaid amount ("5"). */
  value: string;
  /** Days after the due date before the penalty applies (once per instalment). */
  after_days: number;
}

export interface Eligibility {
  /** The lowest KYC tier code that may apply (tiers are ordered by the kyc module: tier_0 < tier_1 < …). */
  min_kyc_tier?: string;
  /** Days since the customer's wallet in the product's currency was opened. */
  min_wallet_tenure_days?: number;
  /** Active (approved, disbursed, in arrears) loans the customer may hold at once, on any product. */
  max_active_loans?: number;
}

export interface ProductTerms {
  min_amount_minor: string;
  max_amount_minor: string;
  /** The number of instalments. */
  min_term: number;
  max_term: number;
  frequency: RepaymentFrequency;
  interest_method: InterestMethod;
  interest_calculation: InterestCalculation;
  /** Nominal annual rate, percent. */
  annual_rate: string;
  /** Instalments at the start that carry no principal (principal grace) / no interest (interest grace). */
  grace_principal_periods: number;
  grace_interest_periods: number;
  upfront_fee?: UpfrontFee | null;
  late_penalty?: LatePenalty | null;
  /** Default ['penalty', 'fee', 'interest', 'principal']. */
  allocation_order: AllocationPart[];
  prepayment: PrepaymentPolicy;
  overpayment: OverpaymentPolicy;
  eligibility: Eligibility;
  /** Applications whose fraud score reaches this are flagged for investigation. */
  fraud_threshold: number;
  /** Approved automatically when the scoring policy says approve and the amount is at most this (0: never). */
  auto_approve_limit_minor: string;
  /** Manual approvals of more than this need a second person (maker-checker). */
  maker_checker_above_minor: string;
}

export const DEFAULT_ALLOCATION_ORDER: AllocationPart[] = ['penalty', 'fee', 'interest', 'principal'];

/** The arrears buckets close of business moves loans through, by days past due. */
export const ARREARS_BUCKETS = ['current', '1-30', '31-60', '61-90', '90+'] as const;
export type ArrearsBucket = (typeof ARREARS_BUCKETS)[number];

export function bucketOf(daysPastDue: number): ArrearsBucket {
  if (daysPastDue <= 0) return 'current';
  if (daysPastDue <= 30) return '1-30';
  if (daysPastDue <= 60) return '31-60';
  if (daysPastDue <= 90) return '61-90';
  return '90+';
}
