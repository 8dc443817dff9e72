/**
 * The Didit identity path's tables: one row per Didit session opened for a registration (its last known status and
 * when to poll it next when no webhook came), and one receipt per verified webhook, unique per (session, status),
 * so a delivery repeated or replayed has one effect. Neither keeps a decision, PII or a media URL: the mapped result
 * is sealed on the registration.
 */
import { sql } from 'drizzle-orm';
import { index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true });

export const diditSessions = pgTable(
  'onboarding_didit_sessions',
  {
    sessionId: text('session_id').primaryKey(),
    registrationId: uuid('registration_id').notNull(),
    /** Didit's session status as last seen (webhook, callback or poll). */
    status: text('status').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    /** The last webhook, callback or poll that told something about the session. */
    lastEventAt: at('last_event_at'),
    /** When the polling job asks Didit next (null once the session is final or the registration moved on). */
    nextPollAt: at('next_poll_at'),
    pollAttempts: integer('poll_attempts').notNull().default(0),
    finishedAt: at('finished_at'),
  },
  (table) => [
    index('onboarding_didit_sessions_registration_idx').on(table.registrationId),
    index('onboarding_didit_sessions_poll_idx')
      .on(table.nextPollAt)
      .where(sql`${table.nextPollAt} is not null`),
  ],
);

export const diditWebhookReceipts = pgTable(
  'onboarding_didit_webhooks',
  {
    sessionId: text('session_id').notNull(),
    /** Didit's status; for a data.updated, `data.updated:<hash of the fetched data>` (one effect per correction). */
    status: text('status').notNull(),
    webhookType: text('webhook_type').notNull(),
    /** Which signature verified it: v2, v1 or simple (simple: the decision was fetched, never read from the body). */
    scheme: text('scheme').notNull(),
    /** What it did: applied (the registration moved), recorded (status noted, no step), ignored (stale or unknown). */
    effect: text('effect').notNull(),
    receivedAt: at('received_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ name: 'onboarding_didit_webhooks_pkey', columns: [table.sessionId, table.status] }),
  ],
);
