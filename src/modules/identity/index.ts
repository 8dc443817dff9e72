/** Identity & access: tokens, login, sessions, and the access guard every route goes through. */
import type { FastifyInstance } from 'fastify';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors } from '../../platform/errors.ts';
import { identityErrors } from './identity.errors.ts';
import { identityRoutes } from './identity.routes.ts';
import { IdentityService } from './identity.service.ts';
import { TokenService } from './identity.tokens.ts';

export { ensureFirstAdmin, SEED_DIR, seedPermissionsAndRoles } from './identity.seed.ts';
export type { PrincipalAccess, PrincipalResolver } from './identity.service.ts';
export { IdentityService } from './identity.service.ts';
export { users } from './identity.tables.ts';

export async function createIdentity(deps: Dependencies): Promise<IdentityService> {
  const tokens = new TokenService(deps.database.db, deps.keys, deps.config);
  await tokens.init();
  return new IdentityService(deps, tokens);
}

/**
 * Checks every request against its route's declared access: public, any signed-in principal, or a permission.
 * Customers reach only routes that allow them; their services then check ownership.
 */
export function registerAccessGuard(app: FastifyInstance, identity: IdentityService): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config?.access;
    if (!access || 'public' in access) return;
    const header = request.headers.authorization;
    const match = header ? /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header) : null;
    if (!match) throw commonErrors.unauthorized();
    const principal = await identity.authenticate(match[1]!);
    request.principal = principal;
    if ('authenticated' in access) return;
    if (principal.type === 'customer') {
      if (access.allowCustomer) return;
      throw identityErrors.permissionDenied(access.permission);
    }
    if (!principal.permissions.has(access.permission))
      throw identityErrors.permissionDenied(access.permission);
  });
}

export async function identityPlugin(app: FastifyInstance, identity: IdentityService): Promise<void> {
  await app.register(identityRoutes(identity));
}
