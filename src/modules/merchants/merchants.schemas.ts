/** Schemas of `/api/v1/merchant/merchant`, `/api/v1/merchant/qr` and the merchant payment. */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import { CurrencyCode, MoneyIn, MoneyOut } from '../../platform/money.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const Status = Type.Union([Type.Literal('active'), Type.Literal('suspended'), Type.Literal('closed')]);
/** EMVCo "ans": printable ASCII, so what is registered is exactly what the QR code can carry. */
const ans = (maxLength: number, description: string) =>
  Type.String({ minLength: 1, maxLength, pattern: '^[ -~]+$', description });

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const MerchantCreate = Type.Object({
  name: ans(25, 'Trading name as printed on QR codes (EMVCo tag 59: at most 25 characters)'),
  mcc: Type.String({ pattern: '^[0-9]{4}$', description: 'ISO 18245 merchant category code' }),
  city: ans(15, 'City (EMVCo tag 60: at most 15 characters)'),
  country: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2 country code' }),
  currency: CurrencyCode,
  fee_bps: Type.Integer({
    minimum: 0,
    maximum: 1000,
    description: 'Merchant discount rate charged on each payment, basis points (100 = 1%)',
  }),
  owner_customer_id: Type.Optional(
    Type.String({ format: 'uuid', description: 'The customer who owns the business' }),
  ),
});

const merchantFields = {
  id: Type.String({ format: 'uuid' }),
  merchant_number: Type.String(),
  name: Type.String(),
  mcc: Type.String(),
  city: Type.String(),
  country: Type.String(),
  currency: Type.String(),
  owner_customer_id: Nullable(Type.String()),
  status: Status,
  fee_bps: Type.Integer(),
  wallet_id: Nullable(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
};

export const MerchantView = Type.Object(merchantFields);

export const MerchantDetail = Type.Object({
  ...merchantFields,
  wallet_number: Nullable(Type.String()),
  balance: MoneyOut,
  available_balance: MoneyOut,
  balance_display: Type.String(),
});

export const MerchantQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    status: Type.Optional(Status),
    owner_customer_id: Type.Optional(Type.String({ format: 'uuid' })),
    merchant_number: Type.Optional(Type.String({ pattern: '^M[0-9]{8}$' })),
    mcc: Type.Optional(Type.String({ pattern: '^[0-9]{4}$' })),
    currency: Type.Optional(CurrencyCode),
  }),
]);
export const MerchantPage = pageOf(MerchantView);

export const StatusChange = Type.Object({
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
});

export const StaticQrCreate = Type.Object({
  merchant_id: Type.String({ format: 'uuid' }),
});

export const DynamicQrCreate = Type.Object({
  merchant_id: Type.String({ format: 'uuid' }),
  amount: MoneyIn,
  reference: ans(25, 'Your reference for this payment (EMVCo tag 62-05), unique'),
  ttl_seconds: Type.Optional(
    Type.Integer({
      minimum: 30,
      maximum: 86_400,
      description: 'Lifetime of the code; default `payments.dynamic_qr_ttl_seconds`',
    }),
  ),
});

const qrFields = {
  id: Type.String({ format: 'uuid' }),
  merchant_id: Type.String({ format: 'uuid' }),
  mode: Type.Union([Type.Literal('static'), Type.Literal('dynamic')]),
  payload: Type.String({ description: 'EMVCo merchant-presented payload, CRC-16/CCITT-FALSE in tag 63' }),
  currency: Type.String(),
  // Dynamic codes only; absent on static ones (a bigint cannot share a schema with null).
  amount: Type.Optional(MoneyOut),
  amount_display: Type.Optional(Type.String()),
  reference: Nullable(Type.String()),
  expires_at: Nullable(Type.String({ format: 'date-time' })),
  used_at: Nullable(Type.String({ format: 'date-time' })),
  transaction_id: Nullable(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
};

export const QrView = Type.Object(qrFields);
export const QrCreated = Type.Object({
  ...qrFields,
  qr_png: Type.String({
    pattern: '^data:image/png;base64,',
    description: 'The QR code as a PNG image: a data URI (data:image/png;base64,…)',
  }),
});

const Pin = Type.String({ pattern: '^[0-9]{4,6}$', description: 'Transaction PIN (customers)' });
const OtpAnswer = Type.Object({
  challenge_id: Type.String({ minLength: 8, maxLength: 128 }),
  code: Type.String({ pattern: '^[0-9]{6}$' }),
});

export const MerchantPayment = Type.Object({
  merchant_id: Type.Optional(Type.String({ format: 'uuid', description: 'Pay a merchant by id…' })),
  qr_payload: Type.Optional(
    Type.String({ minLength: 1, maxLength: 512, description: '…or by the scanned EMVCo QR payload' }),
  ),
  source_wallet_id: Type.Optional(
    Type.String({ format: 'uuid', description: 'Default: your wallet in the currency (staff must give it)' }),
  ),
  amount: Type.Optional(
    Type.Integer({
      format: 'int64',
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'Minor units; required unless a dynamic QR code carries it',
    }),
  ),
  currency: Type.Optional(CurrencyCode),
  narration: Type.Optional(Type.String({ minLength: 1, maxLength: 140 })),
  pin: Type.Optional(Pin),
  otp: Type.Optional(OtpAnswer),
});
