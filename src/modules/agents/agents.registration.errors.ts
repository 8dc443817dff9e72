/** Error codes of the agents module's registration area (joined into the module's catalogue by agents.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const registrationErrorDefinitions = {
  AGENT_REGISTRATION_CUSTOMER_EXISTS: {
    status: 409,
    message: 'This phone is already a customer’s',
    description:
      'The phone belongs to a customer: nothing to register (the customer signs in, or serve them).',
  },
  AGENT_REGISTRATION_NOT_ELIGIBLE: {
    status: 422,
    message: 'This phone cannot be registered',
    description:
      'The phone is not a mobile number of a served country (ONBOARDING_COUNTRIES), or it is on the deny list.',
  },
  AGENT_REGISTRATION_DETAILS_INVALID: {
    status: 422,
    message: 'The customer’s details are not valid',
    description:
      'The full name needs two names at least, the date of birth must be a real past date, and the national ID ' +
      '4 to 20 letters or digits.',
  },
  AGENT_REGISTRATION_IN_PROGRESS: {
    status: 409,
    message: 'A registration of this phone is already under way',
    description:
      'Another agent registration of the phone is running (waiting for its code or for the customer’s PIN) or ' +
      'waits for a reviewer.',
  },
  AGENT_REGISTRATION_UNAVAILABLE: {
    status: 503,
    message: 'Registration is not available now',
    description: 'Self-registration is switched off, or no terms and privacy documents are published.',
  },
  AGENT_REGISTRATION_NOT_FOUND: {
    status: 404,
    message: 'Registration not found',
    description: 'No agent registration of the operator’s agent has this id.',
  },
} as const satisfies ErrorDefinitions;
