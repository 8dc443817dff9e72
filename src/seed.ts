/**
 * Loads the seed data every installation needs (idempotent): permissions and roles, categories, settings, KYC tiers,
 * wallet products, billers, notification templates (only those missing: staff edits survive).
 */

import { seedBillers } from './modules/bills/index.ts';
import { seedCategories } from './modules/core/index.ts';
import { seedKycTiers } from './modules/customers/index.ts';
import {
  ensureFirstAdmin,
  type IdentityService,
  SEED_DIR,
  seedPermissionsAndRoles,
} from './modules/identity/index.ts';
import { LedgerService } from './modules/ledger/index.ts';
import { seedTemplates } from './modules/notifications/index.ts';
import { seedWalletProducts } from './modules/wallets/index.ts';
import type { Dependencies } from './platform/dependencies.ts';

export async function seedAll(deps: Dependencies) {
  await seedPermissionsAndRoles(deps.database.db);
  await seedCategories(deps.database.db, SEED_DIR);
  await seedKycTiers(deps.database.db);
  await seedWalletProducts(deps.database.db);
  await seedBillers(deps.database.db, new LedgerService(deps.database.db));
  await seedTemplates(deps);
}

export async function seedFirstAdmin(deps: Dependencies, identity: IdentityService) {
  return ensureFirstAdmin(deps.database.db, identity, deps.config.ADMIN_EMAIL, deps.config.ADMIN_PASSWORD);
}
