/** Error codes of the Didit identity path (joined into one catalogue by onboarding.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const diditErrorDefinitions = {
  DIDIT_NOT_CONFIGURED: {
    status: 503,
    message: 'Identity verification by Didit is not available here',
    description:
      'DIDIT_API_KEY and DIDIT_WORKFLOW_ID are not set, so no Didit session can be opened; the bank-customer path ' +
      '(`POST /mobile/register/identity/cbs`) still works.',
  },
  DIDIT_UNAVAILABLE: {
    status: 503,
    message: 'Identity verification is unavailable; try again shortly',
    description:
      'Didit did not answer, answered 5xx, throttled the request (Retry-After is passed on) or refused the ' +
      'platform’s credentials. Nothing changed: the same step can be sent again.',
    retryAfter: true,
  },
  DIDIT_WEBHOOK_UNVERIFIED: {
    status: 401,
    message: 'The Didit webhook could not be verified: {reason}',
    description:
      'The delivery lacks a valid X-Signature-V2, X-Signature or X-Signature-Simple for the configured secret (or ' +
      'the previous one during a rotation), or X-Timestamp (or the signed body timestamp) is more than 300 s from ' +
      'now. Nothing was recorded.',
  },
} as const satisfies ErrorDefinitions;
