/** The banking module's closed set of error codes. */
import { AppError } from '../../platform/errors.ts';

export const bankErrors = {
  notConfigured: () =>
    new AppError(
      503,
      'CBS_NOT_CONFIGURED',
      'Bank transfers are not available: no core banking system is configured (FINERACT_BASE_URL)',
    ),
  cbsUnavailable: (details: Record<string, unknown> | null = null) =>
    new AppError(
      503,
      'CBS_UNAVAILABLE',
      'The core banking system is not answering; try again shortly',
      details,
      { 'retry-after': '5' },
    ),
  notFound: () => new AppError(404, 'NOT_FOUND', 'Bank account not found'),
  customerOnly: () =>
    new AppError(403, 'CUSTOMER_ONLY', 'Only the account holder can move money to or from their bank'),
  customerRequired: () =>
    new AppError(422, 'VALIDATION_ERROR', 'customer_id is required', {
      errors: [{ field: 'body.customer_id', message: 'is required for staff' }],
    }),
  customerUnavailable: (status: string) =>
    new AppError(409, 'CUSTOMER_UNAVAILABLE', `The customer is ${status}`, { status }),
  alreadyLinked: () =>
    new AppError(409, 'ACCOUNT_ALREADY_LINKED', 'This bank account is already linked to the customer'),
  linkedElsewhere: () =>
    new AppError(409, 'ACCOUNT_NOT_LINKABLE', 'This bank account cannot be linked; contact support'),
  linkAttemptsExhausted: (days: number) =>
    new AppError(
      429,
      'LINK_ATTEMPTS_EXHAUSTED',
      `This bank account had too many verification attempts; try again after ${days} days or contact support`,
      { retry_after_seconds: days * 86_400 },
      { 'retry-after': String(days * 86_400) },
    ),
  linkLimit: (max: number) =>
    new AppError(409, 'LINKED_ACCOUNT_LIMIT', `A customer may link at most ${max} bank accounts`, { max }),
  notVerified: (status: string) =>
    new AppError(409, 'ACCOUNT_NOT_VERIFIED', 'The bank account must be verified first', { status }),
  verificationClosed: (status: string) =>
    new AppError(
      409,
      'VERIFICATION_CLOSED',
      status === 'failed'
        ? 'Verification of this bank account failed; unlink it and link it again'
        : `The bank account is ${status}`,
      { status },
    ),
  noMicroDeposit: () =>
    new AppError(
      409,
      'NO_MICRO_DEPOSIT',
      'No micro deposit was sent to this account; start with method micro_deposit and no amount',
    ),
  microDepositSent: () =>
    new AppError(
      409,
      'MICRO_DEPOSIT_ALREADY_SENT',
      'A micro deposit was already sent to this account; confirm it with its amount',
    ),
  rejected: (transactionId: string | null, reason: string, code: string) =>
    new AppError(422, 'BANK_REJECTED', `The bank refused the transfer: ${reason}`, {
      transaction_id: transactionId,
      reason,
      cbs_code: code,
    }),
  outcomeUnknown: (details: Record<string, unknown>) =>
    new AppError(
      503,
      'BANK_OUTCOME_UNKNOWN',
      'The bank did not confirm the transfer; it stays processing until reconciliation settles it',
      details,
    ),
};
