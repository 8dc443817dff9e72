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
import { getTableColumns } from 'drizzle-orm';
import pgUtils from 'pg/lib/utils.js';
import { crashPoint } from '../../platform/crashpoints.ts';
import { type Executor, preparedRows, sqlState } from '../../platform/db.ts';
import { GroupBatcher, type GroupBatchOptions, type Settled } from '../../platform/group-batch.ts';
import { idempotencyErrors } from '../../platform/idempotency.ts';
import { toJsonSafe } from '../../platform/json.ts';
import { processCounter } from '../../platform/metrics.ts';
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
  /** The plan's own rows, written right after the payment in its block (`payment_part_run`, migration 0058). */
  part?: PaymentPart | null;
  /**
   * The rows the commit locks that concurrent payments contend for: its wallets and the ledger accounts that are its
   * parties (a store's float, a till). The group commit keeps two calls in flight off each other's (`keysOf`).
   */
  locks: string[];
}

/** A part's statement: a fixed text with $1…$n, and its values (as node-postgres would bind them). */
export interface PartStatement {
  text: string;
  values: readonly unknown[];
}

/** A statement as `payment_part_run` takes it: its text split at the placeholders, and each value in text form. */
export interface PaymentPart {
  fragments: string[];
  params: (string | null)[];
}

/** The fragments of each part's text (a part's text is a constant of its module: a handful, split once each). */
const fragmentsOf = new Map<string, string[]>();

/**
 * A part's statement as `payment_part_run` takes it: its fixed text's fragments, and its values in the text form
 * node-postgres would bind them in (`prepareValue`), each used where its $n stood (a $n used twice is sent twice).
 */
export function paymentPart(statement: PartStatement): PaymentPart {
  let pieces = fragmentsOf.get(statement.text);
  if (!pieces) {
    pieces = statement.text.split(/\$(\d+)/);
    fragmentsOf.set(statement.text, pieces);
  }
  const fragments: string[] = [];
  const params: (string | null)[] = [];
  pieces.forEach((piece, index) => {
    if (index % 2 === 0) fragments.push(piece);
    else {
      const value = pgUtils.prepareValue(statement.values[Number(piece) - 1]);
      params.push(
        value === null || value === undefined
          ? null
          : Buffer.isBuffer(value)
            ? `\\x${value.toString('hex')}`
            : String(value),
      );
    }
  });
  return { fragments, params };
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

/** `payment_commit`'s parameters in order: the prepared call binds them by position, a batch item names them. */
const COMMIT_ARGS = [
  ['wallet_ids', 'uuid[]'],
  ['expected', 'jsonb'],
  ['day', null],
  ['month', null],
  ['batch_id', 'uuid'],
  ['key', null],
  ['code', null],
  ['reference', null],
  ['metadata', 'jsonb'],
  ['leg_ids', 'uuid[]'],
  ['debits', 'uuid[]'],
  ['credits', 'uuid[]'],
  ['amounts', 'bigint[]'],
  ['codes', 'text[]'],
  ['cap_accounts', 'uuid[]'],
  ['caps', 'bigint[]'],
  ['usage_wallets', 'uuid[]'],
  ['usage_directions', 'text[]'],
  ['usage_amounts', 'bigint[]'],
  ['record', 'jsonb'],
  ['event', 'jsonb'],
  ['claim_id', 'uuid'],
  ['claim_locked_until', 'timestamptz'],
  ['response_status', 'integer'],
  ['response_body', null],
  ['pin_customer', 'uuid'],
  ['pin_hash', null],
] as const;

const COMMIT_TEXT = `select payment_commit(${COMMIT_ARGS.map(
  ([, type], index) => `$${index + 1}${type ? `::${type}` : ''}`,
).join(', ')}) as outcome`;

/** `payment_commit`'s arguments in order, as the prepared statement binds them. */
function commitValues(input: PaymentCommit): unknown[] {
  const ids = [...input.expected.keys()].sort();
  return [
    uuidArray(ids),
    JSON.stringify(Object.fromEntries(input.expected)),
    input.day,
    input.month,
    input.batchId,
    input.key,
    input.code,
    input.reference,
    JSON.stringify(toJsonSafe(input.metadata)),
    uuidArray(input.legIds),
    uuidArray(input.legs.map((leg) => leg.debit)),
    uuidArray(input.legs.map((leg) => leg.credit)),
    bigintArray(input.legs.map((leg) => leg.amount)),
    codeArray(input.legs.map((leg) => leg.code)),
    uuidArray(input.caps.map((cap) => cap.accountId)),
    bigintArray(input.caps.map((cap) => cap.cap)),
    uuidArray(input.usage.map((entry) => entry.walletId)),
    `{${input.usage.map((entry) => entry.direction).join(',')}}`,
    bigintArray(input.usage.map((entry) => entry.amount)),
    JSON.stringify(recordJson(input.record)),
    JSON.stringify(input.event),
    input.claim?.id ?? null,
    input.claim?.lockedUntil.toISOString() ?? null,
    input.claim?.status ?? null,
    input.claim?.body ?? null,
    input.pin?.customerId ?? null,
    input.pin?.candidate ?? null,
  ];
}

/** A payment's commit in one call: `payment_commit`, or with a part of its own a batch of one. */
export async function commitPayment(db: Executor, input: PaymentCommit): Promise<CommitOutcome> {
  if (input.part) return commitPaymentWithPart(db, input);
  try {
    const [row] = await preparedRows<{ outcome: CommitOutcome }>(
      db,
      'payment_commit',
      COMMIT_TEXT,
      commitValues(input),
    );
    return row!.outcome;
  } catch (error) {
    throw commitError(error);
  }
}

/** PP001: a payment part refused (`payment_part_refuse`). */
const PART_REFUSED = 'PP001';

/** A part's refusal in an error's cause chain (the batch's item error or the driver's), or null. */
export function partRefusalOf(error: unknown): { reason: string; detail: Record<string, unknown> } | null {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth += 1) {
    const node = current as { code?: unknown; message?: unknown; detail?: unknown; cause?: unknown };
    if (node.code === PART_REFUSED) {
      let detail: Record<string, unknown> = {};
      try {
        detail = typeof node.detail === 'string' ? (JSON.parse(node.detail) as Record<string, unknown>) : {};
      } catch {
        // A detail that is not JSON is not ours: the reason alone.
      }
      return { reason: String(node.message), detail };
    }
    current = node.cause;
  }
  return null;
}

/** A failed commit's error in the payment's terms: a claim taken over is 409 in progress; ledger refusals as such. */
function commitError(error: unknown): unknown {
  if (sqlState(error) === CLAIM_TAKEN_OVER) return idempotencyErrors.inProgress();
  return ledgerErrorOf(error);
}

export type CommitOutcome = 'committed' | 'stale' | 'pin';

/** One payment as `payment_commit_batch` reads it: the one-payment call's values, by name. */
function batchItem(input: PaymentCommit): Record<string, unknown> {
  const values = commitValues(input);
  const item: Record<string, unknown> = Object.fromEntries(
    COMMIT_ARGS.map(([name], index) => [name, values[index]]),
  );
  if (input.part) item.part = input.part;
  return item;
}

type BatchOutcome =
  | { outcome: CommitOutcome }
  | { outcome: 'error'; state: string; message: string; detail: string | null };

/** Several payments in one call and one transaction, each with its own outcome (a refused one rolls back alone). */
async function commitPaymentBatch(db: Executor, inputs: PaymentCommit[]): Promise<BatchOutcome[]> {
  const [row] = await preparedRows<{ outcomes: BatchOutcome[] }>(
    db,
    'payment_commit_batch',
    'select payment_commit_batch($1::jsonb) as outcomes',
    [JSON.stringify(inputs.map(batchItem))],
  );
  return row!.outcomes;
}

/**
 * One payment with a part of its own, as a batch of one (the part runs in the same call): its outcome, or its error
 * in the payment's terms.
 */
async function commitPaymentWithPart(db: Executor, input: PaymentCommit): Promise<CommitOutcome> {
  let result: BatchOutcome;
  try {
    [result] = (await commitPaymentBatch(db, [input])) as [BatchOutcome];
  } catch (error) {
    throw commitError(error);
  }
  if (result.outcome === 'error') throw commitError(batchItemError(result));
  return result.outcome;
}

/** The error a payment of a batch failed with, shaped as node-postgres reports a database error. */
function batchItemError(failure: { state: string; message: string; detail: string | null }): Error {
  return Object.assign(new Error(failure.message), {
    code: failure.state,
    ...(failure.detail ? { detail: failure.detail } : {}),
  });
}

/**
 * Group commit of payments (`GroupBatcher`): a payment sent alone goes through `payment_commit`; a batch through
 * `payment_commit_batch`. Each payment's promise settles with its own outcome: 'committed', 'stale' (the caller
 * retries it alone on the locked path), 'pin', or its own error (a ledger refusal, a claim taken over, a serialization
 * failure the caller retries). A failed call fails each payment it carried with that error: none of them committed.
 */
export class PaymentCommitBatcher {
  readonly #db: () => Executor;
  readonly #batcher: GroupBatcher<PaymentCommit, CommitOutcome>;

  constructor(db: () => Executor, options: GroupBatchOptions) {
    this.#db = db;
    this.#batcher = new GroupBatcher((inputs) => this.#send(inputs), {
      ...options,
      // A call never waits in PostgreSQL on another call's locks: a payment whose wallet or locked party account a
      // call in flight holds goes in the next call (a hot float's cash-ins together, one call at a time).
      keysOf: (input: PaymentCommit) => input.locks,
      counters: {
        calls: processCounter('payment_commit_calls_total', 'Payment commit calls made by the group commit'),
        items: processCounter(
          'payment_commit_payments_total',
          'Payments the group commit calls carried (÷ calls: mean batch size)',
        ),
      },
    });
  }

  /** Calls made, payments they carried, the calls that carried more than one, and the largest call. */
  get stats() {
    return this.#batcher.stats;
  }

  /** Payments waiting for the next call. */
  get queued(): number {
    return this.#batcher.queued;
  }

  submit(input: PaymentCommit): Promise<CommitOutcome> {
    return this.#batcher.submit(input);
  }

  async #send(inputs: PaymentCommit[]): Promise<Settled<CommitOutcome>[]> {
    if (inputs.length === 1) {
      const input = inputs[0]!;
      try {
        return [{ ok: true, value: await commitPayment(this.#db(), input) }];
      } catch (error) {
        return [{ ok: false, error }];
      }
    }
    let outcomes: BatchOutcome[];
    try {
      crashPoint('transfer.batch-before-call');
      outcomes = await commitPaymentBatch(this.#db(), inputs);
    } catch (error) {
      throw commitError(error);
    }
    crashPoint('transfer.batch-after-call');
    return outcomes.map((result) =>
      result.outcome === 'error'
        ? { ok: false, error: commitError(batchItemError(result)) }
        : { ok: true, value: result.outcome },
    );
  }
}
