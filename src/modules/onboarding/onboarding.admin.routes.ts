/** Staff routes of the journey: the funnel, publishing terms and privacy versions, the registration deny list. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf } from '../../platform/http.ts';
import type { Consent } from './onboarding.consent.ts';
import type { DenyList } from './onboarding.denylist.ts';
import type { Funnel } from './onboarding.funnel.ts';
import {
  DenyListBody,
  DocumentPublish,
  DocumentView,
  FunnelAnswer,
  FunnelQuery,
} from './onboarding.journey.schemas.ts';

export function adminRoutes(funnel: Funnel, consent: Consent, denyList: DenyList): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/mobile/register/funnel',
      {
        config: { access: { permission: 'onboarding:read' }, errors: [] },
        schema: {
          operationId: 'registerFunnel',
          tags: ['onboarding'],
          summary:
            'The registration funnel: registrations reaching each step, drop-off and median time per step',
          querystring: FunnelQuery,
          response: { 200: FunnelAnswer },
        },
      },
      async (request) => funnel.report(request.query),
    );
    app.post(
      '/api/v1/mobile/register/documents/publish',
      {
        config: { access: { permission: 'onboarding:manage' }, errors: ['REGISTRATION_DOCUMENT_EXISTS'] },
        schema: {
          operationId: 'registerDocumentPublish',
          tags: ['onboarding'],
          summary: 'Publish a new version of the terms or the privacy policy (immutable once published)',
          body: DocumentPublish,
          response: { 201: DocumentView },
        },
      },
      async (request, reply) => reply.code(201).send(await consent.publish(request.body, contextOf(request))),
    );
    app.post(
      '/api/v1/mobile/register/denylist/add',
      {
        config: { access: { permission: 'onboarding:manage' }, errors: [] },
        schema: {
          operationId: 'registerDenyListAdd',
          tags: ['onboarding'],
          summary: 'Refuse registration from a phone number or device, or auto-approval for a national ID',
          body: DenyListBody,
          response: { 200: Type.Object({ added: Type.Boolean() }) },
        },
      },
      async (request) => denyList.add(request.body, contextOf(request)),
    );
  };
}
