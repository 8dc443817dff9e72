/**
 * Provider delivery reports. Each is verified the provider's way (Twilio: X-Twilio-Signature over the public URL and
 * the form; SendGrid: ECDSA over timestamp + raw body; Africa's Talking signs nothing, so its reports come to a
 * secret path) and recorded once per provider event, so a report delivered several times changes state once.
 * A report that fails verification is a 403 and touches nothing.
 */
import { timingSafeEqual } from 'node:crypto';
import { parse as parseQuery } from 'node:querystring';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  parseSendGridEvents,
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
  verifySendGridSignature,
} from '../../integrations/sendgrid/sendgrid.webhook.ts';
import { verifyTwilioSignature } from '../../integrations/twilio/twilio.signature.ts';
import { commonErrors } from '../../platform/errors.ts';
import type { NotificationsConfig } from './notifications.config.ts';
import type { NotificationDelivery } from './notifications.delivery.ts';
import { CallbackAccepted, SecretParams } from './notifications.schemas.ts';

const tags = ['notify'];

function formFields(body: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  if (!body || typeof body !== 'object') return fields;
  for (const [key, value] of Object.entries(body as Record<string, unknown>))
    fields[key] = Array.isArray(value) ? String(value[0]) : String(value);
  return fields;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A secret or key, or several during a rotation (comma-separated, current first). */
function listOf(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

const forged = () => commonErrors.forbidden('The callback could not be verified');

/** `config`: the module's variables (provider tokens and secrets); `publicBaseUrl`: the URL Twilio signed. */
export function callbackRoutes(
  config: NotificationsConfig,
  publicBaseUrl: string,
  delivery: NotificationDelivery,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Providers post forms; signatures are over exact bytes, so bodies are kept as text and parsed here.
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, done) => done(null, parseQuery(String(body))),
    );
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) =>
      done(null, body),
    );

    app.post(
      '/api/v1/notify/callback/twilio',
      {
        config: { access: { public: true } },
        schema: {
          operationId: 'twilioStatusCallback',
          tags,
          summary: 'Twilio message status callback (X-Twilio-Signature verified)',
          response: { 200: CallbackAccepted },
        },
      },
      async (request) => {
        const tokens = [config.TWILIO_AUTH_TOKEN, config.TWILIO_AUTH_TOKEN_PREVIOUS].filter(
          (token): token is string => Boolean(token),
        );
        const fields = formFields(request.body);
        const url = `${publicBaseUrl.replace(/\/$/, '')}${request.url}`;
        const signature = request.headers['x-twilio-signature'];
        if (!tokens.some((token) => verifyTwilioSignature(token, url, fields, signature))) throw forged();
        const sid = fields.MessageSid ?? fields.SmsSid;
        const status = fields.MessageStatus ?? fields.SmsStatus;
        if (!sid || !status) throw commonErrors.badRequest('MessageSid and MessageStatus are required');
        const outcome = await delivery.report({
          provider: 'twilio',
          eventKey: `${sid}:${status}`,
          providerMessageId: sid,
          providerStatus: status,
          errorCode: fields.ErrorCode ?? null,
          payload: fields,
        });
        return { status: outcome };
      },
    );

    app.post(
      '/api/v1/notify/callback/africastalking/:secret',
      {
        config: { access: { public: true }, secretParams: ['secret'] },
        schema: {
          operationId: 'africasTalkingDeliveryReport',
          tags,
          summary: "Africa's Talking SMS delivery report (unsigned: behind AFRICASTALKING_CALLBACK_SECRET)",
          params: SecretParams,
          response: { 200: CallbackAccepted },
        },
      },
      async (request) => {
        // Every configured secret is compared (no early exit), so timing does not tell which one nearly matched.
        const matches = listOf(config.AFRICASTALKING_CALLBACK_SECRET).map((secret) =>
          sameSecret(request.params.secret, secret),
        );
        if (!matches.includes(true)) throw commonErrors.notFound('Route');
        const fields = formFields(request.body);
        if (!fields.id || !fields.status) throw commonErrors.badRequest('id and status are required');
        const outcome = await delivery.report({
          provider: 'africastalking',
          eventKey: `${fields.id}:${fields.status}`,
          providerMessageId: fields.id,
          providerStatus: fields.status,
          errorCode: fields.failureReason ?? null,
          payload: fields,
        });
        return { status: outcome };
      },
    );

    app.post(
      '/api/v1/notify/callback/sendgrid',
      {
        config: { access: { public: true } },
        schema: {
          operationId: 'sendGridEventWebhook',
          tags,
          summary: 'SendGrid event webhook (ECDSA signature and timestamp verified)',
          response: { 200: CallbackAccepted },
        },
      },
      async (request) => {
        const keys = listOf(config.SENDGRID_WEBHOOK_PUBLIC_KEY);
        const raw = typeof request.body === 'string' ? request.body : '';
        const signature = request.headers[SENDGRID_SIGNATURE_HEADER];
        const timestamp = request.headers[SENDGRID_TIMESTAMP_HEADER];
        if (
          typeof signature !== 'string' ||
          typeof timestamp !== 'string' ||
          !keys.some((key) => verifySendGridSignature(key, raw, signature, timestamp))
        )
          throw forged();
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw);
        } catch {
          throw commonErrors.badRequest('The body is not JSON');
        }
        let recorded = 0;
        for (const event of parseSendGridEvents(parsed)) {
          const outcome = await delivery.report({
            provider: 'sendgrid',
            eventKey: event.sg_event_id,
            providerMessageId: event.sg_message_id.split('.')[0]!,
            providerStatus: event.event,
            errorCode: event.event === 'bounce' || event.event === 'dropped' ? event.event : null,
            payload: { ...event },
          });
          if (outcome === 'recorded') recorded += 1;
        }
        return { status: recorded > 0 ? ('recorded' as const) : ('duplicate' as const) };
      },
    );
  };
}
