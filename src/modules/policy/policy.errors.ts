/** The policy module's closed set of error codes (access policies). */
import { defineErrors, type ErrorDefinitions } from '../../platform/error-catalogue.ts';
import { commonErrors } from '../../platform/errors.ts';

const definitions = {
  ACCESS_POLICY: {
    status: 403,
    message: 'An access policy refuses this request',
    description: 'An access policy (channel, IP allowlist, hours) refuses this request.',
  },
} as const satisfies ErrorDefinitions;

type PolicyErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends PolicyErrorCodes {}
}

export const policyErrorCatalogue = defineErrors('policy', definitions);

export const policyErrors = {
  denied: (reasons: string[]) => policyErrorCatalogue.ACCESS_POLICY({ details: { reasons } }),
  invalidAddress: (value: string) =>
    commonErrors.validation(`Not an IP address or CIDR block: ${value}`, { field: 'ip_allowlist' }),
  invalidTimeZone: (value: string) =>
    commonErrors.validation(`Unknown time zone: ${value}`, { field: 'time_window.timezone' }),
  emptyTimeWindow: () =>
    commonErrors.validation('A time window needs different start and end times', { field: 'time_window' }),
};
