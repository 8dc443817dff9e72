/** Schemas of repayments (`POST /api/v1/loan/repayment/add`) and payoff quotes (`GET /api/v1/loan/loan/:id/payoff`). */
import { type Static, Type } from 'typebox';
import { MoneyIn, MoneyOut } from '../../platform/money.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const Pin = Type.String({ pattern: '^[0-9]{4,6}$', description: 'Transaction PIN (customers)' });
const OtpAnswer = Type.Object({
  challenge_id: Type.String({ minLength: 8, maxLength: 128 }),
  code: Type.String({ pattern: '^[0-9]{6}$' }),
});

export const REPAYMENT_SOURCES = ['wallet', 'cash', 'bank'] as const;
export type RepaymentSource = (typeof REPAYMENT_SOURCES)[number];

export const RepaymentBody = Type.Object({
  loan_id: Type.String({ format: 'uuid' }),
  amount_minor: MoneyIn,
  source: Type.Optional(
    Type.Enum(REPAYMENT_SOURCES, {
      description:
        'Customers pay from their wallet (`wallet`, the default for them). Staff record a payment received in ' +
        '`cash` or by `bank` transfer (required for staff).',
    }),
  ),
  external_reference: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'Staff: the receipt number or bank reference of the payment (required for cash and bank).',
    }),
  ),
  pin: Type.Optional(Pin),
  otp: Type.Optional(OtpAnswer),
});
export type RepaymentInput = Static<typeof RepaymentBody>;

const Allocation = Type.Object({
  penalty_minor: MoneyOut,
  fee_minor: MoneyOut,
  interest_minor: MoneyOut,
  principal_minor: MoneyOut,
  prepayment_minor: Type.Unsafe<bigint>({
    type: 'integer',
    format: 'int64',
    description:
      'Principal paid ahead of the schedule (part of `principal_minor`); the later instalments were recast',
  }),
});

export const RepaymentView = Type.Object({
  id: Type.String({ format: 'uuid', description: 'The loan transaction' }),
  loan_id: Type.String({ format: 'uuid' }),
  loan_number: Type.String(),
  customer_id: Type.String({ format: 'uuid' }),
  type: Type.Enum(['repayment', 'auto_collection']),
  source: Type.Enum(REPAYMENT_SOURCES),
  requested_minor: Type.Unsafe<bigint>({
    type: 'integer',
    format: 'int64',
    description: 'What was offered (collections: what the wallet held, up to what was due)',
  }),
  amount_minor: Type.Unsafe<bigint>({
    type: 'integer',
    format: 'int64',
    description: 'What was taken from the wallet or received in cash or by bank',
  }),
  refunded_minor: Type.Unsafe<bigint>({
    type: 'integer',
    format: 'int64',
    description: 'Cash or bank received beyond what the loan takes, credited to the customer’s wallet',
  }),
  currency: Type.String(),
  allocation: Allocation,
  outstanding_minor: Type.Unsafe<bigint>({
    type: 'integer',
    format: 'int64',
    description: 'What the loan still owes after this payment (its ledger accounts)',
  }),
  loan_status: Type.String(),
  business_date: Type.String({ format: 'date' }),
  external_reference: Nullable(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
});

export const LoanIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const PayoffView = Type.Object({
  loan_id: Type.String({ format: 'uuid' }),
  loan_number: Type.String(),
  currency: Type.String(),
  as_of: Type.String({ format: 'date', description: 'The business date (UTC) the quote is for' }),
  valid_until: Type.String({ format: 'date-time', description: 'The end of that business date (UTC)' }),
  penalty_minor: MoneyOut,
  fee_minor: MoneyOut,
  interest_minor: Type.Unsafe<bigint>({
    type: 'integer',
    format: 'int64',
    description:
      'Recognised interest not yet paid, plus the running period’s interest (per-period products); later ' +
      'periods’ interest is not owed',
  }),
  principal_minor: MoneyOut,
  total_minor: Type.Unsafe<bigint>({
    type: 'integer',
    format: 'int64',
    description: 'Paying this today (`/loan/repayment/add`) closes the loan',
  }),
});
