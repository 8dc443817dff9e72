/** Error codes of the loans module's accounts area (joined into one catalogue by loans.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const accountErrorDefinitions = {} as const satisfies ErrorDefinitions;
