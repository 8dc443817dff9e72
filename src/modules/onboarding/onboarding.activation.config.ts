/** The CBS, completion and activation areas' environment variables (`.env.example` lists them). */
import { boolean, integer, text, variable } from '../../platform/config-spec.ts';

export const activationConfig = {
  ONBOARDING_TIER_CBS: variable(
    'KYC tier (seed/kyc_tiers.json code) of a customer registered through the CBS lookup: the bank did KYC already.',
    'standard',
    text,
  ),
  ONBOARDING_TIER_DIDIT: variable(
    'KYC tier of a customer registered through Didit identity verification (document, liveness, face match).',
    'basic',
    text,
  ),
  ONBOARDING_WALLET_CURRENCY: variable('Currency of the default wallet opened at activation.', 'KES', text),
  ONBOARDING_NATIONAL_ID_TYPE: variable(
    'The national_id_type customers get for the national ID given at registration.',
    'national_id',
    text,
  ),
  ONBOARDING_CBS_LOOKUPS_PER_HOUR: variable(
    'CBS lookups one registration may make per hour (a cap so national IDs cannot be probed).',
    '5',
    integer(1, 100),
  ),
  ONBOARDING_AUTO_APPROVE: variable(
    'Whether completion may approve automatically when every rule holds (false: every registration is reviewed).',
    'true',
    boolean,
  ),
};

export interface ActivationConfig {
  readonly ONBOARDING_TIER_CBS: string;
  readonly ONBOARDING_TIER_DIDIT: string;
  readonly ONBOARDING_WALLET_CURRENCY: string;
  readonly ONBOARDING_NATIONAL_ID_TYPE: string;
  readonly ONBOARDING_CBS_LOOKUPS_PER_HOUR: number;
  readonly ONBOARDING_AUTO_APPROVE: boolean;
}
