/** Schemas of `/api/v1/wallet/bank-account` and the bank top-up / withdrawal money POSTs. */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import { CurrencyCode, MoneyIn } from '../../platform/money.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const LINKED_ACCOUNT_STATES = ['pending', 'verified', 'failed', 'unlinked'] as const;
const Status = Type.Enum(LINKED_ACCOUNT_STATES);
const Method = Type.Enum(['name_match', 'micro_deposit'] as const);
const BankAccountId = Type.String({ format: 'uuid' });

export const Pin = Type.String({ pattern: '^[0-9]{4,6}$', description: 'Transaction PIN' });
export const OtpAnswer = Type.Object({
  challenge_id: Type.String({ minLength: 8, maxLength: 128 }),
  code: Type.String({ pattern: '^[0-9]{6}$' }),
});

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const LinkBody = Type.Object({
  customer_id: Type.Optional(
    Type.String({ format: 'uuid', description: 'Staff: the customer; customers: themselves (default)' }),
  ),
  bank_code: Type.String({ pattern: '^[A-Z0-9]{2,11}$', description: 'Bank (and branch) code, or BIC' }),
  account_number: Type.String({ pattern: '^[0-9]{6,20}$', description: 'Stored encrypted; shown as last 4' }),
  account_name: Type.String({ minLength: 2, maxLength: 140 }),
  currency: CurrencyCode,
});

export const LinkedAccountView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  customer_id: Type.String({ format: 'uuid' }),
  bank_code: Type.String(),
  account_number_masked: Type.String({ description: 'e.g. ****6789' }),
  account_number_last4: Type.String(),
  account_name: Type.String(),
  currency: Type.String(),
  status: Status,
  verification_method: Nullable(Method),
  verification_attempts: Type.Integer(),
  verified_at: Nullable(Type.String({ format: 'date-time' })),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

export const LinkedAccountQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    customer_id: Type.Optional(Type.String({ format: 'uuid', description: 'Staff: whose accounts' })),
    status: Type.Optional(Status),
  }),
]);
export const LinkedAccountPage = pageOf(LinkedAccountView);

export const VerifyBody = Type.Object({
  bank_account_id: BankAccountId,
  method: Method,
  amount: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 99,
      description: 'micro_deposit: the amount (minor units) seen on the bank statement, to confirm it',
    }),
  ),
});

export const VerificationView = Type.Object({
  result: Type.Enum(['verified', 'failed', 'micro_deposit_sent', 'amount_mismatch'] as const),
  reason: Nullable(
    Type.String({
      description:
        'failed: account_not_found, account_not_active, currency_mismatch, name_mismatch, deposit_rejected, ' +
        'too_many_attempts',
    }),
  ),
  attempts_left: Nullable(Type.Integer({ description: 'micro_deposit: confirmations left' })),
  bank_account: LinkedAccountView,
});

export const UnlinkBody = Type.Object({ bank_account_id: BankAccountId });

export const BankMoneyBody = Type.Object({
  bank_account_id: BankAccountId,
  amount: MoneyIn,
  currency: Type.Optional(CurrencyCode),
  narration: Type.Optional(Type.String({ minLength: 1, maxLength: 140 })),
  pin: Type.Optional(Pin),
  otp: Type.Optional(OtpAnswer),
});
