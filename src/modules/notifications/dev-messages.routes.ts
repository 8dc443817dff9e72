/**
 * `GET /api/v1/dev/messages`: what the development message sink kept (codes, reset links), for staff holding
 * `dev:message_read`. Mounted only while the sink is on, so the route does not exist in production.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { DevMessageSink } from './dev-sink.ts';

const DevMessageView = Type.Object({
  id: Type.String({ description: 'Also the notification’s `provider_message_id` (provider `dev_sink`)' }),
  channel: Type.Union([Type.Literal('sms'), Type.Literal('email')]),
  to: Type.String({ description: 'E.164 phone number or lower-case email address' }),
  subject: Type.Union([Type.String(), Type.Null()]),
  body: Type.String(),
  html: Type.Union([Type.String(), Type.Null()]),
  kept_at: Type.String({ format: 'date-time' }),
});

const DevMessageQuery = Type.Object(
  {
    to: Type.Optional(
      Type.String({
        minLength: 3,
        maxLength: 254,
        description: 'One recipient (a phone number in any common form, or an email address)',
      }),
    ),
    channel: Type.Optional(Type.Union([Type.Literal('sms'), Type.Literal('email')])),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  },
  { additionalProperties: false },
);

export function devMessageRoutes(sink: DevMessageSink): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/dev/messages',
      {
        config: { access: { permission: 'dev:message_read' } },
        schema: {
          operationId: 'listDevMessages',
          tags: ['dev'],
          summary: 'Messages kept by the development message sink, newest first (not in production)',
          description:
            'With no SMS or email provider configured and `DEV_MESSAGE_SINK` on (the default outside production), ' +
            'messages on that channel are kept here instead of sent: the last `DEV_MESSAGE_SINK_SIZE` per recipient, ' +
            'for a day. Read an MFA code, a password-reset link or a payment code here to finish the flow. The ' +
            'route does not exist when the sink is off, which production requires.',
          querystring: DevMessageQuery,
          response: {
            200: Type.Object(
              { items: Type.Array(DevMessageView) },
              {
                examples: [
                  {
                    items: [
                      {
                        id: '01936b4e-7f2a-7c1d-9a4b-2f1e3d4c5b6a',
                        channel: 'sms',
                        to: '+254712345678',
                        subject: null,
                        body: 'Your CodeForge code is 482913. It expires in 5 minutes.',
                        html: null,
                        kept_at: '2026-01-15T09:30:00.000Z',
                      },
                    ],
                  },
                ],
              },
            ),
          },
        },
      },
      async (request) => ({
        items: await sink.list({
          limit: request.query.limit,
          ...(request.query.to === undefined ? {} : { to: request.query.to }),
          ...(request.query.channel === undefined ? {} : { channel: request.query.channel }),
        }),
      }),
    );
  };
}
