/**
 * Error codes of the USSD money area (joined into the module's catalogue by ussd.errors.ts). The payment
 * engine's own refusals (INSUFFICIENT_BALANCE, LIMIT_EXCEEDED, INVALID_PIN…) keep their codes; these are the refusals
 * only USSD makes.
 */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const moneyErrorDefinitions = {
  USSD_AMOUNT_NEEDS_APP: {
    status: 403,
    message: 'Payments of {threshold} or more need a one-time code: use the app',
    description:
      'At or above payments.otp_threshold_minor a payment needs a one-time code, which USSD does not take: it is ' +
      'refused before the PIN (no code is issued, no PIN try is spent) and the customer is sent to the app.',
  },
  USSD_MERCHANT_NOT_FOUND: {
    status: 404,
    message: 'No merchant has till number {till}',
    description: 'The till number typed on USSD is not an active merchant.',
  },
} as const satisfies ErrorDefinitions;
