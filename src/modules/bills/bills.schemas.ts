/** Schemas of `/api/v1/wallet/biller` and `/api/v1/wallet/transaction/bill`. */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import { CurrencyCode, MoneyIn, MoneyOut } from '../../platform/money.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const BILLER_CATEGORIES = [
  'electricity',
  'water',
  'tv',
  'internet',
  'telephone',
  'education',
  'government',
  'insurance',
  'other',
] as const;

const Category = Type.Enum(BILLER_CATEGORIES);
const BillerCode = Type.String({ pattern: '^[A-Z][A-Z0-9_]{1,31}$', description: 'e.g. KPLC_PREPAID' });
const Adapter = Type.String({
  pattern: '^[a-z][a-z0-9_]{1,31}$',
  description:
    'How references are checked: `pattern` (regular expression) or `pattern_luhn` (and a Luhn check digit)',
});
const ReferencePattern = Type.String({
  minLength: 2,
  maxLength: 200,
  description: 'Anchored regular expression for the customer reference, e.g. `^[0-9]{11}$`',
});
const Reference = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'The customer account with the biller (meter number, smartcard …); spaces are ignored',
});
export const Pin = Type.String({ pattern: '^[0-9]{4,6}$', description: 'Transaction PIN (customers)' });
export const OtpAnswer = Type.Object({
  challenge_id: Type.String({ minLength: 8, maxLength: 128 }),
  code: Type.String({ pattern: '^[0-9]{6}$' }),
});
const Limit = Type.Integer({ format: 'int64', minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const BillerView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  code: Type.String(),
  name: Type.String(),
  category: Type.String(),
  currency: Type.String(),
  adapter: Type.String(),
  reference_pattern: Type.String(),
  min_amount: MoneyOut,
  max_amount: Type.Optional(
    Type.Unsafe<bigint>({ type: 'integer', format: 'int64', description: 'Absent when there is no maximum' }),
  ),
  min_amount_display: Type.String(),
  max_amount_display: Nullable(Type.String()),
  active: Type.Boolean(),
  settlement_account_id: Type.Optional(
    Type.String({ format: 'uuid', description: 'The ledger account owed to the biller (staff only)' }),
  ),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

export const BillerQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    category: Type.Optional(Category),
    currency: Type.Optional(CurrencyCode),
    active: Type.Optional(Type.Boolean({ description: 'Staff only; customers always see active billers' })),
  }),
]);
export const BillerPage = pageOf(BillerView);

export const BillerCreate = Type.Object({
  code: BillerCode,
  name: Type.String({ minLength: 2, maxLength: 120 }),
  category: Category,
  currency: CurrencyCode,
  adapter: Adapter,
  reference_pattern: ReferencePattern,
  min_amount: Type.Optional(Limit),
  max_amount: Type.Optional(Nullable(Limit)),
  active: Type.Optional(Type.Boolean()),
});

export const BillerUpdate = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 2, maxLength: 120 })),
    category: Type.Optional(Category),
    adapter: Type.Optional(Adapter),
    reference_pattern: Type.Optional(ReferencePattern),
    min_amount: Type.Optional(Limit),
    max_amount: Type.Optional(Nullable(Limit)),
    active: Type.Optional(Type.Boolean()),
  },
  { minProperties: 1 },
);

export const ValidateBody = Type.Object({ biller_code: BillerCode, reference: Reference });

export const ValidationView = Type.Object({
  biller_code: Type.String(),
  reference: Type.String({ description: 'The reference as the biller knows it (spaces removed)' }),
  valid: Type.Boolean(),
  account_name: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String({ description: 'Why it is not valid: format, check_digit …' })),
});

export const BillPayBody = Type.Object({
  biller_code: BillerCode,
  reference: Reference,
  amount: MoneyIn,
  currency: Type.Optional(CurrencyCode),
  source_wallet_id: Type.Optional(
    Type.String({
      format: 'uuid',
      description: 'Customers: default their wallet in the biller’s currency; staff must name it',
    }),
  ),
  narration: Type.Optional(Type.String({ minLength: 1, maxLength: 140 })),
  pin: Type.Optional(Pin),
  otp: Type.Optional(OtpAnswer),
});
