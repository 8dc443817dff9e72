/** Schemas of `/api/v1/customer`. */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const Name = Type.String({ minLength: 1, maxLength: 100 });
const Phone = Type.String({ minLength: 8, maxLength: 20, description: 'E.164, e.g. +254712345678' });
/** Not in the future, at most 120 years ago (the `x-date-of-birth` keyword, checked by the validator). */
const DateOfBirth = Type.String({
  format: 'date',
  'x-date-of-birth': true,
  description: 'YYYY-MM-DD; not in the future and at most 120 years ago',
});
const CustomerType = Type.Union([Type.Literal('individual'), Type.Literal('business')]);
const Gender = Type.Union([
  Type.Literal('female'),
  Type.Literal('male'),
  Type.Literal('other'),
  Type.Literal('undisclosed'),
]);
const Status = Type.Union([
  Type.Literal('pending'),
  Type.Literal('active'),
  Type.Literal('suspended'),
  Type.Literal('closed'),
]);
const Channel = Type.Union([
  Type.Literal('web'),
  Type.Literal('mobile'),
  Type.Literal('ussd'),
  Type.Literal('agent'),
]);
const IdType = Type.Union([
  Type.Literal('national_id'),
  Type.Literal('passport'),
  Type.Literal('alien_id'),
  Type.Literal('drivers_license'),
  Type.Literal('business_registration'),
]);

export const CustomerView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  customer_number: Type.String(),
  customer_type: CustomerType,
  first_name: Type.String(),
  middle_name: Nullable(Type.String()),
  last_name: Type.String(),
  business_name: Nullable(Type.String()),
  gender: Nullable(Gender),
  nationality: Nullable(Type.String()),
  occupation: Nullable(Type.String()),
  income_band: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  email: Nullable(Type.String()),
  national_id_type: Nullable(Type.String()),
  national_id: Nullable(
    Type.String({ description: 'Masked (****5678) unless include_pii and customer:pii_read' }),
  ),
  date_of_birth: Nullable(Type.String({ description: 'Masked unless include_pii and customer:pii_read' })),
  status: Status,
  status_reason: Nullable(Type.String()),
  kyc_tier: Type.String(),
  channel: Channel,
  cbs_client_id: Nullable(
    Type.String({
      description:
        'The core-banking (Fineract) client id when self-registration found the customer at the bank (staff only)',
    }),
  ),
  registered_by: Nullable(Type.Object({ type: Type.String(), id: Type.String() })),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

/**
 * The signed-in customer's own profile: the staff view without the bank's internal client id (the app has no use for
 * another system's key; the data export, on request, has it).
 */
export const OwnProfileView = Type.Omit(CustomerView, ['cbs_client_id']);

/** The staff view as the customer sees it (the response schema would drop the field too; this does not rely on it). */
export function ownProfile<T extends { cbs_client_id?: unknown }>(view: T): Omit<T, 'cbs_client_id'> {
  const { cbs_client_id: _bankKey, ...own } = view;
  return own;
}

export const CustomerCreate = Type.Object({
  first_name: Name,
  last_name: Name,
  middle_name: Type.Optional(Name),
  phone: Phone,
  email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
  date_of_birth: Type.Optional(DateOfBirth),
  national_id: Type.Optional(Type.String({ minLength: 4, maxLength: 32, pattern: '^[A-Za-z0-9 -]+$' })),
  national_id_type: Type.Optional(IdType),
  customer_type: Type.Optional(CustomerType),
  business_name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  gender: Type.Optional(Gender),
  nationality: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2' })),
  occupation: Type.Optional(Type.String({ maxLength: 100 })),
  income_band: Type.Optional(Type.String({ maxLength: 32 })),
  channel: Type.Optional(Channel),
});

export const CustomerUpdate = Type.Object(
  {
    first_name: Type.Optional(Name),
    middle_name: Type.Optional(Nullable(Name)),
    last_name: Type.Optional(Name),
    business_name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
    gender: Type.Optional(Nullable(Gender)),
    nationality: Type.Optional(Nullable(Type.String({ pattern: '^[A-Z]{2}$' }))),
    occupation: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
    income_band: Type.Optional(Nullable(Type.String({ maxLength: 32 }))),
    date_of_birth: Type.Optional(DateOfBirth),
  },
  { minProperties: 1 },
);

export const CustomerStatusChange = Type.Object({
  customer_id: Type.String({ format: 'uuid' }),
  status: Status,
  reason: Type.String({ minLength: 3, maxLength: 500 }),
});

export const CustomerQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    phone: Type.Optional(Phone),
    email: Type.Optional(Type.String({ maxLength: 254 })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    national_id: Type.Optional(Type.String({ minLength: 4, maxLength: 32 })),
    national_id_type: Type.Optional(IdType),
    customer_number: Type.Optional(Type.String({ maxLength: 32 })),
    status: Type.Optional(Status),
  }),
]);
export const CustomerPage = pageOf(CustomerView);
export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const PiiQuery = Type.Object({
  include_pii: Type.Optional(
    Type.Boolean({ description: 'Show national ID and date of birth in clear (customer:pii_read)' }),
  ),
});
export const CustomerExport = Type.Object({
  exported_at: Type.String({ format: 'date-time' }),
  customer: CustomerView,
  phones: Type.Array(Type.Object({}, { additionalProperties: true })),
  emails: Type.Array(Type.Object({}, { additionalProperties: true })),
  addresses: Type.Array(Type.Object({}, { additionalProperties: true })),
  audit: Type.Array(Type.Object({}, { additionalProperties: true })),
});
export const ErasureBody = Type.Object({
  customer_id: Type.String({ format: 'uuid' }),
  reason: Type.String({ minLength: 3, maxLength: 500 }),
});

const Pin = Type.String({ pattern: '^[0-9]{4,6}$', description: '4–6 digits' });
export const PinLogin = Type.Object({
  phone: Phone,
  pin: Type.String({ minLength: 1, maxLength: 12 }),
  device_id: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9._:-]{1,128}$',
      description:
        'The id the app chose for this install; failed sign-ins are limited per device as well as per IP',
    }),
  ),
});
export const PinSet = Type.Object({ customer_id: Type.String({ format: 'uuid' }), pin: Pin });
export const PinChange = Type.Object({
  current_pin: Type.String({ minLength: 1, maxLength: 12 }),
  new_pin: Pin,
});
export const PushLoginRequired = Type.Object({
  mfa_required: Type.Literal(true),
  factors: Type.Array(Type.String()),
  mfa_token: Type.String(),
  push_challenge_id: Type.String(),
  expires_in: Type.Integer(),
});
export const PushLoginPoll = Type.Object({ mfa_token: Type.String({ minLength: 20, maxLength: 4096 }) });
export const PushLoginPending = Type.Object({
  status: Type.Literal('pending'),
  retry_after_seconds: Type.Integer(),
});
export const PinResetRequest = Type.Object({ phone: Phone });
export const PinResetChallenge = Type.Object({
  challenge_id: Type.String(),
  expires_at: Type.String({ format: 'date-time' }),
});
export const PinResetConfirm = Type.Object({
  phone: Phone,
  challenge_id: Type.String({ minLength: 8, maxLength: 128 }),
  code: Type.String({ pattern: '^[0-9]{6}$' }),
  new_pin: Pin,
  national_id: Type.Optional(
    Type.String({ minLength: 4, maxLength: 32, description: 'Required when an ID is on file' }),
  ),
});
export const PhoneVerify = Type.Object({ customer_id: Type.String({ format: 'uuid' }) });
export const PhoneVerified = Type.Object({
  customer_id: Type.String({ format: 'uuid' }),
  phone: Type.String(),
  verified_at: Type.String({ format: 'date-time' }),
});
