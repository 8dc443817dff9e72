/**
 * The registration port: an unknown number registers through the onboarding module's own use case
 * (`onboarding.ussd.registerFromUssd`: the app's state machine and completion rules, one transaction, idempotent per
 * phone), and the terms link goes by SMS when the terms screen is shown. The PIN passes through to be hashed for the
 * customer-to-be; nothing here keeps or logs it.
 */
import type { RequestContext } from '../../platform/audit.ts';
import type { OnboardingApi, UssdRegistrationAnswer, UssdRegistrationInput } from '../onboarding/index.ts';
import type { Language } from './ussd.menu.ts';

export type { UssdRefusal, UssdRegistrationAnswer, UssdRegistrationInput } from '../onboarding/index.ts';

export interface RegistrationPort {
  /** Registers the number: active, in review, or refused with a reason (a retry answers the first outcome). */
  register(input: UssdRegistrationInput, context: RequestContext): Promise<UssdRegistrationAnswer>;
  /** The SMS with the terms and privacy link (capped per phone by onboarding; false when not sent). */
  sendTermsLink(msisdn: string, language: Language): Promise<boolean>;
}

export function createUssdRegistration(onboarding: OnboardingApi): RegistrationPort {
  return {
    register: (input, context) => onboarding.ussd.registerFromUssd(input, context),
    sendTermsLink: async (msisdn, language) => (await onboarding.ussd.sendTermsLink(msisdn, language)).sent,
  };
}
