/**
 * Wallet products, customer wallets (each one ledger account, same id) and the per-period usage counters that make
 * limits exact under concurrency.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/platform.tables.ts';

/**
 * A fee rule as stored in `wallet_products.fees`: fixed + basis points of the amount, clamped to [min, max]. Amounts
 * are decimal strings of minor units (money inside jsonb is never a JSON number; migration 0029).
 */
export interface FeeRule {
  fixed_minor: string;
  percent_bps: number;
  min_minor: string;
  /** Null: no upper bound. */
  max_minor: string | null;
  /** Excise duty on the fee, basis points of the fee. */
  tax_bps: number;
}

/** Product limits as stored in `wallet_products.limits`: decimal strings of minor units; absent means none. */
export interface ProductLimits {
  single_minor?: string;
  daily_minor?: string;
  monthly_minor?: string;
  max_balance_minor?: string;
}

export const walletProducts = pgTable(
  'wallet_products',
  {
    id: uuid('id').primaryKey(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    currency: text('currency').notNull(),
    isDefault: boolean('is_default').notNull().default(false),
    /** Fee rule per transaction type (`p2p`, `merchant`, `bill`, `bank_withdrawal`, `cash_withdrawal`, `fx`). */
    fees: jsonb('fees').$type<Record<string, FeeRule>>().notNull(),
    /** Product limits on top of the KYC tier's (the stricter one applies). */
    limits: jsonb('limits').$type<ProductLimits>().notNull(),
    allowedChannels: jsonb('allowed_channels').$type<string[]>().notNull(),
    active: boolean('active').notNull().default(true),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('wallet_products_code_key').on(table.code),
    uniqueIndex('wallet_products_default_key').on(table.currency).where(sql`${table.isDefault}`),
  ],
);

export const WALLET_STATUSES = ['active', 'frozen', 'closed'] as const;

export const wallets = pgTable(
  'wallets',
  {
    /** Same id as the wallet's ledger account. */
    id: uuid('id').primaryKey(),
    walletNumber: text('wallet_number').notNull(),
    /** The owner: a customer, or a merchant for merchant wallets. */
    ownerType: text('owner_type', { enum: ['customer', 'merchant'] }).notNull(),
    customerId: uuid('customer_id'),
    merchantId: uuid('merchant_id'),
    currency: text('currency').notNull(),
    productId: uuid('product_id').notNull(),
    status: text('status', { enum: WALLET_STATUSES }).notNull().default('active'),
    statusReason: text('status_reason'),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('wallets_number_key').on(table.walletNumber),
    uniqueIndex('wallets_customer_currency_key')
      .on(table.customerId, table.currency)
      .where(sql`${table.ownerType} = 'customer'`),
    uniqueIndex('wallets_merchant_currency_key')
      .on(table.merchantId, table.currency)
      .where(sql`${table.ownerType} = 'merchant'`),
  ],
);

/**
 * What a wallet sent or received per day and month. Updated in the posting's transaction while the wallet row is
 * locked, so parallel transfers see each other's usage and a limit holds exactly.
 */
export const walletUsage = pgTable(
  'wallet_usage',
  {
    walletId: uuid('wallet_id').notNull(),
    /** `d:2026-11-29` or `m:2026-11` (UTC). */
    period: text('period').notNull(),
    direction: text('direction', { enum: ['send', 'receive'] }).notNull(),
    amount: bigint('amount', { mode: 'bigint' }).notNull().default(sql`0`),
    count: integer('count').notNull().default(0),
  },
  (table) => [primaryKey({ columns: [table.walletId, table.period, table.direction] })],
);
