/**
 * The double-entry ledger (ARCHITECTURE "Money and the ledger"). Accounts carry posted and pending totals;
 * transfers are immutable legs grouped in batches that commit together; journal entries are the per-account lines
 * (with the running balance) that statements and `ledger-verify` read. Postings go through the `ledger_post` and
 * `ledger_resolve` SQL functions (migration 0013): never UPDATE or DELETE a transfer or an entry.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const ACCOUNT_KINDS = ['asset', 'liability', 'income', 'expense', 'equity'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

export const ledgerAccounts = pgTable(
  'ledger_accounts',
  {
    id: uuid('id').primaryKey(),
    /** House accounts have a stable code such as `fee_income:KES`; wallets have none. */
    code: text('code'),
    name: text('name').notNull(),
    currency: text('currency').notNull(),
    kind: text('kind', { enum: ACCOUNT_KINDS }).notNull(),
    /** Customer wallets: the balance (credits − debits) may never go below zero. */
    debitsMustNotExceedCredits: boolean('debits_must_not_exceed_credits').notNull().default(false),
    /** Cash and settlement assets: the balance (debits − credits) may never go below zero. */
    creditsMustNotExceedDebits: boolean('credits_must_not_exceed_debits').notNull().default(false),
    /**
     * Hot house accounts (fees, tax, settlement): postings append a delta instead of updating (and locking) the
     * row; a job rolls the deltas up. Unguarded sides only.
     */
    deferred: boolean('deferred').notNull().default(false),
    debitsPosted: bigint('debits_posted', { mode: 'bigint' }).notNull().default(sql`0`),
    creditsPosted: bigint('credits_posted', { mode: 'bigint' }).notNull().default(sql`0`),
    debitsPending: bigint('debits_pending', { mode: 'bigint' }).notNull().default(sql`0`),
    creditsPending: bigint('credits_pending', { mode: 'bigint' }).notNull().default(sql`0`),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('ledger_accounts_code_key').on(table.code),
    check(
      'ledger_accounts_totals_nonnegative',
      sql`${table.debitsPosted} >= 0 and ${table.creditsPosted} >= 0
      and ${table.debitsPending} >= 0 and ${table.creditsPending} >= 0`,
    ),
    check(
      'ledger_accounts_one_guard',
      sql`not (${table.debitsMustNotExceedCredits} and ${table.creditsMustNotExceedDebits})`,
    ),
    check(
      'ledger_accounts_deferred_unguarded_credit_side',
      sql`not (${table.deferred} and ${table.creditsMustNotExceedDebits})`,
    ),
  ],
);

/** A posting: the legs that commit together, found again by its key so a retried posting applies once. */
export const ledgerBatches = pgTable(
  'ledger_batches',
  {
    id: uuid('id').primaryKey(),
    key: text('key').notNull(),
    code: text('code').notNull(),
    reference: text('reference'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex('ledger_batches_key_key').on(table.key)],
);

export const TRANSFER_KINDS = ['posted', 'pending', 'post_pending', 'void_pending'] as const;

export const ledgerTransfers = pgTable(
  'ledger_transfers',
  {
    id: uuid('id').primaryKey(),
    batchId: uuid('batch_id')
      .notNull()
      .references(() => ledgerBatches.id),
    debitAccountId: uuid('debit_account_id')
      .notNull()
      .references(() => ledgerAccounts.id),
    creditAccountId: uuid('credit_account_id')
      .notNull()
      .references(() => ledgerAccounts.id),
    amount: bigint('amount', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    /** What the leg is: `principal`, `fee`, `tax`, `fx`, `hold` … */
    code: text('code').notNull(),
    kind: text('kind', { enum: TRANSFER_KINDS }).notNull(),
    /** For post_pending / void_pending: the pending transfer resolved (at most once: unique). */
    pendingId: uuid('pending_id'),
    /** For pending transfers: after this time they can only be voided. */
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    index('ledger_transfers_batch_idx').on(table.batchId),
    // Partial: posted legs (pending_id null) get no entry; every reader asks `pending_id = …` (migration 0057).
    uniqueIndex('ledger_transfers_pending_key')
      .on(table.pendingId)
      .where(sql`${table.pendingId} is not null`),
    index('ledger_transfers_open_pending_idx').on(table.expiresAt).where(sql`${table.kind} = 'pending'`),
    check('ledger_transfers_amount_positive', sql`${table.amount} >= 0`),
  ],
);

/** Journal lines: one per account side of every posted amount, with the account's balance after it. */
export const ledgerEntries = pgTable(
  'ledger_entries',
  {
    /** Posting order (from the sequence, drawn under the accounts' locks): the statement's order and cursor. */
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    transferId: uuid('transfer_id').notNull(),
    batchId: uuid('batch_id').notNull(),
    accountId: uuid('account_id').notNull(),
    direction: text('direction', { enum: ['debit', 'credit'] }).notNull(),
    amount: bigint('amount', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    /** Balance on the account's normal side after this line; null on deferred (rolled-up) accounts. */
    balanceAfter: bigint('balance_after', { mode: 'bigint' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    index('ledger_entries_account_idx').on(table.accountId, table.id),
    // Statements by period (and their opening balance) without walking an account's whole history.
    index('ledger_entries_account_time_idx').on(table.accountId, table.createdAt, table.id),
    // No index on batch_id: no query reads lines by batch (the statement joins the batch by its key; migration 0057).
  ],
);

/** Not-yet-rolled-up postings to deferred accounts; deleted as they are added to the account's totals. */
export const ledgerDeferredDeltas = pgTable(
  'ledger_deferred_deltas',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    accountId: uuid('account_id').notNull(),
    debits: bigint('debits', { mode: 'bigint' }).notNull(),
    credits: bigint('credits', { mode: 'bigint' }).notNull(),
  },
  (table) => [index('ledger_deferred_deltas_account_idx').on(table.accountId)],
);
