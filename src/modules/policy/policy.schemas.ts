/** Schemas of `/api/v1/policy`: access policies and transaction-control limits. */
import { Type } from 'typebox';

const Channel = Type.Union([
  Type.Literal('web'),
  Type.Literal('mobile'),
  Type.Literal('ussd'),
  Type.Literal('agent'),
  Type.Literal('api'),
]);
const Hhmm = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' });
const Money = Type.Integer({
  format: 'int64',
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  description: 'Minor units',
});
/**
 * An amount of an evaluation question. Half the safe range, so that what the payment would make (used + amount) is
 * still a safe integer in the answer (the schema fuzzer found 2^53 - 1 + amount answered as `would_be`).
 */
const QuestionMoney = Type.Integer({
  format: 'int64',
  minimum: 0,
  maximum: 2 ** 52 - 1,
  description: 'Minor units (at most 2^52 - 1)',
});
const MoneyOut = Type.Unsafe<bigint>({ type: 'integer', format: 'int64' });
const Currency = Type.String({ pattern: '^[A-Z]{3}$' });
const Period = Type.Union([Type.Literal('single'), Type.Literal('daily'), Type.Literal('monthly')]);
const Tier = Type.String({ minLength: 2, maxLength: 32, pattern: '^[a-z_]+$' });
const Wildcard = (inner: ReturnType<typeof Type.String>) => Type.Union([inner, Type.Literal('*')]);

export const TimeWindow = Type.Object({
  start: Hhmm,
  end: Hhmm,
  timezone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Africa/Nairobi' }),
  days: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), {
    maxItems: 7,
    uniqueItems: true,
    description: 'ISO weekdays; empty: every day',
  }),
});

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const AccessPolicyView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  role_code: Nullable(Type.String()),
  allowed_channels: Nullable(Type.Array(Type.String())),
  ip_allowlist: Nullable(Type.Array(Type.String())),
  time_window: Nullable(TimeWindow),
  active: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

const accessFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  role_code: Type.Optional(Nullable(Type.String({ maxLength: 64, pattern: '^[a-z][a-z0-9_]*$' }))),
  allowed_channels: Type.Optional(Nullable(Type.Array(Channel, { minItems: 1, uniqueItems: true }))),
  ip_allowlist: Type.Optional(
    Nullable(Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 200 })),
  ),
  time_window: Type.Optional(Nullable(TimeWindow)),
  active: Type.Optional(Type.Boolean()),
};
export const AccessPolicyCreate = Type.Object(accessFields);
export const AccessPolicyUpdate = Type.Object(
  { ...accessFields, name: Type.Optional(accessFields.name) },
  { minProperties: 1 },
);
export const AccessPolicyList = Type.Object({ items: Type.Array(AccessPolicyView) });

export const AccessQuestion = Type.Object({
  roles: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 }),
  ip: Type.String({ maxLength: 64 }),
  channel: Channel,
  at: Type.Optional(Type.String({ format: 'date-time' })),
});
export const AccessAnswer = Type.Object({ allowed: Type.Boolean(), reasons: Type.Array(Type.String()) });

export const LimitView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  kyc_tier: Type.String(),
  channel: Type.String(),
  transaction_type: Type.String(),
  period: Period,
  currency: Type.String(),
  max_amount_minor: MoneyOut,
  max_count: Type.Union([Type.Integer(), Type.Null()]),
  active: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export const LimitCreate = Type.Object({
  kyc_tier: Tier,
  channel: Wildcard(Type.String({ pattern: '^(web|mobile|ussd|agent|api)$' })),
  transaction_type: Wildcard(Type.String({ pattern: '^[a-z0-9_]{2,32}$' })),
  period: Period,
  currency: Currency,
  max_amount_minor: Money,
  max_count: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 100000 }), Type.Null()])),
  active: Type.Optional(Type.Boolean()),
});
export const LimitUpdate = Type.Object(
  {
    max_amount_minor: Type.Optional(Money),
    max_count: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 100000 }), Type.Null()])),
    active: Type.Optional(Type.Boolean()),
  },
  { minProperties: 1 },
);
export const LimitQuery = Type.Object({ kyc_tier: Type.Optional(Tier), currency: Type.Optional(Currency) });
export const LimitList = Type.Object({ items: Type.Array(LimitView) });

export const TransactionQuestion = Type.Object({
  kyc_tier: Tier,
  channel: Type.String({ pattern: '^(web|mobile|ussd|agent|api)$' }),
  transaction_type: Type.String({ pattern: '^[a-z0-9_]{2,32}$' }),
  currency: Currency,
  amount: QuestionMoney,
  used: Type.Object({
    daily_amount: QuestionMoney,
    daily_count: Type.Integer({ minimum: 0, maximum: 1000000 }),
    monthly_amount: QuestionMoney,
    monthly_count: Type.Integer({ minimum: 0, maximum: 10000000 }),
  }),
});
export const TransactionAnswer = Type.Object({
  allowed: Type.Boolean(),
  violations: Type.Array(
    Type.Object({
      limit_id: Type.String({ format: 'uuid' }),
      period: Period,
      kind: Type.Union([Type.Literal('amount'), Type.Literal('count')]),
      limit: MoneyOut,
      would_be: MoneyOut,
      remaining: MoneyOut,
    }),
  ),
});
export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
