/**
 * The loans module's fraud tables (migration 0031): the configurable rules, every check with the applicant's
 * identifiers and each rule's evidence, the flags an application above its product's threshold gets, the
 * investigation cases and notes on them, and the deny lists a confirmed case can feed.
 */
import { sql } from 'drizzle-orm';
import {
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

export const FRAUD_RULE_CODES = [
  'duplicate_application',
  'velocity',
  'phone_owner',
  'income_verification',
  'known_patterns',
] as const;
export type FraudRuleCode = (typeof FRAUD_RULE_CODES)[number];

export const loanFraudRules = pgTable('loan_fraud_rules', {
  code: text('code').$type<FraudRuleCode>().primaryKey(),
  description: text('description').notNull(),
  enabled: boolean('enabled').notNull().default(true),
  /** Added to the check's score when the rule trips. */
  weight: integer('weight').notNull(),
  /** The rule's parameters (windows, counts, ratios); money as decimal strings of minor units. */
  params: jsonb('params').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
  updatedById: text('updated_by_id'),
  ...timestamps,
});

export const loanFraudChecks = pgTable(
  'loan_fraud_checks',
  {
    id: uuid('id').primaryKey(),
    applicationId: uuid('application_id').notNull(),
    customerId: uuid('customer_id').notNull(),
    score: integer('score').notNull(),
    threshold: integer('threshold').notNull(),
    flagged: boolean('flagged').notNull(),
    flagId: uuid('flag_id'),
    /** The applicant's identifiers when checked (blind index of the national ID, primary phone, device). */
    nationalIdIndex: text('national_id_index'),
    phone: text('phone'),
    deviceId: text('device_id'),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [
    index('loan_fraud_checks_application_idx').on(table.applicationId, table.createdAt),
    index('loan_fraud_checks_national_id_idx')
      .on(table.nationalIdIndex)
      .where(sql`${table.nationalIdIndex} IS NOT NULL`),
    index('loan_fraud_checks_phone_idx')
      .on(table.phone, table.createdAt)
      .where(sql`${table.phone} IS NOT NULL`),
  ],
);

export const loanFraudResults = pgTable(
  'loan_fraud_results',
  {
    checkId: uuid('check_id').notNull(),
    ruleCode: text('rule_code').$type<FraudRuleCode>().notNull(),
    tripped: boolean('tripped').notNull(),
    weight: integer('weight').notNull(),
    /** The weight when tripped, else 0. */
    score: integer('score').notNull(),
    evidence: jsonb('evidence').$type<Record<string, unknown>>().notNull(),
  },
  (table) => [primaryKey({ columns: [table.checkId, table.ruleCode] })],
);

export const FLAG_STATES = ['open', 'investigating', 'cleared', 'confirmed'] as const;
export type FlagState = (typeof FLAG_STATES)[number];

export const loanFraudFlags = pgTable(
  'loan_fraud_flags',
  {
    id: uuid('id').primaryKey(),
    applicationId: uuid('application_id').notNull(),
    /** The check that opened the flag. */
    checkId: uuid('check_id').notNull(),
    score: integer('score').notNull(),
    threshold: integer('threshold').notNull(),
    status: text('status', { enum: FLAG_STATES }).notNull(),
    decisionReason: text('decision_reason'),
    decidedById: text('decided_by_id'),
    decidedAt: timestamp('decided_at', { withTimezone: true, mode: 'date' }),
    ...timestamps,
  },
  (table) => [
    uniqueIndex('loan_fraud_flags_open_key')
      .on(table.applicationId)
      .where(sql`${table.status} in ('open', 'investigating')`),
    index('loan_fraud_flags_status_idx').on(table.status, table.id),
  ],
);

/** The investigation of a flag: one per flag, with the staff member working it. */
export const loanFraudCases = pgTable(
  'loan_fraud_cases',
  {
    id: uuid('id').primaryKey(),
    flagId: uuid('flag_id').notNull(),
    assigneeId: text('assignee_id').notNull(),
    openedById: text('opened_by_id').notNull(),
    ...timestamps,
  },
  (table) => [uniqueIndex('loan_fraud_cases_flag_key').on(table.flagId)],
);

export const loanFraudNotes = pgTable(
  'loan_fraud_notes',
  {
    id: uuid('id').primaryKey(),
    flagId: uuid('flag_id').notNull(),
    authorType: text('author_type').notNull(),
    authorId: text('author_id'),
    note: text('note').notNull(),
    evidence: jsonb('evidence').$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [index('loan_fraud_notes_flag_idx').on(table.flagId, table.createdAt)],
);

export const DENY_KINDS = ['national_id_index', 'phone', 'device'] as const;
export type DenyKind = (typeof DENY_KINDS)[number];

export const loanDenyList = pgTable(
  'loan_deny_list',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind', { enum: DENY_KINDS }).notNull(),
    /** The national ID's blind index, an E.164 phone, or a device id. */
    value: text('value').notNull(),
    reason: text('reason').notNull(),
    /** The investigation case that confirmed the fraud, when added by one. */
    caseId: uuid('case_id'),
    addedById: text('added_by_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex('loan_deny_list_value_key').on(table.kind, table.value)],
);
