/** HTTP routes of loan scoring: run and store a scoring, read the results. Staff with loan:score / loan:read only. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf } from '../../platform/http.ts';
import {
  ScoreApplicationBody,
  ScoringResultPage,
  ScoringResultParams,
  ScoringResultQuery,
  ScoringResultView,
} from './loans.scoring.schemas.ts';
import type { ScoringService } from './loans.scoring.ts';

export function scoringRoutes(scoring: ScoringService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/loan/scoring/loan',
      {
        config: {
          access: { permission: 'loan:score' },
          errors: ['NOT_FOUND', 'LOAN_SCORING_NOT_ALLOWED'],
        },
        schema: {
          operationId: 'scoreLoanApplication',
          tags: ['loans'],
          summary: 'Score an application (internal scorecard + credit bureau) and store the result',
          description:
            'Runs the internal scorecard (wallet tenure, average balance over 90 days, inflow regularity, past ' +
            'loan performance, KYC tier: points and a reason code per factor), asks the credit bureau (Metropol) ' +
            'when one is configured, and combines them into approve, refer or decline with a recommended limit. ' +
            'A bureau listing declines; a bureau that errs or times out refers (never approves); without a ' +
            'bureau the internal score decides alone and the reasons say so. Every run is stored and the ' +
            'application points at the latest. It does not change the application’s status.',
          body: ScoreApplicationBody,
          response: { 200: ScoringResultView },
        },
      },
      async (request) => scoring.run(request.body.application_id, contextOf(request)),
    );

    app.get(
      '/api/v1/loan/scoring/result/list',
      {
        config: { access: { permission: 'loan:read' } },
        schema: {
          operationId: 'listLoanScoringResults',
          tags: ['loans'],
          summary: 'Scoring results, newest first (of one application when given)',
          querystring: ScoringResultQuery,
          response: { 200: ScoringResultPage },
        },
      },
      async (request) => scoring.list(request.query),
    );

    app.get(
      '/api/v1/loan/scoring/result/:id',
      {
        config: { access: { permission: 'loan:read' }, errors: ['NOT_FOUND'] },
        schema: {
          operationId: 'getLoanScoringResult',
          tags: ['loans'],
          summary: 'One scoring result with its factors, bureau answer and reasons',
          params: ScoringResultParams,
          response: { 200: ScoringResultView },
        },
      },
      async (request) => scoring.get(request.params.id),
    );
  };
}
