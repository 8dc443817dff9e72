/** Request and response schemas of the journey's routes (phone check, status, OTPs, documents, PIN, funnel). */
import { type TSchema, Type } from 'typebox';
import { type RegistrationState, type RegistrationStep, STATES, STEPS } from './onboarding.machine.ts';

/** The headers of every step after the phone check: the token it gave, and the device it is bound to. */
export const RegistrationHeaders = Type.Object({
  'x-registration-token': Type.String({
    minLength: 1,
    maxLength: 200,
    description: 'The registration token `POST /api/v1/mobile/register/phone/check` answered.',
  }),
  'x-device-id': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 128,
      description: 'The device the registration started on; another device id is refused.',
    }),
  ),
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 128,
      description:
        'A step sent again with the same body (and key) answers the same; a new key asks again (resend a code).',
    }),
  ),
});

export const StateSchema = Type.Unsafe<RegistrationState>({ type: 'string', enum: [...STATES] });
export const StepSchema = Type.Unsafe<RegistrationStep>({ type: 'string', enum: [...STEPS] });

export const PhoneCheckBody = Type.Object(
  {
    phone: Type.String({ minLength: 3, maxLength: 32, description: 'The mobile number, ideally E.164.' }),
    device_id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' }),
    app_version: Type.String({ minLength: 1, maxLength: 32 }),
    language: Type.String({ minLength: 2, maxLength: 12, pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$' }),
  },
  { additionalProperties: false },
);

export const PhoneCheckAnswer = Type.Object({
  registration_token: Type.String({ description: 'Opaque; send it as `X-Registration-Token`. Shown once.' }),
  expires_at: Type.String({ format: 'date-time' }),
  next_step: Type.String({
    description:
      '`identity` (CBS lookup or Didit), a later step when a registration of this device is resumed, or ' +
      '`sign_in` when the number belongs to a customer (sign in, or reset the PIN).',
  }),
  expected_steps: Type.Array(Type.String()),
});

export const StatusAnswer = Type.Object({
  state: StateSchema,
  path: Type.Union([Type.Literal('cbs'), Type.Literal('didit'), Type.Null()]),
  expected_steps: Type.Array(Type.String()),
  expires_at: Type.String({ format: 'date-time' }),
  phone: Type.Union([Type.String({ description: 'Masked.' }), Type.Null()]),
  language: Type.String(),
  email_optional: Type.Boolean(),
  phone_verified: Type.Boolean(),
  email_verified: Type.Boolean(),
  email_skipped: Type.Boolean(),
  terms_accepted: Type.Boolean(),
  credentials_set: Type.Boolean(),
  device_bound: Type.Boolean({
    description: 'The PIN step sent a device key: activation registers (or registered) the device.',
  }),
  identity: Type.Union([
    Type.Object({
      assurance: Type.Union([Type.String(), Type.Null()]),
      mismatches: Type.Array(Type.String()),
      didit_status: Type.Union([Type.String(), Type.Null()]),
    }),
    Type.Null(),
  ]),
  reason: Type.Union([
    Type.String({ description: 'Why it was declined or rejected, or what to fix.' }),
    Type.Null(),
  ]),
  reopened_step: Type.Union([Type.String(), Type.Null()]),
  customer_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  version: Type.Integer(),
});

export const OtpSendBody = Type.Object({}, { additionalProperties: false });
export const EmailOtpSendBody = Type.Object(
  { email: Type.String({ format: 'email', maxLength: 254 }) },
  { additionalProperties: false },
);
export const OtpSent = Type.Object({
  challenge_id: Type.String(),
  expires_at: Type.String({ format: 'date-time' }),
  channel: Type.Union([Type.Literal('sms'), Type.Literal('email')]),
  sent_to: Type.String({ description: 'Masked.' }),
});
export const OtpVerifyBody = Type.Object(
  {
    challenge_id: Type.String({ minLength: 16, maxLength: 64 }),
    code: Type.String({ pattern: '^[0-9]{6}$' }),
  },
  { additionalProperties: false },
);
export const EmptyBody = Type.Object({}, { additionalProperties: false });

export const StepAnswer = Type.Object({
  state: StateSchema,
  expected_steps: Type.Array(Type.String()),
});

export const DocumentView = Type.Object({
  kind: Type.Union([Type.Literal('terms'), Type.Literal('privacy')]),
  version: Type.String(),
  language: Type.String(),
  title: Type.String(),
  body: Type.String(),
  content_hash: Type.String({
    description: 'SHA-256 of the body (hex): send it back to accept this version.',
  }),
  published_at: Type.String({ format: 'date-time' }),
});
export const DocumentsQuery = Type.Object({
  language: Type.Optional(Type.String({ minLength: 2, maxLength: 12 })),
});
export const CurrentDocuments = Type.Object({ terms: DocumentView, privacy: DocumentView });
export const DocumentPublish = Type.Object(
  {
    kind: Type.Union([Type.Literal('terms'), Type.Literal('privacy')]),
    version: Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9._-]+$' }),
    language: Type.String({ minLength: 2, maxLength: 12, pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$' }),
    title: Type.String({ minLength: 1, maxLength: 200 }),
    body: Type.String({ minLength: 1, maxLength: 200_000 }),
  },
  { additionalProperties: false },
);
export const TermsAcceptBody = Type.Object(
  {
    terms_hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    privacy_hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  },
  { additionalProperties: false },
);
export const PinSetBody = Type.Object(
  {
    pin: Type.String({ minLength: 1, maxLength: 12 }),
    device_public_key: Type.Optional(
      Type.String({
        minLength: 40,
        maxLength: 2000,
        description:
          "The device's Ed25519 public key, SPKI PEM (the private key stays on the device). With it, activation " +
          'registers the device for push approvals; a key that is not an Ed25519 public key answers 422 ' +
          '`INVALID_PUBLIC_KEY`.',
      }),
    ),
    device_platform: Type.Optional(
      Type.Union([Type.Literal('ios'), Type.Literal('android'), Type.Literal('web')], {
        description: 'Required with `device_public_key`.',
      }),
    ),
    device_name: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'Shown in the customer’s device list.' }),
    ),
    push_token: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        description: 'FCM/APNs/web-push token, only with `device_public_key`.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const PinSetAnswer = Type.Object({
  state: StateSchema,
  expected_steps: Type.Array(Type.String()),
  device_bound: Type.Boolean({
    description:
      'True when a device key was sent: activation registers this device for push approvals. False: the app ' +
      'registers the device after sign-in (`POST /api/v1/auth/device/register`).',
  }),
});

export const FunnelQuery = Type.Object({
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
});
export const FunnelAnswer = Type.Object({
  from: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  to: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  started: Type.Integer({ description: 'Registrations started (phone checks of eligible numbers).' }),
  by_state: Type.Record(Type.String(), Type.Integer()),
  steps: Type.Array(
    Type.Object({
      step: Type.String(),
      reached: Type.Integer({ description: 'Registrations that did this step.' }),
      drop_off: Type.Integer({
        description: 'Registrations that reached the previous funnel step but not this one.',
      }),
      median_seconds: Type.Union([
        Type.Number({ description: 'Median time from the previous funnel step to this one.' }),
        Type.Null(),
      ]),
    }),
  ),
});

export const DenyListBody = Type.Object(
  {
    kind: Type.Union([Type.Literal('phone'), Type.Literal('device'), Type.Literal('national_id')]),
    value: Type.String({ minLength: 1, maxLength: 128 }),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
);

export type Schema = TSchema;
