/** Schemas of the agent network's cash routes: cash-in, cash-out, withdrawal codes, customers' approvals. */
import { Type } from 'typebox';
import { CurrencyCode, MoneyIn, MoneyOut } from '../../platform/money.ts';

const Phone = Type.String({ minLength: 8, maxLength: 20, description: 'The customer’s phone, E.164' });
const Pin = Type.String({ pattern: '^[0-9]{4,6}$', description: 'The customer’s transaction PIN' });
const OtpAnswer = Type.Object({
  challenge_id: Type.String({ minLength: 8, maxLength: 128 }),
  code: Type.String({ pattern: '^[0-9]{6}$' }),
});

/** What the operator's device reports with every money action. */
export const MoneyActionLocation = Type.Object(
  {
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    accuracy_m: Type.Number({ minimum: 0, maximum: 100000, description: 'Horizontal accuracy, metres' }),
    fix_at: Type.String({ format: 'date-time', description: 'When the fix was taken' }),
    mock_location: Type.Optional(Type.Boolean({ description: 'The OS reports a mock-location provider' })),
  },
  { description: 'The device’s location fix (WGS84), checked against the store’s geofence' },
);

export const CashInBody = Type.Object({
  phone: Phone,
  amount: MoneyIn,
  currency: CurrencyCode,
  location: MoneyActionLocation,
  store_id: Type.Optional(
    Type.String({ format: 'uuid', description: 'Agent admins: the store acting (tellers act at their own)' }),
  ),
  narration: Type.Optional(Type.String({ minLength: 1, maxLength: 140 })),
});

export const CashOutBody = Type.Object({
  phone: Phone,
  amount: MoneyIn,
  currency: CurrencyCode,
  location: MoneyActionLocation,
  store_id: Type.Optional(Type.String({ format: 'uuid' })),
  code: Type.Optional(
    Type.String({
      pattern: '^[0-9]{6}$',
      description: 'The customer’s withdrawal code; without one the customer approves in the app (202)',
    }),
  ),
});

export const CustomerLookupQuery = Type.Object({
  phone: Phone,
  currency: Type.Optional(CurrencyCode),
});

export const CustomerLookupView = Type.Object({
  masked_name: Type.String({ examples: ['J*** K***'] }),
  currency: Type.String(),
});

export const CashOutRequestView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  agent_id: Type.String({ format: 'uuid' }),
  store_id: Type.String({ format: 'uuid' }),
  operator_id: Type.String({ format: 'uuid' }),
  customer_id: Type.String({ format: 'uuid' }),
  amount: MoneyOut,
  currency: Type.String(),
  status: Type.Enum(['pending', 'approved', 'rejected', 'expired', 'completed', 'failed']),
  transaction_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  failure_code: Type.Union([Type.String(), Type.Null()]),
  expires_at: Type.String({ format: 'date-time' }),
  created_at: Type.String({ format: 'date-time' }),
});

export const CashOutRequestList = Type.Object({ items: Type.Array(CashOutRequestView) });

export const ApproveCashOutBody = Type.Object({ pin: Pin, otp: Type.Optional(OtpAnswer) });

export const WithdrawalCodeBody = Type.Object({
  agent_number: Type.String({
    pattern: '^[A-Za-z][0-9]{7}$',
    description: 'The agent’s number, e.g. A1234567',
  }),
  amount: MoneyIn,
  currency: CurrencyCode,
  pin: Type.Optional(Pin),
  otp: Type.Optional(OtpAnswer),
});

export const WithdrawalCodeView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  agent_number: Type.String(),
  amount: MoneyOut,
  currency: Type.String(),
  status: Type.Enum(['pending', 'used', 'cancelled', 'expired']),
  expires_at: Type.String({ format: 'date-time' }),
  created_at: Type.String({ format: 'date-time' }),
});

export const NewWithdrawalCodeView = Type.Intersect([
  WithdrawalCodeView,
  Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$', description: 'Shown once' }) }),
]);

export const WithdrawalCodeList = Type.Object({ items: Type.Array(WithdrawalCodeView) });

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
