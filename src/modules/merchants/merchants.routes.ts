/** HTTP routes of `/api/v1/merchant/merchant`, `/api/v1/merchant/qr` and `/api/v1/wallet/transaction/merchant`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { channelOf, contextOf, requirePrincipal } from '../../platform/http.ts';
import { ApprovalViewSchema } from '../approvals/index.ts';
import { TransactionViewSchema } from '../transactions/index.ts';
import {
  DynamicQrCreate,
  IdParams,
  MerchantCreate,
  MerchantDetail,
  MerchantPage,
  MerchantPayment,
  MerchantQuery,
  MerchantView,
  QrCreated,
  QrView,
  StaticQrCreate,
  StatusChange,
} from './merchants.schemas.ts';
import type { MerchantsService } from './merchants.service.ts';

/** Refusals a money POST documents beyond the shared ones: 423 PIN locked, 428 one-time code needed. */
const moneyErrors = { 423: { $ref: 'ErrorBody#' }, 428: { $ref: 'ErrorBody#' } };

export function merchantRoutes(service: MerchantsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/merchant/merchant/add',
      {
        config: { access: { permission: 'merchant:manage' }, idempotency: 'optional' },
        schema: {
          operationId: 'registerMerchant',
          tags: ['merchant'],
          summary: 'Register a merchant; a second staff member approves it (202), which opens its wallet',
          description:
            'Registration always waits for a checker holding `approval:decide` and `merchant:manage`. On approval ' +
            'the merchant (status active, a merchant number) and its merchant wallet are created together.',
          body: MerchantCreate,
          response: { 201: MerchantView, 202: ApprovalViewSchema },
        },
      },
      async (request, reply) => {
        const outcome = await service.requestRegistration(
          request.body,
          contextOf(request),
          request.idempotency,
        );
        return reply.code(outcome.status).send(outcome.body as never);
      },
    );

    app.get(
      '/api/v1/merchant/merchant',
      {
        config: { access: { permission: 'merchant:read', allowCustomer: true } },
        schema: {
          operationId: 'listMerchants',
          tags: ['merchant'],
          summary: 'Merchants, newest first (customers: the ones they own)',
          querystring: MerchantQuery,
          response: { 200: MerchantPage },
        },
      },
      async (request) => service.list(request.query, requirePrincipal(request)),
    );

    app.get(
      '/api/v1/merchant/merchant/:id',
      {
        config: { access: { permission: 'merchant:read', allowCustomer: true } },
        schema: {
          operationId: 'getMerchant',
          tags: ['merchant'],
          summary: 'One merchant with its wallet and balance (statement: the wallet routes with wallet_id)',
          params: IdParams,
          response: { 200: MerchantDetail },
        },
      },
      async (request) => service.get(request.params.id, requirePrincipal(request)),
    );

    for (const [verb, status] of [
      ['suspend', 'suspended'],
      ['activate', 'active'],
    ] as const) {
      app.post(
        `/api/v1/merchant/merchant/:id/${verb}`,
        {
          config: { access: { permission: 'merchant:manage' } },
          schema: {
            operationId: verb === 'suspend' ? 'suspendMerchant' : 'activateMerchant',
            tags: ['merchant'],
            summary:
              verb === 'suspend'
                ? 'Suspend a merchant: it cannot be paid or issue QR codes until reactivated'
                : 'Reactivate a suspended merchant',
            params: IdParams,
            body: StatusChange,
            response: { 200: MerchantView },
          },
        },
        async (request) =>
          service.setStatus(request.params.id, status, request.body.reason ?? null, contextOf(request)),
      );
    }

    app.post(
      '/api/v1/merchant/qr/static',
      {
        config: {
          access: { permission: 'merchant:manage', allowCustomer: true },
          idempotency: 'optional',
        },
        schema: {
          operationId: 'createStaticMerchantQr',
          tags: ['merchant'],
          summary: 'A reusable EMVCo QR code (no amount) for a merchant, as payload and PNG',
          description: 'Customers may create codes for merchants they own.',
          body: StaticQrCreate,
          response: { 201: QrCreated },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await service.createStaticQr(
              request.body,
              requirePrincipal(request),
              contextOf(request),
              request.idempotency,
            ),
          ),
    );

    app.post(
      '/api/v1/merchant/qr/dynamic',
      {
        config: {
          access: { permission: 'merchant:manage', allowCustomer: true },
          idempotency: 'optional',
        },
        schema: {
          operationId: 'createDynamicMerchantQr',
          tags: ['merchant'],
          summary: 'A single-use EMVCo QR code with amount and reference that expires, as payload and PNG',
          description:
            'Customers may create codes for merchants they own. The reference must be unique; the lifetime ' +
            'defaults to `payments.dynamic_qr_ttl_seconds`.',
          body: DynamicQrCreate,
          response: { 201: QrCreated },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await service.createDynamicQr(
              request.body,
              requirePrincipal(request),
              contextOf(request),
              request.idempotency,
            ),
          ),
    );

    app.get(
      '/api/v1/merchant/qr/:id',
      {
        config: { access: { permission: 'merchant:read', allowCustomer: true } },
        schema: {
          operationId: 'getMerchantQr',
          tags: ['merchant'],
          summary:
            'One QR code: payload, amount, expiry and whether it was used (customers: their merchants’)',
          params: IdParams,
          response: { 200: QrView },
        },
      },
      async (request) => service.getQr(request.params.id, requirePrincipal(request)),
    );

    app.get(
      '/api/v1/merchant/qr/:id/png',
      {
        config: { access: { permission: 'merchant:read', allowCustomer: true } },
        schema: {
          operationId: 'getMerchantQrPng',
          tags: ['merchant'],
          summary: 'The QR code as a PNG image (customers: their merchants’ codes)',
          params: IdParams,
          response: {
            200: {
              description: 'PNG image',
              content: { 'image/png': { schema: { type: 'string', format: 'binary' } } },
            },
          },
        },
      },
      async (request, reply) => {
        const png = await service.qrPng(request.params.id, requirePrincipal(request));
        return reply
          .type('image/png')
          .header('content-disposition', `inline; filename="qr-${request.params.id}.png"`)
          .header('cache-control', 'private, no-store')
          .header('x-content-type-options', 'nosniff')
          .send(png as never);
      },
    );

    app.post(
      '/api/v1/wallet/transaction/merchant',
      {
        config: {
          access: { permission: 'transaction:create', allowCustomer: true },
          idempotency: 'required',
        },
        schema: {
          operationId: 'payMerchant',
          tags: ['wallet'],
          summary: 'Pay a merchant by merchant id or by a scanned EMVCo QR code',
          description:
            'Give `merchant_id` with `amount`, or `qr_payload`: its CRC is verified (422 INVALID_QR). A static ' +
            'code needs `amount`; a dynamic code carries amount and reference, expires (422 QR_EXPIRED) and pays ' +
            'once (409 QR_ALREADY_USED). A suspended merchant answers 422 MERCHANT_UNAVAILABLE. Customers send ' +
            'their PIN; at or above `payments.otp_threshold_minor` the first call answers 428 OTP_REQUIRED. The merchant ' +
            'discount rate is taken from what the merchant receives. Requires an Idempotency-Key.',
          body: MerchantPayment,
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
