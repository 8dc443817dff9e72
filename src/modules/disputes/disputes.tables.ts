/** Disputes hold the disputed amount (a pending ledger transfer) until staff resolve them. */
import { sql } from 'drizzle-orm';
import { bigint, index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/platform.tables.ts';

export const DISPUTE_STATES = ['open', 'investigating', 'refunded', 'rejected'] as const;

export const disputes = pgTable(
  'disputes',
  {
    id: uuid('id').primaryKey(),
    transactionId: uuid('transaction_id').notNull(),
    customerId: uuid('customer_id').notNull(),
    reason: text('reason').notNull(),
    description: text('description'),
    status: text('status', { enum: DISPUTE_STATES }).notNull(),
    amount: bigint('amount', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    /** The pending ledger transfer holding the amount on the recipient's side (null when none could be held). */
    holdTransferId: uuid('hold_transfer_id'),
    resolution: text('resolution'),
    resolvedById: text('resolved_by_id'),
    refundTransactionId: uuid('refund_transaction_id'),
    resolvedAt: timestamp('resolved_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('disputes_open_per_transaction_key')
      .on(table.transactionId)
      .where(sql`${table.status} in ('open', 'investigating')`),
    index('disputes_customer_idx').on(table.customerId, table.id),
    index('disputes_transaction_idx').on(table.transactionId),
    index('disputes_status_idx').on(table.status, table.id),
  ],
);
