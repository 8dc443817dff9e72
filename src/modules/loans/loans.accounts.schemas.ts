/** Schemas of approval, disbursement, approval limits and the loan reads (`/api/v1/loan/loan/*`, `/api/v1/loan/my`). */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import { CurrencyCode, MoneyOut } from '../../platform/money.ts';
import { LOAN_STATES, LOAN_TRANSACTION_TYPES } from './loans.tables.ts';
import { ARREARS_BUCKETS } from './loans.terms.ts';

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);
const NullableDate = Type.Union([Type.String({ format: 'date' }), Type.Null()]);

export const LoanIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const ApproveBody = Type.Object({
  application_id: Type.String({ format: 'uuid' }),
  decision: Type.Optional(
    Type.Enum(['approve', 'decline'], { default: 'approve', description: 'Default `approve`' }),
  ),
  reason: Type.Optional(
    Type.String({ minLength: 3, maxLength: 500, description: 'Why (shown to the customer on a decline)' }),
  ),
});

export const DisburseBody = Type.Object({ loan_id: Type.String({ format: 'uuid' }) });

export const InstalmentView = Type.Object({
  seq: Type.Integer(),
  due_date: Type.String({ format: 'date' }),
  status: Type.Enum(['pending', 'partially_paid', 'paid', 'overdue']),
  principal_due_minor: MoneyOut,
  interest_due_minor: MoneyOut,
  fee_due_minor: MoneyOut,
  penalty_due_minor: MoneyOut,
  principal_paid_minor: MoneyOut,
  interest_paid_minor: MoneyOut,
  fee_paid_minor: MoneyOut,
  penalty_paid_minor: MoneyOut,
  interest_accrued_minor: MoneyOut,
  total_due_minor: MoneyOut,
  total_paid_minor: MoneyOut,
  remaining_minor: MoneyOut,
  paid_at: NullableTime,
});

export const LoanView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  number: Type.String(),
  application_id: Type.String({ format: 'uuid' }),
  customer_id: Type.String({ format: 'uuid' }),
  product_id: Type.String({ format: 'uuid' }),
  product_code: Type.String(),
  product_name: Type.String(),
  product_version: Type.Integer(),
  currency: Type.String(),
  principal_minor: MoneyOut,
  term: Type.Integer({ description: 'Number of instalments' }),
  frequency: Type.String(),
  interest_method: Type.String(),
  interest_calculation: Type.String(),
  annual_rate: Type.String({ description: 'Nominal annual rate, percent' }),
  status: Type.Enum(LOAN_STATES),
  arrears_bucket: Type.Enum(ARREARS_BUCKETS),
  days_past_due: Type.Integer(),
  wallet_id: Type.String({ format: 'uuid' }),
  prepaid_minor: MoneyOut,
  outstanding: Type.Object(
    {
      principal_minor: MoneyOut,
      interest_minor: MoneyOut,
      fee_minor: MoneyOut,
      penalty_minor: MoneyOut,
      total_minor: MoneyOut,
    },
    { description: 'The balances of the loan’s ledger accounts (zero before disbursement)' },
  ),
  /** The first instalment not fully paid (absent when none is left). */
  next_due: Type.Optional(InstalmentView),
  approved_by_id: NullableString,
  approved_at: NullableTime,
  disbursed_at: NullableTime,
  disbursed_on: NullableDate,
  closed_at: NullableTime,
  written_off_at: NullableTime,
  created_at: Type.String({ format: 'date-time' }),
});

export const LoanPage = pageOf(LoanView);

export const LoanListQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    status: Type.Optional(Type.Enum(LOAN_STATES)),
    customer_id: Type.Optional(
      Type.String({ format: 'uuid', description: 'Staff only (customers: their own)' }),
    ),
    product_id: Type.Optional(Type.String({ format: 'uuid' })),
    bucket: Type.Optional(Type.Enum(ARREARS_BUCKETS, { description: 'Arrears bucket' })),
  }),
]);

export const DecisionView = Type.Object({
  application_id: Type.String({ format: 'uuid' }),
  application_number: Type.String(),
  status: Type.Enum(['approved', 'declined']),
  reasons: Type.Array(Type.Object({ code: Type.String(), message: Type.String() })),
  /** The loan approval created (absent on a decline). */
  loan: Type.Optional(LoanView),
});

export const ScheduleView = Type.Object({
  loan_id: Type.String({ format: 'uuid' }),
  number: Type.String(),
  currency: Type.String(),
  status: Type.Enum(LOAN_STATES),
  disbursed_on: NullableDate,
  items: Type.Array(InstalmentView),
  totals: Type.Object({
    principal_minor: MoneyOut,
    interest_minor: MoneyOut,
    fee_minor: MoneyOut,
    penalty_minor: MoneyOut,
    due_minor: MoneyOut,
    paid_minor: MoneyOut,
  }),
});

export const LoanTransactionView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  loan_id: Type.String({ format: 'uuid' }),
  type: Type.Enum(LOAN_TRANSACTION_TYPES),
  amount_minor: MoneyOut,
  currency: Type.String(),
  allocation: Type.Optional(
    Type.Object(
      {
        penalty_minor: MoneyOut,
        fee_minor: MoneyOut,
        interest_minor: MoneyOut,
        principal_minor: MoneyOut,
        overpayment_minor: MoneyOut,
      },
      { description: 'How the amount was split (absent when it was not split)' },
    ),
  ),
  source: NullableString,
  external_reference: NullableString,
  ledger_batch_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  business_date: Type.String({ format: 'date' }),
  actor_type: Type.Enum(['customer', 'user', 'agent_operator', 'system']),
  created_at: Type.String({ format: 'date-time' }),
});

export const LoanTransactionPage = pageOf(LoanTransactionView);
export const LoanTransactionQuery = PageQuery;

export const ApprovalLimitView = Type.Object({
  role_code: Type.String(),
  currency: Type.String(),
  max_amount_minor: MoneyOut,
  removed: Type.Boolean({
    description: 'True when this call removed the limit (the role may no longer approve)',
  }),
  updated_by_id: NullableString,
  updated_at: Type.String({ format: 'date-time' }),
});

export const ApprovalLimitList = Type.Object({ items: Type.Array(ApprovalLimitView) });

export const ApprovalLimitBody = Type.Object({
  role_code: Type.String({ minLength: 1, maxLength: 64 }),
  currency: CurrencyCode,
  max_amount_minor: Type.Union(
    [Type.Integer({ format: 'int64', minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), Type.Null()],
    {
      description:
        'The most the role may approve, minor units; null removes the limit (the role may not approve)',
    },
  ),
});
