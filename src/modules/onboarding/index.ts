/**
 * Onboarding: self-registration from the mobile app as one resumable journey (issue 17) — phone check, identity
 * (a CBS lookup or Didit), phone and email OTP, terms, PIN and device, then auto or manual approval and activation.
 * Other modules reach it only through this file.
 *
 * Areas: the journey (registrations, the state machine, phone check, status, contacts, consent, credentials,
 * housekeeping, funnel), Didit (identity path B), CBS and activation (identity path A, completion, review queue).
 * Every area changes a registration only through `api.journey.advance` (onboarding.journey.ts), which checks the step
 * against TRANSITIONS (onboarding.machine.ts).
 */
import { defineModule } from '../../platform/modules.ts';
import { identityModule } from '../identity/index.ts';
import { walletsModule } from '../wallets/index.ts';
import {
  type ActivationAreas,
  activationAreaRoutes,
  activationConfig,
  activationHealth,
  activationTopics,
  buildActivationAreas,
  registrationReviews,
  reviewPermission,
} from './onboarding.activation.wiring.ts';
import { journeyConfig } from './onboarding.config.ts';
import { onboardingErrors } from './onboarding.errors.ts';
import { onboardingTopics } from './onboarding.events.ts';
import { journeyRoutes } from './onboarding.journey.routes.ts';
import { Journey } from './onboarding.journey.ts';
import { JourneyMetrics } from './onboarding.metrics.ts';
import { PhoneCheck } from './onboarding.phone.ts';
import {
  onboardingDenyList,
  onboardingDocuments,
  registrationSteps,
  registrations,
} from './onboarding.tables.ts';

export { registrationEnded } from './onboarding.events.ts';
export type {
  Advanced,
  AdvanceOptions,
  Journey,
  RegistrationPatch,
  RegistrationRow,
} from './onboarding.journey.ts';
export {
  nextState,
  type RegistrationState,
  type RegistrationStep,
  STATES,
  STEPS,
  TRANSITIONS,
} from './onboarding.machine.ts';

/** The onboarding module's API: one property per area (the others add theirs). */
export interface OnboardingApi {
  /** The registration: `byToken`, `advance` (the only way a registration changes state), sealing of its PII. */
  journey: Journey;
  /** The phone check and the status answer. */
  phone: PhoneCheck;
  /** Identity path A (CBS lookup), completion and activation, the review queue. */
  activation: ActivationAreas;
}

export const onboardingModule = defineModule({
  name: 'onboarding',
  description:
    'Onboarding: mobile self-registration as one resumable journey (phone check, CBS or Didit identity, phone and email OTP, terms, PIN, auto or manual approval)',
  dependsOn: ['settings', 'identity', 'customers', 'notifications', 'wallets'],
  config: { ...journeyConfig, ...activationConfig },
  errors: onboardingErrors,
  tables: { registrations, registrationSteps, onboardingDocuments, onboardingDenyList, registrationReviews },
  permissions: [
    { code: 'onboarding:read', description: 'Read registrations and the registration funnel' },
    {
      code: 'onboarding:manage',
      description: 'Publish terms and privacy versions, manage the registration deny list',
    },
    reviewPermission,
  ],
  publishes: [...onboardingTopics, ...activationTopics],
  create: (ctx): OnboardingApi => {
    const metrics = new JourneyMetrics();
    const journey = new Journey(ctx.deps, ctx.config, metrics);
    const phone = new PhoneCheck(ctx.deps, journey, metrics);
    const activation = buildActivationAreas(ctx.deps, journey, {
      identity: ctx.use(identityModule),
      wallets: ctx.use(walletsModule),
      config: ctx.config,
    });
    return { journey, phone, activation };
  },
  routes: (api) => [
    journeyRoutes(api.journey, api.phone),
    ...activationAreaRoutes(api.journey, api.activation),
  ],
  health: (api) => activationHealth(api.activation),
});
