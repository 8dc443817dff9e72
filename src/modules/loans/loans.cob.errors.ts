/** Error codes of the loans module's cob area (joined into one catalogue by loans.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const cobErrorDefinitions = {} as const satisfies ErrorDefinitions;
