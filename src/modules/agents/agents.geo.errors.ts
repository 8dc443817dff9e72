/** Error codes of the agents module's geo area (joined into the module's catalogue by agents.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const geoErrorDefinitions = {} as const satisfies ErrorDefinitions;
