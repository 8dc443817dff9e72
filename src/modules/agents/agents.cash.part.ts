/**
 * The agent's rows of one cash movement, written with its payment as the engine's `part` (inside the group commit's
 * call): the day's usage counted, the movement, the commission accruals, and the geofence check written (a clean
 * check evaluated without the lock) or linked. One fixed text: nothing is built per cash movement but its values
 * (the query builder was a third of a cash-in's API time when these rows were built as four Drizzle inserts).
 *
 * Beyond the agent's daily limit it refuses with `payment_part_refuse` (migration 0058): the payment rolls back
 * with these rows, alone.
 */
import { uuidv7 } from '../../platform/ids.ts';
import type { AgentTransactionType, CommissionQuote, PendingCheckRow } from './agents.ports.ts';

/** The reason the agent's rows give `payment_part_refuse` beyond the agent's daily limit. */
export const DAILY_LIMIT_REFUSAL = 'agent_daily_limit';

// $1 agent, $2 usage period, $3 amount, $4 transaction, $5 store, $6 operator, $7 customer, $8 type, $9 currency,
// $10 accruals (JSON), $11 the check to write (JSON, or an empty array), $12 the check to link (or null),
// $13 the refusal's reason, $14 the daily limit (null: none).
const AGENT_ROWS = `with usage as (
  insert into agent_usage (agent_id, period, amount_minor, count) values ($1::uuid, $2::text, $3::bigint, 1)
  on conflict (agent_id, period) do update
    set amount_minor = agent_usage.amount_minor + excluded.amount_minor, count = agent_usage.count + 1
  returning amount_minor
), movement as (
  insert into agent_cash_movements (transaction_id, agent_id, store_id, operator_id, customer_id, type, amount_minor, currency)
  values ($4::uuid, $1::uuid, $5::uuid, $6::uuid, $7::uuid, $8::text, $3::bigint, $9::char(3))
), accruals as (
  insert into agent_commissions (id, transaction_id, agent_id, source_agent_id, transaction_type, amount_minor, currency)
  select a.id, $4::uuid, a.agent_id, a.source_agent_id, $8::text, a.amount_minor, $9::char(3)
    from jsonb_to_recordset($10::jsonb) as a(id uuid, agent_id uuid, source_agent_id uuid, amount_minor bigint)
  on conflict do nothing
), written as (
  insert into agent_location_checks (id, operator_id, agent_id, store_id, action, latitude, longitude, accuracy_m,
    fix_at, distance_m, outcome, decision, signals, transaction_id, checked_at)
  select c.id, c.operator_id, c.agent_id, c.store_id, c.action, c.latitude, c.longitude, c.accuracy_m, c.fix_at,
    c.distance_m, c.outcome, c.decision, c.signals, $4::uuid, c.checked_at
    from jsonb_to_recordset($11::jsonb) as c(id uuid, operator_id uuid, agent_id uuid, store_id uuid, action text,
      latitude float8, longitude float8, accuracy_m float8, fix_at timestamptz, distance_m float8, outcome text,
      decision text, signals jsonb, checked_at timestamptz)
), linked as (
  update agent_location_checks set transaction_id = $4::uuid where id = $12::uuid and transaction_id is null
)
select payment_part_refuse($13::text, jsonb_build_object('total', amount_minor::text))
  from usage where amount_minor > $14::bigint`;

export interface AgentRowsInput {
  agentId: string;
  period: string;
  amount: bigint;
  transactionId: string;
  storeId: string;
  operatorId: string;
  customerId: string;
  type: AgentTransactionType;
  currency: string;
  quote: CommissionQuote | null;
  /** The clean check to write with the movement, or the id of the check written before to link. */
  check: { write: PendingCheckRow } | { link: string };
  dailyLimit: bigint | null;
}

export function agentRowsStatement(input: AgentRowsInput): { text: string; values: unknown[] } {
  const accruals = (input.quote?.accruals ?? []).map((accrual) => ({
    id: uuidv7(),
    agent_id: accrual.agentId,
    source_agent_id: accrual.sourceAgentId,
    amount_minor: accrual.amount.toString(),
  }));
  const write = 'write' in input.check ? input.check.write : null;
  const checks = write
    ? [
        {
          id: write.id,
          operator_id: write.operatorId,
          agent_id: write.agentId,
          store_id: write.storeId,
          action: write.action,
          latitude: write.latitude,
          longitude: write.longitude,
          accuracy_m: write.accuracyM,
          fix_at: write.fixAt.toISOString(),
          distance_m: write.distanceM,
          outcome: write.outcome,
          decision: write.decision,
          signals: write.signals,
          checked_at: write.checkedAt.toISOString(),
        },
      ]
    : [];
  return {
    text: AGENT_ROWS,
    values: [
      input.agentId,
      input.period,
      input.amount.toString(),
      input.transactionId,
      input.storeId,
      input.operatorId,
      input.customerId,
      input.type,
      input.currency,
      JSON.stringify(accruals),
      JSON.stringify(checks),
      'link' in input.check ? input.check.link : null,
      DAILY_LIMIT_REFUSAL,
      input.dailyLimit === null ? null : input.dailyLimit.toString(),
    ],
  };
}
