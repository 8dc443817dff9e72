/** Customers' bank accounts linked to their wallets (verified by holder name or micro deposit). */
import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/platform.tables.ts';

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
