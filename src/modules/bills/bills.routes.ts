/** HTTP routes of `/api/v1/wallet/biller` (registry, reference validation) and `/api/v1/wallet/transaction/bill`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { channelOf, contextOf, requirePrincipal } from '../../platform/http.ts';
import { TransactionViewSchema } from '../transactions/index.ts';
import {
  BillerCreate,
  BillerPage,
  BillerQuery,
  BillerUpdate,
  BillerView,
  BillPayBody,
  IdParams,
  ValidateBody,
  ValidationView,
} from './bills.schemas.ts';
import type { BillsService } from './bills.service.ts';

/** Refusals a money POST documents beyond the shared ones: 423 PIN locked, 428 one-time code needed. */
const moneyErrors = { 423: { $ref: 'ErrorBody#' }, 428: { $ref: 'ErrorBody#' } };

export function billRoutes(service: BillsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/wallet/biller',
      {
        config: { access: { permission: 'wallet:read', allowCustomer: true } },
        schema: {
          operationId: 'listBillers',
          tags: ['bills'],
          summary: 'Billers, by code (customers: those accepting payments)',
          querystring: BillerQuery,
          response: { 200: BillerPage },
        },
      },
      async (request) => service.list(request.query, requirePrincipal(request)),
    );

    app.get(
      '/api/v1/wallet/biller/:id',
      {
        config: { access: { permission: 'wallet:read', allowCustomer: true } },
        schema: {
          operationId: 'getBiller',
          tags: ['bills'],
          summary: 'One biller',
          params: IdParams,
          response: { 200: BillerView },
        },
      },
      async (request) => service.get(request.params.id, requirePrincipal(request)),
    );

    app.post(
      '/api/v1/wallet/biller/add',
      {
        config: { access: { permission: 'wallet:product_manage' } },
        schema: {
          operationId: 'createBiller',
          tags: ['bills'],
          summary: 'Add a biller (and its settlement ledger account)',
          description:
            'The adapter checks customer references: `pattern` (the anchored regular expression) or ' +
            '`pattern_luhn` (and a Luhn check digit, as STS prepaid meter numbers carry). An unknown adapter is 422.',
          body: BillerCreate,
          response: { 201: BillerView },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(await service.create(request.body, requirePrincipal(request), contextOf(request))),
    );

    app.patch(
      '/api/v1/wallet/biller/:id',
      {
        config: { access: { permission: 'wallet:product_manage' } },
        schema: {
          operationId: 'updateBiller',
          tags: ['bills'],
          summary: 'Change a biller (name, category, adapter, pattern, amount range, active)',
          params: IdParams,
          body: BillerUpdate,
          response: { 200: BillerView },
        },
      },
      async (request) =>
        service.update(request.params.id, request.body, requirePrincipal(request), contextOf(request)),
    );

    app.post(
      '/api/v1/wallet/biller/validate',
      {
        config: { access: { permission: 'wallet:read', allowCustomer: true } },
        schema: {
          operationId: 'validateBillReference',
          tags: ['bills'],
          summary: 'Whether a reference (meter, smartcard, account) is valid for a biller',
          body: ValidateBody,
          response: { 200: ValidationView },
        },
      },
      async (request) => service.validate(request.body, requirePrincipal(request)),
    );

    app.post(
      '/api/v1/wallet/transaction/bill',
      {
        config: {
          access: { permission: 'transaction:create', allowCustomer: true },
          idempotency: 'required',
        },
        schema: {
          operationId: 'payBill',
          tags: ['bills'],
          summary: 'Pay a bill from a wallet',
          description:
            'The reference is validated by the biller’s adapter (422 INVALID_BILL_REFERENCE), the amount must be ' +
            'within the biller’s range (422 AMOUNT_OUT_OF_RANGE) and the biller active (422 BILLER_UNAVAILABLE). ' +
            'Customers send their PIN; at or above `payments.otp_threshold_minor` a one-time code is needed (428). ' +
            'The product’s `bill` fee and excise duty are added. Requires an Idempotency-Key.',
          body: BillPayBody,
          response: { 201: TransactionViewSchema, ...moneyErrors },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await service.pay(
              requirePrincipal(request),
              request.body,
              channelOf(request, 'mobile'),
              request.idempotency,
              contextOf(request),
            ),
          ),
    );
  };
}
