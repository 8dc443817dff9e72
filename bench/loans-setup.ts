/**
 * The loans benchmarks' scratch database (bench/loans.ts): created on the shared PostgreSQL server, migrated and
 * seeded by the app's own code (runMigrations, seedAll: the loan templates and demo products included), every job
 * queue created (defineJobs + jobs.start, so close of business can queue its reminders), and dropped at the end.
 * The environment is the one `npm run bench` gives its API (bench/lib/setup.ts), with event validation at the
 * production rate.
 */
import type pg from 'pg';
import { type Config, parseConfig } from '../src/config.ts';
import { defineJobs } from '../src/jobs.ts';
import { LedgerService } from '../src/modules/ledger/index.ts';
import { runMigrations } from '../src/platform/db.ts';
import { closeDependencies, type Dependencies, openDependencies } from '../src/platform/dependencies.ts';
import { seedAll } from '../src/seed.ts';
import type { AdminConnection } from './lib/admin.ts';
import { databaseUrl } from './lib/setup.ts';

export interface ScratchDatabase {
  name: string;
  url: string;
  /** The environment an app on this database runs with (the COB child, the in-process API). */
  env: Record<string, string>;
  config: Config;
  deps: Dependencies;
  pool: pg.Pool;
  ledger: LedgerService;
  /** Closes the orchestrator's connections and drops the database (unless kept). */
  drop(keep: boolean): Promise<void>;
}

export function loansEnv(options: {
  url: string;
  redisUrl: string;
  redisKeyPrefix: string;
  pool: number;
}): Record<string, string> {
  return {
    DATABASE_URL: options.url,
    REDIS_URL: options.redisUrl,
    REDIS_KEY_PREFIX: options.redisKeyPrefix,
    AUTO_MIGRATE: 'false',
    WORKER_IN_PROCESS: 'false',
    RATE_LIMIT_MAX: '1000000',
    TRUST_PROXY: 'true',
    DATABASE_POOL_SIZE: String(options.pool),
    DATABASE_STATEMENT_TIMEOUT_MS: '0',
    LOG_LEVEL: 'warn',
    EVENT_VALIDATION_RATE: '0.01',
    ACCESS_TOKEN_EXPIRE_MINUTES: '720',
    ADMIN_PASSWORD: 'bench operator passphrase 2026',
    DATA_DIR: ':memory:',
  };
}

export async function scratchDatabase(
  admin: AdminConnection,
  options: { name: string; serverUrl: string; redisUrl: string; redisKeyPrefix: string },
): Promise<ScratchDatabase> {
  await admin.query(`create database ${options.name}`);
  const url = databaseUrl(options.serverUrl, options.name);
  const env = loansEnv({ url, redisUrl: options.redisUrl, redisKeyPrefix: options.redisKeyPrefix, pool: 4 });
  const config = parseConfig({ ...env, DATABASE_POOL_SIZE: '6' });
  const deps = await openDependencies(config, { migrate: false, runsWorker: false });
  try {
    await runMigrations(deps.database);
    await seedAll(deps);
    const background = await defineJobs(deps);
    await deps.jobs.start();
    await deps.jobs.stop();
    await background.system.close();
  } catch (error) {
    await closeDependencies(deps).catch(() => {});
    await admin.query(`drop database if exists ${options.name} with (force)`).catch(() => {});
    throw error;
  }
  return {
    name: options.name,
    url,
    env,
    config,
    deps,
    pool: deps.database.pool!,
    ledger: new LedgerService(deps.database.db),
    drop: async (keep) => {
      await closeDependencies(deps);
      if (!keep) await admin.query(`drop database if exists ${options.name} with (force)`);
    },
  };
}

/** A small deterministic generator (mulberry32): the same portfolio for the same size on every run. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
