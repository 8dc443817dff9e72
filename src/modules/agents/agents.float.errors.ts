/** Error codes of the agents module's float area (joined into the module's catalogue by agents.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const floatErrorDefinitions = {} as const satisfies ErrorDefinitions;
