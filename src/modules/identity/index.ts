/** Identity & access: tokens, login, sessions, and the access guard every route goes through. */
import type { FastifyInstance } from 'fastify';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors } from '../../platform/errors.ts';
import { SettingsService } from '../settings/index.ts';
import { identityErrors } from './identity.errors.ts';
import { mfaRoutes } from './identity.mfa.routes.ts';
import { MfaService } from './identity.mfa.ts';
import { DEFAULT_OTP_POLICY } from './identity.mfa-otp.ts';
import { pushRoutes } from './identity.push.routes.ts';
import { identityRoutes } from './identity.routes.ts';
import { IdentityService } from './identity.service.ts';
import { TokenService } from './identity.tokens.ts';

export { passwordProblems } from './identity.passwords.ts';
export {
  type PushApprovals,
  type PushDecision,
  type PushPurpose,
  pushSigningString,
} from './identity.push.ts';
export {
  permissionsOfRoles,
  purgeExpiredRefreshTokens,
  rolesOfUsers,
  userAccess,
} from './identity.repository.ts';
export { PASSWORD_RESET_TOPIC } from './identity.reset.ts';
export { TokenPair as TokenPairSchema } from './identity.schemas.ts';
export { ensureFirstAdmin, readPermissionSeed, SEED_DIR, seedPermissionsAndRoles } from './identity.seed.ts';
export type { PrincipalAccess, PrincipalResolver } from './identity.service.ts';
export { IdentityService, type UserView, userView } from './identity.service.ts';
export {
  mfaFactors,
  permissions,
  registeredDevices,
  rolePermissions,
  roles,
  signingKeys,
  userRoles,
  users,
} from './identity.tables.ts';

export async function createIdentity(deps: Dependencies): Promise<IdentityService> {
  const tokens = new TokenService(deps.database.db, deps.keys, deps.config, deps.store);
  await tokens.init();
  const identity = new IdentityService(deps, tokens);
  const mfa = new MfaService(deps, tokens);
  // A read-only view of the runtime settings: its few-second cache is fresh enough for the code lifetime, so it
  // needs no change subscription (and nothing to stop).
  const settings = new SettingsService(deps.database.db, deps.store);
  mfa.otp.policy = async () => ({
    ...DEFAULT_OTP_POLICY,
    ttlMs: (await settings.get('auth.otp_ttl_seconds')) * 1000,
  });
  identity.mfa = mfa;
  return identity;
}

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

export async function identityPlugin(app: FastifyInstance, identity: IdentityService): Promise<void> {
  app.addHook('onClose', async () => identity.tokens.stop());
  await app.register(identityRoutes(identity));
  await app.register(pushRoutes(identity.push));
  if (identity.mfa) await app.register(mfaRoutes(identity, identity.mfa));
}
