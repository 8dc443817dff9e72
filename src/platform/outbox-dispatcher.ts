/**
 * The event bus: turns outbox rows into work for any number of consumers (notifications today; AML, webhooks,
 * campaigns and reports next), each on its own queue (ADR 0025).
 *
 * - Hand-out: one statement takes undispatched events in id order (SKIP LOCKED, so several workers share the load),
 *   writes one `outbox_deliveries` row per consumer subscribed to the event's topic and version, and sets
 *   `dispatched_at`. It runs no handler, so nothing a consumer does can hold it up. It works on row state, not on a
 *   cursor, so an event whose transaction commits after a later id was handed out is handed out when it commits: no
 *   gap is skipped.
 * - Each consumer then works through its own deliveries, oldest first, in batches. One batch is one transaction: the
 *   rows are locked (SKIP LOCKED), each handler runs in a savepoint and writes its effects in the same transaction,
 *   and the handled rows are deleted at the end. A worker killed mid-batch commits nothing, so the batch runs again:
 *   each event reaches each consumer at least once, and handlers key their effects by the event id. A handler that
 *   throws rolls back only its savepoint; the delivery is tried again in a later batch and, after `maxAttempts`, set
 *   aside with its error (`failed_at`): the consumer's dead letters, which `deadLetters` lists and `retryDeadLetters`
 *   puts back. One consumer's failures and backlog are its rows only: the other consumers' loops never wait on them.
 * - A consumer registered later starts from the events not yet handed out, or from a chosen event id or time within
 *   the outbox retention (`from`, or `replay` at any time).
 */
import { and, asc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { crashPoint } from './crashpoints.ts';
import { type Executor, inTransaction, rawRows } from './db.ts';
import { type DomainEvent, type EventHandler, type Topic, type TopicRegistry, topicKey } from './events.ts';
import { outboxConsumers, outboxDeliveries, outboxEvents } from './platform.tables.ts';

/** Where a consumer starts: an event id (inclusive), a time (the first event at or after it), or every event kept. */
export type ReplayPoint = { eventId: bigint } | { time: Date } | 'earliest';

export interface EventBusOptions {
  /** The topics modules publish: a subscription to a topic not in it is refused. */
  topics?: TopicRegistry;
  batchSize?: number;
  /** Failed attempts before a consumer's delivery is set aside. */
  maxAttempts?: number;
  /** Where handler failures are reported (the worker's logger). */
  onError?: (consumer: string, event: DomainEvent, error: unknown) => void;
}

export interface ConsumerOptions {
  /** Where the consumer starts the first time it is registered; default: the events not yet handed out. */
  from?: ReplayPoint;
}

export interface DeadLetter {
  consumer: string;
  eventId: bigint;
  topic: string;
  version: number;
  aggregateType: string;
  aggregateId: string;
  attempts: number;
  lastError: string | null;
  failedAt: Date;
}

interface Consumer {
  name: string;
  handlers: Map<string, EventHandler>;
  from: ReplayPoint | null;
}

const CONSUMER_NAME = /^[a-z][a-z0-9_.-]{0,62}$/;

/** The id a replay point stands for (the first event at or after a time), as SQL. */
function startId(from: ReplayPoint) {
  if (from === 'earliest') return sql`0`;
  if ('eventId' in from) return sql`${from.eventId.toString()}::bigint`;
  return sql`coalesce((select id from outbox_events where occurred_at >= ${from.time.toISOString()}::timestamptz
                       order by id limit 1), (select max(id) + 1 from outbox_events), 0)`;
}

/**
 * Queues for `consumer` every kept event of its topics from `from` on (those it already has pending or set aside stay
 * as they are); returns how many it queued. Events before the retention window are gone and cannot be replayed.
 * Events not yet handed out are included, so a replay racing with the hand-out misses nothing.
 */
export async function replayConsumer(db: Executor, consumer: string, from: ReplayPoint): Promise<number> {
  const [row] = await rawRows<{ queued: number }>(
    db,
    sql`with queued as (
          insert into outbox_deliveries (consumer, event_id)
          select c.name, e.id from outbox_consumers c
          join outbox_events e on (e.topic || '@' || e.version) = any (c.topics)
          where c.name = ${consumer} and e.id >= ${startId(from)}
          on conflict do nothing returning 1)
        select count(*)::int as queued from queued`,
  );
  return Number(row?.queued ?? 0);
}

/** A consumer's (or every consumer's) set-aside deliveries, oldest event first. */
export async function deadLetters(db: Executor, consumer?: string, limit = 100): Promise<DeadLetter[]> {
  const rows = await db
    .select({
      consumer: outboxDeliveries.consumer,
      eventId: outboxDeliveries.eventId,
      topic: outboxEvents.topic,
      version: outboxEvents.version,
      aggregateType: outboxEvents.aggregateType,
      aggregateId: outboxEvents.aggregateId,
      attempts: outboxDeliveries.attempts,
      lastError: outboxDeliveries.lastError,
      failedAt: outboxDeliveries.failedAt,
    })
    .from(outboxDeliveries)
    .innerJoin(outboxEvents, eq(outboxEvents.id, outboxDeliveries.eventId))
    .where(
      and(
        isNotNull(outboxDeliveries.failedAt),
        consumer === undefined ? undefined : eq(outboxDeliveries.consumer, consumer),
      ),
    )
    .orderBy(asc(outboxDeliveries.eventId), asc(outboxDeliveries.consumer))
    .limit(limit);
  return rows.map((row) => ({ ...row, failedAt: row.failedAt! }));
}

/** Puts a consumer's set-aside deliveries (all, or those of `eventIds`) back in its queue with fresh attempts. */
export async function retryDeadLetters(db: Executor, consumer: string, eventIds?: bigint[]): Promise<number> {
  const rows = await db
    .update(outboxDeliveries)
    .set({ failedAt: null, attempts: 0 })
    .where(
      and(
        eq(outboxDeliveries.consumer, consumer),
        isNotNull(outboxDeliveries.failedAt),
        eventIds === undefined ? undefined : inArray(outboxDeliveries.eventId, eventIds),
      ),
    )
    .returning({ id: outboxDeliveries.eventId });
  return rows.length;
}

export class EventBus {
  readonly #db: Executor;
  readonly #topics: TopicRegistry | null;
  readonly #batchSize: number;
  readonly #maxAttempts: number;
  readonly #onError: (consumer: string, event: DomainEvent, error: unknown) => void;
  readonly #consumers = new Map<string, Consumer>();
  #registered: Promise<void> | null = null;
  #running = false;
  #loops: Promise<void>[] = [];
  readonly #wakers = new Set<() => void>();

  constructor(db: Executor, options: EventBusOptions = {}) {
    this.#db = db;
    this.#topics = options.topics ?? null;
    this.#batchSize = options.batchSize ?? 100;
    this.#maxAttempts = options.maxAttempts ?? 5;
    this.#onError = options.onError ?? (() => {});
  }

  /** Sets a consumer's options (its start point); call before `start`. */
  consumer(name: string, options: ConsumerOptions): this {
    this.#consumerOf(name).from = options.from ?? null;
    return this;
  }

  /** Adds `handler` as `consumer`'s handler of `topic`; one handler per consumer and topic version. */
  subscribe<T extends Topic>(consumer: string, topic: T, handler: EventHandler<T>): this {
    if (this.#registered) throw new Error('Subscribe before the bus starts');
    this.#topics?.require(topic, `Consumer ${consumer}`);
    const entry = this.#consumerOf(consumer);
    const key = topicKey(topic);
    if (entry.handlers.has(key)) throw new Error(`Consumer ${consumer} subscribes to ${key} twice`);
    entry.handlers.set(key, handler as unknown as EventHandler);
    return this;
  }

  /** The consumers and the topics (`name@version`) each takes. */
  subscriptions(): { consumer: string; topics: string[] }[] {
    return [...this.#consumers.values()].map((entry) => ({
      consumer: entry.name,
      topics: [...entry.handlers.keys()].sort(),
    }));
  }

  #consumerOf(name: string): Consumer {
    if (!CONSUMER_NAME.test(name))
      throw new Error(`Consumer name "${name}" is not lower case (a-z, 0-9, _ . -)`);
    let entry = this.#consumers.get(name);
    if (!entry) {
      entry = { name, handlers: new Map(), from: null };
      this.#consumers.set(name, entry);
    }
    return entry;
  }

  /**
   * Records the consumers and their topics in `outbox_consumers`, so every worker hands out to the same set. A
   * consumer seen for the first time is queued the events from its start point: by default those not yet handed out
   * (the registration commits first, so the hand-out includes it from then on and the replay covers the rest).
   */
  register(): Promise<void> {
    this.#registered ??= (async () => {
      for (const entry of this.#consumers.values()) {
        const topics = [...entry.handlers.keys()].sort();
        const inserted = await this.#db
          .insert(outboxConsumers)
          .values({ name: entry.name, topics })
          .onConflictDoNothing()
          .returning({ name: outboxConsumers.name });
        if (inserted.length === 0) {
          await this.#db
            .update(outboxConsumers)
            .set({ topics, updatedAt: sql`now()` })
            .where(
              and(
                eq(outboxConsumers.name, entry.name),
                sql`${outboxConsumers.topics} <> ${toTextArray(topics)}`,
              ),
            );
          continue;
        }
        const from =
          entry.from ??
          ({
            eventId: await this.#firstUndispatched(),
          } as const);
        await replayConsumer(this.#db, entry.name, from);
      }
    })().catch((error: unknown) => {
      this.#registered = null;
      throw error;
    });
    return this.#registered;
  }

  async #firstUndispatched(): Promise<bigint> {
    const [row] = await rawRows<{ id: string | number | bigint }>(
      this.#db,
      sql`select coalesce((select id from outbox_events where dispatched_at is null order by id limit 1),
                          (select max(id) + 1 from outbox_events), 1) as id`,
    );
    return BigInt(row!.id);
  }

  /** Queues `consumer` the kept events of its topics from `from` on (a consumer added later, or a re-run). */
  async replay(consumer: string, from: ReplayPoint): Promise<number> {
    await this.register();
    return replayConsumer(this.#db, consumer, from);
  }

  /** Hands up to one batch of events to their consumers; returns how many events it handed out. */
  async handOut(): Promise<number> {
    await this.register();
    const [row] = await rawRows<{ events: number }>(
      this.#db,
      sql`with picked as (
            select id, topic || '@' || version as key from outbox_events
            where dispatched_at is null order by id limit ${this.#batchSize} for update skip locked
          ), handed as (
            insert into outbox_deliveries (consumer, event_id)
            select c.name, p.id from picked p join outbox_consumers c on p.key = any (c.topics)
            on conflict do nothing returning 1
          ), marked as (
            update outbox_events e set dispatched_at = now() from picked p where e.id = p.id returning 1
          )
          select (select count(*) from marked)::int as events, (select count(*) from handed)::int as deliveries`,
    );
    return Number(row?.events ?? 0);
  }

  /** Handles up to one batch of `consumer`'s deliveries; returns how many it settled (handled or set aside). */
  async dispatch(consumer: string): Promise<number> {
    const entry = this.#consumers.get(consumer);
    if (!entry) throw new Error(`No consumer ${consumer} on this bus`);
    await this.register();
    return inTransaction(this.#db, async (tx) => {
      const rows = await tx
        .select({
          eventId: outboxDeliveries.eventId,
          attempts: outboxDeliveries.attempts,
          event: outboxEvents,
        })
        .from(outboxDeliveries)
        .leftJoin(outboxEvents, eq(outboxEvents.id, outboxDeliveries.eventId))
        .where(and(eq(outboxDeliveries.consumer, consumer), isNull(outboxDeliveries.failedAt)))
        .orderBy(asc(outboxDeliveries.eventId))
        .limit(this.#batchSize)
        .for('update', { of: outboxDeliveries, skipLocked: true });
      const done: bigint[] = [];
      for (const row of rows) {
        // A replay that raced with the purge can leave a delivery whose event is gone: nothing to deliver.
        if (!row.event) {
          done.push(row.eventId);
          continue;
        }
        const event: DomainEvent = {
          id: row.event.id,
          topic: row.event.topic,
          version: row.event.version,
          aggregateType: row.event.aggregateType,
          aggregateId: row.event.aggregateId,
          payload: row.event.payload,
          occurredAt: row.event.occurredAt,
        };
        const key = topicKey({ name: event.topic, version: event.version });
        const handler = entry.handlers.get(key);
        try {
          if (!handler) throw new Error(`${consumer} has no handler for ${key}`);
          await tx.transaction(async (savepoint) => handler(savepoint as unknown as Executor, event));
        } catch (error) {
          this.#onError(consumer, event, error);
          // A delivery with no handler (the consumer dropped the topic or version) is set aside at once.
          const attempts = handler ? row.attempts + 1 : this.#maxAttempts;
          await tx
            .update(outboxDeliveries)
            .set({
              attempts,
              lastError: (error instanceof Error ? error.message : String(error)).slice(0, 1000),
              failedAt: attempts >= this.#maxAttempts ? sql`now()` : null,
            })
            .where(and(eq(outboxDeliveries.consumer, consumer), eq(outboxDeliveries.eventId, row.eventId)));
          continue;
        }
        done.push(row.eventId);
        crashPoint('outbox.dispatch.mid-batch');
      }
      if (done.length > 0)
        await tx
          .delete(outboxDeliveries)
          .where(and(eq(outboxDeliveries.consumer, consumer), inArray(outboxDeliveries.eventId, done)));
      return rows.length;
    });
  }

  /** One round: a hand-out, then one batch per consumer; returns everything it settled (0: nothing left). */
  async dispatchBatch(): Promise<number> {
    let settled = await this.handOut();
    for (const consumer of this.#consumers.keys()) settled += await this.dispatch(consumer);
    return settled;
  }

  deadLetters(consumer?: string, limit?: number): Promise<DeadLetter[]> {
    return deadLetters(this.#db, consumer, limit);
  }

  retryDeadLetters(consumer: string, eventIds?: bigint[]): Promise<number> {
    return retryDeadLetters(this.#db, consumer, eventIds);
  }

  /**
   * Starts the hand-out loop and one loop per consumer, each on its own transactions: a consumer that fails or falls
   * behind holds up only itself. Each loop works until it has nothing left, then polls every `idleMs` (the hand-out
   * wakes the consumers when it handed something out).
   */
  start(idleMs = 500): void {
    if (this.#running) return;
    this.#running = true;
    const wakeAll = () => {
      for (const wake of this.#wakers) wake();
    };
    this.#loops = [
      this.#loop(idleMs, async () => {
        const handed = await this.handOut();
        if (handed > 0) wakeAll();
        return handed;
      }),
      ...[...this.#consumers.keys()].map((consumer) => this.#loop(idleMs, () => this.dispatch(consumer))),
    ];
  }

  async #loop(idleMs: number, step: () => Promise<number>): Promise<void> {
    while (this.#running) {
      let settled = 0;
      try {
        settled = await step();
      } catch {
        // The database is away (or the registration failed): wait and try again.
      }
      if (settled < this.#batchSize && this.#running)
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            this.#wakers.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, idleMs);
          this.#wakers.add(wake);
        });
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const wake of [...this.#wakers]) wake();
    await Promise.all(this.#loops);
    this.#loops = [];
  }
}

function toTextArray(values: string[]) {
  return sql`${`{${values.map((value) => `"${value}"`).join(',')}}`}::text[]`;
}
