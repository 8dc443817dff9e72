/** Error codes of the agents module's network area (joined into the module's catalogue by agents.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const networkErrorDefinitions = {} as const satisfies ErrorDefinitions;
