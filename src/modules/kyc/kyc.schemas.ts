/** Schemas of `/api/v1/customer/kyc`. */
import { Type } from 'typebox';

const MoneyOut = Type.Unsafe<bigint>({ type: 'integer', format: 'int64' });
const TierCode = Type.String({ minLength: 2, maxLength: 32, pattern: '^[a-z_]+$' });
const Channel = Type.Union([
  Type.Literal('web'),
  Type.Literal('mobile'),
  Type.Literal('ussd'),
  Type.Literal('agent'),
]);
const Codes = Type.Array(Type.String({ maxLength: 64, pattern: '^[a-z0-9_]+$' }), {
  maxItems: 20,
  uniqueItems: true,
});

export const TierView = Type.Object({
  code: Type.String(),
  name: Type.String(),
  rank: Type.Integer(),
  required_documents: Type.Array(Type.String()),
  required_verifications: Type.Array(Type.String()),
  max_balance: Type.Record(Type.String(), MoneyOut, { description: 'Per currency, minor units' }),
  features: Type.Record(Type.String(), Type.Array(Type.String()), { description: 'Per channel' }),
  validity_days: Type.Union([Type.Integer(), Type.Null()]),
  limits: Type.Array(
    Type.Object({
      currency: Type.String(),
      transaction_type: Type.String(),
      channel: Type.String(),
      period: Type.String(),
      max_amount_minor: MoneyOut,
    }),
  ),
});
export const TierList = Type.Object({ items: Type.Array(TierView) });
export const TierParams = Type.Object({ code: TierCode });
export const TierUpdate = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    required_documents: Type.Optional(Codes),
    required_verifications: Type.Optional(Codes),
    max_balance: Type.Optional(
      Type.Record(
        Type.String({ pattern: '^[A-Z]{3}$' }),
        Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
      ),
    ),
    features: Type.Optional(Type.Record(Type.String({ pattern: '^(web|mobile|ussd|agent)$' }), Codes)),
    validity_days: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 3650 }), Type.Null()])),
  },
  { minProperties: 1 },
);
export const FeatureQuery = Type.Object({ tier: TierCode, channel: Channel });
export const FeatureList = Type.Object({
  tier: Type.String(),
  channel: Type.String(),
  features: Type.Array(Type.String()),
});

export const ApplicationView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  customer_id: Type.String({ format: 'uuid' }),
  from_tier: Type.String(),
  target_tier: Type.String(),
  status: Type.String(),
  initiated_by: Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }),
  decided_by: Type.Union([Type.String(), Type.Null()]),
  decided_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});
export const InitiateBody = Type.Object({
  customer_id: Type.String({ format: 'uuid' }),
  target_tier: TierCode,
});
export const InitiateResult = Type.Object({
  application: ApplicationView,
  target_tier: TierView,
  checklist: Type.Array(
    Type.Object({
      kind: Type.Union([Type.Literal('document'), Type.Literal('verification')]),
      code: Type.String(),
      satisfied: Type.Boolean(),
    }),
  ),
});
export const ApplicationQuery = Type.Object({ customer_id: Type.String({ format: 'uuid' }) });
export const ApplicationList = Type.Object({ items: Type.Array(ApplicationView) });
export const ApplicationRef = Type.Object({ application_id: Type.String({ format: 'uuid' }) });
export const ReviewBody = Type.Object({
  application_id: Type.String({ format: 'uuid' }),
  decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
  reason: Type.Optional(Type.String({ minLength: 3, maxLength: 500 })),
});
