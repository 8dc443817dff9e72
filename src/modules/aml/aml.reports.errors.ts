/** The AML reports area's error codes (joined into the module's catalogue in aml.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const reportsErrorDefinitions = {} as const satisfies ErrorDefinitions;
