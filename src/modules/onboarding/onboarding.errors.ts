/**
 * The onboarding module's closed set of error codes (docs/errors.md is generated from it). Each area keeps its codes
 * in its own `onboarding.<area>.errors.ts` (a plain definitions object); this file joins them into one catalogue.
 */
import { defineErrors, type ErrorDefinitions } from '../../platform/error-catalogue.ts';
import { activationErrorDefinitions } from './onboarding.activation.errors.ts';
import { diditErrorDefinitions } from './onboarding.didit.errors.ts';
import { journeyErrorDefinitions } from './onboarding.journey.errors.ts';

const definitions = {
  ...journeyErrorDefinitions,
  ...activationErrorDefinitions,
  ...diditErrorDefinitions,
} as const satisfies ErrorDefinitions;

type OnboardingErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends OnboardingErrorCodes {}
}

export const onboardingErrors = defineErrors('onboarding', definitions);
