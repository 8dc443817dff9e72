/** HTTP routes of loan applications (`/api/v1/loan/application/*`). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import {
  ApplicationAddBody,
  ApplicationDocumentsBody,
  ApplicationHeaders,
  ApplicationIdParams,
  ApplicationPage,
  ApplicationQuery,
  ApplicationView,
  ApplicationWithdrawBody,
} from './loans.applications.schemas.ts';
import type { LoanApplicationsService } from './loans.applications.ts';

const TAGS = ['loans'];

export function loanApplicationRoutes(applications: LoanApplicationsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/loan/application/add',
      {
        config: {
          access: { permission: 'loan:apply', allowCustomer: true },
          idempotency: 'required',
          errors: [
            'NOT_FOUND',
            'LOAN_PRODUCT_NOT_FOUND',
            'LOAN_PRODUCT_RETIRED',
            'LOAN_AMOUNT_OUT_OF_RANGE',
            'LOAN_TERM_OUT_OF_RANGE',
            'LOAN_DOCUMENT_NOT_USABLE',
            'LOAN_NOT_ELIGIBLE',
          ],
        },
        schema: {
          operationId: 'addLoanApplication',
          tags: TAGS,
          summary:
            'Apply for a loan (a customer for themselves; staff with loan:apply on a customer’s behalf)',
          description:
            'The currency is the product’s. Refused with 422 when the amount or term is outside the product’s ' +
            'ranges or a document is not the applicant’s own, and with 409 LOAN_NOT_ELIGIBLE naming every failed ' +
            'rule in `details.reasons[]` (KYC tier, wallet in the currency and its tenure, active loans, a blocked ' +
            'customer). The fraud check runs with the insert: a score at the product’s threshold holds the ' +
            'application (`flagged`, shown to the customer as `referred`) for an investigation. Otherwise it is ' +
            'scored and decided at once: `declined` with adverse-action reasons, `approved` (scored approve within ' +
            'the auto-approval limit; `loan_id` is the loan), or `referred` to a loan officer (also when scoring ' +
            'is unavailable). A replay with the same Idempotency-Key answers the final outcome.',
          headers: ApplicationHeaders,
          body: ApplicationAddBody,
          response: { 201: ApplicationView },
        },
      },
      async (request, reply) => {
        const view = await applications.submit(
          requirePrincipal(request),
          request.body,
          request.headers['x-device-id'] ?? null,
          request.idempotency,
          contextOf(request),
        );
        return reply.code(201).send(view);
      },
    );

    app.get(
      '/api/v1/loan/application/list',
      {
        config: { access: { permission: 'loan:read', allowCustomer: true }, errors: ['NOT_FOUND'] },
        schema: {
          operationId: 'listLoanApplications',
          tags: TAGS,
          summary: 'Loan applications, newest first (customers: their own)',
          querystring: ApplicationQuery,
          response: { 200: ApplicationPage },
        },
      },
      async (request) => applications.list(request.query, requirePrincipal(request)),
    );

    app.get(
      '/api/v1/loan/application/:id',
      {
        config: {
          access: { permission: 'loan:read', allowCustomer: true },
          errors: ['LOAN_APPLICATION_NOT_FOUND'],
        },
        schema: {
          operationId: 'getLoanApplication',
          tags: TAGS,
          summary: 'One loan application with its decision (another customer’s answers 404)',
          params: ApplicationIdParams,
          response: { 200: ApplicationView },
        },
      },
      async (request) => applications.get(request.params.id, requirePrincipal(request)),
    );

    app.post(
      '/api/v1/loan/application/documents',
      {
        config: {
          access: { permission: 'loan:apply', allowCustomer: true },
          errors: ['LOAN_APPLICATION_NOT_FOUND', 'LOAN_APPLICATION_WRONG_STATE', 'LOAN_DOCUMENT_NOT_USABLE'],
        },
        schema: {
          operationId: 'addLoanApplicationDocuments',
          tags: TAGS,
          summary:
            'Attach more of the applicant’s documents while the application is submitted, flagged or referred',
          body: ApplicationDocumentsBody,
          response: { 200: ApplicationView },
        },
      },
      async (request) =>
        applications.attachDocuments(requirePrincipal(request), request.body, contextOf(request)),
    );

    app.post(
      '/api/v1/loan/application/withdraw',
      {
        config: {
          access: { permission: 'loan:apply', allowCustomer: true },
          errors: ['LOAN_APPLICATION_NOT_FOUND', 'LOAN_APPLICATION_WRONG_STATE'],
        },
        schema: {
          operationId: 'withdrawLoanApplication',
          tags: TAGS,
          summary: 'Withdraw an application before it is approved or declined',
          body: ApplicationWithdrawBody,
          response: { 200: ApplicationView },
        },
      },
      async (request) => applications.withdraw(requirePrincipal(request), request.body, contextOf(request)),
    );
  };
}
