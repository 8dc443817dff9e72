/**
 * The transaction module's closed set of error codes: the payment engine's refusals (the spec's INSUFFICIENT_BALANCE
 * shape included), currency conversion and reversals. SAME_WALLET, NOT_REVERSIBLE and
 * COUNTERPARTY_INSUFFICIENT_FUNDS are raised by banking and disputes too, through index.ts.
 */
import {
  defineErrors,
  type ErrorDefinitions,
  platformErrorCatalogue as platform,
} from '../../platform/error-catalogue.ts';
import { commonErrors } from '../../platform/errors.ts';
import { walletErrors } from '../wallets/index.ts';

const definitions = {
  INSUFFICIENT_BALANCE: {
    status: 422,
    message: 'Insufficient balance for transaction',
    description: 'The available balance does not cover amount, fee and duty; `details` has the figures.',
    example: {
      message: 'Insufficient balance for transaction',
      details: { required: 152875, available: 100000, deficit: 52875 },
    },
  },
  LIMIT_EXCEEDED: {
    status: 422,
    message: 'This transaction exceeds your {period} limit',
    description: 'A transaction limit (per transaction, day, week or month) would be exceeded.',
    example: {
      message: 'This transaction exceeds your daily limit',
      details: { scope: 'customer', period: 'daily', kind: 'amount', limit: 7000000, remaining: 250000 },
    },
  },
  RECIPIENT_LIMIT_EXCEEDED: {
    status: 422,
    message: 'The recipient cannot receive this amount now',
    description: 'The recipient cannot receive this amount now.',
  },
  BALANCE_CAP_EXCEEDED: {
    status: 422,
    message: 'The receiving wallet would exceed its maximum balance',
    description: 'The receiving wallet would exceed its maximum balance.',
  },
  SAME_WALLET: {
    status: 422,
    message: 'Source and destination are the same wallet',
    description: 'Source and destination are the same wallet.',
  },
  FEATURE_NOT_ALLOWED: {
    status: 403,
    message: '{feature} is not available on {channel} at your KYC tier',
    description: 'The feature is not open on this channel at the customer’s KYC tier.',
  },
  CHANNEL_NOT_ALLOWED: {
    status: 403,
    message: 'The wallet product does not allow {channel}',
    description: 'The wallet product does not allow this channel.',
  },
  FEATURE_DISABLED: {
    status: 403,
    message: '{feature} is switched off',
    description: 'The feature is switched off.',
  },
  TRANSACTION_BLOCKED: {
    status: 422,
    message: 'This payment cannot be made',
    description:
      'The payment was refused by a compliance check (the AML real-time rules or a pre-posting hook). The answer ' +
      'names no rule and no reason: telling the customer why would tip them off.',
  },
  TRANSACTION_NOT_HELD: {
    status: 409,
    message: 'The transaction is not held for review',
    description: 'Only a transaction held for review (status `held`) can be released or rejected.',
  },
  OTP_REQUIRED: {
    status: 428,
    message: 'This amount needs a one-time code; it was sent to your phone. Repeat the request with it.',
    description: 'This amount needs a one-time code, now sent; repeat the request with `otp`.',
    example: {
      message: 'This amount needs a one-time code; it was sent to your phone. Repeat the request with it.',
      details: { challenge_id: 'otp_7f3c2e8a9b10d4c5', expires_at: '2026-03-14T09:31:53.000Z' },
    },
  },
  NO_FX_RATE: {
    status: 422,
    message: 'No exchange rate from {from} to {to}',
    description: 'No exchange rate is set for this currency pair.',
  },
  SAME_CURRENCY: {
    status: 422,
    message: 'Choose two different currencies',
    description: 'A conversion needs two different currencies.',
  },
  AMOUNT_TOO_SMALL: {
    status: 422,
    message: 'The amount converts to less than one minor unit of the target currency',
    description: 'The amount converts to less than one minor unit of the target currency.',
  },
  NOT_REVERSIBLE: {
    status: 409,
    message: 'A {status} transaction cannot be reversed',
    description: 'The transaction’s type or status cannot be reversed.',
  },
  ALREADY_REVERSED: {
    status: 409,
    message: 'The transaction was already reversed',
    description: 'The transaction was already reversed.',
  },
  REVERSAL_INSUFFICIENT_FUNDS: {
    status: 409,
    message: 'The receiving side no longer holds the amount',
    description: 'The receiving side no longer holds the amount.',
  },
  COUNTERPARTY_INSUFFICIENT_FUNDS: {
    status: 409,
    message: 'The counterparty account cannot cover this movement',
    description: 'The counterparty cannot cover the movement.',
  },
} as const satisfies ErrorDefinitions;

type TransactionErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends TransactionErrorCodes {}
}

export const transactionErrorCatalogue = defineErrors('transactions', definitions);
const codes = transactionErrorCatalogue;

export const transactionErrors = {
  insufficientBalance: (required: bigint, available: bigint) =>
    codes.INSUFFICIENT_BALANCE({ details: { required, available, deficit: required - available } }),
  limitExceeded: (violation: {
    scope: string;
    period: string;
    kind: string;
    limit: bigint;
    remaining: bigint;
  }) => codes.LIMIT_EXCEEDED({ params: { period: violation.period }, details: violation }),
  recipientUnavailable: () => walletErrors.recipientUnavailable(),
  recipientLimit: () => codes.RECIPIENT_LIMIT_EXCEEDED(),
  balanceCap: () => codes.BALANCE_CAP_EXCEEDED(),
  currencyMismatch: (expected: string, actual: string) =>
    platform.CURRENCY_MISMATCH({
      message: `The wallet holds ${expected}, not ${actual}`,
      details: { expected, actual },
    }),
  sameWallet: () => codes.SAME_WALLET(),
  featureNotAllowed: (feature: string, channel: string, tier: string | null) =>
    codes.FEATURE_NOT_ALLOWED({
      params: { feature, channel },
      details: { feature, channel, kyc_tier: tier },
    }),
  channelNotAllowed: (channel: string) =>
    codes.CHANNEL_NOT_ALLOWED({ params: { channel }, details: { channel } }),
  blocked: () => codes.TRANSACTION_BLOCKED(),
  notHeld: () => codes.TRANSACTION_NOT_HELD(),
  disabled: (feature: string) => codes.FEATURE_DISABLED({ params: { feature }, details: { feature } }),
  pinRequired: () =>
    commonErrors.validation('pin is required', { errors: [{ field: 'body.pin', message: 'is required' }] }),
  otpRequired: (challengeId: string, expiresAt: Date) =>
    codes.OTP_REQUIRED({ details: { challenge_id: challengeId, expires_at: expiresAt.toISOString() } }),
  notFound: () => commonErrors.notFound('Transaction'),
  notReversible: (status: string) => codes.NOT_REVERSIBLE({ params: { status }, details: { status } }),
  alreadyReversed: () => codes.ALREADY_REVERSED(),
  reversalFunds: (available: bigint, required: bigint) =>
    codes.REVERSAL_INSUFFICIENT_FUNDS({ details: { required, available, deficit: required - available } }),
  counterpartyFunds: (required: bigint, available: bigint) =>
    codes.COUNTERPARTY_INSUFFICIENT_FUNDS({ details: { required, available } }),
  walletNotFound: () => walletErrors.notFound(),
  /** The source wallet is frozen or closed. */
  walletNotActive: (status: string) => walletErrors.frozen(status),
  /** Staff convert for a customer: customer_id names them. */
  customerRequired: () =>
    commonErrors.validation('customer_id is required', {
      errors: [{ field: 'body.customer_id', message: 'is required for staff' }],
    }),
  /** A transfer names its recipient by wallet number or by phone, not both. */
  oneRecipient: () =>
    commonErrors.validation('Give exactly one of to_wallet_number and to_phone', {
      errors: [{ field: 'body.to_wallet_number', message: 'exactly one of to_wallet_number, to_phone' }],
    }),
  invalidPhone: () =>
    commonErrors.validation('to_phone is not a valid phone number', {
      errors: [{ field: 'body.to_phone', message: 'is not a valid E.164 number' }],
    }),
  unknownPaymentType: (type: string) => commonErrors.validation(`Unknown payment type ${type}`),
};

/** Currency conversion's refusals. */
export const fxErrors = {
  noRate: (from: string, to: string) => codes.NO_FX_RATE({ params: { from, to }, details: { from, to } }),
  sameCurrency: () => codes.SAME_CURRENCY(),
  badRate: () =>
    commonErrors.validation('rate must be a positive decimal with at most 8 decimals', {
      errors: [{ field: 'body.rate', message: 'positive decimal, at most 8 decimals' }],
    }),
  tooSmall: () => codes.AMOUNT_TOO_SMALL(),
};
