/**
 * A smart batch (group commit, issue 21): no added wait when idle — an item is sent at once, alone, while fewer than
 * `concurrency` calls are in flight — and under load the items that arrive meanwhile queue, and each call that returns
 * sends the queue (up to `maxBatch`) as one call. Each item's promise settles with its own outcome; a call that fails
 * as a whole (connection lost, timeout) fails every item it carried with that error.
 *
 * With `keysOf` (the rows an item locks), a call never takes an item whose key a call in flight holds: the item waits,
 * in order, for the first call sent after that one returns. So a call never waits in the database on another call's
 * locks (a hot account's items go together, one call at a time, instead of in two calls that take turns on the lock).
 */
import type { Counter } from 'prom-client';

export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

export interface GroupBatchOptions<I = unknown> {
  /** The most items one call carries. */
  maxBatch: number;
  /** Calls in flight at once; an item arriving while all are busy waits for the next call. */
  concurrency: number;
  /** Prometheus counters of calls and the items they carried (items ÷ calls: the mean batch size). */
  counters?: { calls: Counter; items: Counter };
  /** The rows an item locks: no call takes an item whose key a call in flight holds (it waits for a later call). */
  keysOf?(item: I): readonly string[];
}

interface Queued<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export class GroupBatcher<I, O> {
  readonly #run: (items: I[]) => Promise<Settled<O>[]>;
  readonly #options: GroupBatchOptions<I>;
  readonly #keysOf: ((item: I) => readonly string[]) | undefined;
  #queue: Queued<I, O>[] = [];
  #inFlight = 0;
  /** The keys the calls in flight hold, with how many calls hold each. */
  readonly #held = new Map<string, number>();
  /**
   * Calls made, items they carried, the calls that carried more than one, the largest call, and how many times an
   * item was left for a later call because a call in flight held one of its keys.
   */
  readonly stats = { calls: 0, items: 0, batches: 0, largest: 0, deferred: 0 };

  /** `run` gets the items of one call and answers an outcome per item, in order. */
  constructor(run: (items: I[]) => Promise<Settled<O>[]>, options: GroupBatchOptions<I>) {
    this.#run = run;
    this.#options = options;
    this.#keysOf = options.keysOf?.bind(options);
  }

  /** Items waiting for the next call. */
  get queued(): number {
    return this.#queue.length;
  }

  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#options.concurrency && this.#queue.length > 0) {
      const batch = this.#take();
      // Every queued item waits on a key of a call in flight: the call's return pumps again.
      if (batch.length === 0) return;
      const keys = this.#hold(batch);
      this.#inFlight += 1;
      void this.#send(batch).finally(() => {
        this.#inFlight -= 1;
        this.#release(keys);
        this.#pump();
      });
    }
  }

  /** The next call's items, in queue order: up to `maxBatch`, none holding a key of a call in flight. */
  #take(): Queued<I, O>[] {
    const keysOf = this.#keysOf;
    if (!keysOf || this.#held.size === 0) return this.#queue.splice(0, this.#options.maxBatch);
    const batch: Queued<I, O>[] = [];
    const left: Queued<I, O>[] = [];
    for (const queued of this.#queue) {
      if (batch.length < this.#options.maxBatch && !keysOf(queued.item).some((key) => this.#held.has(key)))
        batch.push(queued);
      else {
        if (batch.length < this.#options.maxBatch) this.stats.deferred += 1;
        left.push(queued);
      }
    }
    this.#queue = left;
    return batch;
  }

  #hold(batch: Queued<I, O>[]): string[] {
    if (!this.#keysOf) return [];
    const keys = [...new Set(batch.flatMap((queued) => this.#keysOf!(queued.item)))];
    for (const key of keys) this.#held.set(key, (this.#held.get(key) ?? 0) + 1);
    return keys;
  }

  #release(keys: string[]): void {
    for (const key of keys) {
      const count = (this.#held.get(key) ?? 1) - 1;
      if (count === 0) this.#held.delete(key);
      else this.#held.set(key, count);
    }
  }

  async #send(batch: Queued<I, O>[]): Promise<void> {
    this.stats.calls += 1;
    this.stats.items += batch.length;
    if (batch.length > 1) this.stats.batches += 1;
    this.stats.largest = Math.max(this.stats.largest, batch.length);
    this.#options.counters?.calls.inc();
    this.#options.counters?.items.inc(batch.length);
    let outcomes: Settled<O>[];
    try {
      outcomes = await this.#run(batch.map((queued) => queued.item));
    } catch (error) {
      for (const queued of batch) queued.reject(error);
      return;
    }
    batch.forEach((queued, index) => {
      const outcome = outcomes[index];
      if (!outcome) queued.reject(new Error('a batched call answered fewer outcomes than items'));
      else if (outcome.ok) queued.resolve(outcome.value);
      else queued.reject(outcome.error);
    });
  }
}
