/** Maker-checker requests: an action held until a second staff member approves it. */
import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/platform.tables.ts';

export const approvalRequests = pgTable(
  'approval_requests',
  {
    id: uuid('id').primaryKey(),
    action: text('action').notNull(),
    summary: text('summary').notNull(),
    payload: jsonb('payload').notNull(),
    /**
     * What makes two requests the same (declared by the action, hashed with its name): at most one open request
     * (`pending` or `executing`) per key, enforced by a partial unique index so concurrent filings cannot both win.
     */
    dedupeKey: text('dedupe_key').notNull(),
    entityType: text('entity_type'),
    entityId: text('entity_id'),
    makerId: uuid('maker_id').notNull(),
    status: text('status', {
      enum: ['pending', 'executing', 'approved', 'rejected', 'cancelled', 'failed'],
    }).notNull(),
    checkerId: uuid('checker_id'),
    decidedAt: timestamp('decided_at', { withTimezone: true, mode: 'date' }),
    reason: text('reason'),
    result: jsonb('result'),
    error: text('error'),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    ...timestamps,
  },
  (table) => [
    index('approval_requests_status_idx').on(table.status, table.id),
    index('approval_requests_maker_idx').on(table.makerId),
    uniqueIndex('approval_requests_open_dedupe_key')
      .on(table.action, table.dedupeKey)
      .where(sql`${table.status} in ('pending', 'executing')`),
  ],
);
