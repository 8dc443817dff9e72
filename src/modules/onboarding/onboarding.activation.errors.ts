/** Error codes of the CBS identity path, completion and the review queue (joined into onboarding.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const activationErrorDefinitions = {
  REGISTRATION_CBS_NOT_CONFIGURED: {
    status: 503,
    message: 'The core banking lookup is not available here; register with identity verification instead',
    description:
      'No core banking system is configured (FINERACT_BASE_URL, FINERACT_USERNAME, FINERACT_PASSWORD), so the ' +
      'CBS identity path cannot be taken; the Didit path can.',
  },
  REGISTRATION_CBS_UNAVAILABLE: {
    status: 503,
    message: 'The bank’s system did not answer; try again shortly',
    description:
      'The core banking system failed or timed out. Nothing was recorded; the same step may be sent again.',
    retryAfter: true,
  },
  REGISTRATION_CBS_CLIENT_NOT_FOUND: {
    status: 404,
    message: 'No bank customer was found with these details',
    description:
      'No client holds the national ID, or the account number is unknown. Check the details, or register as a ' +
      'new customer (the Didit path).',
  },
  REGISTRATION_REVIEW_CLAIMED: {
    status: 409,
    message: 'Another reviewer is working on this registration',
    description:
      'A claim lasts 30 minutes (the same reviewer claiming again renews it); after that another reviewer may take it over.',
  },
  REGISTRATION_REVIEW_NOT_CLAIMED: {
    status: 409,
    message: 'Claim the registration before deciding it',
    description: 'Approve, reject and request-info act on a registration the reviewer has claimed.',
  },
} as const satisfies ErrorDefinitions;
