/** HTTP routes of repayments (`POST /api/v1/loan/repayment/add`) and payoff quotes (`GET /api/v1/loan/loan/:id/payoff`). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import { LoanIdParams, PayoffView, RepaymentBody, RepaymentView } from './loans.repayments.schemas.ts';
import type { RepaymentsService } from './loans.repayments.ts';

export function repaymentRoutes(repayments: RepaymentsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/loan/repayment/add',
      {
        config: {
          access: { permission: 'loan:repay', allowCustomer: true },
          idempotency: 'required',
          errors: [
            'LOAN_NOT_FOUND',
            'LOAN_NOT_REPAYABLE',
            'LOAN_NOTHING_DUE',
            'LOAN_REPAYMENT_INSUFFICIENT_FUNDS',
            'WALLET_NOT_ACTIVE',
            'NOT_FOUND',
            'INVALID_PIN',
            'PIN_LOCKED',
            'PIN_NOT_SET',
            'OTP_REQUIRED',
            'OTP_INVALID',
            'OTP_LOCKED',
            'OTP_RATE_LIMITED',
            'OTP_COOLDOWN',
          ],
        },
        schema: {
          operationId: 'addLoanRepayment',
          tags: ['loans'],
          summary: 'Repay a loan: the customer from their wallet, or staff recording cash or a bank payment',
          description:
            'Requires an Idempotency-Key. A customer repays their own loan from their wallet with their PIN (and a ' +
            'one-time code at or above `payments.otp_threshold_minor`: 428 OTP_REQUIRED issues one). Staff with ' +
            '`loan:repay` record a payment received in cash or by bank (`source`, `external_reference`). The ' +
            'amount pays the instalments due by today, oldest first, by the product’s allocation order (default ' +
            'penalty → fee → interest → principal). Beyond what is due, the product decides: `future_instalments` ' +
            'prepays principal and recasts the later instalments (reduce term or instalment); ' +
            '`return_to_wallet` takes only what is due (cash and bank: the rest is credited to the wallet). An ' +
            'amount that covers the payoff quote closes the loan and never takes more than the payoff. The wallet ' +
            'is never overdrawn (409 LOAN_REPAYMENT_INSUFFICIENT_FUNDS).',
          body: RepaymentBody,
          response: { 201: RepaymentView },
        },
      },
      async (request, reply) => {
        const principal = requirePrincipal(request);
        const key = String(request.headers['idempotency-key']);
        const result = await repayments.repay(
          principal,
          request.body,
          `repayment:${principal.type}:${principal.id}:${key}`,
          request.idempotency,
          contextOf(request),
        );
        return reply.code(201).send(result);
      },
    );

    app.get(
      '/api/v1/loan/loan/:id/payoff',
      {
        config: {
          access: { permission: 'loan:repay', allowCustomer: true },
          errors: ['LOAN_NOT_FOUND', 'LOAN_NOT_REPAYABLE'],
        },
        schema: {
          operationId: 'getLoanPayoffQuote',
          tags: ['loans'],
          summary: 'What pays the loan off today (valid until the end of the business day, UTC)',
          description:
            'All principal, fees and penalties, recognised interest not yet paid and the running period’s interest ' +
            '(per-period products); later periods’ interest is not owed. Repaying `total_minor` today closes ' +
            'the loan. Customers see their own loans only.',
          params: LoanIdParams,
          response: { 200: PayoffView },
        },
      },
      async (request) => repayments.payoffQuote(requirePrincipal(request), request.params.id),
    );
  };
}
