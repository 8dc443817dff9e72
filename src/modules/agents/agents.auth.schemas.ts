/** TypeBox schemas of the operator sign-in routes and `/agent/me`. */
import { Type } from 'typebox';
import { OperatorView } from './agents.network.schemas.ts';

const DeviceId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]{1,128}$' });
const Phone = Type.String({ minLength: 4, maxLength: 32, description: 'E.164' });

export const ChallengeBody = Type.Object(
  { phone: Phone, device_id: DeviceId },
  { additionalProperties: false },
);
export const ChallengeView = Type.Object({
  nonce: Type.String({
    description: 'Sign `agent-login:{nonce}:{device_id}` with the device key; single use',
  }),
  expires_in: Type.Integer({ description: 'Seconds the nonce lives' }),
});

export const LoginBody = Type.Object(
  {
    phone: Phone,
    device_id: DeviceId,
    pin: Type.String({ pattern: '^[0-9]{6}$' }),
    nonce: Type.String({ minLength: 8, maxLength: 128 }),
    signature: Type.String({
      minLength: 64,
      maxLength: 128,
      description:
        'Ed25519 signature (base64) of `agent-login:{nonce}:{device_id}` with the bound device’s key',
    }),
  },
  { additionalProperties: false },
);

export const AdminLoginBody = Type.Object(
  { phone: Phone, password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

export const AdminMfaChallenge = Type.Object({
  mfa_required: Type.Literal(true),
  factors: Type.Array(Type.String()),
  mfa_token: Type.String(),
  expires_in: Type.Integer(),
});

export const AdminVerifyBody = Type.Object(
  {
    mfa_token: Type.String({ minLength: 10, maxLength: 4096 }),
    code: Type.String({ minLength: 4, maxLength: 12 }),
  },
  { additionalProperties: false },
);

export const MeView = Type.Object({
  operator: OperatorView,
  role: Type.Enum(['teller', 'agent_admin']),
  permissions: Type.Array(Type.String()),
  agent: Type.Object({
    id: Type.String({ format: 'uuid' }),
    agent_number: Type.String(),
    business_name: Type.String(),
    kind: Type.Enum(['super_agent', 'agent']),
    status: Type.String(),
    currency: Type.String(),
  }),
  store: Type.Union([
    Type.Object({
      id: Type.String({ format: 'uuid' }),
      store_number: Type.String(),
      name: Type.String(),
      status: Type.String(),
    }),
    Type.Null(),
  ]),
});
