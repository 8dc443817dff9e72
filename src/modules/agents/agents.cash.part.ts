/**
 * The agent's rows of one cash movement, written with its payment as the engine's `part` (inside the group commit's
 * call): the day's usage counted, the movement, the commission accruals, and the geofence check written (a clean
 * check evaluated without the lock) or linked, by `agent_cash_rows` (migration 0059). One fixed call: nothing is
 * built per cash movement but its values (the query builder was a third of a cash-in's API time when these rows
 * were built as four Drizzle inserts), and PostgreSQL keeps the function's plans.
 *
 * Beyond the agent's daily limit it refuses with `payment_part_refuse` (migration 0058): the payment rolls back
 * with these rows, alone.
 */
import { uuidv7 } from '../../platform/ids.ts';
import type { AgentTransactionType, CommissionQuote, PendingCheckRow } from './agents.ports.ts';

/** The reason the agent's rows give `payment_part_refuse` beyond the agent's daily limit. */
export const DAILY_LIMIT_REFUSAL = 'agent_daily_limit';

// agent_cash_rows (migration 0059) holds the statements; the part only calls it, so each keeps its plan.
const AGENT_ROWS = `select agent_cash_rows($1::uuid, $2::text, $3::bigint, $4::uuid, $5::uuid, $6::uuid, $7::uuid,
  $8::text, $9::text, $10::jsonb, $11::jsonb, $12::uuid, $13::text, $14::bigint)`;

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
