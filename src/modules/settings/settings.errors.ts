/** The settings module's closed set of error codes. */
import { defineErrors, type ErrorDefinitions } from '../../platform/error-catalogue.ts';

const definitions = {
  VERSION_CONFLICT: {
    status: 409,
    message: 'The setting changed since you read it',
    description: 'The setting changed since it was read (`version` differs).',
  },
} as const satisfies ErrorDefinitions;

type SettingErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends SettingErrorCodes {}
}

export const settingErrorCatalogue = defineErrors('settings', definitions);
