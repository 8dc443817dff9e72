/** `POST /api/v1/wallet/transaction/staff-transfer`: staff move a customer's money, with a reason (ADR 0007). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import { CurrencyCode, MoneyIn } from '../../platform/money.ts';
import { ApprovalViewSchema } from '../approvals/index.ts';
import { TransactionViewSchema } from '../transactions/index.ts';
import type { StaffTransfersService } from './staff-transfers.service.ts';

export const StaffTransferBody = Type.Object({
  source_wallet_id: Type.String({ format: 'uuid', description: "The customer's wallet the money leaves" }),
  to_wallet_number: Type.Optional(Type.String({ pattern: '^[0-9]{6,20}$' })),
  to_phone: Type.Optional(Type.String({ minLength: 8, maxLength: 20, description: 'E.164' })),
  amount: MoneyIn,
  currency: CurrencyCode,
  narration: Type.Optional(Type.String({ minLength: 1, maxLength: 140 })),
  reason: Type.String({
    minLength: 10,
    maxLength: 500,
    description:
      'Why staff move this money (the customer’s instruction, a ticket number); kept on the transaction',
  }),
});

export function staffTransferRoutes(service: StaffTransfersService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/wallet/transaction/staff-transfer',
      {
        config: {
          access: { permission: 'transaction:transfer_for_customer' },
          idempotency: 'required',
        },
        schema: {
          operationId: 'staffTransfer',
          tags: ['wallet'],
          summary: "Staff move a customer's money to another wallet, with a reason (no customer PIN)",
          description:
            'Staff only, with `transaction:transfer_for_customer`. The customer payment routes refuse staff ' +
            '(403 STAFF_PAYMENT_NOT_ALLOWED). Below `payments.staff_transfer_approval_threshold_minor` the transfer runs ' +
            'at once (201); at or above it a second staff member must approve it (202 with the request; the ' +
            'checker needs `approval:decide` and this permission). The same transfer (wallets, amount, currency) ' +
            'already waiting answers 409 APPROVAL_ALREADY_PENDING. Requires an Idempotency-Key.',
          body: StaffTransferBody,
          response: { 201: TransactionViewSchema, 202: ApprovalViewSchema },
        },
      },
      async (request, reply) => {
        const outcome = await service.request(
          requirePrincipal(request),
          request.body,
          request.idempotency,
          contextOf(request),
        );
        return reply.code(outcome.status).send(outcome.body as never);
      },
    );
  };
}
