/** Error codes of the loans module's fraud area (joined into one catalogue by loans.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const fraudErrorDefinitions = {} as const satisfies ErrorDefinitions;
