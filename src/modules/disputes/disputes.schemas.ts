/** Schemas of reversals (`/api/v1/transaction/transaction/reverse`) and disputes (`/api/v1/transaction/dispute`). */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import { MoneyOut } from '../../platform/money.ts';

export const DISPUTE_REASONS = [
  'unauthorized',
  'not_received',
  'wrong_amount',
  'duplicate',
  'fraud',
  'other',
] as const;
export type DisputeReason = (typeof DISPUTE_REASONS)[number];

export const DISPUTE_STATUSES = ['open', 'investigating', 'refunded', 'rejected'] as const;
export const HOLD_STATUSES = ['none', 'held', 'released', 'captured'] as const;

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const ReverseBody = Type.Object({
  transaction_id: Type.String({ format: 'uuid' }),
  reason: Type.String({ minLength: 3, maxLength: 500, description: 'Why the transaction is undone' }),
});

export const DisputeBody = Type.Object({
  transaction_id: Type.String({ format: 'uuid' }),
  reason: Type.Enum(DISPUTE_REASONS),
  description: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
});

export const InvestigateBody = Type.Object({
  dispute_id: Type.String({ format: 'uuid' }),
  note: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
});

export const ResolveBody = Type.Object({
  dispute_id: Type.String({ format: 'uuid' }),
  outcome: Type.Enum(['refund', 'reject'], {
    description: '`refund` pays the payer back (held money first); `reject` releases the hold',
  }),
  resolution: Type.String({ minLength: 3, maxLength: 2000, description: 'What was found and decided' }),
});

export const DisputeView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  transaction_id: Type.String({ format: 'uuid' }),
  transaction_reference: Type.String(),
  customer_id: Type.String({ format: 'uuid' }),
  reason: Type.Enum(DISPUTE_REASONS),
  description: NullableString,
  status: Type.Enum(DISPUTE_STATUSES),
  amount: MoneyOut,
  currency: Type.String(),
  amount_display: Type.String(),
  held_amount: Type.Unsafe<bigint>({
    type: 'integer',
    format: 'int64',
    description:
      'Minor units held on the recipient’s side when the dispute opened, at most `amount` (0: nothing could be held)',
  }),
  hold_status: Type.Enum(HOLD_STATUSES),
  resolution: NullableString,
  resolved_by_id: Type.Optional(NullableString),
  refund_transaction_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  resolved_at: NullableTime,
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

export const DisputeQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    status: Type.Optional(Type.Enum(DISPUTE_STATUSES)),
    customer_id: Type.Optional(Type.String({ format: 'uuid', description: 'Staff only' })),
    transaction_id: Type.Optional(Type.String({ format: 'uuid' })),
  }),
]);
export const DisputePage = pageOf(DisputeView);
