/**
 * The CBS, activation and review areas wired for index.ts: identity path A (Fineract from FINERACT_* config),
 * completion with the screening port (a no-op until the AML module provides one, reported by readiness), the review
 * queue, their routes and the readiness check.
 */
import { join } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { CbsClientDirectory } from '../../integrations/fineract/fineract.client.ts';
import { noopScreening, type ScreeningPort } from '../../integrations/ports.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { on, type Subscription } from '../../platform/events.ts';
import type { HealthCheck } from '../../platform/modules.ts';
import type { IdentityService } from '../identity/index.ts';
import { type NotificationsService, TemplatesService } from '../notifications/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import type { ActivationConfig } from './onboarding.activation.config.ts';
import { registrationActivated } from './onboarding.activation.events.ts';
import { activationRoutes } from './onboarding.activation.routes.ts';
import { Activation, queueWelcome } from './onboarding.activation.ts';
import { cbsRoutes } from './onboarding.cbs.routes.ts';
import { CbsIdentity, cbsDirectoryFrom } from './onboarding.cbs.ts';
import type { Journey } from './onboarding.journey.ts';
import { DetailsUpdate } from './onboarding.review.details.ts';
import { detailsRoutes, reviewRoutes } from './onboarding.review.routes.ts';
import { ReviewQueue } from './onboarding.review.ts';

export { activationConfig } from './onboarding.activation.config.ts';
export { activationTopics } from './onboarding.activation.events.ts';
export { registrationReviews } from './onboarding.review.tables.ts';

/** The directory holding this module's `template_seed.json` (the welcome message, SMS and in-app, en/fr/sw). */
export const ONBOARDING_SEED_DIR = join(import.meta.dirname, 'seed');

/** Adds onboarding's templates that do not exist yet (staff edits survive): the module owns its messages. */
export async function seedOnboardingTemplates(deps: Dependencies): Promise<void> {
  await new TemplatesService(deps.database.db).seed(ONBOARDING_SEED_DIR);
}

export const reviewPermission = {
  code: 'onboarding:review',
  description: 'Work the registration review queue: claim, approve, reject, request information',
};

export interface ActivationAreas {
  /** Identity path A: the CBS lookup and match. */
  cbs: CbsIdentity;
  /** Completion (automatic approval rules) and activation in one transaction. */
  activation: Activation;
  /** The manual review queue. */
  review: ReviewQueue;
  /** The customer's corrected details after a reviewer's request. */
  details: DetailsUpdate;
  /** The welcome message from the activation event (onboarding's consumer). */
  subscriptions: Subscription[];
}

export function buildActivationAreas(
  deps: Dependencies,
  journey: Journey,
  services: {
    identity: IdentityService;
    wallets: WalletsService;
    notifications: NotificationsService;
    config: ActivationConfig;
    screening?: ScreeningPort;
    cbs?: CbsClientDirectory | null;
  },
): ActivationAreas {
  const cbs = new CbsIdentity(
    journey,
    services.cbs === undefined ? cbsDirectoryFrom(deps.config) : services.cbs,
    {
      pepper: deps.config.HMAC_PEPPER,
      nationalIdType: services.config.ONBOARDING_NATIONAL_ID_TYPE,
      store: deps.store,
      lookupsPerHour: services.config.ONBOARDING_CBS_LOOKUPS_PER_HOUR,
    },
  );
  const activation = new Activation(
    deps,
    journey,
    {
      identity: services.identity,
      wallets: services.wallets,
      screening: services.screening ?? noopScreening,
    },
    services.config,
  );
  return {
    cbs,
    activation,
    review: new ReviewQueue(journey, activation),
    details: new DetailsUpdate(journey),
    subscriptions: [
      on(registrationActivated, (tx, event) => queueWelcome(services.notifications, tx, event)),
    ],
  };
}

export function activationAreaRoutes(journey: Journey, areas: ActivationAreas): FastifyPluginAsyncTypebox[] {
  return [
    cbsRoutes(journey, areas.cbs),
    activationRoutes(journey, areas.activation),
    reviewRoutes(areas.review),
    detailsRoutes(journey, areas.details),
  ];
}

/** Readiness: screening as `not_configured` while it is the no-op (never failing readiness). */
export function activationHealth(areas: ActivationAreas): Record<string, HealthCheck> {
  // Read at each probe: the AML module sets its port after this module is built.
  return {
    'onboarding.screening': {
      critical: false,
      probe: async () => (areas.activation.screening.configured ? undefined : 'not_configured'),
    },
  };
}
