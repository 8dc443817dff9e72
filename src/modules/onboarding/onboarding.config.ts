/** The onboarding module's own environment variables (parsed with the rest at start-up; `.env.example` lists them). */
import { boolean, integer, list, variable } from '../../platform/config-spec.ts';

export const journeyConfig = {
  ONBOARDING_TOKEN_TTL_HOURS: variable(
    'Hours a registration token lives (the journey can be resumed within it); an unfinished registration then expires.',
    '72',
    integer(1, 720),
  ),
  ONBOARDING_COUNTRIES: variable(
    'ISO 3166 countries whose mobile numbers may register, comma-separated.',
    'KE',
    (raw: string) => list(raw).map((code) => code.toUpperCase()),
  ),
  ONBOARDING_EMAIL_OPTIONAL: variable(
    'Whether the email step may be skipped (the phone OTP never may).',
    'false',
    boolean,
  ),
  ONBOARDING_PII_RETENTION_DAYS: variable(
    'Days after a registration ended (completed, declined, rejected, expired) before its PII is purged; counts stay.',
    '30',
    integer(1, 3650),
  ),
  ONBOARDING_CHECKS_PER_PHONE_HOUR: variable(
    'Phone checks per phone number per hour.',
    '5',
    integer(1, 1000),
  ),
  ONBOARDING_CHECKS_PER_DEVICE_HOUR: variable('Phone checks per device per hour.', '10', integer(1, 1000)),
  ONBOARDING_CHECKS_PER_IP_HOUR: variable(
    'Phone checks per client address per hour.',
    '60',
    integer(1, 100000),
  ),
};

export interface JourneyConfig {
  readonly ONBOARDING_TOKEN_TTL_HOURS: number;
  readonly ONBOARDING_COUNTRIES: string[];
  readonly ONBOARDING_EMAIL_OPTIONAL: boolean;
  readonly ONBOARDING_PII_RETENTION_DAYS: number;
  readonly ONBOARDING_CHECKS_PER_PHONE_HOUR: number;
  readonly ONBOARDING_CHECKS_PER_DEVICE_HOUR: number;
  readonly ONBOARDING_CHECKS_PER_IP_HOUR: number;
}
