/** Where the installation's reference data lives (`seed/*.json`): permissions' roles, categories, tiers, billers. */
import { join } from 'node:path';

export const SEED_DIR = join(import.meta.dirname, '..', '..', 'seed');
