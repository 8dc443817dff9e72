/**
 * The identity module's closed set of error codes: sign-in, tokens and sessions, passwords, users, second factors
 * and device push challenges. The customers module's PIN sign-in answers with some of them (INVALID_CREDENTIALS,
 * ACCOUNT_INACTIVE, PUSH_NOT_APPROVED) and access with USER_EXISTS and BEYOND_OWN_PERMISSIONS, through index.ts.
 */
import {
  defineErrors,
  type ErrorDefinitions,
  platformErrorCatalogue as platform,
} from '../../platform/error-catalogue.ts';
import { commonErrors } from '../../platform/errors.ts';

const definitions = {
  INVALID_CREDENTIALS: {
    status: 401,
    message: 'Invalid username or password',
    description: 'Wrong username, email, phone or password (never which).',
  },
  INVALID_TOKEN: {
    status: 401,
    message: 'Invalid or expired token',
    description: 'The access token is invalid or expired.',
  },
  TOKEN_REVOKED: {
    status: 401,
    message: 'This session has been revoked',
    description: 'The session of this token was revoked (logout, password change).',
  },
  ACCOUNT_LOCKED: {
    status: 423,
    message: 'Too many failed attempts; try again later',
    description: 'The account is locked after too many failed sign-ins.',
    retryAfter: true,
  },
  ACCOUNT_INACTIVE: {
    status: 403,
    message: 'This account is not active',
    description: 'The account is suspended, disabled or closed.',
  },
  PASSWORD_POLICY: {
    status: 422,
    message: 'The password does not meet the password policy',
    description: 'The new password does not meet the password policy; `details.reasons` says why.',
  },
  PASSWORD_CHANGE_REQUIRED: {
    status: 403,
    message: 'Change your password before doing anything else',
    description: 'The password is temporary or expired: only the password change is open.',
  },
  MFA_ENROLLMENT_REQUIRED: {
    status: 403,
    message: 'Set up a second factor (authenticator app or security questions) first',
    description: 'Staff must enrol a second factor first: only enrolment is open.',
  },
  USER_EXISTS: {
    status: 409,
    message: 'A user with this {field} already exists',
    description: 'A user with this username, email or phone exists.',
  },
  ROLES_NEED_APPROVAL: {
    status: 409,
    message: 'Role assignment needs a second approval: create the user without roles, then assign them',
    description: 'Role assignment is under maker-checker: create the user without roles, then assign them.',
  },
  BEYOND_OWN_PERMISSIONS: {
    status: 403,
    message: 'You cannot grant permissions you do not hold',
    description: 'Nobody may grant permissions they do not hold.',
  },
  INVALID_MFA_CODE: {
    status: 401,
    message: 'The code is wrong or has already been used',
    description: 'The second-factor code is wrong or already used.',
  },
  MFA_ALREADY_ENABLED: {
    status: 409,
    message: '{factor} sign-in is already on',
    description: 'This second factor is already on.',
  },
  MFA_NOT_ENABLED: {
    status: 409,
    message: '{factor} sign-in is not on',
    description: 'This second factor is not on.',
  },
  MFA_NOT_ENROLLED: {
    status: 409,
    message: 'Start the enrolment first',
    description: 'Start the enrolment of this factor first.',
  },
  MFA_FACTOR_UNAVAILABLE: {
    status: 422,
    message: '{factor} is not a factor of this sign-in',
    description: 'This factor is not one of this sign-in.',
  },
  PHONE_REQUIRED: {
    status: 409,
    message: 'Your account has no phone number; ask an administrator to add one',
    description: 'The account has no phone number for SMS codes.',
  },
  DUPLICATE_QUESTION: {
    status: 422,
    message: 'Each question may be answered once',
    description: 'A security question is answered twice.',
  },
  UNKNOWN_QUESTION: {
    status: 422,
    message: 'Unknown security questions',
    description: 'A security question is not in the catalogue.',
  },
  QUESTIONS_NOT_SET: {
    status: 409,
    message: 'No security questions are set',
    description: 'No security questions are set.',
  },
  DEVICE_LIMIT: {
    status: 409,
    message: 'At most {max_devices} devices; revoke one first',
    description: 'Too many registered devices; revoke one first.',
  },
  INVALID_PUBLIC_KEY: {
    status: 422,
    message: 'The public key is not usable: {reason}',
    description: 'The device public key is not a usable Ed25519 key.',
  },
  INVALID_SIGNATURE: {
    status: 401,
    message: 'The signature does not verify with a registered device key',
    description: 'The signature does not verify with a registered device key.',
  },
  NO_DEVICE: {
    status: 409,
    message: 'No registered device can receive the challenge',
    description: 'No registered device can receive a push challenge.',
  },
  PUSH_CHALLENGE_CLOSED: {
    status: 409,
    message: 'The challenge is {status}',
    description: 'The push challenge was already answered or expired.',
  },
  PUSH_CHALLENGE_LOCKED: {
    status: 423,
    message: 'Too many bad signatures; the challenge is closed',
    description: 'Too many bad signatures closed the push challenge.',
  },
  PUSH_NOT_APPROVED: {
    status: 401,
    message: 'The sign-in was not approved on your device',
    description: 'The sign-in was not approved on the device.',
  },
} as const satisfies ErrorDefinitions;

type IdentityErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends IdentityErrorCodes {}
}

export const identityErrorCatalogue = defineErrors('identity', definitions);
const codes = identityErrorCatalogue;

export const identityErrors = {
  invalidCredentials: () => codes.INVALID_CREDENTIALS(),
  invalidToken: (reason?: string) => codes.INVALID_TOKEN({ message: reason }),
  tokenRevoked: () => codes.TOKEN_REVOKED(),
  accountLocked: (retryAfterSeconds: number) =>
    codes.ACCOUNT_LOCKED({
      details: { retry_after_seconds: retryAfterSeconds },
      headers: { 'retry-after': String(retryAfterSeconds) },
    }),
  accountInactive: () => codes.ACCOUNT_INACTIVE(),
  /** `feedback`: the strength estimator's score (0–4), warning and suggestions, for the form to show. */
  passwordRejected: (
    reasons: string[],
    feedback: { score: number; warning: string | null; suggestions: string[] } | null = null,
  ) => codes.PASSWORD_POLICY({ details: { reasons, ...(feedback ? { feedback } : {}) } }),
  duplicateUser: (field: string) => codes.USER_EXISTS({ params: { field }, details: { field } }),
  passwordChangeRequired: () => codes.PASSWORD_CHANGE_REQUIRED(),
  mfaEnrollmentRequired: () => codes.MFA_ENROLLMENT_REQUIRED(),
  rolesNeedApproval: () => codes.ROLES_NEED_APPROVAL(),
  beyondOwnPermissions: (permissions: string[]) => codes.BEYOND_OWN_PERMISSIONS({ details: { permissions } }),
  permissionDenied: (permission: string) => platform.FORBIDDEN({ details: { permission } }),
  /** The second-factor routes are for staff; customers confirm payments with their PIN. */
  staffOnly: () => commonErrors.forbidden('Second factors here are for staff accounts'),
};
