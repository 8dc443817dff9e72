/**
 * The access module's closed set of error codes (users, roles and permissions). It also answers identity's
 * USER_EXISTS and BEYOND_OWN_PERMISSIONS, through identity's index.ts.
 */
import { defineErrors, type ErrorDefinitions } from '../../platform/error-catalogue.ts';
import { identityErrorCatalogue } from '../identity/index.ts';

const definitions = {
  ROLE_EXISTS: {
    status: 409,
    message: 'A role with this code already exists',
    description: 'A role with this code exists.',
  },
  ROLE_IN_USE: {
    status: 409,
    message: 'Remove the role from its users first',
    description: 'The role is held by users; remove it from them first.',
  },
  SYSTEM_ROLE: {
    status: 409,
    message: 'System roles cannot be deleted',
    description: 'System roles cannot be deleted or renamed.',
  },
  UNKNOWN_ROLE: { status: 422, message: 'Unknown role {role}', description: 'No role has this code.' },
  UNKNOWN_PERMISSION: {
    status: 422,
    message: 'Unknown permissions',
    description: 'A permission code does not exist.',
  },
  PROTECTED_PERMISSION: {
    status: 409,
    message: 'super_admin must keep permission:manage, or nobody could grant it back',
    description: 'super_admin must keep permission:manage, or nobody could grant it back.',
  },
  PERMISSIONS_NEED_APPROVAL: {
    status: 409,
    message: 'Create the role without permissions, then grant them for approval',
    description:
      'Granting permissions is under maker-checker: create the role without them, then grant them.',
  },
  LAST_SUPER_ADMIN: {
    status: 409,
    message: 'At least one active super administrator must remain',
    description: 'At least one active super administrator must remain.',
  },
  SELF_STATUS_CHANGE: {
    status: 409,
    message: 'You cannot change the status of your own account',
    description: 'Nobody may change the status of their own account.',
  },
} as const satisfies ErrorDefinitions;

type AccessErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends AccessErrorCodes {}
}

export const accessErrorCatalogue = defineErrors('access', definitions);
const codes = accessErrorCatalogue;

export const accessErrors = {
  selfStatusChange: () => codes.SELF_STATUS_CHANGE(),
  lastSuperAdmin: () => codes.LAST_SUPER_ADMIN(),
  roleExists: () => codes.ROLE_EXISTS(),
  roleInUse: (users: number) => codes.ROLE_IN_USE({ details: { user_count: users } }),
  systemRole: () => codes.SYSTEM_ROLE(),
  unknownPermissions: (permissions: string[]) => codes.UNKNOWN_PERMISSION({ details: { permissions } }),
  unknownRole: (role: string) => codes.UNKNOWN_ROLE({ params: { role }, details: { role } }),
  beyondOwnPermissions: (permissions: string[]) =>
    identityErrorCatalogue.BEYOND_OWN_PERMISSIONS({ details: { permissions } }),
  userBeyondOwn: (what: string, permissions: string[]) =>
    identityErrorCatalogue.BEYOND_OWN_PERMISSIONS({
      message: `You cannot ${what} a user who holds permissions you do not hold`,
      details: { permissions },
    }),
  protectedPermission: () => codes.PROTECTED_PERMISSION(),
  permissionsNeedApproval: () => codes.PERMISSIONS_NEED_APPROVAL(),
  /** A user's email or phone is another user's. */
  userExists: (field: 'email' | 'phone') =>
    identityErrorCatalogue.USER_EXISTS({ message: `A user with this ${field} exists`, details: { field } }),
};
