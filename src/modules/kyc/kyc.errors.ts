/**
 * The KYC module's closed set of error codes: tiers and applications. A decision by the application's maker answers
 * the approvals module's OWN_REQUEST, through its index.ts.
 */
import { defineErrors, type ErrorDefinitions } from '../../platform/error-catalogue.ts';

const definitions = {
  UNKNOWN_TIER: {
    status: 422,
    message: 'Unknown KYC tier {tier}',
    description: 'No KYC tier has this code.',
  },
  KYC_IN_PROGRESS: {
    status: 409,
    message: 'An application for {target} is already open',
    description: 'An application for this tier is already open.',
  },
  KYC_WRONG_STATE: {
    status: 409,
    message: 'The application is {status}',
    description: 'The application is not in a state that allows this step.',
  },
  NOT_AN_UPGRADE: {
    status: 409,
    message: 'The customer is already at {current}; {target} is not above it',
    description: 'The target tier is not above the customer’s current tier.',
  },
  CHECKLIST_INCOMPLETE: {
    status: 409,
    message: 'Requirements of the tier are not met yet',
    description: 'Documents or checks the tier requires are missing.',
  },
} as const satisfies ErrorDefinitions;

type KycErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends KycErrorCodes {}
}

export const kycErrorCatalogue = defineErrors('kyc', definitions);
