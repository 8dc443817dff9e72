/** Tables owned by the platform: audit trail, idempotency keys, the outbox. */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
};

/** Append-only, hash-chained: each row's hash covers its content and the previous row's hash. */
export const auditLog = pgTable(
  'audit_log',
  {
    seq: bigserial('seq', { mode: 'bigint' }).primaryKey(),
    id: uuid('id').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull(),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id'),
    before: jsonb('before'),
    after: jsonb('after'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    requestId: text('request_id'),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('audit_log_id_key').on(table.id),
    index('audit_log_entity_idx').on(table.entityType, table.entityId, table.seq),
    index('audit_log_actor_idx').on(table.actorId, table.seq),
    index('audit_log_action_idx').on(table.action, table.seq),
    index('audit_log_occurred_idx').on(table.occurredAt),
  ],
);

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    id: uuid('id').primaryKey(),
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    state: text('state', { enum: ['in_progress', 'completed'] }).notNull(),
    lockedUntil: timestamp('locked_until', { withTimezone: true, mode: 'date' }).notNull(),
    /** The claim holder's session (src/platform/idempotency.holders.ts `ClaimHolder`); null: the lease alone decides. */
    holder: integer('holder'),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('idempotency_keys_scope_key').on(table.scope, table.key),
    index('idempotency_keys_expires_idx').on(table.expiresAt),
  ],
);

export const nowSql = sql`now()`;

/**
 * The transactional outbox of domain events (transaction completed, dispute opened, OTP requested …), written in
 * the same transaction as the change they describe; a rolled-back change leaves no event. The event bus hands each
 * event to the consumers subscribed to its topic (one `outbox_deliveries` row each) and then sets `dispatched_at`;
 * each consumer works through its own deliveries (ADR 0025).
 */
export const outboxEvents = pgTable(
  'outbox_events',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    topic: text('topic').notNull(),
    /** The version of the topic's payload schema the event was written with. */
    version: integer('version').notNull().default(1),
    aggregateType: text('aggregate_type').notNull(),
    aggregateId: text('aggregate_id').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** When the event was handed to its consumers (their deliveries written); null until then. */
    dispatchedAt: timestamp('dispatched_at', { withTimezone: true, mode: 'date' }),
  },
  (table) => [
    index('outbox_events_undispatched_idx').on(table.id).where(sql`${table.dispatchedAt} is null`),
    // No index by aggregate: only eventsOf (tests, support) reads by it; the bus goes by id (migration 0057).
  ],
);

/**
 * The consumers of the outbox (`notifications`, later AML, webhooks …) and the topics each takes, as `name@version`.
 * Written by the event bus at start; the hand-out reads it, so every worker hands events to the same consumers.
 */
export const outboxConsumers = pgTable('outbox_consumers', {
  name: text('name').primaryKey(),
  topics: text('topics').array().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/**
 * One event for one consumer, pending or set aside. A handled delivery is deleted, so the table holds only what is
 * pending and what failed `maxAttempts` times (`failed_at` set, with the last error): the consumer's dead letters.
 */
export const outboxDeliveries = pgTable(
  'outbox_deliveries',
  {
    consumer: text('consumer')
      .notNull()
      .references(() => outboxConsumers.name, { onDelete: 'cascade' }),
    eventId: bigint('event_id', { mode: 'bigint' }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** Set when the delivery was set aside after its attempts (a dead letter); null while pending. */
    failedAt: timestamp('failed_at', { withTimezone: true, mode: 'date' }),
  },
  (table) => [primaryKey({ columns: [table.consumer, table.eventId] })],
);
