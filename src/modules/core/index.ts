/** Core: audit-log queries and entity categories. */
import { defineModule } from '../../platform/modules.ts';
import { SEED_DIR } from '../../platform/seed.ts';
import { coreErrorCatalogue } from './core.errors.ts';
import { coreRoutes } from './core.routes.ts';
import { CoreService, seedCategories } from './core.service.ts';
import { entityCategories } from './core.tables.ts';

export { seedCategories } from './core.service.ts';

export const coreModule = defineModule({
  name: 'core',
  description: 'Audit-log queries and entity categories',
  dependsOn: [],
  errors: coreErrorCatalogue,
  tables: { entityCategories },
  permissions: [
    { code: 'core:audit_read', description: 'Query the audit log' },
    { code: 'core:category_read', description: 'Read entity categories' },
    { code: 'core:category_manage', description: 'Create and change entity categories' },
    { code: 'report:read', description: 'Run reports' },
  ],
  create: ({ deps }) => new CoreService(deps.database.db),
  routes: (core) => coreRoutes(core),
  seed: ({ deps }) => seedCategories(deps.database.db, SEED_DIR),
});
