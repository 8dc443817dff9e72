/**
 * Domain events go to the outbox table inside the business transaction: a rolled-back use case emits nothing, a
 * committed one exactly one event. Payloads carry ids and amounts, never secrets in clear (an OTP is sealed).
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import { deleteInBatches, type Executor } from './db.ts';
import { toJsonSafe } from './json.ts';
import { outboxEvents } from './platform.tables.ts';

export interface DomainEvent {
  topic: string;
  aggregateType: string;
  aggregateId: string;
  payload: Record<string, unknown>;
}

export async function emitEvent(tx: Executor, event: DomainEvent): Promise<void> {
  await tx.insert(outboxEvents).values({
    topic: event.topic,
    aggregateType: event.aggregateType,
    aggregateId: event.aggregateId,
    payload: toJsonSafe(event.payload) as Record<string, unknown>,
  });
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
 * Retention: deletes events that occurred more than `days` ago and were dispatched, in batches; undelivered events
 * and those set aside with an error (an operator's to look at) stay. Ids grow with time, so each batch is an index
 * range below the first event inside the window (no index on the dispatch time, which would cost every dispatch).
 */
export async function purgeDispatchedEvents(db: Executor, days: number, batchSize = 5000): Promise<number> {
  if (days <= 0) return 0;
  return deleteInBatches(
    db,
    'outbox_events',
    sql`select id from outbox_events
        where id < coalesce(
                (select id from outbox_events where occurred_at >= now() - make_interval(days => ${days})
                 order by id limit 1),
                (select max(id) + 1 from outbox_events))
          and dispatched_at is not null and dispatch_error is null
        order by id`,
    batchSize,
  );
}

export type OutboxEventRow = typeof outboxEvents.$inferSelect;
