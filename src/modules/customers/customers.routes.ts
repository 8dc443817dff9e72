/** HTTP routes of `/api/v1/customer` (the canonical `/customer/customer/add` and its `/customer/add` alias). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { commonErrors } from '../../platform/errors.ts';
import { assertOwnership, contextOf, requirePrincipal } from '../../platform/http.ts';
import { TokenPairSchema } from '../identity/index.ts';
import type { CustomerAuth } from './customers.auth.ts';
import { CustomerDataExport } from './customers.export.ts';
import {
  CustomerCreate,
  CustomerPage,
  CustomerQuery,
  CustomerStatusChange,
  CustomerUpdate,
  CustomerView,
  ErasureBody,
  IdParams,
  OwnProfileView,
  ownProfile,
  PhoneVerified,
  PhoneVerify,
  PiiQuery,
  PinChange,
  PinLogin,
  PinResetChallenge,
  PinResetConfirm,
  PinResetRequest,
  PinSet,
  PushLoginPending,
  PushLoginPoll,
  PushLoginRequired,
} from './customers.schemas.ts';
import type { CustomersService } from './customers.service.ts';

export function customerRoutes(customers: CustomersService, auth: CustomerAuth): FastifyPluginAsyncTypebox {
  return async (app) => {
    for (const [url, operationId, summary] of [
      ['/api/v1/customer/customer/add', 'createCustomer', 'Register a customer'],
      [
        '/api/v1/customer/add',
        'createCustomerAlias',
        'Register a customer (alias of /customer/customer/add)',
      ],
    ] as const) {
      app.post(
        url,
        {
          config: { access: { permission: 'customer:create' }, idempotency: 'optional' },
          schema: {
            operationId,
            tags: ['customer'],
            summary,
            description:
              'Starts in status `pending` at KYC tier `basic`. Send an Idempotency-Key to retry safely.',
            body: CustomerCreate,
            response: { 201: CustomerView },
          },
        },
        async (request, reply) =>
          reply.code(201).send(await customers.create(request.body, contextOf(request), request.idempotency)),
      );
    }

    app.get(
      '/api/v1/customer/customer',
      {
        config: { access: { permission: 'customer:read' } },
        schema: {
          operationId: 'searchCustomers',
          tags: ['customer'],
          summary: 'Search customers by phone (E.164), email, name, national ID or customer number',
          querystring: CustomerQuery,
          response: { 200: CustomerPage },
        },
      },
      async (request) => customers.search(request.query),
    );

    app.get(
      '/api/v1/customer/customer/:id',
      {
        config: { access: { permission: 'customer:read', allowCustomer: true } },
        schema: {
          operationId: 'getCustomer',
          tags: ['customer'],
          summary:
            'One customer; national ID and date of birth masked unless include_pii (customer:pii_read)',
          params: IdParams,
          querystring: PiiQuery,
          response: { 200: CustomerView },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        // A customer reads only themselves; anyone else's id answers 404, as if it did not exist.
        assertOwnership(principal, request.params.id);
        const includePii = principal.type === 'user' && (request.query.include_pii ?? false);
        return customers.get(request.params.id, principal, includePii, contextOf(request));
      },
    );

    app.post(
      '/api/v1/auth/customer/login',
      {
        config: { access: { public: true } },
        schema: {
          operationId: 'customerLogin',
          tags: ['auth'],
          summary: 'Customer sign-in with phone (E.164) and PIN (mobile app, USSD)',
          description:
            'With `auth.customer_push_login` on, a customer with a registered device gets `mfa_required` with a push ' +
            'challenge instead of tokens; the app polls `/api/v1/auth/customer/login/push` until the device answers. ' +
            'An unknown number, a customer with no PIN yet and a wrong PIN answer alike (401 `INVALID_PIN`). ' +
            'Failed sign-ins are limited per IP address and per `device_id` (429 `RATE_LIMITED` with Retry-After).',
          body: PinLogin,
          response: { 200: Type.Union([TokenPairSchema, PushLoginRequired]), 423: { $ref: 'ErrorBody#' } },
        },
      },
      async (request) =>
        auth.login(request.body.phone, request.body.pin, contextOf(request), request.body.device_id),
    );

    app.post(
      '/api/v1/auth/customer/login/push',
      {
        config: { access: { public: true } },
        schema: {
          operationId: 'customerLoginPush',
          tags: ['auth'],
          summary:
            'Poll a push-approved sign-in: 202 while the device has not answered, tokens once it approves',
          body: PushLoginPoll,
          response: { 200: TokenPairSchema, 202: PushLoginPending },
        },
      },
      async (request, reply) => {
        const outcome = await auth.completePushLogin(request.body.mfa_token, contextOf(request));
        if ('status' in outcome) return reply.code(202).send(outcome);
        return reply.code(200).send(outcome);
      },
    );

    app.get(
      '/api/v1/customer/me',
      {
        config: { access: { permission: 'customer:read', allowCustomer: true } },
        schema: {
          operationId: 'getMyProfile',
          tags: ['customer'],
          summary: 'The signed-in customer’s own profile',
          response: { 200: OwnProfileView },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        if (principal.type !== 'customer') throw commonErrors.notFound('Customer');
        return ownProfile(await customers.get(principal.id, principal, false, contextOf(request)));
      },
    );

    app.post(
      '/api/v1/customer/me/pin',
      {
        config: { access: { permission: 'customer:update', allowCustomer: true } },
        schema: {
          operationId: 'changeMyPin',
          tags: ['customer'],
          summary: 'Change your PIN (needs the current one)',
          body: PinChange,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        const principal = requirePrincipal(request);
        if (principal.type !== 'customer') throw commonErrors.notFound('Customer');
        await auth.changePin(
          principal.id,
          request.body.current_pin,
          request.body.new_pin,
          contextOf(request),
        );
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/v1/customer/pin/reset/request',
      {
        config: { access: { public: true } },
        schema: {
          operationId: 'requestPinReset',
          tags: ['customer'],
          summary: 'Forgotten PIN: send a one-time code to the registered phone',
          description:
            'Answers the same for unknown numbers (no message is sent). Resends wait for a cooldown and are capped ' +
            'per hour (429 with Retry-After).',
          body: PinResetRequest,
          response: { 202: PinResetChallenge },
        },
      },
      async (request, reply) => reply.code(202).send(await auth.requestPinReset(request.body.phone)),
    );

    app.post(
      '/api/v1/customer/pin/reset/confirm',
      {
        config: { access: { public: true } },
        schema: {
          operationId: 'confirmPinReset',
          tags: ['customer'],
          summary: 'Set a new PIN with the code (and the ID number when one is on file); lifts a PIN lock',
          body: PinResetConfirm,
          response: { 204: { type: 'null' }, 423: { $ref: 'ErrorBody#' } },
        },
      },
      async (request, reply) => {
        await auth.confirmPinReset(request.body, contextOf(request));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/v1/customer/credentials/pin',
      {
        config: { access: { permission: 'customer:update' } },
        schema: {
          operationId: 'setCustomerPin',
          tags: ['customer'],
          summary: 'Set or reset a customer’s PIN (lifts a PIN lock)',
          body: PinSet,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        await auth.setPin(request.body.customer_id, request.body.pin, contextOf(request));
        return reply.code(204).send(null);
      },
    );

    app.patch(
      '/api/v1/customer/customer/:id',
      {
        config: { access: { permission: 'customer:update' } },
        schema: {
          operationId: 'updateCustomer',
          tags: ['customer'],
          summary: 'Change a customer’s profile',
          params: IdParams,
          body: CustomerUpdate,
          response: { 200: CustomerView },
        },
      },
      async (request) => customers.update(request.params.id, request.body, contextOf(request)),
    );

    app.post(
      '/api/v1/customer/customer/status',
      {
        config: { access: { permission: 'customer:update' } },
        schema: {
          operationId: 'changeCustomerStatus',
          tags: ['customer'],
          summary: 'Activate, suspend or close a customer, with a reason',
          body: CustomerStatusChange,
          response: { 200: CustomerView },
        },
      },
      async (request) =>
        customers.changeStatus(
          request.body.customer_id,
          request.body.status,
          request.body.reason,
          contextOf(request),
        ),
    );

    app.get(
      '/api/v1/customer/customer/:id/export',
      {
        config: { access: { permission: 'customer:export' } },
        schema: {
          operationId: 'exportCustomer',
          tags: ['customer'],
          summary: 'Everything held about a customer (data-protection right of access), as JSON',
          params: IdParams,
          description:
            'Wallets, transactions (those received too, but not a payer’s refused attempts), documents (metadata), ' +
            'KYC applications, consents, notifications, support conversations, devices, sessions and the audit ' +
            'trail. Hashes, sealed values and keys are never included.',
          response: { 200: CustomerDataExport },
        },
      },
      async (request, reply) => {
        reply.header('content-disposition', `attachment; filename="customer-${request.params.id}.json"`);
        return customers.export(request.params.id, contextOf(request));
      },
    );

    app.post(
      '/api/v1/customer/phone/verify',
      {
        config: { access: { permission: 'customer:update' } },
        schema: {
          operationId: 'verifyCustomerPhone',
          tags: ['customer'],
          summary: 'Mark a customer’s primary phone as verified (checked in person)',
          body: PhoneVerify,
          response: { 200: PhoneVerified },
        },
      },
      async (request) => customers.verifyPhone(request.body.customer_id, contextOf(request)),
    );

    app.post(
      '/api/v1/customer/customer/erase',
      {
        config: { access: { permission: 'customer:erase' } },
        schema: {
          operationId: 'eraseCustomer',
          tags: ['customer'],
          summary: 'Anonymise a customer’s personal data, keeping the records the law requires',
          body: ErasureBody,
          response: { 200: CustomerView },
        },
      },
      async (request) => customers.erase(request.body.customer_id, request.body.reason, contextOf(request)),
    );
  };
}
