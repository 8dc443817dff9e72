/** HTTP routes of reversals (`/api/v1/transaction/transaction/reverse`) and disputes (`/api/v1/transaction/dispute`). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import { ApprovalViewSchema } from '../approvals/index.ts';
import {
  DisputeBody,
  DisputePage,
  DisputeQuery,
  DisputeView,
  IdParams,
  InvestigateBody,
  ResolveBody,
  ReverseBody,
} from './disputes.schemas.ts';
import type { DisputesService } from './disputes.service.ts';
import type { ReversalService } from './reversals.service.ts';

export function disputeRoutes(
  reversals: ReversalService,
  disputes: DisputesService,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/transaction/transaction/reverse',
      {
        config: { access: { permission: 'transaction:reverse' }, idempotency: 'optional' },
        schema: {
          operationId: 'reverseTransaction',
          tags: ['transaction'],
          summary: 'Reverse a completed transaction (always waits for a second staff member: 202)',
          description:
            'Files a `transaction.reverse` maker-checker request. When another staff member holding ' +
            '`approval:decide` and `transaction:reverse` approves it, a new ledger batch inverts every leg of the ' +
            'original (amount, fee and duty come back) and the original becomes `reversed`. Completed p2p, ' +
            'merchant, bill and cash transactions only; not while a dispute is open.',
          body: ReverseBody,
          response: { 202: ApprovalViewSchema },
        },
      },
      async (request, reply) => {
        const approval = await reversals.request(request.body, request.idempotency, contextOf(request));
        return reply.code(202).send(approval);
      },
    );

    app.post(
      '/api/v1/transaction/dispute/add',
      {
        config: {
          access: { permission: 'transaction:dispute_manage', allowCustomer: true },
          idempotency: 'optional',
        },
        schema: {
          operationId: 'openDispute',
          tags: ['transaction'],
          summary: 'Dispute a payment (the payer, or staff on their behalf)',
          description:
            'Completed p2p, merchant and bill payments, within `payments.dispute_window_days` of completion. ' +
            'What the recipient’s wallet still holds of the amount is put on hold (`held_amount`; 0 when nothing ' +
            'could be held). One open dispute per transaction.',
          body: DisputeBody,
          response: { 201: DisputeView },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await disputes.open(
              requirePrincipal(request),
              request.body,
              request.idempotency,
              contextOf(request),
            ),
          ),
    );

    app.get(
      '/api/v1/transaction/dispute',
      {
        config: { access: { permission: 'transaction:read', allowCustomer: true } },
        schema: {
          operationId: 'listDisputes',
          tags: ['transaction'],
          summary: 'Disputes, newest first (customers: the ones they opened)',
          querystring: DisputeQuery,
          response: { 200: DisputePage },
        },
      },
      async (request) => disputes.list(request.query, requirePrincipal(request)),
    );

    app.get(
      '/api/v1/transaction/dispute/:id',
      {
        config: { access: { permission: 'transaction:read', allowCustomer: true } },
        schema: {
          operationId: 'getDispute',
          tags: ['transaction'],
          summary: 'One dispute with its hold and outcome',
          params: IdParams,
          response: { 200: DisputeView },
        },
      },
      async (request) => disputes.get(request.params.id, requirePrincipal(request)),
    );

    app.post(
      '/api/v1/transaction/dispute/investigate',
      {
        config: { access: { permission: 'transaction:dispute_manage' } },
        schema: {
          operationId: 'investigateDispute',
          tags: ['transaction'],
          summary: 'Take an open dispute into investigation',
          body: InvestigateBody,
          response: { 200: DisputeView },
        },
      },
      async (request) => disputes.investigate(requirePrincipal(request), request.body, contextOf(request)),
    );

    app.post(
      '/api/v1/transaction/dispute/resolve',
      {
        config: { access: { permission: 'transaction:dispute_manage' }, idempotency: 'required' },
        schema: {
          operationId: 'resolveDispute',
          tags: ['transaction'],
          summary: 'Decide a dispute: refund the payer or reject (final)',
          description:
            '`refund` posts the hold to suspense and pays the payer back, taking any part that could not be held ' +
            'from the recipient now (409 COUNTERPARTY_INSUFFICIENT_FUNDS and nothing changes when they lack it); ' +
            'the refund is a `refund` transaction linked to the original. `reject` releases the hold. A decided ' +
            'dispute answers 409 DISPUTE_CLOSED.',
          body: ResolveBody,
          response: { 200: DisputeView },
        },
      },
      async (request) =>
        disputes.resolve(requirePrincipal(request), request.body, request.idempotency, contextOf(request)),
    );
  };
}
