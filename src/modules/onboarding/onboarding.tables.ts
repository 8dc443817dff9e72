/** The onboarding module's tables: no other module imports them (the boundary test checks). */
import { bigint, char, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const onboardingItems = pgTable(
  'onboarding_items',
  {
    id: uuid('id').primaryKey(),
    customerId: uuid('customer_id').notNull(),
    reference: text('reference').notNull(),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex('onboarding_items_customer_reference').on(table.customerId, table.reference)],
);
