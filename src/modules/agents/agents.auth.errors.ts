/** Error codes of the agents module's auth area (joined into the module's catalogue by agents.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const authErrorDefinitions = {} as const satisfies ErrorDefinitions;
