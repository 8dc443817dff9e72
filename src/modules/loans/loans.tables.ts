/**
 * The loans module's core tables (migration 0030): products and their versions, applications, loans, their
 * instalments and their money movements. Fraud, scoring, close of business and collections keep their tables in
 * their own files (loans.<area>.tables.ts). No other module imports any of them (the boundary test checks).
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  date,
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
import type { AllocationPart, ArrearsBucket, ProductTerms } from './loans.terms.ts';

export const loanProducts = pgTable(
  'loan_products',
  {
    id: uuid('id').primaryKey(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    currency: text('currency').notNull(),
    status: text('status', { enum: ['active', 'retired'] }).notNull(),
    /** The version new applications get. */
    currentVersion: integer('current_version').notNull(),
    ...timestamps,
  },
  (table) => [uniqueIndex('loan_products_code_key').on(table.code)],
);

export const loanProductVersions = pgTable(
  'loan_product_versions',
  {
    productId: uuid('product_id').notNull(),
    version: integer('version').notNull(),
    terms: jsonb('terms').$type<ProductTerms>().notNull(),
    createdById: text('created_by_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.productId, table.version] })],
);

export const APPLICATION_STATES = [
  /** Received; fraud check and scoring run next. */
  'submitted',
  /** Fraud score at or above the product's threshold: waits for an investigation. */
  'flagged',
  /** Scored; the policy said refer (or approve above the auto-approval limit): waits for a loan officer. */
  'referred',
  'approved',
  'declined',
  'withdrawn',
] as const;
export type ApplicationState = (typeof APPLICATION_STATES)[number];

export const loanApplications = pgTable(
  'loan_applications',
  {
    id: uuid('id').primaryKey(),
    /** Human reference, e.g. LA-4821937710. */
    number: text('number').notNull(),
    customerId: uuid('customer_id').notNull(),
    productId: uuid('product_id').notNull(),
    productVersion: integer('product_version').notNull(),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    /** Number of instalments. */
    term: integer('term').notNull(),
    purpose: text('purpose').notNull(),
    declaredMonthlyIncomeMinor: bigint('declared_monthly_income_minor', { mode: 'bigint' }).notNull(),
    status: text('status', { enum: APPLICATION_STATES }).notNull(),
    channel: text('channel').notNull(),
    /** The device the customer applied from (X-Device-Id), for the fraud rules. */
    deviceId: text('device_id'),
    /** Document ids (documents module) attached to the application. */
    documentIds: jsonb('document_ids').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    fraudScore: integer('fraud_score'),
    /** The latest scoring result (loan_scoring_results.id) and what it decided. */
    scoringResultId: uuid('scoring_result_id'),
    decision: text('decision', { enum: ['approve', 'refer', 'decline'] }),
    recommendedLimitMinor: bigint('recommended_limit_minor', { mode: 'bigint' }),
    /** Adverse-action reasons shown to the customer when declined: [{code, message}]. */
    declineReasons: jsonb('decline_reasons').$type<{ code: string; message: string }[]>(),
    submittedByType: text('submitted_by_type', { enum: ['customer', 'user'] }).notNull(),
    submittedById: text('submitted_by_id').notNull(),
    decidedById: text('decided_by_id'),
    decidedAt: timestamp('decided_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('loan_applications_number_key').on(table.number),
    index('loan_applications_customer_idx').on(table.customerId, table.id),
    index('loan_applications_status_idx').on(table.status, table.id),
    index('loan_applications_device_idx').on(table.deviceId, table.createdAt),
  ],
);

export const LOAN_STATES = [
  /** Terms fixed and schedule generated; not yet disbursed. */
  'approved',
  /** Disbursed and repaying (in arrears or not: see arrears_bucket). */
  'active',
  /** Everything repaid. */
  'closed',
  'written_off',
  /** Approved but never disbursed (cancelled by staff). */
  'cancelled',
] as const;
export type LoanState = (typeof LOAN_STATES)[number];

export const loans = pgTable(
  'loans',
  {
    id: uuid('id').primaryKey(),
    /** Human reference, e.g. LN-5520193847. */
    number: text('number').notNull(),
    applicationId: uuid('application_id').notNull(),
    customerId: uuid('customer_id').notNull(),
    productId: uuid('product_id').notNull(),
    productVersion: integer('product_version').notNull(),
    /** The terms approved (a copy of the product version's; never changes after approval except by reschedule). */
    terms: jsonb('terms').$type<ProductTerms>().notNull(),
    currency: text('currency').notNull(),
    principalMinor: bigint('principal_minor', { mode: 'bigint' }).notNull(),
    term: integer('term').notNull(),
    status: text('status', { enum: LOAN_STATES }).notNull(),
    arrearsBucket: text('arrears_bucket').$type<ArrearsBucket>().notNull().default('current'),
    daysPastDue: integer('days_past_due').notNull().default(0),
    /** The customer's wallet the loan is disbursed to and collected from. */
    walletId: uuid('wallet_id').notNull(),
    /**
     * The loan's own ledger accounts (assets): principal outstanding, interest receivable, fees receivable,
     * penalties receivable. Their balances are the loan's outstanding amounts; the product-level income and fund
     * accounts are house accounts keyed by product and currency.
     */
    principalAccountId: uuid('principal_account_id'),
    interestAccountId: uuid('interest_account_id'),
    feeAccountId: uuid('fee_account_id'),
    penaltyAccountId: uuid('penalty_account_id'),
    /** Money paid beyond what was due, held against future instalments (overpayment policy future_instalments). */
    prepaidMinor: bigint('prepaid_minor', { mode: 'bigint' }).notNull().default(sql`0`),
    approvedById: text('approved_by_id'),
    approvedAt: timestamp('approved_at', { withTimezone: true, mode: 'date' }),
    disbursedAt: timestamp('disbursed_at', { withTimezone: true, mode: 'date' }),
    /** The business date of disbursement: the schedule counts from it. */
    disbursedOn: date('disbursed_on', { mode: 'string' }),
    /** The last business date close of business processed for this loan (its runs are idempotent per date). */
    lastCobDate: date('last_cob_date', { mode: 'string' }),
    /** Daily-accrual products: interest accrued through this date (inclusive). */
    accruedThrough: date('accrued_through', { mode: 'string' }),
    closedAt: timestamp('closed_at', { withTimezone: true, mode: 'date' }),
    writtenOffAt: timestamp('written_off_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('loans_number_key').on(table.number),
    uniqueIndex('loans_application_key').on(table.applicationId),
    index('loans_customer_idx').on(table.customerId, table.id),
    index('loans_status_idx').on(table.status, table.id),
    index('loans_cob_idx').on(table.lastCobDate, table.id).where(sql`${table.status} = 'active'`),
  ],
);

export const INSTALMENT_STATES = ['pending', 'partially_paid', 'paid', 'overdue'] as const;
export type InstalmentState = (typeof INSTALMENT_STATES)[number];

export const loanInstalments = pgTable(
  'loan_instalments',
  {
    loanId: uuid('loan_id').notNull(),
    /** 1-based. */
    seq: integer('seq').notNull(),
    dueDate: date('due_date', { mode: 'string' }).notNull(),
    principalDue: bigint('principal_due', { mode: 'bigint' }).notNull(),
    interestDue: bigint('interest_due', { mode: 'bigint' }).notNull(),
    feeDue: bigint('fee_due', { mode: 'bigint' }).notNull().default(sql`0`),
    penaltyDue: bigint('penalty_due', { mode: 'bigint' }).notNull().default(sql`0`),
    principalPaid: bigint('principal_paid', { mode: 'bigint' }).notNull().default(sql`0`),
    interestPaid: bigint('interest_paid', { mode: 'bigint' }).notNull().default(sql`0`),
    feePaid: bigint('fee_paid', { mode: 'bigint' }).notNull().default(sql`0`),
    penaltyPaid: bigint('penalty_paid', { mode: 'bigint' }).notNull().default(sql`0`),
    /**
     * Interest recognised so far (posted to the loan's interest receivable account): the whole interest_due on the
     * due date for per-period products, day by day for daily products. Interest paid beyond it goes to income.
     */
    interestAccrued: bigint('interest_accrued', { mode: 'bigint' }).notNull().default(sql`0`),
    status: text('status', { enum: INSTALMENT_STATES }).notNull(),
    /** When the late penalty was applied (once per instalment). */
    penaltyAppliedOn: date('penalty_applied_on', { mode: 'string' }),
    paidAt: timestamp('paid_at', { withTimezone: true, mode: 'date' }),
  },
  (table) => [
    primaryKey({ columns: [table.loanId, table.seq] }),
    index('loan_instalments_due_idx').on(table.dueDate).where(sql`${table.status} <> 'paid'`),
  ],
);

export const LOAN_TRANSACTION_TYPES = [
  'disbursement',
  'repayment',
  'auto_collection',
  'interest_accrual',
  'penalty',
  'fee',
  'write_off',
  'recovery',
  'overpayment_refund',
] as const;
export type LoanTransactionType = (typeof LOAN_TRANSACTION_TYPES)[number];

export const loanTransactions = pgTable(
  'loan_transactions',
  {
    id: uuid('id').primaryKey(),
    loanId: uuid('loan_id').notNull(),
    type: text('type', { enum: LOAN_TRANSACTION_TYPES }).notNull(),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    /** How a payment was split: {penalty, fee, interest, principal, overpayment} in minor units (decimal strings). */
    allocation: jsonb('allocation').$type<Partial<Record<AllocationPart | 'overpayment', string>>>(),
    /** wallet, cash, bank (repayments); null otherwise. */
    source: text('source'),
    externalReference: text('external_reference'),
    ledgerBatchId: uuid('ledger_batch_id'),
    /** Makes the movement happen at most once (idempotency key, auto-collection key, COB key). */
    dedupeKey: text('dedupe_key').notNull(),
    businessDate: date('business_date', { mode: 'string' }).notNull(),
    actorType: text('actor_type', { enum: ['customer', 'user', 'agent_operator', 'system'] }).notNull(),
    actorId: text('actor_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('loan_transactions_dedupe_key').on(table.dedupeKey),
    index('loan_transactions_loan_idx').on(table.loanId, table.createdAt),
  ],
);

/** Non-working days: a due date falling on one (or on a weekend) moves to the next working day. */
export const loanHolidays = pgTable('loan_holidays', {
  date: date('date', { mode: 'string' }).primaryKey(),
  name: text('name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** The most a role may approve per currency (manual approval); a role without a row may not approve in it. */
export const loanApprovalLimits = pgTable(
  'loan_approval_limits',
  {
    roleCode: text('role_code').notNull(),
    currency: text('currency').notNull(),
    maxAmountMinor: bigint('max_amount_minor', { mode: 'bigint' }).notNull(),
    updatedById: text('updated_by_id'),
    ...timestamps,
  },
  (table) => [primaryKey({ columns: [table.roleCode, table.currency] })],
);
