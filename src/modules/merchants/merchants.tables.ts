/** Merchants (registered under maker-checker), their wallets, and EMVCo QR codes (static and dynamic). */
import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/platform.tables.ts';

export const merchants = pgTable(
  'merchants',
  {
    id: uuid('id').primaryKey(),
    merchantNumber: text('merchant_number').notNull(),
    name: text('name').notNull(),
    /** ISO 18245 merchant category code. */
    mcc: text('mcc').notNull(),
    city: text('city').notNull(),
    country: text('country').notNull(),
    currency: text('currency').notNull(),
    /** The customer who owns the business, if any. */
    ownerCustomerId: uuid('owner_customer_id'),
    status: text('status', { enum: ['active', 'suspended', 'closed'] }).notNull(),
    /** Merchant discount rate charged on each payment, basis points. */
    feeBps: integer('fee_bps').notNull(),
    walletId: uuid('wallet_id'),
    ...timestamps,
  },
  (table) => [uniqueIndex('merchants_number_key').on(table.merchantNumber)],
);

export const merchantQrCodes = pgTable(
  'merchant_qr_codes',
  {
    id: uuid('id').primaryKey(),
    merchantId: uuid('merchant_id').notNull(),
    mode: text('mode', { enum: ['static', 'dynamic'] }).notNull(),
    payload: text('payload').notNull(),
    amount: bigint('amount', { mode: 'bigint' }),
    currency: text('currency').notNull(),
    reference: text('reference'),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    /** Dynamic codes are single-use: set once, by the payment that used it. */
    usedAt: timestamp('used_at', { withTimezone: true, mode: 'date' }),
    transactionId: uuid('transaction_id'),
    ...timestamps,
  },
  (table) => [
    index('merchant_qr_codes_merchant_idx').on(table.merchantId, table.id),
    // Per merchant: one merchant's references neither block nor reveal another's.
    uniqueIndex('merchant_qr_codes_reference_key')
      .on(table.merchantId, table.reference)
      .where(sql`${table.reference} is not null`),
  ],
);
