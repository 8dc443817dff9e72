/**
 * Scoring results (migration 0032): one row per scoring of an application, append-only. The application points at
 * its latest one (loan_applications.scoring_result_id).
 */
import { bigint, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { BureauStatus, ScoringDecision } from './loans.scoring.policy.ts';
import type { ScorecardFactor, ScoringReason } from './loans.scoring.scorecard.ts';

export const BUREAU_STATUSES = [
  'not_configured',
  'no_identity',
  'ok',
  'error',
  'timeout',
  'unavailable',
] as const;

export const loanScoringResults = pgTable(
  'loan_scoring_results',
  {
    id: uuid('id').primaryKey(),
    applicationId: uuid('application_id').notNull(),
    customerId: uuid('customer_id').notNull(),
    /** The internal scorecard's total and its maximum. */
    internalScore: integer('internal_score').notNull(),
    internalMaxScore: integer('internal_max_score').notNull(),
    /** Each factor with its value, points, reason code and whether it counts against the applicant. */
    factors: jsonb('factors').$type<ScorecardFactor[]>().notNull(),
    bureauStatus: text('bureau_status').$type<BureauStatus>().notNull(),
    bureauScore: integer('bureau_score'),
    bureauDelinquencyCode: text('bureau_delinquency_code'),
    bureauDelinquencySummary: text('bureau_delinquency_summary'),
    /** Why the bureau gave no answer: its api_code and description, or the timeout / network failure. */
    bureauError: text('bureau_error'),
    /** The score the decision was taken on (combined with the bureau's when there is one). */
    finalScore: integer('final_score').notNull(),
    decision: text('decision').$type<ScoringDecision>().notNull(),
    recommendedLimitMinor: bigint('recommended_limit_minor', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    reasons: jsonb('reasons').$type<ScoringReason[]>().notNull(),
    scoredByType: text('scored_by_type', {
      enum: ['user', 'customer', 'agent_operator', 'system', 'anonymous'],
    }).notNull(),
    scoredById: text('scored_by_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (table) => [index('loan_scoring_results_application_idx').on(table.applicationId, table.createdAt)],
);
