/**
 * The commit of a validated payment in one round trip: `payment_commit` (migration 0024) locks the wallets, compares
 * their state with the state the payment was validated against, and only then posts the legs (through `ledger_post`),
 * counts usage, inserts the record and the outbox event and stores the idempotent response — or writes nothing and
 * answers 'stale'. Every row is built here, before the call, so the API's answer is exactly what was stored.
 */
import { getTableColumns, sql } from 'drizzle-orm';
import { type Executor, rawRows, sqlState } from '../../platform/db.ts';
import { idempotencyErrors } from '../../platform/idempotency.ts';
import { toJsonSafe } from '../../platform/json.ts';
import type { OutboxRecord } from '../../platform/outbox.ts';
import { bigintArray, codeArray, type Leg, ledgerErrorOf, uuidArray } from '../ledger/index.ts';
import type { WalletState } from '../wallets/index.ts';
import { transactions } from './transactions.tables.ts';

type TransactionRow = typeof transactions.$inferSelect;

export interface PaymentCommit {
  /** The state each wallet was validated against, by wallet id. */
  expected: Map<string, WalletState>;
  /** Usage period keys the payment was validated for (`periodsOf`). */
  day: string;
  month: string;
  batchId: string;
  key: string;
  code: string;
  reference: string;
  metadata: Record<string, unknown>;
  legs: Leg[];
  legIds: string[];
  caps: { accountId: string; cap: bigint }[];
  usage: { walletId: string; direction: 'send' | 'receive'; amount: bigint }[];
  record: TransactionRow;
  /** The outbox row (`outboxRecord`); the function writes it with the column's default version, 1. */
  event: OutboxRecord;
  claim: { id: string; lockedUntil: Date; status: number; body: string } | null;
  /** A customer's PIN attempt compared inside the call ('pin' when it is not right with nothing to reset). */
  pin: { customerId: string; candidate: string } | null;
}

/** PC001: the idempotency claim was taken over by a retry (this holder ran past its lock). */
const CLAIM_TAKEN_OVER = 'PC001';

/** The record as `jsonb_populate_record(NULL::transactions, …)` reads it: column names, values in text form. */
function recordJson(record: TransactionRow): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  const values = record as unknown as Record<string, unknown>;
  for (const [key, column] of Object.entries(getTableColumns(transactions))) {
    const value = values[key];
    json[column.name] =
      value === null || value === undefined
        ? null
        : value instanceof Date
          ? value.toISOString()
          : typeof value === 'bigint'
            ? value.toString()
            : toJsonSafe(value);
  }
  return json;
}

export async function commitPayment(
  db: Executor,
  input: PaymentCommit,
): Promise<'committed' | 'stale' | 'pin'> {
  const ids = [...input.expected.keys()].sort();
  const expected = Object.fromEntries(input.expected);
  try {
    const [row] = await rawRows<{ outcome: 'committed' | 'stale' | 'pin' }>(
      db,
      sql`select payment_commit(${uuidArray(ids)}::uuid[], ${JSON.stringify(expected)}::jsonb, ${input.day},
        ${input.month}, ${input.batchId}::uuid, ${input.key}, ${input.code}, ${input.reference},
        ${JSON.stringify(toJsonSafe(input.metadata))}::jsonb,
        ${uuidArray(input.legIds)}::uuid[], ${uuidArray(input.legs.map((leg) => leg.debit))}::uuid[],
        ${uuidArray(input.legs.map((leg) => leg.credit))}::uuid[],
        ${bigintArray(input.legs.map((leg) => leg.amount))}::bigint[],
        ${codeArray(input.legs.map((leg) => leg.code))}::text[],
        ${uuidArray(input.caps.map((cap) => cap.accountId))}::uuid[],
        ${bigintArray(input.caps.map((cap) => cap.cap))}::bigint[],
        ${uuidArray(input.usage.map((entry) => entry.walletId))}::uuid[],
        ${`{${input.usage.map((entry) => entry.direction).join(',')}}`}::text[],
        ${bigintArray(input.usage.map((entry) => entry.amount))}::bigint[],
        ${JSON.stringify(recordJson(input.record))}::jsonb,
        ${JSON.stringify(input.event)}::jsonb,
        ${input.claim?.id ?? null}::uuid, ${input.claim?.lockedUntil.toISOString() ?? null}::timestamptz,
        ${input.claim?.status ?? null}::integer, ${input.claim?.body ?? null},
        ${input.pin?.customerId ?? null}::uuid, ${input.pin?.candidate ?? null}) as outcome`,
    );
    return row!.outcome;
  } catch (error) {
    if (sqlState(error) === CLAIM_TAKEN_OVER) throw idempotencyErrors.inProgress();
    throw ledgerErrorOf(error);
  }
}
