/** The topics identity publishes: a password-reset link, a push approval, a sign-in from a new device. */
import { Type } from 'typebox';
import { defineTopic, Nullable } from '../../platform/events.ts';

const Principal = Type.Union([Type.Literal('user'), Type.Literal('customer')]);

export const passwordResetRequested = defineTopic(
  'password.reset_requested',
  1,
  Type.Object(
    {
      user_id: Type.String(),
      reset_id: Type.String(),
      channel: Type.Literal('email'),
      email: Type.String(),
      name: Type.Optional(
        Type.String({ description: "The user's full name, for the greeting (always sent)." }),
      ),
      expires_at: Type.String({ description: 'ISO 8601 time the link stops working.' }),
      token_sealed: Type.String({
        description: 'The reset token in an envelope bound to `password-reset:<reset_id>`.',
      }),
    },
    { additionalProperties: false },
  ),
  'A staff user asked to reset their password; the link goes by email.',
);

export const pushChallenge = defineTopic(
  'push.challenge',
  1,
  Type.Object(
    {
      challenge_id: Type.String(),
      principal_type: Principal,
      principal_id: Type.String(),
      purpose: Type.String({ description: 'login or payment' }),
      details: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()])),
      nonce: Type.String(),
      expires_at: Type.String(),
      devices: Type.Array(
        Type.Object({
          device_id: Type.String(),
          platform: Type.String(),
          push_token: Nullable(Type.String()),
        }),
      ),
    },
    { additionalProperties: false },
  ),
  'An approval request pushed to the principal’s registered devices.',
);

export const newDeviceLogin = defineTopic(
  'auth.new_device_login',
  1,
  Type.Object(
    {
      principal_type: Principal,
      principal_id: Type.String(),
      device: Type.String({ description: 'The user agent, at most 120 characters.' }),
      ip: Nullable(Type.String()),
      at: Type.String({ description: 'ISO 8601 time of the sign-in.' }),
    },
    { additionalProperties: false },
  ),
  'A sign-in from a device (user agent) the principal has not used before.',
);

export const identityTopics = [passwordResetRequested, pushChallenge, newDeviceLogin];
