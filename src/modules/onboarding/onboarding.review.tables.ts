/**
 * The manual review queue's own state, one row per registration that reached review: who claimed it and until
 * when, and the last decision (approved, rejected with a reason, information requested with the reopened step).
 * The queue itself is the registrations in state `in_review`; a row here only says who works on it.
 */
import { index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { registrations } from './onboarding.tables.ts';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const registrationReviews = pgTable(
  'registration_reviews',
  {
    registrationId: uuid('registration_id')
      .primaryKey()
      .references(() => registrations.id, { onDelete: 'cascade' }),
    /** claimed, approved, rejected, info_requested (a new round starts when the registration is back in review). */
    status: text('status', { enum: ['claimed', 'approved', 'rejected', 'info_requested'] }).notNull(),
    claimedBy: uuid('claimed_by'),
    claimedAt: at('claimed_at'),
    decidedBy: uuid('decided_by'),
    decidedAt: at('decided_at'),
    /** The rejection reason (shown to the customer) or the message of a request for information. */
    decisionReason: text('decision_reason'),
    /** The step reopened by a request for information. */
    requestedStep: text('requested_step'),
    /** How many times the registration was claimed for review (rounds after requests for information). */
    rounds: integer('rounds').notNull().default(1),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (table) => [index('registration_reviews_claimed_idx').on(table.claimedBy, table.status)],
);
