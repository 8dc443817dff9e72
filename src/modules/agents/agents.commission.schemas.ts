/** Schemas of the commission routes (`/api/v1/agent/commission/*`, an agent's commissions and performance). */
import { Type } from 'typebox';
import { CurrencyCode } from '../../platform/money.ts';

const Minor = (description?: string) =>
  Type.String({
    pattern: '^(0|[1-9][0-9]{0,18})$',
    description: description ?? 'Minor units as a decimal string (KES 15.00 is "1500")',
  });
const SignedMinor = (description: string) =>
  Type.String({ pattern: '^-?(0|[1-9][0-9]{0,18})$', description });
const Uuid = Type.String({ format: 'uuid' });
const Timestamp = Type.String({ format: 'date-time' });

export const Band = Type.Object(
  {
    from_minor: Minor('Lowest amount of the band, inclusive'),
    to_minor: Type.Union([Minor('Highest amount of the band, inclusive'), Type.Null()], {
      description: 'Highest amount, inclusive; null (last band only): no upper bound',
    }),
    fixed_minor: Minor('Fixed commission of the band'),
    percent_bps: Type.Integer({
      minimum: 0,
      maximum: 10000,
      description: 'Percentage of the amount in basis points (rounded down to the minor unit)',
    }),
  },
  { additionalProperties: false },
);

const Bands = Type.Array(Band, {
  maxItems: 50,
  description: 'Ascending, contiguous bands (each starts one minor unit after the previous one ends)',
});

export const Rules = Type.Object(
  { cash_in: Type.Optional(Bands), cash_out: Type.Optional(Bands) },
  {
    additionalProperties: false,
    description: 'Bands by transaction type; a type without bands earns nothing',
  },
);

const Destination = Type.Union([Type.Literal('float'), Type.Literal('wallet')], {
  description: "Where payouts go: the agent's float, or the owner's customer wallet in the plan's currency",
});

export const PlanBody = Type.Object(
  {
    code: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{1,49}$' }),
    name: Type.String({ minLength: 1, maxLength: 120 }),
    currency: CurrencyCode,
    rules: Rules,
    super_agent_share_bps: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 10000, description: "The super-agent's share of each commission" }),
    ),
    is_default: Type.Optional(
      Type.Boolean({ description: "The currency's default plan (one per currency)" }),
    ),
    payout_destination: Type.Optional(Destination),
  },
  { additionalProperties: false },
);

export const PlanChangeBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    rules: Type.Optional(Rules),
    super_agent_share_bps: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000 })),
    is_default: Type.Optional(Type.Boolean()),
    payout_destination: Type.Optional(Destination),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const PlanView = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  currency: Type.String(),
  rules: Type.Record(Type.String(), Type.Array(Band)),
  super_agent_share_bps: Type.Integer(),
  is_default: Type.Boolean(),
  payout_destination: Destination,
  active: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const PlanList = Type.Object({ items: Type.Array(PlanView) });
export const PlanQuery = Type.Object(
  { currency: Type.Optional(CurrencyCode), active: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export const IdParams = Type.Object({ id: Uuid });

export const PayoutBody = Type.Object(
  {
    period_end: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'Pay what accrued before this instant (default: now)',
      }),
    ),
    agent_id: Type.Optional(
      Type.String({ format: 'uuid', description: 'Only this agent (default: every agent)' }),
    ),
  },
  { additionalProperties: false },
);

export const PayoutView = Type.Object({
  id: Uuid,
  agent_id: Uuid,
  period_start: Timestamp,
  period_end: Timestamp,
  amount_minor: Minor('What was paid (accrued less any clawback debt)'),
  currency: Type.String(),
  destination: Destination,
  transaction_id: Type.Union([Uuid, Type.Null()]),
  commission_count: Type.Integer(),
  created_at: Timestamp,
});

export const PayoutRun = Type.Object({
  period_end: Timestamp,
  payouts: Type.Array(PayoutView),
  skipped: Type.Array(
    Type.Object({
      agent_id: Uuid,
      currency: Type.String(),
      accrued_minor: Minor(),
      reason: Type.Union(
        [
          Type.Literal('clawback_debt'),
          Type.Literal('no_wallet'),
          Type.Literal('agent_closed'),
          Type.Literal('failed'),
        ],
        {
          description:
            'clawback_debt: the payable holds nothing (a clawback took back paid commission); no_wallet: the plan ' +
            'pays to the owner’s wallet and there is none in the currency; agent_closed; failed: the payout was ' +
            'refused (`error_code`; in a run for every agent, the others go on)',
        },
      ),
      error_code: Type.Optional(Type.String()),
    }),
  ),
});

export const CommissionView = Type.Object({
  id: Uuid,
  transaction_id: Uuid,
  agent_id: Uuid,
  source_agent_id: Uuid,
  transaction_type: Type.String(),
  amount_minor: Minor(),
  currency: Type.String(),
  status: Type.Union([Type.Literal('accrued'), Type.Literal('paid'), Type.Literal('clawed_back')]),
  payout_id: Type.Union([Uuid, Type.Null()]),
  clawback_transaction_id: Type.Union([Uuid, Type.Null()]),
  accrued_at: Timestamp,
});

export const StatementQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);

export const Statement = Type.Object({
  payout: PayoutView,
  commissions: Type.Object({
    items: Type.Array(CommissionView),
    next_cursor: Type.Union([Type.String(), Type.Null()]),
  }),
});

export const AgentCommissionTotals = Type.Object({
  agent_id: Uuid,
  payable_balance_minor: SignedMinor('What the commission payable account holds now'),
  totals: Type.Array(
    Type.Object({
      currency: Type.String(),
      accrued_minor: Minor(),
      accrued_count: Type.Integer(),
      paid_minor: Minor(),
      paid_count: Type.Integer(),
      clawed_back_minor: Minor(),
      clawed_back_count: Type.Integer(),
    }),
  ),
});

export const PerformanceQuery = Type.Object(
  {
    from: Type.Optional(
      Type.String({ format: 'date-time', description: 'Start, inclusive (default: 30 days before to)' }),
    ),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'End, exclusive (default: now)' })),
  },
  { additionalProperties: false },
);

export const Performance = Type.Object({
  agent_id: Uuid,
  currency: Type.String(),
  from: Timestamp,
  to: Timestamp,
  volumes: Type.Array(
    Type.Object({
      day: Type.String({ description: 'UTC day, YYYY-MM-DD' }),
      type: Type.String(),
      count: Type.Integer(),
      value_minor: Type.Union([Minor(), Type.Null()], { description: 'Null when only counts are known' }),
    }),
  ),
  totals: Type.Array(
    Type.Object({
      type: Type.String(),
      count: Type.Integer(),
      value_minor: Type.Union([Minor(), Type.Null()]),
    }),
  ),
  commissions: Type.Array(
    Type.Object({
      day: Type.String(),
      currency: Type.String(),
      count: Type.Integer(),
      amount_minor: Minor(),
    }),
  ),
  commission_total_minor: Minor('Commissions earned in the agent’s currency (clawed back excluded)'),
  customers_served: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Distinct customers served; null when the cash area does not report it',
  }),
  geofence: Type.Object({
    checks: Type.Integer(),
    violations: Type.Integer(),
    violation_rate: Type.Number({ minimum: 0, maximum: 1 }),
  }),
  sources: Type.Object({
    volumes: Type.Union([Type.Literal('cash'), Type.Literal('location_checks')]),
    violation_rate: Type.Union([Type.Literal('geo'), Type.Literal('location_checks')]),
  }),
});
