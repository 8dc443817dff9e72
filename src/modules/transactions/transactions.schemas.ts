/** Schemas of `/api/v1/wallet/transaction` and `/api/v1/transaction`. */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import { CurrencyCode, MoneyIn, MoneyOut } from '../../platform/money.ts';
import { TRANSACTION_TYPE_PATTERN } from '../../platform/transaction-types.ts';
import { TRANSACTION_STATES } from './transactions.tables.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const Narration = Type.String({ minLength: 1, maxLength: 140 });
export const Pin = Type.String({ pattern: '^[0-9]{4,6}$', description: 'Transaction PIN (customers)' });
export const OtpAnswer = Type.Object({
  challenge_id: Type.String({ minLength: 8, maxLength: 128 }),
  code: Type.String({ pattern: '^[0-9]{6}$' }),
});
/** A transaction type in an answer: any type a payment module declares (there is no central list to enumerate). */
const TypeName = Type.String({
  pattern: TRANSACTION_TYPE_PATTERN,
  examples: ['p2p'],
  description:
    'The transaction type (`p2p`, `merchant`, `bill`, `cash_deposit` …): each payment module declares its own.',
});
const StateName = Type.Enum(TRANSACTION_STATES);

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const TransferBody = Type.Object({
  source_wallet_id: Type.Optional(
    Type.String({ format: 'uuid', description: 'Default: your wallet in the currency' }),
  ),
  to_wallet_number: Type.Optional(Type.String({ pattern: '^[0-9]{6,20}$' })),
  to_phone: Type.Optional(Type.String({ minLength: 8, maxLength: 20, description: 'E.164' })),
  amount: MoneyIn,
  currency: CurrencyCode,
  narration: Type.Optional(Narration),
  pin: Type.Optional(Pin),
  otp: Type.Optional(OtpAnswer),
});

export const QuoteView = Type.Object({
  amount: MoneyOut,
  currency: Type.String(),
  fee: MoneyOut,
  tax: MoneyOut,
  total: MoneyOut,
  total_display: Type.String(),
  recipient_wallet_number: Type.String(),
  otp_required: Type.Boolean(),
});

export const CashBody = Type.Object({
  wallet_id: Type.String({ format: 'uuid' }),
  amount: MoneyIn,
  currency: CurrencyCode,
  narration: Type.Optional(Narration),
  branch_code: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{2,12}$', description: 'Default HQ' })),
});

export const TransactionView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  reference: Type.String(),
  type: TypeName,
  status: StateName,
  channel: Type.String(),
  amount: MoneyOut,
  currency: Type.String(),
  fee: MoneyOut,
  tax: MoneyOut,
  total: MoneyOut,
  amount_display: Type.String(),
  total_display: Type.String(),
  destination_amount: Type.Optional(MoneyOut),
  destination_currency: Type.Optional(Type.String()),
  customer_id: Nullable(Type.String()),
  source_wallet_id: Nullable(Type.String()),
  destination_wallet_id: Nullable(Type.String()),
  counterparty_customer_id: Nullable(Type.String()),
  merchant_id: Nullable(Type.String()),
  biller_id: Nullable(Type.String()),
  narration: Nullable(Type.String()),
  related_transaction_id: Nullable(Type.String()),
  failure_code: Nullable(Type.String()),
  failure_reason: Nullable(Type.String()),
  initiated_by: Type.Object({ type: Type.String(), id: Nullable(Type.String()) }),
  history: Type.Array(
    Type.Object({ state: StateName, at: Type.String(), reason: Type.Optional(Type.String()) }),
  ),
  created_at: Type.String({ format: 'date-time' }),
  completed_at: Nullable(Type.String({ format: 'date-time' })),
});

/**
 * The history filters; `type` takes the types the composed modules declare (`ctx.transactionTypes`), so the OpenAPI
 * document lists them and an undeclared type is refused with 400 like any other bad query.
 */
export function transactionQuery(types: readonly string[]) {
  return Type.Intersect([
    PageQuery,
    Type.Object({
      customer_id: Type.Optional(Type.String({ format: 'uuid' })),
      wallet_id: Type.Optional(Type.String({ format: 'uuid' })),
      type: Type.Optional(types.length > 0 ? Type.Enum([...types]) : TypeName),
      status: Type.Optional(StateName),
      reference: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9]{10}$' })),
      from: Type.Optional(Type.String({ format: 'date-time' })),
      to: Type.Optional(Type.String({ format: 'date-time' })),
    }),
  ]);
}
export const TransactionPage = pageOf(TransactionView);

export const ReceiptQuery = Type.Object({
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('pdf')], { default: 'json' })),
});

const ReceiptParty = Type.Object({
  wallet_number: Nullable(
    Type.String({ description: 'Absent (null) for the payer’s wallet on a payee’s receipt' }),
  ),
  name: Nullable(Type.String({ description: 'The wallet owner: a customer or a merchant' })),
});

export const ReceiptView = Type.Object({
  reference: Type.String(),
  type: Type.String(),
  type_label: Type.String({ description: 'e.g. "Bill payment", "Merchant payment", "Transfer"' }),
  status: Type.String(),
  occurred_at: Type.String({ format: 'date-time' }),
  occurred_at_local: Type.String({
    format: 'date-time',
    description: 'The same instant in `time_zone`, with its offset',
  }),
  time_zone: Type.String({
    description: 'IANA zone: the customer’s own (notification preferences), else `institution.time_zone`',
  }),
  from: Nullable(ReceiptParty),
  to: Nullable(ReceiptParty),
  biller: Nullable(
    Type.Object({
      code: Type.String(),
      name: Type.String(),
      account_number: Nullable(Type.String({ description: 'The account or meter number paid' })),
      account_name: Nullable(Type.String()),
    }),
  ),
  merchant: Nullable(
    Type.Object({ merchant_number: Nullable(Type.String()), name: Nullable(Type.String()) }),
  ),
  amount: MoneyOut,
  currency: Type.String(),
  amount_display: Type.String(),
  fee: MoneyOut,
  tax: MoneyOut,
  total: MoneyOut,
  total_display: Type.String(),
  narration: Nullable(Type.String()),
  verification_url: Type.String({
    format: 'uri',
    description: 'Where anyone holding the receipt can check it (also in the PDF’s QR code)',
  }),
});

export const ReceiptVerifyQuery = Type.Object({
  reference: Type.String({ pattern: '^[A-Za-z0-9]{10}$' }),
  code: Type.String({ pattern: '^[0-9a-fA-F]{16}$' }),
});

export const ReceiptVerification = Type.Object({
  valid: Type.Literal(true),
  reference: Type.String(),
  type: TypeName,
  status: StateName,
  amount: MoneyOut,
  currency: Type.String(),
  amount_display: Type.String(),
  occurred_at: Type.String({ format: 'date-time' }),
});
