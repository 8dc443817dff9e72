/** Identity & access: tokens, login, sessions, and the access guard every route goes through. */
import type { FastifyInstance } from 'fastify';
import { moduleConfigOf } from '../../config.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors } from '../../platform/errors.ts';
import { defineModule } from '../../platform/modules.ts';
import { SettingsService, settingsModule } from '../settings/index.ts';
import { type IdentityConfig, identityConfig } from './identity.config.ts';
import { identityErrorCatalogue, identityErrors } from './identity.errors.ts';
import { identityTopics } from './identity.events.ts';
import { mfaRoutes } from './identity.mfa.routes.ts';
import { MfaService } from './identity.mfa.ts';
import { DEFAULT_OTP_POLICY } from './identity.mfa-otp.ts';
import { pushRoutes } from './identity.push.routes.ts';
import { purgeExpiredRefreshTokens } from './identity.repository.ts';
import { identityRoutes } from './identity.routes.ts';
import { IdentityService } from './identity.service.ts';
import {
  mfaFactors,
  passwordHistory,
  passwordResetTokens,
  permissions,
  pushChallenges,
  recoveryCodes,
  refreshTokens,
  registeredDevices,
  rolePermissions,
  roles,
  securityAnswers,
  signingKeys,
  userRoles,
  users,
} from './identity.tables.ts';
import { TokenService } from './identity.tokens.ts';

export { devicePushToken, forgetPushToken, pushableDevices, userContact } from './identity.contacts.ts';
export { identityErrorCatalogue } from './identity.errors.ts';
export {
  identityTopics,
  newDeviceLogin,
  passwordResetRequested,
  pushChallenge,
} from './identity.events.ts';
export { passwordProblems } from './identity.passwords.ts';
export { type PrincipalChange, publishPrincipalChange } from './identity.principal-cache.ts';
export {
  type CustomerDeviceInput,
  DEVICE_ID_PATTERN,
  type PushApprovals,
  type PushDecision,
  type PushPurpose,
  parseDevicePublicKey,
  pushSigningString,
  registerCustomerDevice,
} from './identity.push.ts';
export { userFullName } from './identity.read.ts';
export {
  addUserRole,
  countOtherActiveHolders,
  deleteRole,
  findRoleByCode,
  findRoleById,
  findUserById,
  grantRolePermissions,
  insertRole,
  knownPermissionCodes,
  listPermissions,
  listRoles,
  listUsers,
  type PermissionRow,
  permissionsOfRole,
  permissionsOfRoleCodes,
  permissionsOfRoles,
  purgeExpiredRefreshTokens,
  type RoleRow,
  removeUserRole,
  revokeRolePermissions,
  rewrapIdentityKeys,
  roleMemberCount,
  rolesOfUsers,
  setUserStatus,
  type UserRow,
  type UserStatus,
  updateRoleDetails,
  updateUserDetails,
  userAccess,
} from './identity.repository.ts';
export { PASSWORD_RESET_TOPIC } from './identity.reset.ts';
export { TokenPair as TokenPairSchema } from './identity.schemas.ts';
export { ensureFirstAdmin, readPermissionSeed, SEED_DIR, seedPermissionsAndRoles } from './identity.seed.ts';
export type { PrincipalAccess, PrincipalResolver } from './identity.service.ts';
export { IdentityService, type UserView, userView } from './identity.service.ts';

/** The identity service with its MFA, reading policy (password rules, OTP lifetime) from the runtime settings. */
async function buildIdentity(
  deps: Dependencies,
  settings: SettingsService,
  config: IdentityConfig,
): Promise<IdentityService> {
  const tokens = new TokenService(deps.database.db, deps.keys, deps.config, deps.store);
  await tokens.init();
  const identity = new IdentityService(deps, tokens, config);
  const mfa = new MfaService(deps, tokens);
  mfa.otp.policy = async () => ({
    ...DEFAULT_OTP_POLICY,
    ttlMs: (await settings.get('auth.otp_ttl_seconds')) * 1000,
  });
  identity.mfa = mfa;
  identity.passwordSettings = {
    complexity: () => settings.get('auth.password_complexity'),
    expiryDays: () => settings.get('auth.password_expiry_days'),
    staffMfaRequired: () => settings.get('auth.staff_mfa_required'),
    mfaPolicy: () => settings.get('auth.mfa_policy'),
    institutionName: () => settings.get('institution.name'),
    customerPushLogin: () => settings.get('auth.customer_push_login'),
  };
  return identity;
}

/**
 * The identity service on its own (the CLI, benchmarks): a read-only view of the runtime settings, whose few-second
 * cache needs no change subscription (and nothing to stop). Stop it with `identity.tokens.stop()`.
 */
export function createIdentity(deps: Dependencies): Promise<IdentityService> {
  return buildIdentity(
    deps,
    new SettingsService(deps.database.db, deps.store),
    moduleConfigOf(deps.config, identityConfig) as IdentityConfig,
  );
}

export const identityModule = defineModule({
  name: 'identity',
  description:
    'Staff identity: tokens, sign-in, sessions, MFA, push approval, and the access guard on every route',
  dependsOn: ['settings'],
  config: identityConfig,
  tables: {
    users,
    roles,
    permissions,
    rolePermissions,
    userRoles,
    signingKeys,
    refreshTokens,
    mfaFactors,
    recoveryCodes,
    passwordHistory,
    securityAnswers,
    passwordResetTokens,
    registeredDevices,
    pushChallenges,
  },
  publishes: identityTopics,
  errors: identityErrorCatalogue,
  create: async (ctx) => {
    const identity = await buildIdentity(ctx.deps, ctx.use(settingsModule), ctx.config);
    // Subscribed before the first request: until the subscription is confirmed every request reads through.
    await identity.principalCache.start();
    return identity;
  },
  guards: (identity, app) => registerAccessGuard(app, identity),
  routes: (identity) => [
    identityRoutes(identity),
    pushRoutes(identity.push),
    ...(identity.mfa ? [mfaRoutes(identity, identity.mfa)] : []),
  ],
  jobs: () => [
    {
      name: 'maintenance.purge-expired-sessions',
      schedule: '41 3 * * *',
      run: (db) => purgeExpiredRefreshTokens(db),
    },
  ],
  close: async (identity) => {
    await identity.principalCache.stop();
    await identity.tokens.stop();
  },
});

/**
 * Checks every request against its route's declared access: public, any signed-in principal, or a permission.
 * Customers reach only routes that allow them; their services then check ownership.
 */
export function registerAccessGuard(app: FastifyInstance, identity: IdentityService): void {
  app.decorateRequest('principal', null);
  // preParsing: after every onRequest hook (rate limiting is one, per route) and before the body is parsed.
  app.addHook('preParsing', async (request, _reply, payload) => {
    const access = request.routeOptions.config?.access;
    if (!access || 'public' in access) return payload;
    const header = request.headers.authorization;
    const match = header ? /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header) : null;
    if (!match) throw commonErrors.unauthorized();
    const principal = await identity.authenticate(match[1]!);
    request.principal = principal;
    if (principal.passwordChangeRequired && !request.routeOptions.config.allowPendingPasswordChange) {
      throw identityErrors.passwordChangeRequired();
    }
    if (principal.mfaEnrollmentRequired && !request.routeOptions.config.allowPendingMfaEnrollment) {
      throw identityErrors.mfaEnrollmentRequired();
    }
    if ('authenticated' in access) return payload;
    if (principal.type === 'customer') {
      if (access.allowCustomer) return payload;
      throw identityErrors.permissionDenied(access.permission);
    }
    if (!principal.permissions.has(access.permission))
      throw identityErrors.permissionDenied(access.permission);
    return payload;
  });
}
