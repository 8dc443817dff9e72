/** The AML risk area's error codes (joined into the module's catalogue in aml.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const riskErrorDefinitions = {} as const satisfies ErrorDefinitions;
