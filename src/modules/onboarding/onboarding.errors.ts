/** The onboarding module's closed set of error codes (docs/errors.md is generated from it). */
import { defineErrors, type ErrorDefinitions } from '../../platform/error-catalogue.ts';

const definitions = {
  ONBOARDING_REFERENCE_TAKEN: {
    status: 409,
    message: 'An item with reference {reference} exists already',
    description: 'The customer already has an item with this reference.',
  },
} as const satisfies ErrorDefinitions;

type OnboardingErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends OnboardingErrorCodes {}
}

export const onboardingErrors = defineErrors('onboarding', definitions);
