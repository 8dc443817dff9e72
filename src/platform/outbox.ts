/**
 * Domain events go to the outbox table inside the business transaction: a rolled-back use case emits nothing, a
 * committed one exactly one event. Payloads carry ids and amounts, never secrets in clear (an OTP is sealed).
 */
import { and, asc, eq } from 'drizzle-orm';
import type { Executor } from './db.ts';
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

export type OutboxEventRow = typeof outboxEvents.$inferSelect;
