/**
 * Loads the seed data every installation needs (idempotent): the permissions every module declares with the system
 * roles over them, then each module's own `seed` (categories, KYC tiers, wallet products, billers, notification
 * templates — only what is missing: staff edits survive).
 */

import { moduleConfigOf } from './config.ts';
import { ensureFirstAdmin, type IdentityService, seedPermissionsAndRoles } from './modules/identity/index.ts';
import { declaredPermissions, orderedModules } from './modules.ts';
import type { Dependencies } from './platform/dependencies.ts';

export async function seedAll(deps: Dependencies) {
  await seedPermissionsAndRoles(deps.database.db, declaredPermissions());
  for (const module of orderedModules())
    await module.seed?.({ deps, config: moduleConfigOf(deps.config, module.config ?? {}) as never });
}

export async function seedFirstAdmin(deps: Dependencies, identity: IdentityService) {
  return ensureFirstAdmin(deps.database.db, identity, deps.config.ADMIN_EMAIL, deps.config.ADMIN_PASSWORD);
}
