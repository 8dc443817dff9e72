/** The core module's closed set of error codes (entity categories). */
import { defineErrors, type ErrorDefinitions } from '../../platform/error-catalogue.ts';

const definitions = {
  CATEGORY_EXISTS: {
    status: 409,
    message: 'A category with this code exists for this entity type',
    description: 'A category with this code exists for this entity type.',
  },
} as const satisfies ErrorDefinitions;

type CoreErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends CoreErrorCodes {}
}

export const coreErrorCatalogue = defineErrors('core', definitions);
