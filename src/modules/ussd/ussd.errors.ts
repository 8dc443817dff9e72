/**
 * The ussd module's closed set of error codes (docs/errors.md is generated from it). Each area keeps its codes in its
 * own `ussd.<area>.errors.ts` (a plain definitions object); this file joins them into the one catalogue. Most USSD
 * refusals are screens, not HTTP errors: these codes are what the gateway and staff routes answer.
 */
import { defineErrors, type ErrorDefinitions } from '../../platform/error-catalogue.ts';
import { accountErrorDefinitions } from './ussd.account.errors.ts';
import { gatewayErrorDefinitions } from './ussd.gateways.errors.ts';
import { moneyErrorDefinitions } from './ussd.money.errors.ts';

const definitions = {
  // areas: one spread per area's definitions
  ...accountErrorDefinitions,
  ...gatewayErrorDefinitions,
  ...moneyErrorDefinitions,
} as const satisfies ErrorDefinitions;

type UssdErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends UssdErrorCodes {}
}

export const ussdErrors = defineErrors('ussd', definitions);

/** A gateway body that is not its wire format: 400 naming the field (the gateway ends the session on any 4xx). */
export function invalidGatewayRequest(gateway: string, field: string, problem: string) {
  return ussdErrors.USSD_GATEWAY_REQUEST_INVALID({
    message: `The ${gateway} request could not be read: ${field} ${problem}`,
    details: { gateway, field },
  });
}
