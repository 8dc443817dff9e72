/**
 * Schemas of loan products (`/api/v1/loan/product/*`). Over the API a product's money terms are JSON integers of
 * minor units (`*_minor`); stored terms keep them as decimal strings (ProductTerms, jsonb convention). Rates are
 * decimal strings of percent ("12", "13.75").
 */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import { CurrencyCode, MoneyIn, MoneyOut } from '../../platform/money.ts';
import {
  ALLOCATION_PARTS,
  INTEREST_CALCULATIONS,
  INTEREST_METHODS,
  OVERPAYMENT_POLICIES,
  PREPAYMENT_POLICIES,
  REPAYMENT_FREQUENCIES,
} from './loans.terms.ts';

export const PRODUCT_STATUSES = ['active', 'retired'] as const;

/** Percent with up to 6 decimals, 0 to 1000 (the upper bound is checked with the other rules). */
export const RATE_PATTERN = '^(0|[1-9][0-9]{0,3})(\\.[0-9]{1,6})?$';
const Rate = (description: string) => Type.String({ pattern: RATE_PATTERN, description });
const MinorOrZero = (description: string) =>
  Type.Integer({ format: 'int64', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });

export const UpfrontFeeIn = Type.Object({
  mode: Type.Enum(['deduct', 'first_instalment'], {
    description: '`deduct`: taken from the amount disbursed; `first_instalment`: added to instalment 1',
  }),
  fixed_minor: Type.Optional(MinorOrZero('A fixed fee in minor units')),
  percent: Type.Optional(Rate('Percent of the principal (adds to `fixed_minor`)')),
});

export const LatePenaltyIn = Type.Object({
  type: Type.Enum(['fixed', 'percent']),
  value: Type.String({
    pattern: '^(0|[1-9][0-9]{0,17})(\\.[0-9]{1,6})?$',
    description: '`fixed`: minor units (whole number); `percent`: percent of the overdue unpaid amount',
  }),
  after_days: Type.Integer({ minimum: 0, maximum: 365, description: 'Days after the due date' }),
});

export const EligibilityIn = Type.Object({
  min_kyc_tier: Type.Optional(
    Type.String({ minLength: 1, maxLength: 50, description: 'Lowest KYC tier code (kyc tiers)' }),
  ),
  min_wallet_tenure_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650 })),
  max_active_loans: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100, description: 'Approved or active loans at once' }),
  ),
});

const termFields = {
  min_amount_minor: MoneyIn,
  max_amount_minor: MoneyIn,
  min_term: Type.Integer({ minimum: 1, maximum: 1000, description: 'Fewest instalments' }),
  max_term: Type.Integer({ minimum: 1, maximum: 1000, description: 'Most instalments' }),
  frequency: Type.Enum(REPAYMENT_FREQUENCIES),
  interest_method: Type.Enum(INTEREST_METHODS),
  interest_calculation: Type.Enum(INTEREST_CALCULATIONS, {
    description: '`per_period`: at each due date; `daily`: accrued daily on the outstanding balance',
  }),
  annual_rate: Rate('Nominal annual rate, percent (0 to 1000)'),
  grace_principal_periods: Type.Integer({
    minimum: 0,
    maximum: 999,
    description: 'Instalments without principal',
  }),
  grace_interest_periods: Type.Integer({
    minimum: 0,
    maximum: 999,
    description: 'Instalments without interest',
  }),
  upfront_fee: Type.Optional(Type.Union([UpfrontFeeIn, Type.Null()])),
  late_penalty: Type.Optional(Type.Union([LatePenaltyIn, Type.Null()])),
  allocation_order: Type.Array(Type.Enum(ALLOCATION_PARTS), {
    minItems: 4,
    maxItems: 4,
    uniqueItems: true,
    description: 'The four parts in the order a payment pays them',
  }),
  prepayment: Type.Enum(PREPAYMENT_POLICIES),
  overpayment: Type.Enum(OVERPAYMENT_POLICIES),
  eligibility: EligibilityIn,
  fraud_threshold: Type.Integer({
    minimum: 1,
    maximum: 1000,
    description: 'Fraud score at or above which an application is flagged',
  }),
  auto_approve_limit_minor: MinorOrZero('Scored-approve applications up to this are approved (0: never)'),
  maker_checker_above_minor: MinorOrZero('Manual approvals above this need a second person'),
};

/**
 * Every term, as a product is created with. Left out: no grace periods, no fee or penalty, allocation penalty → fee →
 * interest → principal, prepayment `reduce_term`, overpayment `future_instalments`, no eligibility rule.
 */
export const TermsIn = Type.Object({
  ...termFields,
  grace_principal_periods: Type.Optional(termFields.grace_principal_periods),
  grace_interest_periods: Type.Optional(termFields.grace_interest_periods),
  allocation_order: Type.Optional(termFields.allocation_order),
  prepayment: Type.Optional(termFields.prepayment),
  overpayment: Type.Optional(termFields.overpayment),
  eligibility: Type.Optional(termFields.eligibility),
});

/**
 * The changed terms only: each given field replaces the current one (`null` removes a fee or penalty; `eligibility`
 * is replaced whole). No defaults here, so a field left out keeps its current value.
 */
export const TermsChange = Type.Object(
  Object.fromEntries(Object.entries(termFields).map(([key, schema]) => [key, Type.Optional(schema)])) as {
    [K in keyof typeof termFields]: ReturnType<typeof Type.Optional<(typeof termFields)[K]>>;
  },
  { minProperties: 1 },
);

export const ProductAddBody = Type.Object({
  code: Type.String({
    pattern: '^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$',
    description: 'Unique, lower case with dashes, e.g. `salary-advance` (used in ledger account codes)',
  }),
  name: Type.String({ minLength: 2, maxLength: 120 }),
  currency: CurrencyCode,
  terms: TermsIn,
});

export const ProductUpdateBody = Type.Object({
  product_id: Type.String({ format: 'uuid' }),
  name: Type.Optional(Type.String({ minLength: 2, maxLength: 120 })),
  terms: Type.Optional(TermsChange),
});

export const ProductRetireBody = Type.Object({
  product_id: Type.String({ format: 'uuid' }),
  reason: Type.Optional(Type.String({ minLength: 3, maxLength: 500 })),
});

export const TermsView = Type.Object({
  min_amount_minor: MoneyOut,
  max_amount_minor: MoneyOut,
  min_term: Type.Integer(),
  max_term: Type.Integer(),
  frequency: Type.Enum(REPAYMENT_FREQUENCIES),
  interest_method: Type.Enum(INTEREST_METHODS),
  interest_calculation: Type.Enum(INTEREST_CALCULATIONS),
  annual_rate: Type.String(),
  grace_principal_periods: Type.Integer(),
  grace_interest_periods: Type.Integer(),
  // One schema typed object-or-null, not a union: the serializer picks a union's branch by validating the value, and
  // a validator knows no bigint, so a fee with `fixed_minor` matched no branch (a 500 the fuzz found).
  upfront_fee: Type.Unsafe<{
    mode: 'deduct' | 'first_instalment';
    fixed_minor?: bigint;
    percent?: string;
  } | null>({
    type: ['object', 'null'],
    properties: {
      mode: { type: 'string', enum: ['deduct', 'first_instalment'] },
      fixed_minor: { type: 'integer', format: 'int64' },
      percent: { type: 'string' },
    },
    required: ['mode'],
  }),
  late_penalty: Type.Union([
    Type.Object({
      type: Type.Enum(['fixed', 'percent']),
      value: Type.String(),
      after_days: Type.Integer(),
    }),
    Type.Null(),
  ]),
  allocation_order: Type.Array(Type.Enum(ALLOCATION_PARTS)),
  prepayment: Type.Enum(PREPAYMENT_POLICIES),
  overpayment: Type.Enum(OVERPAYMENT_POLICIES),
  eligibility: Type.Object({
    min_kyc_tier: Type.Optional(Type.String()),
    min_wallet_tenure_days: Type.Optional(Type.Integer()),
    max_active_loans: Type.Optional(Type.Integer()),
  }),
  // The risk settings are staff's only: a customer never sees what would pass automatically.
  fraud_threshold: Type.Optional(Type.Integer({ description: 'Staff only' })),
  auto_approve_limit_minor: Type.Optional(
    Type.Unsafe<bigint>({ type: 'integer', format: 'int64', description: 'Staff only' }),
  ),
  maker_checker_above_minor: Type.Optional(
    Type.Unsafe<bigint>({ type: 'integer', format: 'int64', description: 'Staff only' }),
  ),
});

export const ProductView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  code: Type.String(),
  name: Type.String(),
  currency: Type.String(),
  status: Type.Enum(PRODUCT_STATUSES),
  current_version: Type.Integer({ description: 'The version new applications get' }),
  terms: TermsView,
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

export const ProductVersionView = Type.Object({
  version: Type.Integer(),
  terms: TermsView,
  created_by_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});
export const ProductVersionList = Type.Object({ items: Type.Array(ProductVersionView) });

export const ProductIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const ProductQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    status: Type.Optional(Type.Enum(PRODUCT_STATUSES, { description: 'Staff only; customers see active' })),
    currency: Type.Optional(CurrencyCode),
  }),
]);
export const ProductPage = pageOf(ProductView);
