/** HTTP routes of `/api/v1/onboarding`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import { IdParams, ItemCreate, ItemView } from './onboarding.schemas.ts';
import type { OnboardingService } from './onboarding.service.ts';

export function onboardingRoutes(service: OnboardingService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/onboarding/item/add',
      {
        config: {
          access: { permission: 'onboarding:manage', allowCustomer: true },
          // The codes it may answer beyond the generic ones (the test harness fails on an undeclared one).
          errors: ['ONBOARDING_REFERENCE_TAKEN', 'NOT_FOUND'],
        },
        schema: {
          operationId: 'addOnboardingItem',
          tags: ['onboarding'],
          summary: 'Create an item (customers: their own)',
          body: ItemCreate,
          response: { 201: ItemView },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(await service.create(requirePrincipal(request), request.body, contextOf(request))),
    );

    app.get(
      '/api/v1/onboarding/item/:id',
      {
        config: { access: { permission: 'onboarding:read', allowCustomer: true }, errors: ['NOT_FOUND'] },
        schema: {
          operationId: 'getOnboardingItem',
          tags: ['onboarding'],
          summary: 'One item (customers: their own)',
          params: IdParams,
          response: { 200: ItemView },
        },
      },
      async (request) => service.get(requirePrincipal(request), request.params.id),
    );
  };
}
