/**
 * The AML rule language (rules are data in `aml_rules`; this file is their grammar and its validation).
 *
 * A `realtime` rule's `definition` is `{ "conditions": [ ... ] }`: ALL conditions must hold for the rule to fire
 * (all-of; 1 to 20 conditions). The rule's row carries what happens when it fires: `action` (block | review | alert)
 * and `priority` (of the alert it raises). Each condition is one of:
 *
 * Payment
 * - `{ "field": "amount", "op": "gte", "values": { "KES": "100000000", "USD": "1000000" } }`: the payment's amount in
 *   minor units against the threshold of its currency; a currency not listed never matches. Ops: gt gte lt lte eq.
 * - `{ "field": "type", "in": ["p2p", "cash_out"] }` and `{ "field": "channel", "in": ["ussd", "agent"] }`.
 * - `{ "field": "counterparty_new", "value": true }`: the customer never paid this counterparty (wallet or account)
 *   before, from the aggregates' all-time set of the customer's counterparties.
 * - `{ "field": "destination_country" | "source_country", "in": ["IR", "KP"] }`: ISO alpha-2 from the payment's
 *   metadata (`destination_country`, `source_country`) when known; unknown never matches.
 *
 * Customer (the payer's customer, or the payee's when the money comes from a house account: a cash deposit)
 * - `{ "field": "kyc_tier", "in": ["basic"] }`.
 * - `{ "field": "risk_band", "in": ["high"] }`: the risk area's rating (RiskReader.ratingOf); never rated = `low`.
 * - `{ "field": "account_age_days", "op": "lt", "value": 30 }`: whole days since the customer was created.
 * - `{ "field": "pep", "value": true }`: the rating's PEP flag.
 *
 * Aggregates over sliding windows, INCLUDING the current payment (aml.aggregates.ts keeps them)
 * - `{ "field": "aggregate", "subject": "customer", "measure": "count", "window": "1h", "op": "gt", "value": 10 }`
 * - `{ "field": "aggregate", "subject": "counterparty", "measure": "distinct_counterparties", "window": "24h",
 *   "op": "gte", "value": 20 }`: for the counterparty subject, distinct *payers* (fan-in).
 * - `{ "field": "aggregate", "subject": "wallet", "measure": "sum", "window": "7d", "op": "gte",
 *   "values": { "KES": "500000000" } }`: sums are per currency (the payment's), so `sum` takes `values`.
 *   Subjects: customer | wallet (the source wallet) | device (metadata `device_id`) | agent (metadata `agent_id`) |
 *   counterparty. Windows: 1h | 24h | 7d. A subject the payment does not have (no device) never matches.
 *
 * A condition whose data is unavailable (Redis down, no country) is `unknown` and the rule does not fire; the
 * decision records `aggregates_unavailable` and its degraded policy applies (aml.decisions.ts).
 *
 * A `scenario` rule's definition is `{ "params": { "name": number | string, ... } }`: thresholds the scenarios area
 * reads; staff change them by adding a version.
 */
import { type Static, Type } from 'typebox';
import { bodyAjv } from '../../platform/validation.ts';
import type { RuleKind } from './aml.tables.ts';

const Minor = Type.String({ pattern: '^(0|[1-9][0-9]{0,17})$', description: 'Minor units, decimal string' });
export const PerCurrency = Type.Record(Type.String({ pattern: '^[A-Z]{3}$' }), Minor, {
  minProperties: 1,
  maxProperties: 50,
  description: 'A threshold per ISO 4217 currency (minor units); another currency never matches',
});
export const COMPARE_OPS = ['gt', 'gte', 'lt', 'lte', 'eq'] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];
const Op = Type.Union(COMPARE_OPS.map((op) => Type.Literal(op)));
const Codes = (pattern: string, description: string) =>
  Type.Array(Type.String({ pattern }), { minItems: 1, maxItems: 100, uniqueItems: true, description });

export const AGGREGATE_SUBJECTS = ['customer', 'wallet', 'device', 'agent', 'counterparty'] as const;
export type AggregateSubject = (typeof AGGREGATE_SUBJECTS)[number];
export const AGGREGATE_WINDOWS = ['1h', '24h', '7d'] as const;
export type AggregateWindow = (typeof AGGREGATE_WINDOWS)[number];
export const AGGREGATE_MEASURES = ['count', 'sum', 'distinct_counterparties'] as const;
export type AggregateMeasure = (typeof AGGREGATE_MEASURES)[number];

const closed = { additionalProperties: false } as const;
const Subject = Type.Union(AGGREGATE_SUBJECTS.map((value) => Type.Literal(value)));
const Window = Type.Union(AGGREGATE_WINDOWS.map((value) => Type.Literal(value)));

export const Condition = Type.Union([
  Type.Object({ field: Type.Literal('amount'), op: Op, values: PerCurrency }, closed),
  Type.Object({ field: Type.Literal('type'), in: Codes('^[a-z][a-z0-9_]*$', 'Transaction types') }, closed),
  Type.Object({ field: Type.Literal('channel'), in: Codes('^[a-z][a-z0-9_]*$', 'Channels') }, closed),
  Type.Object({ field: Type.Literal('counterparty_new'), value: Type.Boolean() }, closed),
  Type.Object(
    {
      field: Type.Union([Type.Literal('destination_country'), Type.Literal('source_country')]),
      in: Codes('^[A-Z]{2}$', 'ISO 3166 alpha-2 codes'),
    },
    closed,
  ),
  Type.Object({ field: Type.Literal('kyc_tier'), in: Codes('^[a-z][a-z0-9_]*$', 'KYC tiers') }, closed),
  Type.Object(
    {
      field: Type.Literal('risk_band'),
      in: Type.Array(Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]), {
        minItems: 1,
        uniqueItems: true,
      }),
    },
    closed,
  ),
  Type.Object(
    {
      field: Type.Literal('account_age_days'),
      op: Op,
      value: Type.Integer({ minimum: 0, maximum: 36500 }),
    },
    closed,
  ),
  Type.Object({ field: Type.Literal('pep'), value: Type.Boolean() }, closed),
  Type.Object(
    {
      field: Type.Literal('aggregate'),
      subject: Subject,
      measure: Type.Union([Type.Literal('count'), Type.Literal('distinct_counterparties')]),
      window: Window,
      op: Op,
      value: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    },
    closed,
  ),
  Type.Object(
    {
      field: Type.Literal('aggregate'),
      subject: Subject,
      measure: Type.Literal('sum'),
      window: Window,
      op: Op,
      values: PerCurrency,
    },
    closed,
  ),
]);
export type Condition = Static<typeof Condition>;
export type AggregateCondition = Extract<Condition, { field: 'aggregate' }>;

export const RealtimeDefinition = Type.Object(
  { conditions: Type.Array(Condition, { minItems: 1, maxItems: 20, description: 'All must hold (all-of)' }) },
  {
    ...closed,
    description: 'A real-time rule: all-of conditions on the payment, the customer and aggregates',
  },
);
export type RealtimeDefinition = Static<typeof RealtimeDefinition>;

export const ScenarioDefinition = Type.Object(
  {
    params: Type.Record(
      Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }),
      Type.Union([Type.Number(), Type.String({ maxLength: 200 })]),
      { maxProperties: 50, description: "The scenario's thresholds (numbers or strings)" },
    ),
  },
  { ...closed, description: 'A post-posting scenario: its parameters' },
);
export type ScenarioDefinition = Static<typeof ScenarioDefinition>;

export const RuleDefinition = Type.Union([RealtimeDefinition, ScenarioDefinition], {
  description:
    'Kind realtime: { conditions: [...] }; kind scenario: { params: {...} } (see the rule language)',
});

const validators = {
  realtime: bodyAjv.compile(RealtimeDefinition),
  scenario: bodyAjv.compile(ScenarioDefinition),
};

export interface DefinitionProblem {
  field: string;
  message: string;
  rule: string;
}

/** The problems of a definition for its kind (empty when valid). Never throws. */
export function definitionProblems(kind: RuleKind, definition: unknown): DefinitionProblem[] {
  const validate = validators[kind];
  if (validate(definition)) return [];
  return (validate.errors ?? []).slice(0, 20).map((error) => ({
    field: `body.definition${error.instancePath.replaceAll('/', '.')}`,
    message: error.message ?? 'is invalid',
    rule: error.keyword,
  }));
}

export function compare(left: number | bigint, op: CompareOp, right: number | bigint): boolean {
  switch (op) {
    case 'gt':
      return left > right;
    case 'gte':
      return left >= right;
    case 'lt':
      return left < right;
    case 'lte':
      return left <= right;
    case 'eq':
      return left === right || (typeof left !== typeof right && BigInt(left) === BigInt(right));
  }
}

/** Window lengths in milliseconds. */
export const WINDOW_MS: Record<AggregateWindow, number> = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 604_800_000,
};
