/** Request and response schemas of `/api/v1/auth`. */
import { Type } from 'typebox';

export const LoginBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 254, description: 'Username, email or E.164 phone' }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
});

export const TokenPair = Type.Object({
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the access token expires' }),
  refresh_expires_in: Type.Integer({ description: 'Seconds until the refresh token expires' }),
});

export const RefreshBody = Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 4096 }) });

export const UserView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  username: Type.String(),
  email: Type.String(),
  phone: Type.Union([Type.String(), Type.Null()]),
  full_name: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('suspended'), Type.Literal('disabled')]),
  roles: Type.Array(Type.String()),
  must_change_password: Type.Boolean(),
  last_login_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

export const MeView = Type.Object({
  type: Type.Union([Type.Literal('user'), Type.Literal('customer'), Type.Literal('agent_operator')]),
  id: Type.String(),
  roles: Type.Array(Type.String()),
  permissions: Type.Array(Type.String()),
  user: Type.Union([UserView, Type.Null()]),
});

export const SessionView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  current: Type.Boolean(),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  last_refreshed_at: Type.String({ format: 'date-time' }),
  expires_at: Type.String({ format: 'date-time' }),
});

export const SessionList = Type.Object({ items: Type.Array(SessionView) });
export const SessionParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const RevokedCount = Type.Object({ revoked: Type.Integer() });

export const PasswordChangeBody = Type.Object({
  current_password: Type.String({ minLength: 1, maxLength: 1024 }),
  new_password: Type.String({ minLength: 1, maxLength: 1024 }),
});

export const RegisterBody = Type.Object({
  username: Type.String({ minLength: 3, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' }),
  email: Type.String({ format: 'email', maxLength: 254 }),
  full_name: Type.String({ minLength: 1, maxLength: 200 }),
  phone: Type.Optional(Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$', description: 'E.164' })),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  roles: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20, default: [] }),
  must_change_password: Type.Optional(
    Type.Boolean({ description: 'Force a change at first login (default true, as for /user/user/add)' }),
  ),
});

export const Jwks = Type.Object({ keys: Type.Array(Type.Object({}, { additionalProperties: true })) });
export const Empty = Type.Null({ description: 'No content' });

export const OtpFactor = Type.Union([Type.Literal('sms_otp'), Type.Literal('email_otp')]);

export const Factor = Type.Union([
  Type.Literal('totp'),
  Type.Literal('recovery_code'),
  Type.Literal('security_questions'),
  Type.Literal('sms_otp'),
  Type.Literal('email_otp'),
]);

const Question = Type.Object({ code: Type.String(), text: Type.String() });
const Answer = Type.Object({
  question: Type.String({ maxLength: 64 }),
  answer: Type.String({ minLength: 1, maxLength: 200 }),
});

export const MfaChallenge = Type.Object({
  mfa_required: Type.Literal(true),
  mfa_token: Type.String({ description: 'Pass to /api/v1/auth/mfa/verify with a code; 5 tries, 5 minutes' }),
  factors: Type.Array(Factor),
  questions: Type.Array(Question, {
    description: 'The two security questions to answer, when that factor is offered',
  }),
  expires_in: Type.Integer(),
});

export const LoginResult = Type.Union([TokenPair, MfaChallenge]);

export const MfaVerifyBody = Type.Object({
  mfa_token: Type.String({ minLength: 1, maxLength: 4096 }),
  factor: Factor,
  code: Type.Optional(
    Type.String({ minLength: 6, maxLength: 20, description: 'TOTP, recovery, SMS or email code' }),
  ),
  answers: Type.Optional(Type.Array(Answer, { maxItems: 5, description: 'Answers to the questions asked' })),
});

export const QuestionCatalogue = Type.Object({ items: Type.Array(Question) });
export const QuestionsBody = Type.Object({
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  answers: Type.Array(Answer, { minItems: 3, maxItems: 5 }),
});
export const QuestionsStatus = Type.Object({ enabled: Type.Boolean(), questions: Type.Array(Type.String()) });

export const TotpStatus = Type.Object({
  enabled: Type.Boolean(),
  pending: Type.Boolean(),
  confirmed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  recovery_codes_remaining: Type.Integer(),
});

export const TotpEnrolment = Type.Object({
  secret: Type.String({ description: 'Base32 secret for manual entry; shown once' }),
  otpauth_uri: Type.String(),
  qr_png: Type.String({
    pattern: '^data:image/png;base64,',
    description: 'The QR code of the otpauth URI as a PNG data URI (data:image/png;base64,…)',
  }),
});

export const TotpCodeBody = Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }) });
export const RecoveryCodes = Type.Object({
  recovery_codes: Type.Array(Type.String(), {
    description: 'Single-use codes, shown once: store them safely',
  }),
});
export const PasswordBody = Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) });

export const PasswordForgotBody = Type.Object({
  username: Type.Optional(
    Type.String({ minLength: 1, maxLength: 254, description: 'Username, email or E.164 phone' }),
  ),
  email: Type.Optional(Type.String({ minLength: 3, maxLength: 254, description: 'The account email' })),
});

export const PasswordForgotAccepted = Type.Object({
  message: Type.String(),
  expires_in: Type.Integer({ description: 'Seconds a reset token stays valid' }),
});

export const PasswordResetBody = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 256, description: 'The token from the reset message' }),
  new_password: Type.String({ minLength: 1, maxLength: 1024 }),
});

export const MfaSendBody = Type.Object({
  mfa_token: Type.String({ minLength: 1, maxLength: 4096 }),
  factor: OtpFactor,
});

export const CodeSent = Type.Object({
  factor: OtpFactor,
  channel: Type.Union([Type.Literal('sms'), Type.Literal('email')]),
  destination: Type.String({ description: 'Where the code went, masked' }),
  expires_at: Type.String({ format: 'date-time' }),
});

export const LoginCodeSent = Type.Object({
  ...CodeSent.properties,
  expires_in: Type.Integer({ description: 'Seconds the code stays valid' }),
});

export const OtpFactorStatus = Type.Object({
  enabled: Type.Boolean(),
  pending: Type.Boolean(),
  destination: Type.Union([Type.String({ description: 'Masked phone or email' }), Type.Null()]),
  confirmed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const FactorList = Type.Object({
  items: Type.Array(
    Type.Object({
      factor: Type.Union([
        Type.Literal('totp'),
        Type.Literal('sms_otp'),
        Type.Literal('email_otp'),
        Type.Literal('security_questions'),
      ]),
      enabled: Type.Boolean(),
      pending: Type.Boolean(),
      destination: Type.Union([Type.String(), Type.Null()]),
      confirmed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    }),
  ),
  recovery_codes_remaining: Type.Integer(),
});

const DeviceId = Type.String({
  pattern: '^[A-Za-z0-9._:-]{1,128}$',
  description: 'The id the device chose for itself (stable per install)',
});
const ChallengeId = Type.String({ pattern: '^[A-Za-z0-9_-]{24}$', description: 'Push challenge id' });

export const Ed25519Jwk = Type.Object(
  {
    kty: Type.Literal('OKP'),
    crv: Type.Literal('Ed25519'),
    x: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'The 32-byte public key, base64url' }),
    kid: Type.Optional(Type.String({ maxLength: 200 })),
    alg: Type.Optional(Type.Literal('EdDSA')),
    use: Type.Optional(Type.Literal('sig')),
  },
  { additionalProperties: false, description: 'Ed25519 public key as an OKP JWK (no private member)' },
);

export const DeviceRegisterBody = Type.Object({
  device_id: DeviceId,
  name: Type.String({ minLength: 1, maxLength: 100 }),
  platform: Type.Union([Type.Literal('ios'), Type.Literal('android'), Type.Literal('web')]),
  public_key: Type.Union([
    Type.String({ minLength: 40, maxLength: 2000, description: 'Ed25519 public key, SPKI PEM' }),
    Ed25519Jwk,
  ]),
  push_token: Type.String({ minLength: 1, maxLength: 4096, description: 'FCM/APNs/web-push token' }),
});

export const DeviceView = Type.Object({
  device_id: Type.String(),
  name: Type.String(),
  platform: Type.Union([Type.Literal('ios'), Type.Literal('android'), Type.Literal('web')]),
  key_fingerprint: Type.String({ description: 'SHA-256 of the SPKI public key, base64url' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const DeviceList = Type.Object({ items: Type.Array(DeviceView) });
export const DeviceParams = Type.Object({ device_id: DeviceId });

const PushPurpose = Type.Union([Type.Literal('login'), Type.Literal('transaction')]);
const PushDetails = Type.Record(
  Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$' }),
  Type.Union([Type.String({ maxLength: 200 }), Type.Integer({ format: 'int64' })]),
  {
    maxProperties: 10,
    additionalProperties: false,
    description: 'What the device shows, e.g. {"amount": 150000, "currency": "KES", "payee": "…"}',
  },
);

export const PushChallengeBody = Type.Object({
  purpose: PushPurpose,
  details: Type.Optional(PushDetails),
  device_id: Type.Optional(DeviceId),
});

export const PushChallengeView = Type.Object({
  challenge_id: Type.String(),
  purpose: PushPurpose,
  status: Type.Union([
    Type.Literal('pending'),
    Type.Literal('approved'),
    Type.Literal('denied'),
    Type.Literal('expired'),
  ]),
  details: Type.Record(Type.String(), Type.Union([Type.String(), Type.Integer()])),
  expires_at: Type.String({ format: 'date-time' }),
  responded_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const PushChallengeCreated = Type.Object({
  ...PushChallengeView.properties,
  devices: Type.Integer({ description: 'How many devices the challenge went to' }),
});

export const PushChallengeParams = Type.Object({ id: ChallengeId });

export const PushRespondBody = Type.Object({
  challenge_id: ChallengeId,
  device_id: DeviceId,
  decision: Type.Union([Type.Literal('approve'), Type.Literal('deny')]),
  signature: Type.String({
    pattern: '^[A-Za-z0-9+/_-]{86}(==)?$',
    description:
      'Ed25519 signature (base64 or base64url) of the UTF-8 string ' +
      '`codeforge-push-v1|<challenge_id>|<decision>|<nonce>`, nonce from the push message',
  }),
});

export const PushRespondResult = Type.Object({
  challenge_id: Type.String(),
  status: Type.Union([Type.Literal('approved'), Type.Literal('denied')]),
});
