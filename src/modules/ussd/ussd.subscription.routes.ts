/**
 * The USSD channel switch over HTTP: a customer turns it on or off (and picks its language) from the app; staff do
 * it per customer with `ussd:manage`, saying why, and read it with `ussd:read`. Dialling in with the channel off
 * gets a short notice only.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RequestContext } from '../../platform/audit.ts';
import { commonErrors } from '../../platform/errors.ts';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import type { AccountPort, UssdSubscription } from './ussd.account.ts';
import {
  CustomerSubscriptionParams,
  StaffSubscriptionUpdate,
  StaffSubscriptionView,
  SubscriptionUpdate,
  SubscriptionView,
} from './ussd.subscription.schemas.ts';

const TAGS = ['ussd'];

const selfView = (subscription: UssdSubscription) => ({
  enabled: subscription.enabled,
  language: subscription.language,
});

const staffView = (subscription: UssdSubscription) => ({
  customer_id: subscription.customerId,
  enabled: subscription.enabled,
  language: subscription.language,
  changed_by: subscription.changedBy,
  reason: subscription.reason,
  updated_at: subscription.updatedAt?.toISOString() ?? null,
});

function requestOf(context: RequestContext): Omit<RequestContext, 'actor'> {
  return { ip: context.ip, userAgent: context.userAgent, requestId: context.requestId };
}

export function ussdSubscriptionRoutes(accounts: AccountPort): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/ussd/subscription',
      {
        config: { access: { permission: 'ussd:read', allowCustomer: true }, errors: ['NOT_FOUND'] },
        schema: {
          operationId: 'getMyUssdSubscription',
          tags: TAGS,
          summary: 'Whether your USSD channel is on, and the language of its menus',
          description:
            'The signed-in customer’s own channel (staff have none: 404); staff read a customer’s at /api/v1/ussd/subscription/{customer_id}.',
          response: { 200: SubscriptionView },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        if (principal.type !== 'customer') throw commonErrors.notFound('Customer');
        const subscription = await accounts.subscription(principal.id);
        if (!subscription) throw commonErrors.notFound('Customer');
        return selfView(subscription);
      },
    );

    app.put(
      '/api/v1/ussd/subscription',
      {
        config: {
          access: { permission: 'ussd:manage', allowCustomer: true },
          errors: ['NOT_FOUND', 'USSD_SWITCHED_OFF_BY_STAFF'],
        },
        schema: {
          operationId: 'updateMyUssdSubscription',
          tags: TAGS,
          summary: 'Turn your USSD channel on or off, or choose the language of its menus',
          description:
            'The signed-in customer’s own channel (staff have none: 404; they use /api/v1/ussd/subscription/{customer_id}). Turning the channel off or on is audited; one staff switched off only staff switch back on.',
          body: SubscriptionUpdate,
          response: { 200: SubscriptionView },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        if (principal.type !== 'customer') throw commonErrors.notFound('Customer');
        const change = {
          ...(request.body.enabled !== undefined ? { enabled: request.body.enabled, reason: null } : {}),
          ...(request.body.language !== undefined ? { language: request.body.language } : {}),
        };
        return selfView(await accounts.update(principal.id, change, contextOf(request)));
      },
    );

    app.get(
      '/api/v1/ussd/subscription/:customer_id',
      {
        config: { access: { permission: 'ussd:read' } },
        schema: {
          operationId: 'getUssdSubscription',
          tags: TAGS,
          summary: 'A customer’s USSD channel: on or off, its language, and who last switched it and why',
          params: CustomerSubscriptionParams,
          response: { 200: StaffSubscriptionView },
        },
      },
      async (request) => {
        const subscription = await accounts.subscription(request.params.customer_id);
        if (!subscription) throw commonErrors.notFound('Customer');
        return staffView(subscription);
      },
    );

    app.put(
      '/api/v1/ussd/subscription/:customer_id',
      {
        config: { access: { permission: 'ussd:manage' } },
        schema: {
          operationId: 'updateUssdSubscription',
          tags: TAGS,
          summary: 'Turn a customer’s USSD channel on or off, with the reason (audited)',
          params: CustomerSubscriptionParams,
          body: StaffSubscriptionUpdate,
          response: { 200: StaffSubscriptionView },
        },
      },
      async (request) => {
        const context = contextOf(request);
        const subscription = await accounts.setEnabled(
          request.params.customer_id,
          request.body.enabled,
          context.actor,
          request.body.reason,
          requestOf(context),
        );
        return staffView(subscription);
      },
    );
  };
}
