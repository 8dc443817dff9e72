/**
 * Africa's Talking end-of-session notifications (migration 0038), one per gateway session, for analytics. The
 * session's `input` is not stored (it holds every answer of the session, the PIN among them), nor its last screen
 * (it may show a name, an ID number or a balance). The phone number is personal data (nullable so that an erasure
 * can clear it).
 */
import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const ussdSessionReports = pgTable(
  'ussd_session_reports',
  {
    id: uuid('id').primaryKey(),
    gateway: text('gateway').notNull(),
    sessionId: text('session_id').notNull(),
    serviceCode: text('service_code'),
    networkCode: text('network_code'),
    phoneNumber: text('phone_number'),
    /** As the gateway reports it, lower case (`success`, `incomplete`, `failed`). */
    status: text('status').notNull(),
    /** The gateway's text (`KES 0.10`); currency and minor units when it parses exactly. */
    costText: text('cost_text'),
    costCurrency: text('cost_currency'),
    costMinor: bigint('cost_minor', { mode: 'bigint' }),
    durationMs: bigint('duration_ms', { mode: 'number' }),
    hopsCount: integer('hops_count'),
    errorMessage: text('error_message'),
    /** When the session ended (the gateway's `date`; when it is missing or unreadable, when it was received). */
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().default(sql`now()`),
  },
  (table) => [
    uniqueIndex('ussd_session_reports_session').on(table.gateway, table.sessionId),
    index('ussd_session_reports_occurred').on(table.occurredAt, table.id),
    index('ussd_session_reports_phone').on(table.phoneNumber),
  ],
);

export const gatewayTables = { ussdSessionReports };
