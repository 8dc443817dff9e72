/**
 * Every money movement is a transaction record with a state machine and a reference; its ledger batch is the money.
 * Disputes hold the disputed amount (a pending ledger transfer) until staff resolve them.
 */
import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/platform.tables.ts';

export const TRANSACTION_TYPES = [
  'p2p',
  'merchant',
  'bill',
  'cash_deposit',
  'cash_withdrawal',
  'bank_topup',
  'bank_withdrawal',
  'fx',
  'reversal',
  'refund',
] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];

export const TRANSACTION_STATES = [
  'initiated',
  'validated',
  'authorized',
  'processing',
  'completed',
  'failed',
  'reversed',
] as const;
export type TransactionState = (typeof TRANSACTION_STATES)[number];

export const transactions = pgTable(
  'transactions',
  {
    id: uuid('id').primaryKey(),
    reference: text('reference').notNull(),
    type: text('type', { enum: TRANSACTION_TYPES }).notNull(),
    status: text('status', { enum: TRANSACTION_STATES }).notNull(),
    channel: text('channel').notNull(),
    /** The customer who initiated it (null for staff-initiated cash and reversals). */
    customerId: uuid('customer_id'),
    sourceWalletId: uuid('source_wallet_id'),
    destinationWalletId: uuid('destination_wallet_id'),
    /** Customer on the receiving side (for their history and disputes). */
    counterpartyCustomerId: uuid('counterparty_customer_id'),
    merchantId: uuid('merchant_id'),
    billerId: uuid('biller_id'),
    amount: bigint('amount', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    fee: bigint('fee', { mode: 'bigint' }).notNull().default(sql`0`),
    tax: bigint('tax', { mode: 'bigint' }).notNull().default(sql`0`),
    /** FX: what the destination received, in its currency. */
    destinationAmount: bigint('destination_amount', { mode: 'bigint' }),
    destinationCurrency: text('destination_currency'),
    narration: text('narration'),
    ledgerBatchId: uuid('ledger_batch_id'),
    /** For reversals and refunds: the transaction undone. */
    relatedTransactionId: uuid('related_transaction_id'),
    failureCode: text('failure_code'),
    failureReason: text('failure_reason'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>(),
    initiatedByType: text('initiated_by_type', { enum: ['customer', 'user', 'system'] }).notNull(),
    initiatedById: text('initiated_by_id'),
    /** The state path taken, with times: [{state, at}]. */
    history: jsonb('history').$type<{ state: TransactionState; at: string; reason?: string }[]>().notNull(),
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('transactions_reference_key').on(table.reference),
    index('transactions_customer_idx').on(table.customerId, table.id),
    index('transactions_counterparty_idx').on(table.counterpartyCustomerId, table.id),
    index('transactions_source_wallet_idx').on(table.sourceWalletId, table.id),
    index('transactions_destination_wallet_idx').on(table.destinationWalletId, table.id),
    uniqueIndex('transactions_one_reversal_key')
      .on(table.relatedTransactionId)
      .where(sql`${table.type} = 'reversal'`),
  ],
);

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
