/**
 * The Didit identity routes: the app's identity step (path B), Didit's webhook and the browser callback. The webhook
 * has its own plugin because its body is kept as text: X-Signature (V1) signs the exact bytes, and X-Signature-V2 is
 * checked over the canonical JSON of what they parse to (big integers kept exact).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf } from '../../platform/http.ts';
import {
  DiditCallbackAnswer,
  DiditCallbackQuery,
  DiditStartAnswer,
  DiditStartBody,
  DiditWebhookAnswer,
} from './onboarding.didit.schemas.ts';
import type { DiditArea } from './onboarding.didit.ts';
import { RegistrationHeaders } from './onboarding.journey.schemas.ts';

const tags = ['onboarding'];

export function diditRoutes(didit: DiditArea): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/mobile/register/identity/didit',
      {
        config: {
          access: { public: true },
          errors: [
            'REGISTRATION_TOKEN_INVALID',
            'REGISTRATION_EXPIRED',
            'REGISTRATION_STEP_OUT_OF_ORDER',
            'DIDIT_NOT_CONFIGURED',
            'DIDIT_UNAVAILABLE',
          ],
        },
        schema: {
          operationId: 'registerIdentityDidit',
          tags,
          summary: 'Identity path B: open a Didit verification for a new customer and get its URL',
          description:
            'Takes the declared details (sealed on the registration; sent to Didit as `expected_details`, with the ' +
            'registration as `vendor_data`) and answers the verification URL. The decision then arrives by ' +
            'webhook, the browser callback or polling; follow `GET /mobile/register/status`: identity_verified ' +
            '(continue), identity_review (wait), declined (ended, with a reason) or identity_expired (send this ' +
            'step again for a new session). The same request sent again answers the same.',
          headers: RegistrationHeaders,
          body: DiditStartBody,
          response: { 201: DiditStartAnswer },
        },
      },
      async (request, reply) => {
        const { statusCode, answer } = await didit.start(
          {
            token: request.headers['x-registration-token'],
            deviceId: request.headers['x-device-id'],
            idempotencyKey: request.headers['idempotency-key'],
          },
          request.body,
          contextOf(request),
        );
        return reply.code(statusCode as 201).send(answer);
      },
    );

    app.get(
      '/api/v1/mobile/register/didit/callback',
      {
        config: {
          access: { public: true },
          errors: ['NOT_FOUND', 'DIDIT_NOT_CONFIGURED', 'DIDIT_UNAVAILABLE'],
        },
        schema: {
          operationId: 'registerDiditCallback',
          tags,
          summary: 'Where Didit returns the browser: the decision is fetched from Didit and applied',
          description:
            'Didit appends `verificationSessionId` and `status`; the status is ignored (anyone can type a URL) and ' +
            'the decision is fetched from Didit. Answers where the registration stands.',
          querystring: DiditCallbackQuery,
          response: { 200: DiditCallbackAnswer },
        },
      },
      async (request) => didit.callback(request.query.verificationSessionId),
    );
  };
}

export function diditWebhookRoutes(didit: DiditArea): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
      done(null, body),
    );

    app.post(
      '/api/v1/mobile/register/didit/webhook',
      {
        config: {
          access: { public: true },
          errors: ['DIDIT_WEBHOOK_UNVERIFIED', 'DIDIT_NOT_CONFIGURED', 'DIDIT_UNAVAILABLE'],
        },
        schema: {
          operationId: 'registerDiditWebhook',
          tags,
          summary:
            'Didit webhook (X-Signature-V2 and X-Timestamp verified; one effect per session and status)',
          description:
            'Verifies X-Signature-V2 over the canonical JSON of the body (or X-Signature over the raw bytes, or ' +
            'X-Signature-Simple, whose unsigned decision is then fetched from Didit) with the webhook secret or the ' +
            'previous one, and X-Timestamp within 300 s; 401 otherwise, with nothing recorded. A session and ' +
            'status received before answers `duplicate` and changes nothing.',
          response: { 200: DiditWebhookAnswer },
        },
      },
      async (request) => {
        const raw = typeof request.body === 'string' ? request.body : '';
        return { status: await didit.webhook(request.headers, raw) };
      },
    );
  };
}
