/**
 * The risk area's staff routes (`/api/v1/aml/risk/...`): a customer's current rating with its factors, its history,
 * and a recompute on request. `aml:*` permissions only: nothing here reaches customers or agent operators.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf } from '../../platform/http.ts';
import { CustomerParams, HistoryPage, HistoryQuery, RatingView } from './aml.risk.schemas.ts';
import { type RiskService, ratingView } from './aml.risk.ts';

const TAGS = ['aml'];

export function riskRoutes(risk: RiskService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/aml/risk/:customerId',
      {
        config: { access: { permission: 'aml:read' } },
        schema: {
          operationId: 'getAmlRiskRating',
          tags: TAGS,
          summary: 'A customer’s current AML risk rating with its factors',
          description:
            'Score 0..100 (the weighted mean of the factors: `aml.risk_weights`), band by `aml.risk_bands` (a PEP is ' +
            'high when `aml.pep_always_high`). A customer never rated is rated now. 404 for no such customer. ' +
            '`limits` shows whether the customer’s limits are reduced, to what percent and by whom.',
          params: CustomerParams,
          response: { 200: RatingView },
        },
      },
      async (request) => {
        const { customerId } = request.params;
        const rating = await risk.current(customerId, contextOf(request));
        return ratingView(rating, await risk.limitScale(customerId));
      },
    );

    app.get(
      '/api/v1/aml/risk/:customerId/history',
      {
        config: { access: { permission: 'aml:read' } },
        schema: {
          operationId: 'listAmlRiskHistory',
          tags: TAGS,
          summary: 'A customer’s AML risk ratings over time, newest first',
          params: CustomerParams,
          querystring: HistoryQuery,
          response: { 200: HistoryPage },
        },
      },
      async (request) => risk.history(request.params.customerId, request.query),
    );

    app.post(
      '/api/v1/aml/risk/:customerId/recompute',
      {
        config: { access: { permission: 'aml:decide' } },
        schema: {
          operationId: 'recomputeAmlRiskRating',
          tags: TAGS,
          summary: 'Recompute a customer’s AML risk rating now',
          description:
            'Reads the factors afresh, stores the rating and its history. Becoming high raises a `risk_high` alert ' +
            '(enhanced due diligence) once; staying high raises none. While high, the customer’s limits are scaled to ' +
            '`aml.high_risk_limit_percent`; leaving high lifts that scale (not a staff restriction).',
          params: CustomerParams,
          response: { 200: RatingView },
        },
      },
      async (request) => {
        const { customerId } = request.params;
        const rating = await risk.recompute(customerId, 'staff', contextOf(request));
        return ratingView(rating, await risk.limitScale(customerId));
      },
    );
  };
}
