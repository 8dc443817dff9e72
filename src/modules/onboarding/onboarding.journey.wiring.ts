/**
 * The journey area's wiring for index.ts: the registration core (`journey`), the phone check and status, contact
 * verification, consent, credentials, the deny list, housekeeping and the funnel; their routes, jobs and seed.
 */
import type { Dependencies } from '../../platform/dependencies.ts';
import type { ScheduledTask } from '../../platform/modules.ts';
import type { SettingsService } from '../settings/index.ts';
import { adminRoutes } from './onboarding.admin.routes.ts';
import type { JourneyConfig } from './onboarding.config.ts';
import { Consent, seedDocuments } from './onboarding.consent.ts';
import { ContactVerification } from './onboarding.contacts.ts';
import { Credentials } from './onboarding.credentials.ts';
import { DenyList } from './onboarding.denylist.ts';
import { Funnel } from './onboarding.funnel.ts';
import { Housekeeping } from './onboarding.housekeeping.ts';
import { journeyRoutes } from './onboarding.journey.routes.ts';
import { Journey } from './onboarding.journey.ts';
import { JourneyMetrics } from './onboarding.metrics.ts';
import { PhoneCheck } from './onboarding.phone.ts';
import { stepRoutes } from './onboarding.steps.routes.ts';

export interface JourneyAreas {
  /** The registration: `byToken`, `advance` (the only way a registration changes state), sealing of its PII. */
  journey: Journey;
  /** The phone check and the status answer. */
  phone: PhoneCheck;
  /** Phone and email OTP. */
  contacts: ContactVerification;
  /** Terms and privacy versions and their acceptance. */
  consent: Consent;
  /** The PIN (hashed as customers' credentials are, keyed by `pin_customer_id`) and the bound device. */
  credentials: Credentials;
  /** Refused phones, devices and national IDs (`denyList.denied('national_id', value)`). */
  denyList: DenyList;
  /** Expiry of abandoned registrations, PII purge after the retention period. */
  housekeeping: Housekeeping;
  funnel: Funnel;
}

export function buildJourneyAreas(
  deps: Dependencies,
  config: JourneyConfig,
  settings: SettingsService,
): JourneyAreas {
  const metrics = new JourneyMetrics();
  const journey = new Journey(deps, config, metrics);
  const phone = new PhoneCheck(deps, journey, metrics, settings);
  return {
    journey,
    phone,
    contacts: new ContactVerification(deps, journey, settings),
    consent: new Consent(journey),
    credentials: new Credentials(deps, journey),
    denyList: new DenyList(journey, phone),
    housekeeping: new Housekeeping(journey),
    funnel: new Funnel(journey),
  };
}

export function journeyAreaRoutes(areas: JourneyAreas) {
  return [
    journeyRoutes(areas.journey, areas.phone),
    stepRoutes(areas.contacts, areas.consent, areas.credentials),
    adminRoutes(areas.funnel, areas.consent, areas.denyList),
  ];
}

/** Every 10 minutes: expire abandoned registrations; daily at 02:40 UTC: purge PII past the retention period. */
export function journeyJobs(areas: JourneyAreas): ScheduledTask[] {
  return [
    {
      name: 'onboarding.expire-registrations',
      schedule: '*/10 * * * *',
      run: async () => {
        await areas.housekeeping.expireAbandoned();
      },
    },
    {
      name: 'onboarding.purge-registrations',
      schedule: '40 2 * * *',
      run: async () => {
        await areas.housekeeping.purgeEnded();
      },
    },
  ];
}

export async function seedJourney(deps: Dependencies): Promise<void> {
  await seedDocuments(deps.database.db);
}
