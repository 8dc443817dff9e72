/** The identity module's closed set of error codes. */
import { AppError } from '../../platform/errors.ts';

export const identityErrors = {
  invalidCredentials: () => new AppError(401, 'INVALID_CREDENTIALS', 'Invalid username or password'),
  invalidToken: (reason = 'Invalid or expired token') => new AppError(401, 'INVALID_TOKEN', reason),
  tokenRevoked: () => new AppError(401, 'TOKEN_REVOKED', 'This session has been revoked'),
  accountLocked: (retryAfterSeconds: number) =>
    new AppError(
      423,
      'ACCOUNT_LOCKED',
      'Too many failed attempts; try again later',
      { retry_after_seconds: retryAfterSeconds },
      { 'retry-after': String(retryAfterSeconds) },
    ),
  accountInactive: () => new AppError(403, 'ACCOUNT_INACTIVE', 'This account is not active'),
  /** `feedback`: the strength estimator's score (0–4), warning and suggestions, for the form to show. */
  passwordRejected: (
    reasons: string[],
    feedback: { score: number; warning: string | null; suggestions: string[] } | null = null,
  ) =>
    new AppError(422, 'PASSWORD_POLICY', 'The password does not meet the password policy', {
      reasons,
      ...(feedback ? { feedback } : {}),
    }),
  duplicateUser: (field: string) =>
    new AppError(409, 'USER_EXISTS', `A user with this ${field} already exists`, { field }),
  passwordChangeRequired: () =>
    new AppError(403, 'PASSWORD_CHANGE_REQUIRED', 'Change your password before doing anything else'),
  mfaEnrollmentRequired: () =>
    new AppError(
      403,
      'MFA_ENROLLMENT_REQUIRED',
      'Set up a second factor (authenticator app or security questions) first',
    ),
  rolesNeedApproval: () =>
    new AppError(
      409,
      'ROLES_NEED_APPROVAL',
      'Role assignment needs a second approval: create the user without roles, then assign them',
    ),
  beyondOwnPermissions: (codes: string[]) =>
    new AppError(403, 'BEYOND_OWN_PERMISSIONS', 'You cannot grant permissions you do not hold', {
      permissions: codes,
    }),
  permissionDenied: (permission: string) =>
    new AppError(403, 'FORBIDDEN', 'You do not have permission to do this', { permission }),
};
