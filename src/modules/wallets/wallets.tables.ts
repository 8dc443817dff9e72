/**
 * Wallet products, customer wallets (each one ledger account, same id), per-period usage counters that make
 * limits exact under concurrency, billers, linked bank accounts and FX rates.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/platform.tables.ts';

/** A fee rule: fixed + basis points of the amount, clamped to [min, max] (all minor units). */
export interface FeeRule {
  fixed: number;
  percent_bps: number;
  min: number;
  max: number | null;
  /** Excise duty on the fee, basis points of the fee. */
  tax_bps: number;
}

export interface ProductLimits {
  single?: number;
  daily?: number;
  monthly?: number;
  max_balance?: number;
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

export const linkedBankAccounts = pgTable(
  'linked_bank_accounts',
  {
    id: uuid('id').primaryKey(),
    customerId: uuid('customer_id').notNull(),
    bankCode: text('bank_code').notNull(),
    /** Sealed account number (envelope encryption bound to the row); last four kept for display. */
    accountNumberSealed: text('account_number_sealed').notNull(),
    accountNumberIndex: text('account_number_index').notNull(),
    accountNumberLast4: text('account_number_last4').notNull(),
    accountName: text('account_name').notNull(),
    currency: text('currency').notNull(),
    status: text('status', { enum: ['pending', 'verified', 'failed', 'unlinked'] }).notNull(),
    verificationMethod: text('verification_method', { enum: ['name_match', 'micro_deposit'] }),
    /** HMAC of the micro-deposit amount; attempts counted before the check. */
    microDepositHash: text('micro_deposit_hash'),
    verificationAttempts: integer('verification_attempts').notNull().default(0),
    /** The CBS's own id of the account (Fineract savings account id). */
    externalAccountId: text('external_account_id'),
    verifiedAt: timestamp('verified_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (table) => [
    index('linked_bank_accounts_customer_idx').on(table.customerId),
    uniqueIndex('linked_bank_accounts_active_key')
      .on(table.customerId, table.bankCode, table.accountNumberIndex)
      .where(sql`${table.status} <> 'unlinked'`),
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
