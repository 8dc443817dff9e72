/** The USSD registration area's environment variables (`.env.example` lists them) and the use case's shapes. */
import { boolean, text, url, variable } from '../../platform/config-spec.ts';

export const ussdRegistrationConfig = {
  ONBOARDING_USSD_DECLARED_AUTO_APPROVE: variable(
    'Whether a USSD registration whose identity the bank did not confirm (declared: typed, no document) may be ' +
      'approved automatically at the USSD tier when every other rule holds (false: it goes to manual review).',
    'false',
    boolean,
  ),
  ONBOARDING_TIER_USSD: variable(
    'KYC tier of a customer registered over USSD (no document seen, no device bound), whatever the identity path.',
    'basic',
    text,
  ),
  ONBOARDING_USSD_TERMS_URL: variable(
    'Link to the terms and privacy policy sent by SMS when the USSD shows its short terms. Unset: the documents ' +
      'route under PUBLIC_BASE_URL.',
    undefined,
    url(['http:', 'https:']),
  ),
};

export interface UssdRegistrationConfig {
  readonly ONBOARDING_USSD_DECLARED_AUTO_APPROVE: boolean;
  readonly ONBOARDING_TIER_USSD: string;
  readonly ONBOARDING_USSD_TERMS_URL: string | undefined;
}

/** What the USSD collected (the PIN only passes through: it is hashed for the customer and never kept). */
export interface UssdRegistrationInput {
  /** The gateway's MSISDN (E.164 or national): the phone the mobile network proved. */
  msisdn: string;
  fullName: string;
  nationalId: string;
  /** YYYY-MM-DD. */
  dateOfBirth: string;
  pin: string;
  /** en, fr or sw: the registration's (and the customer's messages') language. */
  language: string;
}

export type UssdRefusal =
  /** The number belongs to a customer: sign in instead. */
  | 'exists'
  /** Not a served country's mobile number, or deny-listed. */
  | 'not_eligible'
  /** Self-registration is switched off, or no terms are published. */
  | 'unavailable'
  /** The PIN breaks the app's PIN rules (customers' pinVerdict). */
  | 'weak_pin'
  /** Fewer than two names, an impossible date of birth, or a malformed national ID. */
  | 'invalid_details'
  /** A reviewer rejected this phone's USSD registration recently. */
  | 'rejected'
  /** Too many bank lookups from this phone this hour. */
  | 'rate_limited';

export interface UssdRegistrationAnswer {
  outcome: 'active' | 'in_review' | 'refused';
  reason?: UssdRefusal;
}
