/** The ussd module's tables: no other module imports them (the boundary test checks). */
import { boolean, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * A customer's USSD channel: whether it is on (a customer or staff may switch it off; a customer without a row has it
 * on) and the language its menus speak (null: the default, USSD_DEFAULT_LANGUAGE).
 */
export const ussdProfiles = pgTable('ussd_profiles', {
  customerId: uuid('customer_id').primaryKey(),
  enabled: boolean('enabled').notNull().default(true),
  language: text('language'),
  /** Who last switched the channel: `customer` (from USSD or the app) or `user` (staff), with why. */
  changedByType: text('changed_by_type'),
  changedById: uuid('changed_by_id'),
  reason: text('reason'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
