/**
 * Domain events go to the outbox table inside the business transaction: a rolled-back use case emits nothing, a
 * committed one exactly one event. Payloads carry ids, amounts (decimal strings) and names, never secrets in clear (an
 * OTP is sealed). Each topic is declared with its payload schema in the publishing module (`defineTopic`, events.ts);
 * the event bus (outbox-dispatcher.ts) hands each event to every consumer subscribed to its topic (ADR 0025).
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import { deleteInBatches, type Executor } from './db.ts';
import { type Aggregate, type PayloadOf, type Topic, validateOnPublish } from './events.ts';
import { outboxEvents } from './platform.tables.ts';

/** Writes one event of `topic` in the caller's transaction; the payload is checked against the topic's schema. */
export async function emitEvent<T extends Topic>(
  tx: Executor,
  topic: T,
  aggregate: Aggregate,
  payload: PayloadOf<T>,
): Promise<void> {
  validateOnPublish(topic, payload);
  await tx.insert(outboxEvents).values({
    topic: topic.name,
    version: topic.version,
    aggregateType: aggregate.type,
    aggregateId: aggregate.id,
    payload: payload as Record<string, unknown>,
  });
}

/** An outbox row as JSON, for a PL/pgSQL function that inserts it itself (`payment_commit`); checked as emitEvent. */
export interface OutboxRecord {
  topic: string;
  version: number;
  aggregate_type: string;
  aggregate_id: string;
  payload: unknown;
}

export function outboxRecord<T extends Topic>(
  topic: T,
  aggregate: Aggregate,
  payload: PayloadOf<T>,
): OutboxRecord {
  validateOnPublish(topic, payload);
  return {
    topic: topic.name,
    version: topic.version,
    aggregate_type: aggregate.type,
    aggregate_id: aggregate.id,
    payload,
  };
}

/** Events of one aggregate, oldest first (support views, tests). */
export async function eventsOf(db: Executor, aggregateType: string, aggregateId: string, limit = 100) {
  return db
    .select()
    .from(outboxEvents)
    .where(and(eq(outboxEvents.aggregateType, aggregateType), eq(outboxEvents.aggregateId, aggregateId)))
    .orderBy(asc(outboxEvents.id))
    .limit(limit);
}

/**
 * Retention: deletes events that occurred more than `days` ago and that every consumer has passed, in batches. An
 * event stays while it is not yet handed to the consumers (`dispatched_at` null) or while any consumer still has a
 * delivery of it: pending, or set aside after its attempts (an operator's to look at, and to retry). Ids grow with
 * time, so each batch is an index range below the first event inside the window (no index on the dispatch time,
 * which would cost every dispatch); the deliveries table holds only what is pending or set aside, so it is small.
 */
export async function purgeDispatchedEvents(db: Executor, days: number, batchSize = 5000): Promise<number> {
  if (days <= 0) return 0;
  return deleteInBatches(
    db,
    'outbox_events',
    sql`select e.id from outbox_events e
        where e.id < coalesce(
                (select id from outbox_events where occurred_at >= now() - make_interval(days => ${days})
                 order by id limit 1),
                (select max(id) + 1 from outbox_events))
          and e.dispatched_at is not null
          and not exists (select 1 from outbox_deliveries d where d.event_id = e.id)
        order by e.id`,
    batchSize,
  );
}

export type OutboxEventRow = typeof outboxEvents.$inferSelect;
