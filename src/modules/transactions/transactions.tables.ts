/**
 * Every money movement is a transaction record with a state machine and a reference; its ledger batch is the money.
 * FX rates are the payment engine's: currency exchange is one of its movements.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/platform.tables.ts';

/**
 * A transaction type's name (`p2p`, `bill`, `cash_in` …). There is no central list: each payment module declares the
 * types it records in its `defineModule({ transactionTypes })`, and the composed system's registry
 * (`ctx.transactionTypes`, platform/transaction-types.ts) is the list the engine and the filters check against.
 */
export type TransactionType = string;

export const TRANSACTION_STATES = [
  'initiated',
  'validated',
  'authorized',
  'processing',
  /** Held for AML review: posted as a ledger hold (the payer's funds reserved), released or rejected by staff. */
  'held',
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
    type: text('type').notNull(),
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
    initiatedByType: text('initiated_by_type', {
      enum: ['customer', 'user', 'agent_operator', 'system'],
    }).notNull(),
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

/** Mid-market rate as a fraction (rate_numerator / rate_denominator quote units per base unit, in major units). */
export const fxRates = pgTable(
  'fx_rates',
  {
    id: uuid('id').primaryKey(),
    baseCurrency: text('base_currency').notNull(),
    quoteCurrency: text('quote_currency').notNull(),
    rateNumerator: bigint('rate_numerator', { mode: 'bigint' }).notNull(),
    rateDenominator: bigint('rate_denominator', { mode: 'bigint' }).notNull(),
    /** The customer's spread on each side, basis points. */
    spreadBps: integer('spread_bps').notNull(),
    ...timestamps,
  },
  (table) => [uniqueIndex('fx_rates_pair_key').on(table.baseCurrency, table.quoteCurrency)],
);
