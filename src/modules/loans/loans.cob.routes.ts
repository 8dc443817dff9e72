/** HTTP routes of close of business (`/api/v1/loan/cob/*`) and the portfolio summary. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Executor } from '../../platform/db.ts';
import { requirePrincipal } from '../../platform/http.ts';
import { today } from './loans.cob.loan.ts';
import {
  CobRunBody,
  CobRunPage,
  CobRunQuery,
  CobRunView,
  PortfolioQuery,
  PortfolioSummary,
} from './loans.cob.schemas.ts';
import type { CloseOfBusiness } from './loans.cob.ts';
import { portfolioSummary } from './loans.portfolio.ts';

export function cobRoutes(cob: CloseOfBusiness, db: Executor): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/loan/cob/runs',
      {
        config: { access: { permission: 'loan:cob' }, errors: [] },
        schema: {
          operationId: 'listLoanCobRuns',
          tags: ['loans'],
          summary: 'Close-of-business runs, latest business date first, with their progress',
          querystring: CobRunQuery,
          response: { 200: CobRunPage },
        },
      },
      async (request) => cob.runs(request.query),
    );

    app.post(
      '/api/v1/loan/cob/run',
      {
        config: { access: { permission: 'loan:cob' }, errors: ['LOAN_COB_FUTURE_DATE'] },
        schema: {
          operationId: 'runLoanCob',
          tags: ['loans'],
          summary: 'Run close of business for a business date (today or earlier) and answer with its run',
          description:
            'Closes every active loan not yet closed for the date: interest accrual (daily products) or ' +
            'recognition on the due date (per-period), overdue instalments, late penalties, arrears buckets, ' +
            'due-date reminders and collection cases. Idempotent per date: a rerun changes nothing and answers ' +
            'the same run; a run that failed for some loans retries them. A date after today answers 422 ' +
            'LOAN_COB_FUTURE_DATE. The daily job closes the previous day by itself.',
          body: CobRunBody,
          response: { 200: CobRunView },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        return cob.runCob(request.body.business_date, { type: 'user', id: principal.id });
      },
    );

    app.get(
      '/api/v1/loan/portfolio/summary',
      {
        config: { access: { permission: 'loan:read' }, errors: [] },
        schema: {
          operationId: 'getLoanPortfolioSummary',
          tags: ['loans'],
          summary:
            'Portfolio figures per currency: outstanding, PAR30/60/90, disbursed and collected by period',
          description:
            'Outstanding of the active loans by part (the balances of their ledger accounts); principal at risk of ' +
            'loans more than 30, 60 and 90 days past due (as of the last close of business) and its ratio; ' +
            'disbursed, collected and recovered by day or month between `from` and `to` (default: the 12 months ' +
            'to today).',
          querystring: PortfolioQuery,
          response: { 200: PortfolioSummary },
        },
      },
      async (request) => portfolioSummary(db, request.query, today()),
    );
  };
}
