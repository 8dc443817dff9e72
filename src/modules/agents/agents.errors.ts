/**
 * The agents module's closed set of error codes (docs/errors.md is generated from it). Each area keeps its codes in
 * its own `agents.<area>.errors.ts` (a plain definitions object); this file joins them into the one catalogue.
 */
import { defineErrors, type ErrorDefinitions } from '../../platform/error-catalogue.ts';
import { authErrorDefinitions } from './agents.auth.errors.ts';
import { cashErrorDefinitions } from './agents.cash.errors.ts';
import { commissionErrorDefinitions } from './agents.commission.errors.ts';
import { floatErrorDefinitions } from './agents.float.errors.ts';
import { geoErrorDefinitions } from './agents.geo.errors.ts';
import { networkErrorDefinitions } from './agents.network.errors.ts';
import { registrationErrorDefinitions } from './agents.registration.errors.ts';

const definitions = {
  ...networkErrorDefinitions,
  ...authErrorDefinitions,
  ...geoErrorDefinitions,
  ...floatErrorDefinitions,
  ...cashErrorDefinitions,
  ...commissionErrorDefinitions,
  ...registrationErrorDefinitions,
} as const satisfies ErrorDefinitions;

type AgentsErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends AgentsErrorCodes {}
}

export const agentsErrors = defineErrors('agents', definitions);
