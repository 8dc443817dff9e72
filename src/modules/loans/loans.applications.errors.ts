/** Error codes of the loans module's applications area (joined into one catalogue by loans.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const applicationErrorDefinitions = {} as const satisfies ErrorDefinitions;
