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
import type { ScreeningPort } from '../../integrations/ports.ts';
import { defineModule } from '../../platform/modules.ts';
import { identityModule } from '../identity/index.ts';
import { notificationsModule } from '../notifications/index.ts';
import { settingsModule } from '../settings/index.ts';
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
  seedOnboardingTemplates,
} from './onboarding.activation.wiring.ts';
import { agentRegistrationConfig } from './onboarding.agent.config.ts';
import { AgentRegistration } from './onboarding.agent.ts';
import { cbsDirectoryFrom } from './onboarding.cbs.ts';
import { journeyConfig } from './onboarding.config.ts';
import {
  buildDidit,
  type DiditArea,
  diditAreaRoutes,
  diditConfig,
  diditHealth,
  diditJobs,
  diditTables,
} from './onboarding.didit.wiring.ts';
import { onboardingErrors } from './onboarding.errors.ts';
import { onboardingTopics } from './onboarding.events.ts';
import {
  buildJourneyAreas,
  type JourneyAreas,
  journeyAreaRoutes,
  journeyJobs,
  seedJourney,
} from './onboarding.journey.wiring.ts';
import {
  onboardingDenyList,
  onboardingDocuments,
  registrationSteps,
  registrations,
} from './onboarding.tables.ts';
import { UssdRegistration, ussdRegistrationConfig } from './onboarding.ussd.ts';

export { registrationActivated } from './onboarding.activation.events.ts';
export {
  type AgentPinAnswer,
  type AgentRegistration,
  type AgentRegistrationInput,
  type AgentRegistrationRefusal,
  type AgentRegistrationView,
  type AgentStartAnswer,
  agentRegistrationView,
} from './onboarding.agent.ts';
export { registrationEnded } from './onboarding.events.ts';
export type {
  Advanced,
  AdvanceOptions,
  Journey,
  RegistrationPatch,
  RegistrationRow,
} from './onboarding.journey.ts';
export type { JourneyAreas } from './onboarding.journey.wiring.ts';
export {
  nextState,
  type RegistrationState,
  type RegistrationStep,
  STATES,
  STEPS,
  TRANSITIONS,
} from './onboarding.machine.ts';
export type {
  UssdRefusal,
  UssdRegistration,
  UssdRegistrationAnswer,
  UssdRegistrationInput,
} from './onboarding.ussd.ts';

/** The onboarding module's API: one property per area (the others add theirs). */
export interface OnboardingApi extends JourneyAreas {
  /** Identity path A (CBS lookup), completion and activation, the review queue. */
  activation: ActivationAreas;
  /** Identity path B: Didit sessions, the webhook, the callback and polling (`didit.pollDue(now)`). */
  didit: DiditArea;
  /** Registration from USSD: the same machine and rules in one use case (`registerFromUssd`), the terms SMS. */
  ussd: UssdRegistration;
  /** Agent-assisted registration: an operator starts it and verifies the phone, the customer sets the PIN on USSD. */
  agent: AgentRegistration;
  /**
   * Sets the sanctions/PEP screening every registration's applicant passes before activation (the no-op until
   * then). The AML module, built after this one, calls it with its port: a hit sends the registration to review.
   */
  useScreening(port: ScreeningPort): void;
}

export const onboardingModule = defineModule({
  name: 'onboarding',
  description:
    'Onboarding: mobile self-registration as one resumable journey (phone check, CBS or Didit identity, phone and email OTP, terms, PIN, auto or manual approval)',
  dependsOn: ['settings', 'identity', 'customers', 'notifications', 'wallets'],
  config: {
    ...journeyConfig,
    ...activationConfig,
    ...diditConfig,
    ...ussdRegistrationConfig,
    ...agentRegistrationConfig,
  },
  errors: onboardingErrors,
  tables: {
    registrations,
    registrationSteps,
    onboardingDocuments,
    onboardingDenyList,
    registrationReviews,
    ...diditTables,
  },
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
    const settings = ctx.use(settingsModule);
    const notifications = ctx.use(notificationsModule).service;
    const journeyAreas = buildJourneyAreas(ctx.deps, ctx.config, settings);
    const { journey } = journeyAreas;
    const activation = buildActivationAreas(ctx.deps, journey, {
      identity: ctx.use(identityModule),
      wallets: ctx.use(walletsModule),
      notifications,
      config: ctx.config,
    });
    const didit = buildDidit(ctx.deps, journey, ctx.config);
    const ussd = new UssdRegistration(
      ctx.deps,
      journeyAreas,
      {
        activation: activation.activation,
        notifications,
        settings,
        cbs: cbsDirectoryFrom(ctx.deps.config),
      },
      ctx.config,
    );
    const agent = new AgentRegistration(
      ctx.deps,
      journeyAreas,
      {
        activation: activation.activation,
        notifications,
        settings,
        cbs: cbsDirectoryFrom(ctx.deps.config),
      },
      ctx.config,
    );
    return {
      ...journeyAreas,
      activation,
      didit,
      ussd,
      agent,
      useScreening: (port) => activation.activation.useScreening(port),
    };
  },
  routes: (api) => [
    ...journeyAreaRoutes(api),
    ...activationAreaRoutes(api.journey, api.activation),
    ...diditAreaRoutes(api.didit),
  ],
  subscribes: (api) => api.activation.subscriptions,
  jobs: (api) => [...journeyJobs(api), ...diditJobs(api.didit)],
  seed: async ({ deps }) => {
    await seedJourney(deps);
    await seedOnboardingTemplates(deps);
  },
  health: (api) => ({ ...activationHealth(api.activation), ...diditHealth(api.didit) }),
});
