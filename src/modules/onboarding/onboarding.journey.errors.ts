/** Error codes of the registration journey (joined into one catalogue by onboarding.errors.ts). */
import type { ErrorDefinitions } from '../../platform/error-catalogue.ts';

export const journeyErrorDefinitions = {
  REGISTRATION_TOKEN_INVALID: {
    status: 401,
    message: 'The registration token is missing, unknown or not for this device',
    description:
      'Registration routes take the token `POST /mobile/register/phone/check` gave in `X-Registration-Token` ' +
      '(and, when sent, the same `X-Device-Id`).',
  },
  REGISTRATION_EXPIRED: {
    status: 410,
    message: 'This registration has expired; start again with the phone check',
    description: 'The token lifetime passed, or the registration ended (expired or purged).',
  },
  REGISTRATION_STEP_OUT_OF_ORDER: {
    status: 409,
    message: 'Step {step} is not allowed while the registration is {state}',
    description:
      'The step is not the next one in the journey: `details.expected_steps` names the steps allowed now and ' +
      '`details.state` the registration’s state.',
  },
  REGISTRATION_NOT_ELIGIBLE: {
    status: 422,
    message: 'This phone number cannot be used to register: {reason}',
    description:
      'The number is not a mobile number of a country served (`ONBOARDING_COUNTRIES`), or registration from ' +
      'it (or from this device) is refused.',
  },
  REGISTRATION_UNAVAILABLE: {
    status: 503,
    message: 'Registration in the app is switched off; visit a branch or an agent',
    description: 'The setting `features.self_registration` is off, so no registration starts.',
  },
  REGISTRATION_RATE_LIMITED: {
    status: 429,
    message: 'Too many registration attempts; try again later',
    description: 'Per phone number, device and client address there is a cap on phone checks per hour.',
    retryAfter: true,
  },
  REGISTRATION_EMAIL_REQUIRED: {
    status: 409,
    message: 'An email address must be verified to register',
    description: 'Skipping the email step is allowed only when the email is optional (the setting).',
  },
  REGISTRATION_OTP_NOT_SENT: {
    status: 409,
    message: 'Ask for a code first',
    description: 'The OTP check needs a code sent by the matching `.../otp/send` step of this registration.',
  },
  REGISTRATION_DOCUMENT_OUTDATED: {
    status: 409,
    message: 'The {kind} accepted is not the current version',
    description:
      'Accept the current terms and privacy policy (`GET /mobile/register/documents`): their `content_hash` ' +
      'values are sent back as proof of what was read.',
  },
  REGISTRATION_DOCUMENT_EXISTS: {
    status: 409,
    message: 'Version {version} of the {kind} in {language} exists already',
    description: 'A published document version is immutable; publish a new version instead.',
  },
  REGISTRATION_DOCUMENT_MISSING: {
    status: 503,
    message: 'No {kind} is published',
    description:
      'The terms or privacy policy have not been published yet, so no registration can accept them.',
  },
} as const satisfies ErrorDefinitions;
