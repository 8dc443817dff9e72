/** The process-wide dependencies every module receives: config, database, ephemeral store, jobs, keys. */
import type { Config } from '../config.ts';
import { type EphemeralStore, openStore } from './cache.ts';
import { type KeyRing, keyRing } from './crypto.ts';
import { type Database, openDatabase, runMigrations } from './db.ts';
import { configureEventValidation } from './events.ts';
import { IdempotencyService } from './idempotency.ts';
import { Jobs } from './jobs.ts';

export interface Dependencies {
  config: Config;
  database: Database;
  store: EphemeralStore;
  jobs: Jobs;
  keys: KeyRing;
  /** Whether this process consumes jobs. */
  runsWorker: boolean;
  /**
   * The process's idempotency claims: the HTTP routes' `idempotency` option uses it, and a use case that derives its
   * own key (a USSD step, keyed by gateway session and step) claims through it too. One holder session per process.
   */
  idempotency: IdempotencyService;
}

export interface OpenOptions {
  /** Apply migrations before anything else (embedded mode and tests). */
  migrate?: boolean;
  /** Override WORKER_IN_PROCESS. */
  runsWorker?: boolean;
}

export async function openDependencies(config: Config, options: OpenOptions = {}): Promise<Dependencies> {
  configureEventValidation(config.EVENT_VALIDATION_RATE, config.PRODUCTION);
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolSize: config.DATABASE_POOL_SIZE,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
  });
  try {
    if (options.migrate ?? database.kind === 'pglite') await runMigrations(database);
    const runsWorker =
      options.runsWorker ??
      (config.WORKER_IN_PROCESS === 'auto'
        ? database.kind === 'pglite'
        : config.WORKER_IN_PROCESS === 'true');
    const store = openStore(config.REDIS_URL, config.REDIS_KEY_PREFIX);
    const jobs = new Jobs(database, { supervise: runsWorker });
    const keys = keyRing(config.MASTER_KEY_ID, config.MASTER_KEY, config.MASTER_KEYS_PREVIOUS);
    const idempotency = new IdempotencyService(database.db, config.IDEMPOTENCY_TTL_HOURS);
    return { config, database, store, jobs, keys, runsWorker, idempotency };
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
}

export async function closeDependencies(deps: Dependencies): Promise<void> {
  await deps.idempotency.close().catch(() => {});
  await deps.jobs.stop().catch(() => {});
  await deps.store.close().catch(() => {});
  await deps.database.close().catch(() => {});
}
