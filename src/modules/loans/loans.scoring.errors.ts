/** Error codes of the loans module's scoring area (joined into one catalogue by loans.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const scoringErrorDefinitions = {} as const satisfies ErrorDefinitions;
