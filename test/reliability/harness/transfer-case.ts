/**
 * One transfer as the crash tests follow it (crash-steps, batch-crash): sent with its key, and what it left in the
 * database — its claim, its transactions (found by the narration, which is the key), their ledger batches and
 * `transaction.completed` events.
 */
import type { ApiProcess } from './api-process.ts';
import { call } from './client.ts';
import type { Bank, Person } from './world.ts';

export interface TransferCase {
  sender: Person;
  key: string;
  body: { to_wallet_number: string; amount: number; currency: string; pin: string; narration: string };
}

export function sendTransfer(api: ApiProcess, item: TransferCase) {
  return call(api.url, 'POST', '/api/v1/wallet/transaction/transfer', {
    token: item.sender.customer.token,
    body: item.body,
    key: item.key,
    timeoutMs: 30_000,
  });
}

/** The request's idempotency claim, if any. */
export async function claimOf(bank: Bank, item: TransferCase) {
  const rows = (
    await bank.db.pool.query<{
      state: string;
      response_status: number | null;
      response_body: string | null;
      locked_until: Date;
    }>(
      'select state, response_status, response_body, locked_until from idempotency_keys where scope = $1 and key = $2',
      [`customer:${item.sender.customer.id}`, item.key],
    )
  ).rows;
  return rows[0];
}

/** The transactions the request left (its narration is its key), oldest first, with the states of their history. */
export async function transactionsOf(bank: Bank, item: TransferCase) {
  return (
    await bank.db.pool.query<{
      id: string;
      status: string;
      amount: string;
      fee: string;
      tax: string;
      states: string;
    }>(
      `select id, status, amount::text, fee::text, tax::text,
              (select string_agg(h->>'state', ',') from jsonb_array_elements(history) h) as states
         from transactions where narration = $1 order by created_at`,
      [item.key],
    )
  ).rows;
}

/** How many `transaction.completed` events these transactions emitted. */
export async function completedEvents(bank: Bank, ids: string[]): Promise<number> {
  return (
    await bank.db.pool.query<{ n: number }>(
      `select count(*)::int as n from outbox_events where topic = 'transaction.completed'
        and aggregate_id = any($1::text[])`,
      [ids],
    )
  ).rows[0]!.n;
}
