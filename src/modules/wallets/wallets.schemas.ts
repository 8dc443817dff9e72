/** Schemas of `/api/v1/wallet/wallet` and `/api/v1/wallet/product`. */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import { CurrencyCode, MoneyOut } from '../../platform/money.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const Status = Type.Union([Type.Literal('active'), Type.Literal('frozen'), Type.Literal('closed')]);
const ChannelName = Type.Union([
  Type.Literal('web'),
  Type.Literal('mobile'),
  Type.Literal('ussd'),
  Type.Literal('agent'),
  Type.Literal('api'),
]);

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const WalletCreate = Type.Object({
  customer_id: Type.String({ format: 'uuid' }),
  currency: CurrencyCode,
  product_id: Type.Optional(
    Type.String({ format: 'uuid', description: 'Default: the currency’s default product' }),
  ),
});

export const WalletView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  wallet_number: Type.String(),
  owner_type: Type.Union([Type.Literal('customer'), Type.Literal('merchant')]),
  customer_id: Nullable(Type.String()),
  merchant_id: Nullable(Type.String()),
  currency: Type.String(),
  product_id: Type.String(),
  product_code: Type.String(),
  status: Status,
  status_reason: Nullable(Type.String()),
  balance: MoneyOut,
  available_balance: MoneyOut,
  pending_debits: MoneyOut,
  pending_credits: MoneyOut,
  balance_display: Type.String(),
  available_balance_display: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});

export const WalletQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    customer_id: Type.Optional(Type.String({ format: 'uuid' })),
    merchant_id: Type.Optional(Type.String({ format: 'uuid' })),
    currency: Type.Optional(CurrencyCode),
    status: Type.Optional(Status),
  }),
]);
export const WalletPage = pageOf(WalletView);

export const BalanceView = Type.Object({
  currency: Type.String(),
  balance: MoneyOut,
  available: MoneyOut,
  pending_debits: MoneyOut,
  pending_credits: MoneyOut,
});

export const StatusChange = Type.Object({ reason: Type.String({ minLength: 3, maxLength: 500 }) });

export const StatementQuery = Type.Object({
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
});

export const StatementExportQuery = Type.Object({
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  format: Type.Union([Type.Literal('csv'), Type.Literal('pdf')]),
});

export const StatementLine = Type.Object({
  entry_id: Type.String(),
  posted_at: Type.String({ format: 'date-time' }),
  posted_at_local: Type.String({
    format: 'date-time',
    description: 'The same instant in the statement’s `time_zone`, with its offset',
  }),
  reference: Nullable(Type.String()),
  type: Type.String(),
  leg: Type.String({ description: 'What the line is: `principal`, `fee`, `tax` (excise duty), `refund`, …' }),
  description: Type.String({
    description:
      'What the line was: "Fee", "Excise duty", "Bill payment: Kenya Power, account 37150012345", ' +
      '"Payment to Mama Mboga Stores", "Transfer to …"',
  }),
  narration: Nullable(Type.String()),
  transaction_id: Nullable(Type.String()),
  direction: Type.Union([Type.Literal('debit'), Type.Literal('credit')]),
  amount: MoneyOut,
  amount_display: Type.String(),
  balance_after: MoneyOut,
});

export const StatementView = Type.Object({
  wallet_id: Type.String(),
  wallet_number: Type.String(),
  currency: Type.String(),
  time_zone: Type.String({
    description: 'IANA zone of `posted_at_local`: the customer’s own, else the institution’s',
  }),
  opening_balance: MoneyOut,
  closing_balance: MoneyOut,
  items: Type.Array(StatementLine),
  next_cursor: Nullable(Type.String()),
});

const Minor = Type.Integer({
  format: 'int64',
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  description: 'Minor units (KES 1,500.00 is 150000)',
});
const FeeRule = Type.Object({
  fixed_minor: Minor,
  percent_bps: Type.Integer({ minimum: 0, maximum: 10_000 }),
  min_minor: Minor,
  max_minor: Nullable(Minor),
  tax_bps: Type.Integer({ minimum: 0, maximum: 10_000 }),
});
const FeeType = Type.String({ pattern: '^[a-z0-9_]{2,32}$' });
const ProductLimits = Type.Object({
  single_minor: Type.Optional(Minor),
  daily_minor: Type.Optional(Minor),
  monthly_minor: Type.Optional(Minor),
  max_balance_minor: Type.Optional(Minor),
});
export const ProductCreate = Type.Object({
  code: Type.String({ pattern: '^[A-Z0-9_]{2,40}$' }),
  name: Type.String({ minLength: 2, maxLength: 100 }),
  currency: CurrencyCode,
  is_default: Type.Optional(Type.Boolean()),
  fees: Type.Record(FeeType, FeeRule),
  limits: ProductLimits,
  allowed_channels: Type.Array(ChannelName, { minItems: 1, uniqueItems: true }),
});

export const ProductUpdate = Type.Object({
  name: Type.Optional(Type.String({ minLength: 2, maxLength: 100 })),
  is_default: Type.Optional(Type.Boolean()),
  fees: Type.Optional(Type.Record(FeeType, FeeRule)),
  limits: Type.Optional(ProductLimits),
  allowed_channels: Type.Optional(Type.Array(ChannelName, { minItems: 1, uniqueItems: true })),
  active: Type.Optional(Type.Boolean()),
});

export const ProductView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  code: Type.String(),
  name: Type.String(),
  currency: Type.String(),
  is_default: Type.Boolean(),
  fees: Type.Record(Type.String(), FeeRule),
  limits: ProductLimits,
  allowed_channels: Type.Array(Type.String()),
  active: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export const ProductList = Type.Object({ items: Type.Array(ProductView) });
