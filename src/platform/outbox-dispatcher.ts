/**
 * Turns outbox rows into work (notifications today; webhooks and AML later). One batch is one transaction: the rows
 * are locked (SKIP LOCKED, so several workers share the load), each handler runs in a savepoint and writes its own
 * rows and jobs in the same transaction, and the rows are marked dispatched at the end. A worker killed mid-batch
 * commits nothing, so the next batch starts over from the same rows: each event is handled exactly once.
 * A handler that throws rolls back only its savepoint; the event is tried again in a later batch and, after
 * `maxAttempts`, set aside with its error (dispatched, `dispatch_error` kept) so it cannot block the rest.
 */
import { asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { crashPoint } from './crashpoints.ts';
import { type Executor, inTransaction } from './db.ts';
import type { OutboxEventRow } from './outbox.ts';
import { outboxEvents } from './platform.tables.ts';

export type OutboxHandler = (tx: Executor, event: OutboxEventRow) => Promise<void>;

export interface DispatcherOptions {
  batchSize?: number;
  maxAttempts?: number;
  /** Where handler failures are reported (the worker's logger). */
  onError?: (event: OutboxEventRow, error: unknown) => void;
}

export class OutboxDispatcher {
  readonly #db: Executor;
  readonly #handlers: Map<string, OutboxHandler>;
  readonly #batchSize: number;
  readonly #maxAttempts: number;
  readonly #onError: (event: OutboxEventRow, error: unknown) => void;
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;

  constructor(db: Executor, handlers: Map<string, OutboxHandler>, options: DispatcherOptions = {}) {
    this.#db = db;
    this.#handlers = handlers;
    this.#batchSize = options.batchSize ?? 100;
    this.#maxAttempts = options.maxAttempts ?? 5;
    this.#onError = options.onError ?? (() => {});
  }

  /** Dispatches up to one batch; returns how many events it settled (dispatched or set aside). */
  async dispatchBatch(): Promise<number> {
    return inTransaction(this.#db, async (tx) => {
      const rows = await tx
        .select()
        .from(outboxEvents)
        .where(isNull(outboxEvents.dispatchedAt))
        .orderBy(asc(outboxEvents.id))
        .limit(this.#batchSize)
        .for('update', { skipLocked: true });
      const done: bigint[] = [];
      for (const row of rows) {
        const handler = this.#handlers.get(row.topic);
        if (handler) {
          try {
            await tx.transaction(async (savepoint) => handler(savepoint as unknown as Executor, row));
          } catch (error) {
            this.#onError(row, error);
            const attempts = row.dispatchAttempts + 1;
            await tx
              .update(outboxEvents)
              .set({
                dispatchAttempts: attempts,
                dispatchError: (error instanceof Error ? error.message : String(error)).slice(0, 1000),
                dispatchedAt: attempts >= this.#maxAttempts ? sql`now()` : null,
              })
              .where(eq(outboxEvents.id, row.id));
            continue;
          }
        }
        done.push(row.id);
        crashPoint('outbox.dispatch.mid-batch');
      }
      if (done.length > 0)
        await tx.update(outboxEvents).set({ dispatchedAt: sql`now()` }).where(inArray(outboxEvents.id, done));
      return rows.length;
    });
  }

  /** Dispatches until the outbox is empty, then polls every `idleMs`. */
  start(idleMs = 500): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        let settled = 0;
        try {
          settled = await this.dispatchBatch();
        } catch {
          // The database is away: wait and try again.
        }
        if (settled < this.#batchSize && this.#running)
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, idleMs);
            this.#wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    this.#loop = null;
  }
}
