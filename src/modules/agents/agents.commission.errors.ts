/** Error codes of the agents module's commission area (joined into the module's catalogue by agents.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const commissionErrorDefinitions = {} as const satisfies ErrorDefinitions;
