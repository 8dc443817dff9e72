/** The biller registry: who customers pay bills to, how their references are checked, where payments settle. */
import { sql } from 'drizzle-orm';
import { bigint, boolean, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/platform.tables.ts';

export const billers = pgTable(
  'billers',
  {
    id: uuid('id').primaryKey(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    category: text('category').notNull(),
    currency: text('currency').notNull(),
    /** How the customer's account reference with the biller is checked (adapter name). */
    adapter: text('adapter').notNull(),
    /** Anchored regular expression for the customer reference (meter number, account number). */
    referencePattern: text('reference_pattern').notNull(),
    minAmount: bigint('min_amount', { mode: 'bigint' }).notNull().default(sql`1`),
    maxAmount: bigint('max_amount', { mode: 'bigint' }),
    /** The ledger account (liability to the biller) that payments settle to. */
    settlementAccountId: uuid('settlement_account_id').notNull(),
    active: boolean('active').notNull().default(true),
    ...timestamps,
  },
  (table) => [uniqueIndex('billers_code_key').on(table.code)],
);
