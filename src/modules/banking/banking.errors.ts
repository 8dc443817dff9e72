/** The banking module's closed set of error codes (bank accounts, bank transfers and staff transfers). */
import {
  defineErrors,
  type ErrorDefinitions,
  platformErrorCatalogue as platform,
} from '../../platform/error-catalogue.ts';
import { commonErrors } from '../../platform/errors.ts';
import { transactionErrorCatalogue } from '../transactions/index.ts';

const definitions = {
  CBS_NOT_CONFIGURED: {
    status: 503,
    message: 'Bank transfers are not available: no core banking system is configured (FINERACT_BASE_URL)',
    description: 'No core banking system is configured (FINERACT_BASE_URL).',
  },
  CBS_UNAVAILABLE: {
    status: 503,
    message: 'The core banking system is not answering; try again shortly',
    description: 'The core banking system is not answering.',
    retryAfter: true,
  },
  CUSTOMER_ONLY: {
    status: 403,
    message: 'Only the account holder can move money to or from their bank',
    description: 'Only the account holder can move money to or from their bank.',
  },
  CUSTOMER_UNAVAILABLE: {
    status: 409,
    message: 'The customer is {status}',
    description: 'The customer is suspended, closed or erased.',
  },
  ACCOUNT_ALREADY_LINKED: {
    status: 409,
    message: 'This bank account is already linked to the customer',
    description: 'This bank account is already linked to the customer.',
  },
  ACCOUNT_NOT_LINKABLE: {
    status: 409,
    message: 'This bank account cannot be linked; contact support',
    description: 'This bank account cannot be linked.',
  },
  LINK_ATTEMPTS_EXHAUSTED: {
    status: 429,
    message:
      'This bank account had too many verification attempts; try again after {days} days or contact support',
    description: 'The bank account had too many verification attempts.',
    retryAfter: true,
  },
  LINKED_ACCOUNT_LIMIT: {
    status: 409,
    message: 'A customer may link at most {max} bank accounts',
    description: 'The customer has linked the most bank accounts allowed.',
  },
  ACCOUNT_NOT_VERIFIED: {
    status: 409,
    message: 'The bank account must be verified first',
    description: 'The bank account must be verified first.',
  },
  VERIFICATION_CLOSED: {
    status: 409,
    message: 'The bank account is {status}',
    description: 'Verification of the bank account failed or is over.',
  },
  NO_MICRO_DEPOSIT: {
    status: 409,
    message: 'No micro deposit was sent to this account; start with method micro_deposit and no amount',
    description: 'No micro deposit was sent to this account.',
  },
  MICRO_DEPOSIT_ALREADY_SENT: {
    status: 409,
    message: 'A micro deposit was already sent to this account; confirm it with its amount',
    description: 'A micro deposit was already sent; confirm its amount.',
  },
  BANK_REJECTED: {
    status: 422,
    message: 'The bank refused the transfer: {reason}',
    description: 'The bank refused the transfer; `details.reason` says why.',
  },
  BANK_OUTCOME_UNKNOWN: {
    status: 503,
    message: 'The bank did not confirm the transfer; it stays processing until reconciliation settles it',
    description:
      'The bank did not confirm the transfer; it stays processing until reconciliation settles it.',
  },
  NOT_A_CUSTOMER_WALLET: {
    status: 422,
    message:
      "Staff transfers move money from a customer's wallet only (merchant and house money move by their own routes)",
    description: 'The wallet does not belong to a customer.',
  },
} as const satisfies ErrorDefinitions;

type BankingErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends BankingErrorCodes {}
}

export const bankingErrorCatalogue = defineErrors('banking', definitions);
const codes = bankingErrorCatalogue;

export const bankErrors = {
  notConfigured: () => codes.CBS_NOT_CONFIGURED(),
  cbsUnavailable: (details: Record<string, unknown> | null = null) =>
    codes.CBS_UNAVAILABLE({ details, headers: { 'retry-after': '5' } }),
  notFound: () => commonErrors.notFound('Bank account'),
  customerOnly: () => codes.CUSTOMER_ONLY(),
  customerRequired: () =>
    commonErrors.validation('customer_id is required', {
      errors: [{ field: 'body.customer_id', message: 'is required for staff' }],
    }),
  customerUnavailable: (status: string) =>
    codes.CUSTOMER_UNAVAILABLE({ params: { status }, details: { status } }),
  alreadyLinked: () => codes.ACCOUNT_ALREADY_LINKED(),
  linkedElsewhere: () => codes.ACCOUNT_NOT_LINKABLE(),
  linkAttemptsExhausted: (days: number) =>
    codes.LINK_ATTEMPTS_EXHAUSTED({
      params: { days },
      details: { retry_after_seconds: days * 86_400 },
      headers: { 'retry-after': String(days * 86_400) },
    }),
  linkLimit: (max: number) => codes.LINKED_ACCOUNT_LIMIT({ params: { max }, details: { max } }),
  notVerified: (status: string) => codes.ACCOUNT_NOT_VERIFIED({ details: { status } }),
  verificationClosed: (status: string) =>
    status === 'failed'
      ? codes.VERIFICATION_CLOSED({
          message: 'Verification of this bank account failed; unlink it and link it again',
          details: { status },
        })
      : codes.VERIFICATION_CLOSED({ params: { status }, details: { status } }),
  noMicroDeposit: () => codes.NO_MICRO_DEPOSIT(),
  microDepositSent: () => codes.MICRO_DEPOSIT_ALREADY_SENT(),
  rejected: (transactionId: string | null, reason: string, code: string) =>
    codes.BANK_REJECTED({
      params: { reason },
      details: { transaction_id: transactionId, reason, cbs_code: code },
    }),
  outcomeUnknown: (details: Record<string, unknown>) => codes.BANK_OUTCOME_UNKNOWN({ details }),
  /** The transfer was settled by someone else (reconciliation, another node) meanwhile. */
  settledElsewhere: () => platform.CONFLICT({ message: 'The transaction was settled by someone else' }),
};

export const staffTransferErrors = {
  notCustomerWallet: () => codes.NOT_A_CUSTOMER_WALLET(),
  sameWallet: () =>
    transactionErrorCatalogue.SAME_WALLET({ message: 'The source and destination wallets are the same' }),
};
