/**
 * The commit of a validated payment in one round trip: `payment_commit` (migration 0024) locks the wallets, compares
 * their state with the state the payment was validated against, and only then posts the legs (through `ledger_post`),
 * counts usage, inserts the record and the outbox event and stores the idempotent response — or writes nothing and
 * answers 'stale'. Every row is built here, before the call, so the API's answer is exactly what was stored.
 *
 * Group commit (issue 21, migration 0056): `PaymentCommitBatcher` coalesces the commits that arrive while earlier
 * calls are in flight into one `payment_commit_batch` call — one round trip and one database commit for the batch, an
 * outcome per payment. An idle process sends each payment at once, alone, through `payment_commit`.
 */
import { getTableColumns, sql } from 'drizzle-orm';
import { Counter, register } from 'prom-client';
import { crashPoint } from '../../platform/crashpoints.ts';
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
    throw commitError(error);
  }
}

/** A failed commit's error in the payment's terms: a claim taken over is 409 in progress; ledger refusals as such. */
function commitError(error: unknown): unknown {
  if (sqlState(error) === CLAIM_TAKEN_OVER) return idempotencyErrors.inProgress();
  return ledgerErrorOf(error);
}

export type CommitOutcome = 'committed' | 'stale' | 'pin';

/** One payment as `payment_commit_batch` reads it: `payment_commit`'s arguments by name, bigints as strings. */
function batchItem(input: PaymentCommit): Record<string, unknown> {
  return {
    wallet_ids: [...input.expected.keys()].sort(),
    expected: Object.fromEntries(input.expected),
    day: input.day,
    month: input.month,
    batch_id: input.batchId,
    key: input.key,
    code: input.code,
    reference: input.reference,
    metadata: toJsonSafe(input.metadata),
    leg_ids: input.legIds,
    debits: input.legs.map((leg) => leg.debit),
    credits: input.legs.map((leg) => leg.credit),
    amounts: input.legs.map((leg) => leg.amount.toString()),
    codes: input.legs.map((leg) => leg.code),
    cap_accounts: input.caps.map((cap) => cap.accountId),
    caps: input.caps.map((cap) => cap.cap.toString()),
    usage_wallets: input.usage.map((entry) => entry.walletId),
    usage_directions: input.usage.map((entry) => entry.direction),
    usage_amounts: input.usage.map((entry) => entry.amount.toString()),
    record: recordJson(input.record),
    event: input.event,
    claim_id: input.claim?.id ?? null,
    claim_locked_until: input.claim?.lockedUntil.toISOString() ?? null,
    response_status: input.claim?.status ?? null,
    response_body: input.claim?.body ?? null,
    pin_customer: input.pin?.customerId ?? null,
    pin_hash: input.pin?.candidate ?? null,
  };
}

type BatchOutcome =
  | { outcome: CommitOutcome }
  | { outcome: 'error'; state: string; message: string; detail: string | null };

/** Several payments in one call and one transaction, each with its own outcome (a refused one rolls back alone). */
async function commitPaymentBatch(db: Executor, inputs: PaymentCommit[]): Promise<BatchOutcome[]> {
  const [row] = await rawRows<{ outcomes: BatchOutcome[] }>(
    db,
    sql`select payment_commit_batch(${JSON.stringify(inputs.map(batchItem))}::jsonb) as outcomes`,
  );
  return row!.outcomes;
}

/** The error a payment of a batch failed with, shaped as node-postgres reports a database error. */
function batchItemError(failure: { state: string; message: string; detail: string | null }): Error {
  return Object.assign(new Error(failure.message), {
    code: failure.state,
    ...(failure.detail ? { detail: failure.detail } : {}),
  });
}

/**
 * Prometheus counters of the group commit (process-wide registry, served by /metrics after the app's own): calls made
 * and payments they carried; payments / calls is the mean batch size.
 */
function counter(name: string, help: string): Counter {
  return (
    (register.getSingleMetric(name) as Counter | undefined) ??
    new Counter({ name, help, registers: [register] })
  );
}
const callsMetric = () =>
  counter('payment_commit_calls_total', 'Payment commit calls made by the group commit');
const paymentsMetric = () =>
  counter(
    'payment_commit_payments_total',
    'Payments the group commit calls carried (÷ calls: mean batch size)',
  );

interface Queued {
  input: PaymentCommit;
  resolve: (outcome: CommitOutcome) => void;
  reject: (error: unknown) => void;
}

export interface CommitBatcherOptions {
  /** The most payments one call carries. */
  maxBatch: number;
  /** Calls in flight at once; a payment arriving while all are busy waits for the next batch. */
  concurrency: number;
}

/**
 * Group commit: no added wait when idle (a payment is sent at once, alone, while fewer than `concurrency` calls are
 * in flight); under load the payments that arrive meanwhile queue, and each call that returns sends the queue (up to
 * `maxBatch`) as one batch. Each payment's promise settles with its own outcome: 'committed', 'stale' (the caller
 * retries it alone on the locked path), 'pin', or its own error (a ledger refusal, a claim taken over, a
 * serialization failure the caller retries). A failed call (connection lost, timeout) fails each payment it carried
 * with that error: none of them committed.
 */
export class PaymentCommitBatcher {
  readonly #db: () => Executor;
  readonly #options: CommitBatcherOptions;
  #queue: Queued[] = [];
  #inFlight = 0;
  /** Calls made, payments committed through them, and the calls that carried more than one payment. */
  readonly stats = { calls: 0, payments: 0, batches: 0, batchedPayments: 0, largest: 0 };

  constructor(db: () => Executor, options: CommitBatcherOptions) {
    this.#db = db;
    this.#options = options;
  }

  /** Payments waiting for the next call. */
  get queued(): number {
    return this.#queue.length;
  }

  submit(input: PaymentCommit): Promise<CommitOutcome> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#options.concurrency && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#options.maxBatch);
      this.#inFlight += 1;
      void this.#send(batch).finally(() => {
        this.#inFlight -= 1;
        this.#pump();
      });
    }
  }

  async #send(batch: Queued[]): Promise<void> {
    this.stats.calls += 1;
    this.stats.payments += batch.length;
    callsMetric().inc();
    paymentsMetric().inc(batch.length);
    this.stats.largest = Math.max(this.stats.largest, batch.length);
    if (batch.length === 1) {
      const [only] = batch;
      try {
        only!.resolve(await commitPayment(this.#db(), only!.input));
      } catch (error) {
        only!.reject(error);
      }
      return;
    }
    this.stats.batches += 1;
    this.stats.batchedPayments += batch.length;
    let outcomes: BatchOutcome[];
    try {
      crashPoint('transfer.batch-before-call');
      outcomes = await commitPaymentBatch(
        this.#db(),
        batch.map((queued) => queued.input),
      );
    } catch (error) {
      const failure = commitError(error);
      for (const queued of batch) queued.reject(failure);
      return;
    }
    crashPoint('transfer.batch-after-call');
    batch.forEach((queued, index) => {
      const result = outcomes[index];
      if (!result) queued.reject(new Error('payment_commit_batch answered fewer outcomes than payments'));
      else if (result.outcome === 'error') queued.reject(commitError(batchItemError(result)));
      else queued.resolve(result.outcome);
    });
  }
}
