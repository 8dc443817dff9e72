/** Error codes of the loans module's scoring area (joined into one catalogue by loans.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const scoringErrorDefinitions = {
  LOAN_SCORING_NOT_ALLOWED: {
    status: 409,
    message: 'Application {number} is {status}; only open applications are scored',
    description:
      'Scoring runs on a submitted, flagged or referred application; an approved, declined or withdrawn one is ' +
      'decided already.',
  },
} as const satisfies ErrorDefinitions;
