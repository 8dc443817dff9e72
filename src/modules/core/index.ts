/** Core: audit-log queries and entity categories. */
import type { FastifyPluginAsync } from 'fastify';
import type { Dependencies } from '../../platform/dependencies.ts';
import { coreRoutes } from './core.routes.ts';
import { CoreService } from './core.service.ts';

export { seedCategories } from './core.service.ts';

export function coreModule(deps: Dependencies): FastifyPluginAsync {
  return async (app) => {
    await app.register(coreRoutes(new CoreService(deps.database.db)));
  };
}
