/** Schemas of the scoring routes (`/api/v1/loan/scoring/...`): staff only; customers never see scores. */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import { MoneyOut } from '../../platform/money.ts';
import { FACTOR_NAMES } from './loans.scoring.scorecard.ts';
import { BUREAU_STATUSES } from './loans.scoring.tables.ts';

const NullableString = Type.Union([Type.String(), Type.Null()]);

export const ScoreApplicationBody = Type.Object({
  application_id: Type.String({
    format: 'uuid',
    description: 'A submitted, flagged or referred application',
  }),
});

export const ScoringResultParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const ScoringResultQuery = Type.Intersect([
  PageQuery,
  Type.Object({ application_id: Type.Optional(Type.String({ format: 'uuid' })) }),
]);

const Reason = Type.Object({
  code: Type.String({ description: 'Reason code, e.g. WALLET_TENURE_SHORT, BUREAU_DELINQUENT' }),
  message: Type.String({ description: 'Worded for the applicant (adverse-action reason when declined)' }),
  adverse: Type.Boolean({ description: 'Counts against the applicant' }),
});

const Factor = Type.Object({
  factor: Type.Enum(FACTOR_NAMES),
  value: Type.String({ description: 'The fact scored, e.g. "412 days", "2 of 3 months"' }),
  points: Type.Integer(),
  max_points: Type.Integer(),
  reason_code: Type.String(),
  reason: Type.String(),
  adverse: Type.Boolean(),
});

export const ScoringResultView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  application_id: Type.String({ format: 'uuid' }),
  customer_id: Type.String({ format: 'uuid' }),
  internal_score: Type.Integer({ description: 'The internal scorecard’s total (0–internal_max_score)' }),
  internal_max_score: Type.Integer(),
  factors: Type.Array(Factor),
  bureau: Type.Object({
    status: Type.Enum(BUREAU_STATUSES, {
      description:
        '`not_configured`: no bureau (internal score alone); `no_identity`: no ID document the bureau takes; ' +
        '`error`: the bureau answered has_error; `timeout` / `unavailable`: no answer (never approves)',
    }),
    score: Type.Union([Type.Integer(), Type.Null()]),
    delinquency_code: NullableString,
    delinquency_summary: NullableString,
    error: NullableString,
  }),
  final_score: Type.Integer({ description: 'The score the decision was taken on (0–100)' }),
  decision: Type.Enum(['approve', 'refer', 'decline']),
  recommended_limit_minor: MoneyOut,
  currency: Type.String(),
  reasons: Type.Array(Reason),
  scored_by: Type.Object({ type: Type.String(), id: NullableString }),
  created_at: Type.String({ format: 'date-time' }),
});

export const ScoringResultPage = pageOf(ScoringResultView);
