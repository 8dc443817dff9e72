/** The AML screening area's error codes (joined into the module's catalogue in aml.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const screeningErrorDefinitions = {} as const satisfies ErrorDefinitions;
