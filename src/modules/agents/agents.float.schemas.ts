/** Schemas of the agent network's float routes: bank-deposit top-ups, rebalancing, positions. */
import { Type } from 'typebox';
import { CurrencyCode, MoneyIn, MoneyOut } from '../../platform/money.ts';

const Uuid = Type.String({ format: 'uuid' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

/** One float: an agent's own or one of its stores' (exactly one of the two). */
export const FloatRef = Type.Object(
  { agent_id: Type.Optional(Uuid), store_id: Type.Optional(Uuid) },
  { description: 'Exactly one of agent_id (the agent’s own float) and store_id (a store’s)' },
);

export const FloatDepositBody = Type.Object({
  agent_id: Type.Optional(Uuid),
  store_id: Type.Optional(Uuid),
  amount: MoneyIn,
  currency: CurrencyCode,
  bank_reference: Type.String({
    minLength: 3,
    maxLength: 64,
    pattern: '^[A-Za-z0-9._/-]+$',
    description: 'The deposit’s reference in the core banking system (unique)',
  }),
});

export const FloatDepositView = Type.Object({
  id: Uuid,
  agent_id: Uuid,
  store_id: Nullable(Uuid),
  amount: MoneyOut,
  currency: Type.String(),
  bank_reference: Type.String(),
  status: Type.Enum(['pending', 'confirmed', 'rejected']),
  requested_by_type: Type.String(),
  requested_by_id: Nullable(Uuid),
  decided_by: Nullable(Uuid),
  decision_reason: Nullable(Type.String()),
  transaction_id: Nullable(Uuid),
  created_at: Type.String({ format: 'date-time' }),
  decided_at: Nullable(Type.String({ format: 'date-time' })),
});

export const FloatDepositList = Type.Object({ items: Type.Array(FloatDepositView) });

export const FloatDepositQuery = Type.Object({
  status: Type.Optional(Type.Enum(['pending', 'confirmed', 'rejected'])),
  agent_id: Type.Optional(Uuid),
});

export const RejectBody = Type.Object({ reason: Type.String({ minLength: 3, maxLength: 500 }) });

export const RebalanceBody = Type.Object({
  from: FloatRef,
  to: FloatRef,
  amount: MoneyIn,
  narration: Type.Optional(Type.String({ minLength: 1, maxLength: 140 })),
});

export const FloatPositions = Type.Object({
  agent: Type.Object({
    agent_id: Uuid,
    agent_number: Type.String(),
    currency: Type.String(),
    balance: MoneyOut,
  }),
  stores: Type.Array(
    Type.Object({
      store_id: Uuid,
      store_number: Type.String(),
      name: Type.String(),
      currency: Type.String(),
      balance: MoneyOut,
    }),
  ),
});
