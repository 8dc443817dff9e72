/**
 * A smart batch (group commit, issue 21): no added wait when idle — an item is sent at once, alone, while fewer than
 * `concurrency` calls are in flight — and under load the items that arrive meanwhile queue, and each call that returns
 * sends the queue (up to `maxBatch`) as one call. Each item's promise settles with its own outcome; a call that fails
 * as a whole (connection lost, timeout) fails every item it carried with that error.
 */
import type { Counter } from 'prom-client';

export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

export interface GroupBatchOptions {
  /** The most items one call carries. */
  maxBatch: number;
  /** Calls in flight at once; an item arriving while all are busy waits for the next call. */
  concurrency: number;
  /** Prometheus counters of calls and the items they carried (items ÷ calls: the mean batch size). */
  counters?: { calls: Counter; items: Counter };
}

interface Queued<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export class GroupBatcher<I, O> {
  readonly #run: (items: I[]) => Promise<Settled<O>[]>;
  readonly #options: GroupBatchOptions;
  #queue: Queued<I, O>[] = [];
  #inFlight = 0;
  /** Calls made, items they carried, the calls that carried more than one, and the largest call. */
  readonly stats = { calls: 0, items: 0, batches: 0, largest: 0 };

  /** `run` gets the items of one call and answers an outcome per item, in order. */
  constructor(run: (items: I[]) => Promise<Settled<O>[]>, options: GroupBatchOptions) {
    this.#run = run;
    this.#options = options;
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
      const batch = this.#queue.splice(0, this.#options.maxBatch);
      this.#inFlight += 1;
      void this.#send(batch).finally(() => {
        this.#inFlight -= 1;
        this.#pump();
      });
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
