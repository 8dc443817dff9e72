/** Administration of staff users, roles and permissions (`/api/v1/user`, `/api/v1/permissions`). */
import type { FastifyPluginAsync } from 'fastify';
import type { Dependencies } from '../../platform/dependencies.ts';
import type { IdentityService } from '../identity/index.ts';
import { accessRoutes } from './access.routes.ts';
import { AccessService } from './access.service.ts';

export function accessModule(deps: Dependencies, identity: IdentityService): FastifyPluginAsync {
  return async (app) => {
    await app.register(accessRoutes(new AccessService(deps.database.db, identity)));
  };
}
