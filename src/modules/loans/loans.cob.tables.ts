/**
 * Close of business and collections tables (migration 0033): one run per business date with its progress, the
 * reminders already sent (one per loan, instalment and kind, so a rerun sends none twice), collection cases (one open
 * per loan) with their notes, and promises to pay.
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
import type { ArrearsBucket } from './loans.terms.ts';

export const COB_RUN_STATES = ['running', 'completed', 'failed'] as const;
export type CobRunState = (typeof COB_RUN_STATES)[number];

export interface CobFailure {
  loan_id: string;
  error: string;
}

export const loanCobRuns = pgTable(
  'loan_cob_runs',
  {
    id: uuid('id').primaryKey(),
    businessDate: date('business_date', { mode: 'string' }).notNull(),
    status: text('status', { enum: COB_RUN_STATES }).notNull(),
    loansProcessed: integer('loans_processed').notNull().default(0),
    loansFailed: integer('loans_failed').notNull().default(0),
    batches: integer('batches').notNull().default(0),
    /** The first failures of the run (loan and message), at most 50. */
    failures: jsonb('failures').$type<CobFailure[]>().notNull().default(sql`'[]'::jsonb`),
    error: text('error'),
    triggeredByType: text('triggered_by_type').notNull(),
    triggeredById: text('triggered_by_id'),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex('loan_cob_runs_business_date_key').on(table.businessDate)],
);

export const REMINDER_KINDS = ['before_3', 'due', 'after_1', 'after_7'] as const;
export type ReminderKind = (typeof REMINDER_KINDS)[number];

export const loanRemindersSent = pgTable(
  'loan_reminders_sent',
  {
    loanId: uuid('loan_id').notNull(),
    seq: integer('seq').notNull(),
    kind: text('kind', { enum: REMINDER_KINDS }).notNull(),
    date: date('date', { mode: 'string' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.loanId, table.seq, table.kind] })],
);

export const CASE_STATES = ['open', 'closed'] as const;
export type CaseState = (typeof CASE_STATES)[number];

export const loanCollectionCases = pgTable(
  'loan_collection_cases',
  {
    id: uuid('id').primaryKey(),
    /** Human reference, e.g. LC-4821937710. */
    number: text('number').notNull(),
    loanId: uuid('loan_id').notNull(),
    customerId: uuid('customer_id').notNull(),
    status: text('status', { enum: CASE_STATES }).notNull(),
    assigneeId: text('assignee_id'),
    openedOn: date('opened_on', { mode: 'string' }).notNull(),
    /** The loan's arrears as of the last close of business. */
    daysPastDue: integer('days_past_due').notNull().default(0),
    arrearsBucket: text('arrears_bucket').$type<ArrearsBucket>().notNull().default('current'),
    closedOn: date('closed_on', { mode: 'string' }),
    /** cured (back to current), repaid, written_off, or staff's reason. */
    closeReason: text('close_reason'),
    closedById: text('closed_by_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('loan_collection_cases_number_key').on(table.number),
    uniqueIndex('loan_collection_cases_open_key').on(table.loanId).where(sql`${table.status} = 'open'`),
    index('loan_collection_cases_status_idx').on(table.status, table.id),
    index('loan_collection_cases_assignee_idx').on(table.assigneeId, table.id),
  ],
);

export const loanCollectionNotes = pgTable(
  'loan_collection_notes',
  {
    id: uuid('id').primaryKey(),
    caseId: uuid('case_id').notNull(),
    text: text('text').notNull(),
    authorId: text('author_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [index('loan_collection_notes_case_idx').on(table.caseId, table.id)],
);

export const PROMISE_STATES = ['pending', 'kept', 'broken', 'cancelled'] as const;
export type PromiseState = (typeof PROMISE_STATES)[number];

export const loanPromisesToPay = pgTable(
  'loan_promises_to_pay',
  {
    id: uuid('id').primaryKey(),
    caseId: uuid('case_id').notNull(),
    loanId: uuid('loan_id').notNull(),
    promisedOn: date('promised_on', { mode: 'string' }).notNull(),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    /** The business date the promise was made: repayments from then count towards it. */
    madeOn: date('made_on', { mode: 'string' }).notNull(),
    status: text('status', { enum: PROMISE_STATES }).notNull(),
    /** Repaid towards the promise as of the last close of business. */
    paidMinor: bigint('paid_minor', { mode: 'bigint' }).notNull().default(sql`0`),
    settledOn: date('settled_on', { mode: 'string' }),
    /** When the customer was reminded (the day before the promised date). */
    remindedOn: date('reminded_on', { mode: 'string' }),
    createdById: text('created_by_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    index('loan_promises_to_pay_case_idx').on(table.caseId, table.id),
    index('loan_promises_to_pay_pending_idx').on(table.loanId).where(sql`${table.status} = 'pending'`),
  ],
);

/**
 * Daily-interest products: what each instalment has earned day by day. Its interest_accrued is max(earned, paid),
 * so interest a repayment paid (and recognised) before it was earned is not recognised again when the days earn it.
 */
export const loanInterestEarned = pgTable(
  'loan_interest_earned',
  {
    loanId: uuid('loan_id').notNull(),
    seq: integer('seq').notNull(),
    earnedMinor: bigint('earned_minor', { mode: 'bigint' }).notNull().default(sql`0`),
  },
  (table) => [primaryKey({ columns: [table.loanId, table.seq] })],
);
