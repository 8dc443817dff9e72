/**
 * The AML module's tables: no other module imports them (the boundary test checks).
 *
 * - Real-time: `aml_rules` (rules as data, versioned; test mode logs only), `aml_decisions` (one per screened payment,
 *   with the rules that fired), `aml_payment_facts` (AML's own copy of each payment's parties and amounts, fed by the
 *   transaction events: what scenarios and rebuilds of the Redis aggregates read).
 * - Screening: `aml_lists` (one row per loaded version of a published list), `aml_list_entries` (its entries),
 *   `aml_screenings` (each subject screened, with its matches and scores).
 * - Risk: `aml_risk_ratings` (a customer's current score, band and factors) and their history.
 * - Alerts and cases: `aml_alerts` (from rules, scenarios, screening, SLA), `aml_cases` (grouped per customer and
 *   pattern), `aml_case_events` (the audit trail: every action, note, attachment and decision), `aml_reports` (goAML
 *   STR and CTR XML).
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  char,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

// ---------------------------------------------------------------------------------------------------------------
// Real-time rules and decisions
// ---------------------------------------------------------------------------------------------------------------

/** `realtime`: decided before posting. `scenario`: runs after posting on the transaction events. */
export const RULE_KINDS = ['realtime', 'scenario'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** `active` acts; `test` only records what it would have done; `disabled` is skipped. */
export const RULE_MODES = ['active', 'test', 'disabled'] as const;
export type RuleMode = (typeof RULE_MODES)[number];

/** What a rule that fires asks for. The strongest of the active rules that fired wins: block > review > alert. */
export const RULE_ACTIONS = ['block', 'review', 'alert'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];

export const DECISION_OUTCOMES = ['allow', 'review', 'block'] as const;
export type DecisionOutcome = (typeof DECISION_OUTCOMES)[number];

export const ALERT_PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;
export type AlertPriority = (typeof ALERT_PRIORITIES)[number];

/**
 * A rule's versions: editing a rule adds a version (the old one gets `superseded_at`); decisions and alerts name the
 * version that fired. `definition` is the rule as data (aml.rules.ts: conditions on the payment and the customer, and
 * aggregates over sliding windows); `params` its thresholds.
 */
export const amlRules = pgTable(
  'aml_rules',
  {
    id: uuid('id').primaryKey(),
    code: text('code').notNull(),
    version: integer('version').notNull(),
    kind: text('kind', { enum: RULE_KINDS }).notNull(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    mode: text('mode', { enum: RULE_MODES }).notNull(),
    action: text('action', { enum: RULE_ACTIONS }).notNull(),
    priority: text('priority', { enum: ALERT_PRIORITIES }).notNull(),
    definition: jsonb('definition').$type<Record<string, unknown>>().notNull(),
    createdBy: uuid('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    supersededAt: timestamp('superseded_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('aml_rules_code_version').on(table.code, table.version),
    uniqueIndex('aml_rules_current').on(table.code).where(sql`superseded_at is null`),
  ],
);

export interface FiredRule {
  code: string;
  version: number;
  mode: RuleMode;
  action: RuleAction;
  /** What the rule saw (the aggregate's value, the amount …): evidence for the analyst. */
  detail?: Record<string, unknown>;
}

/** One per payment the real-time rules decided on (allow too: the record of what was checked). */
export const amlDecisions = pgTable(
  'aml_decisions',
  {
    id: uuid('id').primaryKey(),
    /** The transaction's id (the engine's, known before posting). */
    transactionId: uuid('transaction_id').notNull(),
    reference: text('reference').notNull(),
    customerId: uuid('customer_id'),
    type: text('type').notNull(),
    channel: text('channel').notNull(),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    outcome: text('outcome', { enum: DECISION_OUTCOMES }).notNull(),
    fired: jsonb('fired').$type<FiredRule[]>().notNull().default([]),
    /** For `review`: released, rejected or expired, and by whom. */
    resolution: text('resolution', { enum: ['released', 'rejected', 'expired'] }),
    resolvedBy: uuid('resolved_by'),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    /** When the review must be resolved by (the SLA). */
    reviewDueAt: timestamp('review_due_at', { withTimezone: true }),
    /** How long the decision took, microseconds (the bench reads its distribution too). */
    durationUs: integer('duration_us').notNull().default(0),
    /** Decided without the aggregates (Redis unavailable): the degraded policy applied (migration 0048). */
    aggregatesUnavailable: boolean('aggregates_unavailable').notNull().default(false),
    /** When the review SLA alert was raised for a held payment past `review_due_at` (once). */
    slaAlertedAt: timestamp('sla_alerted_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('aml_decisions_transaction').on(table.transactionId),
    index('aml_decisions_review').on(table.reviewDueAt).where(sql`outcome = 'review' and resolution is null`),
    index('aml_decisions_customer').on(table.customerId, table.createdAt),
  ],
);

/**
 * AML's own record of every completed payment (fed by `transaction.completed`, idempotent by transaction id): the
 * post-posting scenarios query it, and the Redis aggregates are rebuilt from it. Parties are ids only.
 */
export const amlPaymentFacts = pgTable(
  'aml_payment_facts',
  {
    transactionId: uuid('transaction_id').primaryKey(),
    type: text('type').notNull(),
    channel: text('channel'),
    customerId: uuid('customer_id'),
    counterpartyCustomerId: uuid('counterparty_customer_id'),
    sourceWalletId: uuid('source_wallet_id'),
    destinationWalletId: uuid('destination_wallet_id'),
    merchantId: uuid('merchant_id'),
    agentId: uuid('agent_id'),
    storeId: uuid('store_id'),
    deviceId: text('device_id'),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    index('aml_payment_facts_customer').on(table.customerId, table.occurredAt),
    index('aml_payment_facts_counterparty').on(table.counterpartyCustomerId, table.occurredAt),
    index('aml_payment_facts_agent').on(table.agentId, table.occurredAt),
  ],
);

// ---------------------------------------------------------------------------------------------------------------
// Screening
// ---------------------------------------------------------------------------------------------------------------

export const LIST_SOURCES = ['un', 'ofac', 'opensanctions'] as const;
export type ListSource = (typeof LIST_SOURCES)[number];

/** One loaded version of a published list. A new version of a source replaces the previous one for matching. */
export const amlLists = pgTable(
  'aml_lists',
  {
    id: uuid('id').primaryKey(),
    source: text('source', { enum: LIST_SOURCES }).notNull(),
    version: integer('version').notNull(),
    /** The file or URL it was loaded from. */
    origin: text('origin').notNull(),
    /** SHA-256 of the file: loading the same file again adds no version. */
    checksum: text('checksum').notNull(),
    entryCount: integer('entry_count').notNull(),
    added: integer('added').notNull().default(0),
    removed: integer('removed').notNull().default(0),
    changed: integer('changed').notNull().default(0),
    loadedAt: timestamp('loaded_at', { withTimezone: true }).notNull().defaultNow(),
    loadedBy: uuid('loaded_by'),
  },
  (table) => [uniqueIndex('aml_lists_source_version').on(table.source, table.version)],
);

export const ENTRY_KINDS = ['person', 'organization', 'vessel', 'other'] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

export const amlListEntries = pgTable(
  'aml_list_entries',
  {
    id: uuid('id').primaryKey(),
    listId: uuid('list_id').notNull(),
    source: text('source', { enum: LIST_SOURCES }).notNull(),
    /** The list's own id (UN reference number, OFAC ent_num, OpenSanctions id): stable across versions. */
    externalId: text('external_id').notNull(),
    kind: text('kind', { enum: ENTRY_KINDS }).notNull(),
    name: text('name').notNull(),
    aliases: jsonb('aliases').$type<string[]>().notNull().default([]),
    /** ISO dates or years as the list gives them. */
    birthDates: jsonb('birth_dates').$type<string[]>().notNull().default([]),
    /** ISO 3166 alpha-2, upper case. */
    nationalities: jsonb('nationalities').$type<string[]>().notNull().default([]),
    programs: jsonb('programs').$type<string[]>().notNull().default([]),
    /** Politically exposed person (OpenSanctions `role.pep` topic), not a sanction. */
    pep: boolean('pep').notNull().default(false),
    /** A hash of the fields above: a diff between versions compares it. */
    fingerprint: text('fingerprint').notNull(),
  },
  (table) => [
    uniqueIndex('aml_list_entries_list_external').on(table.listId, table.externalId),
    index('aml_list_entries_source_external').on(table.source, table.externalId),
  ],
);

/** `manual`: a name staff screened on request (no customer or registration behind it; migration 0049). */
export const SCREENING_SUBJECTS = [
  'onboarding',
  'customer',
  'beneficiary',
  'agent',
  'agent_owner',
  'manual',
] as const;
export type ScreeningSubjectKind = (typeof SCREENING_SUBJECTS)[number];

/** `clear` below the review band; `review` in it (an alert); `hit` at or above the hit band (holds onboarding). */
export const SCREENING_OUTCOMES = ['clear', 'review', 'hit'] as const;
export type ScreeningOutcome = (typeof SCREENING_OUTCOMES)[number];

export interface ScreeningMatch {
  entry_id: string;
  source: ListSource;
  external_id: string;
  name: string;
  score: number;
  /** Which fields matched (name, alias, birth_date, nationality) and how. */
  fields: Record<string, unknown>;
  pep: boolean;
}

export const amlScreenings = pgTable(
  'aml_screenings',
  {
    id: uuid('id').primaryKey(),
    subjectKind: text('subject_kind', { enum: SCREENING_SUBJECTS }).notNull(),
    /** The customer, agent or registration screened (null for a name-only beneficiary check). */
    subjectId: uuid('subject_id'),
    name: text('name').notNull(),
    birthDate: date('birth_date', { mode: 'string' }),
    nationality: text('nationality'),
    outcome: text('outcome', { enum: SCREENING_OUTCOMES }).notNull(),
    bestScore: real('best_score').notNull().default(0),
    matches: jsonb('matches').$type<ScreeningMatch[]>().notNull().default([]),
    /** The list versions screened against: { un: 3, ofac: 1, … }. */
    listVersions: jsonb('list_versions').$type<Record<string, number>>().notNull().default({}),
    /** Why it ran: a registration, a KYC change, a list change, a large transfer's beneficiary, a staff request. */
    trigger: text('trigger').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('aml_screenings_subject').on(table.subjectKind, table.subjectId, table.createdAt)],
);

// ---------------------------------------------------------------------------------------------------------------
// Customer risk rating
// ---------------------------------------------------------------------------------------------------------------

export const RISK_BANDS = ['low', 'medium', 'high'] as const;
export type RiskBand = (typeof RISK_BANDS)[number];

export interface RiskFactor {
  factor: string;
  /** What the factor saw (tier, country, pep …). */
  value: unknown;
  /** Its contribution before the weight, 0..100. */
  score: number;
  weight: number;
}

export const amlRiskRatings = pgTable('aml_risk_ratings', {
  customerId: uuid('customer_id').primaryKey(),
  score: real('score').notNull(),
  band: text('band', { enum: RISK_BANDS }).notNull(),
  factors: jsonb('factors').$type<RiskFactor[]>().notNull(),
  pep: boolean('pep').notNull().default(false),
  /** Why it was last computed (an event name or a staff request). */
  trigger: text('trigger').notNull(),
  computedAt: timestamp('computed_at', { withTimezone: true }).notNull().defaultNow(),
});

export const amlRiskHistory = pgTable(
  'aml_risk_history',
  {
    id: uuid('id').primaryKey(),
    customerId: uuid('customer_id').notNull(),
    score: real('score').notNull(),
    band: text('band', { enum: RISK_BANDS }).notNull(),
    factors: jsonb('factors').$type<RiskFactor[]>().notNull(),
    trigger: text('trigger').notNull(),
    computedAt: timestamp('computed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('aml_risk_history_customer').on(table.customerId, table.computedAt)],
);

// ---------------------------------------------------------------------------------------------------------------
// Alerts, cases, reports
// ---------------------------------------------------------------------------------------------------------------

export const ALERT_SOURCES = ['rule', 'scenario', 'screening', 'risk', 'ctr'] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];

export interface AlertEvidence {
  transaction_ids?: string[];
  /** The fields and values that made the rule or scenario fire. */
  fields?: Record<string, unknown>;
  screening_id?: string;
}

export const amlAlerts = pgTable(
  'aml_alerts',
  {
    id: uuid('id').primaryKey(),
    customerId: uuid('customer_id'),
    /** An agent's alerts (agent typologies) name the agent too. */
    agentId: uuid('agent_id'),
    source: text('source', { enum: ALERT_SOURCES }).notNull(),
    /** The rule, scenario or screening pattern: alerts of one customer and pattern share a case. */
    pattern: text('pattern').notNull(),
    ruleVersion: integer('rule_version'),
    priority: text('priority', { enum: ALERT_PRIORITIES }).notNull(),
    evidence: jsonb('evidence').$type<AlertEvidence>().notNull(),
    caseId: uuid('case_id'),
    /** Keeps a scenario from raising the same alert twice for the same evidence. */
    dedupeKey: text('dedupe_key'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('aml_alerts_case').on(table.caseId),
    index('aml_alerts_customer').on(table.customerId, table.createdAt),
    uniqueIndex('aml_alerts_dedupe').on(table.dedupeKey),
  ],
);

/** open → assigned → investigating ⇄ escalated → closed. */
export const CASE_STATES = ['open', 'assigned', 'investigating', 'escalated', 'closed'] as const;
export type CaseState = (typeof CASE_STATES)[number];

export const CASE_DECISIONS = ['false_positive', 'monitor', 'restrict', 'file_str'] as const;
export type CaseDecision = (typeof CASE_DECISIONS)[number];

export const amlCases = pgTable(
  'aml_cases',
  {
    id: uuid('id').primaryKey(),
    /** A short reference analysts say aloud (AML-2026-000123). */
    reference: text('reference').notNull(),
    customerId: uuid('customer_id'),
    agentId: uuid('agent_id'),
    pattern: text('pattern').notNull(),
    priority: text('priority', { enum: ALERT_PRIORITIES }).notNull(),
    state: text('state', { enum: CASE_STATES }).notNull(),
    assigneeId: uuid('assignee_id'),
    snoozedUntil: timestamp('snoozed_until', { withTimezone: true }),
    decision: text('decision', { enum: CASE_DECISIONS }),
    /** The customer's risk band when the case was decided (four-eyes on a false positive above a level). */
    riskBand: text('risk_band', { enum: RISK_BANDS }),
    /** The SLA: when it must be closed by (per priority), and when a breach was raised. */
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    breachedAt: timestamp('breached_at', { withTimezone: true }),
    /** A false-positive close above the risk level waits here for a second analyst. */
    pendingCloseBy: uuid('pending_close_by'),
    closedBy: uuid('closed_by'),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('aml_cases_reference').on(table.reference),
    // Alerts for the same customer and pattern group into the one case still open.
    uniqueIndex('aml_cases_open_per_pattern')
      .on(table.customerId, table.pattern)
      .where(sql`state <> 'closed'`),
    // cases area (0050): an agent-only alert's case, one open per agent and pattern; the queue's index.
    uniqueIndex('aml_cases_open_per_agent_pattern')
      .on(table.agentId, table.pattern)
      .where(sql`state <> 'closed' and customer_id is null`),
    index('aml_cases_queue').on(table.state, table.assigneeId, table.id),
    index('aml_cases_due').on(table.dueAt).where(sql`state <> 'closed' and breached_at is null`),
  ],
);

/** The case's audit trail: created, assigned, claimed, note, attachment, snoozed, escalated, decided, closed … */
export const amlCaseEvents = pgTable(
  'aml_case_events',
  {
    id: uuid('id').primaryKey(),
    caseId: uuid('case_id').notNull(),
    actorId: uuid('actor_id'),
    action: text('action').notNull(),
    /** A note's text, the document id of an attachment, a snooze's reason and end, a decision … */
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('aml_case_events_case').on(table.caseId, table.at)],
);

export const REPORT_KINDS = ['STR', 'CTR'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export const amlReports = pgTable(
  'aml_reports',
  {
    id: uuid('id').primaryKey(),
    kind: text('kind', { enum: REPORT_KINDS }).notNull(),
    /** An STR comes from a case; a CTR from a cash transaction over the threshold. */
    caseId: uuid('case_id'),
    customerId: uuid('customer_id'),
    transactionIds: jsonb('transaction_ids').$type<string[]>().notNull(),
    /** The goAML report XML, validated against the schema kept in the repository before it is stored. */
    xml: text('xml').notNull(),
    /** For a CTR: one per transaction (idempotent on the event). */
    dedupeKey: text('dedupe_key'),
    createdBy: uuid('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('aml_reports_case').on(table.caseId),
    uniqueIndex('aml_reports_dedupe').on(table.dedupeKey),
  ],
);

// ---------------------------------------------------------------------------------------------------------------
// scenarios
// ---------------------------------------------------------------------------------------------------------------

export const DEVICE_EVENT_KINDS = ['new_device', 'sim_swap'] as const;
export type DeviceEventKind = (typeof DEVICE_EVENT_KINDS)[number];

/**
 * When a customer signed in from a device they had not used before (`auth.new_device_login`), or had their SIM
 * swapped (as the operator's CAMARA SIM Swap API reports it, aml.simswap.ts): the SIM-swap/new-device typology looks
 * back 24 h from a cash-out or large transfer. One row per source event (a redelivered event adds nothing); a SIM
 * swap has no source event and is one row per customer and swap time.
 */
export const amlDeviceEvents = pgTable(
  'aml_device_events',
  {
    id: uuid('id').primaryKey(),
    customerId: uuid('customer_id').notNull(),
    kind: text('kind', { enum: DEVICE_EVENT_KINDS }).notNull(),
    /** The device (user agent) as the event names it. */
    detail: text('detail').notNull().default(''),
    /** The event it came from; null for a SIM swap (asked of the provider). */
    sourceEventId: bigint('source_event_id', { mode: 'bigint' }),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    uniqueIndex('aml_device_events_source').on(table.sourceEventId),
    uniqueIndex('aml_device_events_sim_swap')
      .on(table.customerId, table.occurredAt)
      .where(sql`kind = 'sim_swap'`),
    index('aml_device_events_customer').on(table.customerId, table.occurredAt),
  ],
);

/**
 * Every time a scenario tripped, once per dedupe key: in `active` mode with the alert it raised, in `test` mode the
 * record of what it would have raised (nothing else happens).
 */
export const amlScenarioHits = pgTable(
  'aml_scenario_hits',
  {
    id: uuid('id').primaryKey(),
    code: text('code').notNull(),
    ruleVersion: integer('rule_version').notNull(),
    mode: text('mode', { enum: ['active', 'test'] }).notNull(),
    customerId: uuid('customer_id'),
    agentId: uuid('agent_id'),
    /** The payment whose event ran the scenario. */
    transactionId: uuid('transaction_id').notNull(),
    dedupeKey: text('dedupe_key').notNull(),
    evidence: jsonb('evidence').$type<AlertEvidence>().notNull(),
    alertId: uuid('alert_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('aml_scenario_hits_dedupe').on(table.dedupeKey),
    index('aml_scenario_hits_code').on(table.code, table.createdAt),
  ],
);
