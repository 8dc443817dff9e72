/** The transaction module's closed set of error codes (the spec's INSUFFICIENT_BALANCE shape included). */
import { AppError } from '../../platform/errors.ts';

export const transactionErrors = {
  insufficientBalance: (required: bigint, available: bigint) =>
    new AppError(422, 'INSUFFICIENT_BALANCE', 'Insufficient balance for transaction', {
      required,
      available,
      deficit: required - available,
    }),
  limitExceeded: (violation: {
    scope: string;
    period: string;
    kind: string;
    limit: bigint;
    remaining: bigint;
  }) =>
    new AppError(422, 'LIMIT_EXCEEDED', `This transaction exceeds your ${violation.period} limit`, violation),
  recipientUnavailable: () =>
    new AppError(422, 'RECIPIENT_UNAVAILABLE', 'The recipient wallet cannot receive payments now'),
  recipientLimit: () =>
    new AppError(422, 'RECIPIENT_LIMIT_EXCEEDED', 'The recipient cannot receive this amount now'),
  balanceCap: () =>
    new AppError(422, 'BALANCE_CAP_EXCEEDED', 'The receiving wallet would exceed its maximum balance'),
  currencyMismatch: (expected: string, actual: string) =>
    new AppError(422, 'CURRENCY_MISMATCH', `The wallet holds ${expected}, not ${actual}`, {
      expected,
      actual,
    }),
  sameWallet: () => new AppError(422, 'SAME_WALLET', 'Source and destination are the same wallet'),
  featureNotAllowed: (feature: string, channel: string, tier: string | null) =>
    new AppError(403, 'FEATURE_NOT_ALLOWED', `${feature} is not available on ${channel} at your KYC tier`, {
      feature,
      channel,
      kyc_tier: tier,
    }),
  channelNotAllowed: (channel: string) =>
    new AppError(403, 'CHANNEL_NOT_ALLOWED', `The wallet product does not allow ${channel}`, { channel }),
  disabled: (feature: string) =>
    new AppError(403, 'FEATURE_DISABLED', `${feature} is switched off`, { feature }),
  pinRequired: () =>
    new AppError(422, 'VALIDATION_ERROR', 'pin is required', {
      errors: [{ field: 'body.pin', message: 'is required' }],
    }),
  otpRequired: (challengeId: string, expiresAt: Date) =>
    new AppError(
      428,
      'OTP_REQUIRED',
      'This amount needs a one-time code; it was sent to your phone. Repeat the request with it.',
      { challenge_id: challengeId, expires_at: expiresAt.toISOString() },
    ),
  notFound: () => new AppError(404, 'NOT_FOUND', 'Transaction not found'),
  notReversible: (status: string) =>
    new AppError(409, 'NOT_REVERSIBLE', `A ${status} transaction cannot be reversed`, { status }),
  alreadyReversed: () => new AppError(409, 'ALREADY_REVERSED', 'The transaction was already reversed'),
  reversalFunds: (available: bigint, required: bigint) =>
    new AppError(409, 'REVERSAL_INSUFFICIENT_FUNDS', 'The receiving side no longer holds the amount', {
      required,
      available,
      deficit: required - available,
    }),
};
