/**
 * `POST /api/v1/transaction/add` — the spec's "Process Payment": one entry point for every customer payment type, the
 * body's `type` choosing the use case (`p2p`, `merchant`, `bill`). Each type keeps its own route too; this one
 * validates the same body plus `type` and runs the same use case, so both answer identically.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type TObject, Type } from 'typebox';
import type { RequestContext } from '../../platform/audit.ts';

import { channelOf, contextOf, type Principal, requirePrincipal } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { transactionErrors } from './transactions.errors.ts';
import { TransactionView } from './transactions.schemas.ts';
import type { TransactionView as TransactionViewShape } from './transactions.views.ts';

export interface PaymentKind {
  type: string;
  summary: string;
  body: TObject;
  handle(
    principal: Principal,
    body: never,
    channel: string,
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ): Promise<TransactionViewShape>;
}

export function paymentDispatchRoutes(kinds: PaymentKind[]): FastifyPluginAsyncTypebox {
  const byType = new Map(kinds.map((kind) => [kind.type, kind]));
  const Body = Type.Union(
    kinds.map((kind) =>
      Type.Object(
        { type: Type.Literal(kind.type), ...kind.body.properties },
        { title: `${kind.type} payment` },
      ),
    ),
  );
  return async (app) => {
    app.post(
      '/api/v1/transaction/add',
      {
        config: {
          access: { permission: 'transaction:create', allowCustomer: true },
          idempotency: 'required',
        },
        schema: {
          operationId: 'addTransaction',
          tags: ['transaction'],
          summary: 'Process a payment of any type (p2p, merchant, bill): the body of that type plus `type`',
          description: kinds.map((kind) => `\`${kind.type}\`: ${kind.summary}`).join('\n\n'),
          body: Body,
          response: { 201: TransactionView, 423: { $ref: 'ErrorBody#' }, 428: { $ref: 'ErrorBody#' } },
        },
      },
      async (request, reply) => {
        const { type, ...body } = request.body as { type: string } & Record<string, unknown>;
        const kind = byType.get(type);
        if (!kind) throw transactionErrors.unknownPaymentType(type);
        const view = await kind.handle(
          requirePrincipal(request),
          body as never,
          channelOf(request, 'mobile'),
          request.idempotency,
          contextOf(request),
        );
        return reply.code(201).send(view);
      },
    );
  };
}
