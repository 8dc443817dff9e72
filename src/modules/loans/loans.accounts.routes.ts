/**
 * HTTP routes of approval (`/api/v1/loan/loan/approve`), disbursement (`/api/v1/loan/loan/disburse`), approval limits
 * (`/api/v1/loan/approvallimit`) and the loan reads (`/api/v1/loan/loan/*`, a customer's own at `/api/v1/loan/my`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { commonErrors } from '../../platform/errors.ts';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import { ApprovalViewSchema } from '../approvals/index.ts';
import {
  ApprovalLimitBody,
  ApprovalLimitList,
  ApprovalLimitView,
  ApproveBody,
  DecisionView,
  DisburseBody,
  LoanIdParams,
  LoanListQuery,
  LoanPage,
  LoanTransactionPage,
  LoanTransactionQuery,
  LoanView,
  ScheduleView,
} from './loans.accounts.schemas.ts';
import type { LoanAccountsService } from './loans.accounts.ts';

const TAGS = ['loans'];

export function loanAccountRoutes(accounts: LoanAccountsService): FastifyPluginAsyncTypebox {
  const views = accounts.views;
  return async (app) => {
    app.post(
      '/api/v1/loan/loan/approve',
      {
        config: {
          access: { permission: 'loan:approve' },
          idempotency: 'optional',
          errors: [
            'LOAN_APPLICATION_NOT_FOUND',
            'LOAN_APPLICATION_NOT_APPROVABLE',
            'LOAN_APPROVAL_NOT_PERMITTED',
            'LOAN_APPROVAL_LIMIT_EXCEEDED',
            'LOAN_WALLET_UNAVAILABLE',
            'APPROVAL_ALREADY_PENDING',
          ],
        },
        schema: {
          operationId: 'approveLoan',
          tags: TAGS,
          summary:
            'Approve or decline a referred loan application (approval limits, maker-checker above an amount)',
          description:
            'A loan officer decides an application referred to them (or submitted again after its fraud flag was ' +
            'cleared). Approval needs a limit for the currency on one of their roles (`/api/v1/loan/approvallimit`) ' +
            'at least the amount; it fixes the terms and creates the loan (`approved`) with a provisional schedule. ' +
            'Above the terms’ `maker_checker_above_minor` the approval waits for a second staff member (202 with ' +
            'the `loan.approve` request). `decision: decline` declines with `reason`.',
          body: ApproveBody,
          response: { 200: DecisionView, 202: ApprovalViewSchema },
        },
      },
      async (request, reply) => {
        const outcome = await accounts.decide(
          requirePrincipal(request),
          request.body,
          request.idempotency,
          contextOf(request),
        );
        return reply.code(outcome.status).send(outcome.body as never);
      },
    );

    app.post(
      '/api/v1/loan/loan/disburse',
      {
        config: {
          access: { permission: 'loan:disburse' },
          idempotency: 'required',
          errors: [
            'LOAN_NOT_FOUND',
            'LOAN_WRONG_STATE',
            'LOAN_WALLET_UNAVAILABLE',
            'LOAN_MAX_BALANCE_EXCEEDED',
          ],
        },
        schema: {
          operationId: 'disburseLoan',
          tags: TAGS,
          summary: 'Disburse an approved loan to the customer’s wallet (Idempotency-Key)',
          description:
            'Creates the loan’s ledger accounts and posts the principal: the wallet gets it less a deducted upfront ' +
            'fee; a first-instalment fee becomes a fee receivable. The schedule counts from today’s business date. ' +
            'Wallet limits do not apply, its maximum balance does (409 LOAN_MAX_BALANCE_EXCEEDED, nothing posted). ' +
            'The customer is notified.',
          body: DisburseBody,
          response: { 200: LoanView },
        },
      },
      async (request) =>
        accounts.disbursement.disburse(
          requirePrincipal(request),
          request.body,
          request.idempotency,
          contextOf(request),
        ),
    );

    app.get(
      '/api/v1/loan/loan/list',
      {
        config: { access: { permission: 'loan:read', allowCustomer: true }, errors: ['NOT_FOUND'] },
        schema: {
          operationId: 'listLoans',
          tags: TAGS,
          summary:
            'Loans, newest first (staff filter by status, customer, product, arrears bucket; customers: their own)',
          querystring: LoanListQuery,
          response: { 200: LoanPage },
        },
      },
      async (request) => views.list(request.query, requirePrincipal(request)),
    );

    app.get(
      '/api/v1/loan/my',
      {
        config: { access: { permission: 'loan:read', allowCustomer: true }, errors: ['NOT_FOUND'] },
        schema: {
          operationId: 'listMyLoans',
          tags: TAGS,
          summary: 'The signed-in customer’s own loans, newest first (staff use /api/v1/loan/loan/list)',
          querystring: LoanTransactionQuery,
          response: { 200: LoanPage },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        if (principal.type !== 'customer') throw commonErrors.notFound('Customer');
        return views.list(request.query, principal);
      },
    );

    app.get(
      '/api/v1/loan/loan/:id',
      {
        config: { access: { permission: 'loan:read', allowCustomer: true }, errors: ['LOAN_NOT_FOUND'] },
        schema: {
          operationId: 'getLoan',
          tags: TAGS,
          summary:
            'One loan: its terms, what is outstanding per part (from its ledger accounts) and the next instalment',
          params: LoanIdParams,
          response: { 200: LoanView },
        },
      },
      async (request) => views.get(request.params.id, requirePrincipal(request)),
    );

    app.get(
      '/api/v1/loan/loan/:id/schedule',
      {
        config: { access: { permission: 'loan:read', allowCustomer: true }, errors: ['LOAN_NOT_FOUND'] },
        schema: {
          operationId: 'getLoanSchedule',
          tags: TAGS,
          summary: 'The loan’s instalments: due and paid per part',
          params: LoanIdParams,
          response: { 200: ScheduleView },
        },
      },
      async (request) => views.schedule(request.params.id, requirePrincipal(request)),
    );

    app.get(
      '/api/v1/loan/loan/:id/transactions',
      {
        config: { access: { permission: 'loan:read', allowCustomer: true }, errors: ['LOAN_NOT_FOUND'] },
        schema: {
          operationId: 'listLoanTransactions',
          tags: TAGS,
          summary:
            'The loan’s money movements, oldest first (disbursement, repayments, interest, penalties …)',
          params: LoanIdParams,
          querystring: LoanTransactionQuery,
          response: { 200: LoanTransactionPage },
        },
      },
      async (request) => views.transactions(request.params.id, request.query, requirePrincipal(request)),
    );

    app.get(
      '/api/v1/loan/loan/:id/statement.pdf',
      {
        config: { access: { permission: 'loan:read', allowCustomer: true }, errors: ['LOAN_NOT_FOUND'] },
        schema: {
          operationId: 'getLoanStatementPdf',
          tags: TAGS,
          summary: 'The loan statement as a PDF attachment',
          params: LoanIdParams,
          response: {
            200: {
              description: 'The statement as a PDF attachment',
              content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } } },
            },
          },
        },
      },
      async (request, reply) => {
        const { pdf, filename } = await views.statementPdf(request.params.id, requirePrincipal(request));
        return reply
          .type('application/pdf')
          .header('content-disposition', `attachment; filename="${filename}"`)
          .send(pdf as never);
      },
    );

    app.get(
      '/api/v1/loan/approvallimit/list',
      {
        config: { access: { permission: 'loan:read' } },
        schema: {
          operationId: 'listLoanApprovalLimits',
          tags: TAGS,
          summary: 'Approval limits per role and currency',
          response: { 200: ApprovalLimitList },
        },
      },
      async () => accounts.limits.list(),
    );

    app.post(
      '/api/v1/loan/approvallimit/set',
      {
        config: {
          access: { permission: 'loan:product_manage' },
          errors: ['NOT_FOUND', 'UNSUPPORTED_CURRENCY'],
        },
        schema: {
          operationId: 'setLoanApprovalLimit',
          tags: TAGS,
          summary: 'Set (or remove, with null) the most a role may approve in a currency',
          body: ApprovalLimitBody,
          response: { 200: ApprovalLimitView },
        },
      },
      async (request) => accounts.limits.set(request.body, contextOf(request)),
    );
  };
}
