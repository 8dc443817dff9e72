/** Schemas of collection cases, promises to pay, reschedule, write-off and recovery. */
import { type Static, Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import { MoneyIn, MoneyOut } from '../../platform/money.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const Id = Type.String({ format: 'uuid' });

export const CaseIdParams = Type.Object({ id: Id });

export const CaseQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed')])),
    assignee_id: Type.Optional(Id),
    loan_id: Type.Optional(Id),
  }),
]);

export const PromiseView = Type.Object({
  id: Type.String(),
  case_id: Type.String(),
  loan_id: Type.String(),
  promised_on: Type.String(),
  amount_minor: MoneyOut,
  currency: Type.String(),
  made_on: Type.String(),
  status: Type.Union([
    Type.Literal('pending'),
    Type.Literal('kept'),
    Type.Literal('broken'),
    Type.Literal('cancelled'),
  ]),
  paid_minor: MoneyOut,
  settled_on: Nullable(Type.String()),
  reminded_on: Nullable(Type.String()),
  created_by_id: Nullable(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
});

const caseFields = {
  id: Type.String(),
  number: Type.String(),
  loan_id: Type.String(),
  loan_number: Type.String(),
  customer_id: Type.String(),
  status: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
  assignee_id: Nullable(Type.String()),
  opened_on: Type.String(),
  days_past_due: Type.Integer(),
  arrears_bucket: Type.String(),
  closed_on: Nullable(Type.String()),
  close_reason: Nullable(Type.String()),
  closed_by_id: Nullable(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
};

export const CaseSummary = Type.Object(caseFields);
export const CasePage = pageOf(CaseSummary);
export const CaseView = Type.Object({
  ...caseFields,
  notes: Type.Array(
    Type.Object({
      id: Type.String(),
      text: Type.String(),
      author_id: Nullable(Type.String()),
      created_at: Type.String({ format: 'date-time' }),
    }),
  ),
  promises: Type.Array(PromiseView),
});

export const AssignBody = Type.Object(
  {
    case_id: Id,
    assignee_id: Type.String({ minLength: 1, maxLength: 64, description: 'The staff user id' }),
  },
  { additionalProperties: false },
);
export const NoteBody = Type.Object(
  { case_id: Id, text: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);
export const PromiseBody = Type.Object(
  {
    case_id: Id,
    promised_on: Type.String({
      pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
      description: 'The date the customer promises to pay by (today to 90 days ahead)',
    }),
    amount_minor: MoneyIn,
  },
  { additionalProperties: false },
);
export const CloseBody = Type.Object(
  { case_id: Id, reason: Type.String({ minLength: 1, maxLength: 500 }) },
  { additionalProperties: false },
);

export const RescheduleBody = Type.Object(
  {
    loan_id: Id,
    term: Type.Integer({ minimum: 1, maximum: 600, description: 'New number of instalments from today' }),
    annual_rate: Type.Optional(
      Type.String({
        pattern: '^[0-9]{1,3}(\\.[0-9]{1,4})?$',
        description: 'New nominal annual rate, percent',
      }),
    ),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
);
export type RescheduleInput = Static<typeof RescheduleBody>;

export const WriteOffBody = Type.Object(
  { loan_id: Id, reason: Type.String({ minLength: 1, maxLength: 500 }) },
  { additionalProperties: false },
);

export const RecoveryBody = Type.Object(
  {
    loan_id: Id,
    amount_minor: MoneyIn,
    source: Type.Union([Type.Literal('wallet'), Type.Literal('cash'), Type.Literal('bank')], {
      description:
        '`wallet`: taken from the customer’s wallet (never overdrawn); `cash`, `bank`: received by staff',
    }),
    external_reference: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);

export const RecoveryView = Type.Object({
  transaction_id: Type.String(),
  loan_id: Type.String(),
  number: Type.String(),
  amount_minor: MoneyOut,
  currency: Type.String(),
  source: Type.String(),
  recovered_minor: MoneyOut,
  written_off_minor: MoneyOut,
  business_date: Type.String(),
});
