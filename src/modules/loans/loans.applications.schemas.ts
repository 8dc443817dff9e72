/** Schemas of loan applications (`/api/v1/loan/application/*`). */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import { MoneyIn, MoneyOut } from '../../platform/money.ts';
import { APPLICATION_STATES } from './loans.tables.ts';

const Uuid = Type.String({ format: 'uuid' });
const DocumentIds = Type.Array(Uuid, {
  maxItems: 20,
  description:
    'Documents of the applicant (documents module) supporting the application (a repeated id counts once)',
});

export const ApplicationAddBody = Type.Object({
  customer_id: Type.Optional(
    Type.String({
      format: 'uuid',
      description: 'Staff applying on a customer’s behalf; customers leave it out',
    }),
  ),
  product_id: Uuid,
  amount_minor: MoneyIn,
  term: Type.Integer({ minimum: 1, maximum: 1000, description: 'Number of instalments' }),
  purpose: Type.String({ minLength: 3, maxLength: 500 }),
  declared_monthly_income_minor: Type.Integer({
    format: 'int64',
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    description: 'What the applicant says they earn a month, minor units of the product’s currency',
  }),
  document_ids: Type.Optional(DocumentIds),
});

export const ApplicationHeaders = Type.Object({
  'x-device-id': Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9._:-]{1,128}$',
      description: 'The applying device’s own id (stable per install), for the fraud rules',
    }),
  ),
});

export const ApplicationDocumentsBody = Type.Object({
  application_id: Uuid,
  document_ids: Type.Array(Uuid, {
    minItems: 1,
    maxItems: 20,
    description: 'Documents to add (those already attached and repeated ids count once)',
  }),
});

export const ApplicationWithdrawBody = Type.Object({
  application_id: Uuid,
  reason: Type.Optional(Type.String({ minLength: 3, maxLength: 500 })),
});

const Reason = Type.Object({ code: Type.String(), message: Type.String() });
const NullableTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

export const ApplicationView = Type.Object({
  id: Uuid,
  number: Type.String({ description: 'Human reference, e.g. LA-4821937710' }),
  customer_id: Uuid,
  product_id: Uuid,
  product_code: Type.String(),
  product_version: Type.Integer({ description: 'The terms version the application (and its loan) keeps' }),
  amount_minor: MoneyOut,
  currency: Type.String(),
  term: Type.Integer(),
  purpose: Type.String(),
  declared_monthly_income_minor: MoneyOut,
  status: Type.Enum(APPLICATION_STATES),
  channel: Type.String(),
  document_ids: Type.Array(Uuid),
  fraud_score: Type.Optional(Type.Union([Type.Integer(), Type.Null()], { description: 'Staff only' })),
  device_id: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'Staff only' })),
  decision: Type.Union([Type.Enum(['approve', 'refer', 'decline']), Type.Null()], {
    description: 'What scoring decided (null until scored)',
  }),
  // Left out until scored rather than null: a nullable bigint does not serialise (the serialiser validates a union's
  // branches, and a bigint is no JSON integer to the validator).
  recommended_limit_minor: Type.Optional(
    Type.Unsafe<bigint>({
      type: 'integer',
      format: 'int64',
      description: 'The limit scoring recommends, once scored',
    }),
  ),
  decline_reasons: Type.Union([Type.Array(Reason), Type.Null()], {
    description: 'Adverse-action reasons, when declined',
  }),
  loan_id: Type.Union([Uuid, Type.Null()], { description: 'The loan, once approved' }),
  submitted_by: Type.Optional(
    Type.Object({ type: Type.Enum(['customer', 'user']), id: Type.String() }, { description: 'Staff only' }),
  ),
  decided_by_id: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'Staff only' })),
  decided_at: NullableTime,
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

export const ApplicationIdParams = Type.Object({ id: Uuid });

export const ApplicationQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    status: Type.Optional(Type.Enum(APPLICATION_STATES)),
    customer_id: Type.Optional(Type.String({ format: 'uuid', description: 'Staff only' })),
    product_id: Type.Optional(Uuid),
  }),
]);
export const ApplicationPage = pageOf(ApplicationView);
