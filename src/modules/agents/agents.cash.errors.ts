/** Error codes of the agents module's cash area (joined into the module's catalogue by agents.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const cashErrorDefinitions = {} as const satisfies ErrorDefinitions;
