/** Request and response schemas of the Didit identity routes (start, webhook, browser callback). */
import { Type } from 'typebox';
import { StateSchema } from './onboarding.journey.schemas.ts';

const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });

export const DiditStartBody = Type.Object(
  {
    first_name: Name,
    last_name: Name,
    date_of_birth: Type.String({ format: 'date', description: 'YYYY-MM-DD.' }),
    national_id: Type.String({
      minLength: 3,
      maxLength: 32,
      pattern: '^[A-Za-z0-9 -]+$',
      description:
        'Compared with the document number Didit reads (the document must be of `national_id_type`); unique ' +
        'among customers for automatic approval.',
    }),
    national_id_type: Type.Optional(
      Type.Union([Type.Literal('national_id'), Type.Literal('passport'), Type.Literal('alien_id')], {
        description: 'The kind of document `national_id` names (default national_id).',
      }),
    ),
    nationality: Type.Optional(
      Type.String({
        pattern: '^[A-Z]{2}$',
        description: 'ISO 3166-1 alpha-2 (e.g. KE), as customers keep it; Didit is sent alpha-3.',
      }),
    ),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
  },
  { additionalProperties: false },
);

export const DiditStartAnswer = Type.Object({
  state: StateSchema,
  expected_steps: Type.Array(Type.String()),
  didit_session_id: Type.String(),
  didit_status: Type.String({ description: 'Didit’s session status when the answer was made.' }),
  verification_url: Type.String({
    description:
      'Open it (browser or the Didit SDK) to verify the document and the selfie. The decision then arrives by ' +
      'webhook, the browser callback or polling: follow `GET /mobile/register/status`.',
  }),
});

export const DiditWebhookAnswer = Type.Object({
  status: Type.Union(
    [Type.Literal('applied'), Type.Literal('recorded'), Type.Literal('duplicate'), Type.Literal('ignored')],
    {
      description:
        'applied: the registration moved; recorded: the status was noted (nothing to do yet); duplicate: this ' +
        'session and status were received before (no second effect); ignored: stale, or not a session of ours.',
    },
  ),
});

export const DiditCallbackQuery = Type.Object({
  verificationSessionId: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9-]+$' }),
  status: Type.Optional(
    Type.String({ maxLength: 64, description: 'Ignored: the decision is always fetched from Didit.' }),
  ),
});

export const DiditCallbackAnswer = Type.Object({
  state: StateSchema,
  expected_steps: Type.Array(Type.String()),
  didit_status: Type.String(),
});
