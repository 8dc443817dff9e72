/**
 * An app database ready to be measured: created on the shared server, migrated and seeded by the app's own code, then
 * the bench data in bulk (bench/lib/seed.ts), with the environment its API runs with; and the customers' sessions,
 * opened by the app's own SessionService once its API is up.
 */
import { Redis } from 'ioredis';
import type pg from 'pg';
import { parseConfig } from '../../src/config.ts';
import { createIdentity } from '../../src/modules/identity/index.ts';
import { LedgerService } from '../../src/modules/ledger/index.ts';
import { systemContext } from '../../src/platform/audit.ts';
import { inTransaction, runMigrations } from '../../src/platform/db.ts';
import { openDependencies } from '../../src/platform/dependencies.ts';
import { seedAll, seedFirstAdmin } from '../../src/seed.ts';
import type { AdminConnection } from './admin.ts';
import { log } from './format.ts';
import { freePort } from './processes.ts';
import {
  BENCH_PIN,
  type SeededCustomer,
  seedChurn,
  seedCustomers,
  seedFeeFreeProduct,
  seedMerchant,
} from './seed.ts';

type Identity = Awaited<ReturnType<typeof createIdentity>>;

/** One app database with everything the scenarios need, and how to start an API on it. */
export interface AppDatabase {
  name: string;
  env: Record<string, string>;
  port: number;
  base: string;
  deps: Awaited<ReturnType<typeof openDependencies>>;
  pool: pg.Pool;
  ledger: LedgerService;
  identity: Identity;
  customers: SeededCustomer[];
  products: { feeFree: string; standard: string };
  merchant: { id: string; walletId: string };
  staff: string[];
  seedSeconds: number;
}

export interface SetupOptions {
  admin: AdminConnection;
  /** The server's URL; the database name replaces its path. */
  serverUrl: string;
  redisUrl: string;
  redisKeyPrefix: string;
  dataDir: string;
  /** DATABASE_POOL_SIZE of each API worker. */
  pool: number;
  logLevel: string;
  customers: number;
  /** Wallets that get `historyRounds` rounds of journal history (statement pages). */
  historyWallets: number;
  historyRounds: number;
  /** Staff users created through IdentityService (0: none). */
  staffUsers: number;
}

export const STAFF_PASSWORD = 'bench staff passphrase 7391';

export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates, migrates and seeds `name` with the app's own code, then the bench data in bulk. */
export async function setupDatabase(name: string, options: SetupOptions): Promise<AppDatabase> {
  await options.admin.query(`create database ${name}`);
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl(options.serverUrl, name),
    REDIS_URL: options.redisUrl,
    REDIS_KEY_PREFIX: options.redisKeyPrefix,
    LOCAL_HOST: '127.0.0.1',
    LOCAL_PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    AUTO_MIGRATE: 'false',
    WORKER_IN_PROCESS: 'false',
    RATE_LIMIT_MAX: '1000000',
    TRUST_PROXY: 'true',
    DATABASE_POOL_SIZE: String(options.pool),
    LOG_LEVEL: options.logLevel,
    ACCESS_TOKEN_EXPIRE_MINUTES: '720',
    ADMIN_PASSWORD: 'bench operator passphrase 2026',
    DATA_DIR: options.dataDir,
  };
  // The orchestrator's own connections: no statement timeout (ledger-verify over 10M rows runs longer than the
  // API's 30 s default; the CLI's behaviour with the default is checked separately in the growth scenario).
  const config = parseConfig({ ...env, DATABASE_POOL_SIZE: '6', DATABASE_STATEMENT_TIMEOUT_MS: '0' });
  const deps = await openDependencies(config, { migrate: false, runsWorker: false });
  const pool = deps.database.pool!;
  const ledger = new LedgerService(deps.database.db);
  let phase = Date.now();
  await runMigrations(deps.database);
  await seedAll(deps);
  const identity = await createIdentity(deps);
  await seedFirstAdmin(deps, identity);
  await deps.jobs.start();
  await deps.jobs.stop();
  log(`migrated and seeded ${name} (${((Date.now() - phase) / 1000).toFixed(1)} s)`);
  phase = Date.now();
  const customers = await seedCustomers(pool, deps.database.db, ledger, {
    count: options.customers,
    pepper: config.HMAC_PEPPER,
  });
  const products = await seedFeeFreeProduct(pool);
  const merchant = await seedMerchant(pool);
  const historyRows = await seedChurn(pool, ledger, {
    walletIds: customers.slice(0, options.historyWallets).map((row) => row.walletId),
    rounds: options.historyRounds,
    roundsPerChunk: options.historyRounds,
  });
  const staff: string[] = [];
  for (let index = 0; index < options.staffUsers; index += 1) {
    const username = `bench.staff${index}`;
    await identity.createUser(
      {
        username,
        email: `${username}@bench.test`,
        full_name: `Bench Staff ${index}`,
        password: STAFF_PASSWORD,
        roles: ['support_agent'],
      },
      systemContext(),
    );
    staff.push(username);
  }
  await pool.query('vacuum analyze');
  const seedSeconds = (Date.now() - phase) / 1000;
  log(
    `seeded ${options.customers.toLocaleString('en-US')} customers/wallets, merchant, ${historyRows.toLocaleString('en-US')} history rows, ${staff.length} staff users (${seedSeconds.toFixed(1)} s)`,
  );
  return {
    name,
    env,
    port,
    base: `http://127.0.0.1:${port}`,
    deps,
    pool,
    ledger,
    identity,
    customers,
    products,
    merchant,
    staff,
    seedSeconds,
  };
}

export type Payer = SeededCustomer & { token: string };

/** Signed-in customers of a database (its API must be up: one of them logs in over HTTP first). */
export async function payersOf(db: AppDatabase, count: number): Promise<Payer[]> {
  const phase = Date.now();
  const holders = db.customers.slice(0, count);
  await checkHttpLogin(db.base, holders[0]!);
  const tokens = await mintTokens(db.identity, db.deps.database.db, holders);
  log(
    `${holders.length.toLocaleString('en-US')} customer sessions opened by the app's SessionService on ${db.name} (${((Date.now() - phase) / 1000).toFixed(1)} s)`,
  );
  return holders.map((customer, index) => ({ ...customer, token: tokens[index]! }));
}

/**
 * Access tokens for the customers who make requests: sessions opened by the app's own SessionService (what the
 * login route calls once the PIN matched: same signing key, same claims, a refresh-token row), 4 transactions in
 * parallel. Logging 10k customers in over HTTP would take minutes here: every login takes the audit chain's lock
 * across its commit (see the login scenario), ~40/s on this machine.
 */
async function mintTokens(
  identity: Identity,
  db: Parameters<typeof inTransaction>[0],
  holders: SeededCustomer[],
): Promise<string[]> {
  const tokens: string[] = new Array(holders.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const start = next;
      next += 250;
      if (start >= holders.length) return;
      await inTransaction(db, async (tx) => {
        for (let index = start; index < Math.min(start + 250, holders.length); index += 1) {
          const id = holders[index]!.id;
          const issued = await identity.sessions.openSession(
            tx,
            { type: 'customer', id },
            {
              actor: { type: 'customer', id },
              ip: '127.0.0.1',
              userAgent: 'codeforge-bench',
              requestId: null,
            },
            'mobile',
          );
          tokens[index] = issued.access_token;
        }
      });
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return tokens;
}

/** A few customers log in over HTTP first: the API's own login answers, and its token opens the API. */
async function checkHttpLogin(base: string, customer: SeededCustomer): Promise<void> {
  const response = await fetch(`${base}/api/v1/auth/customer/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'codeforge-bench' },
    body: JSON.stringify({ phone: customer.phone, pin: BENCH_PIN }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (response.status !== 200 || !body.access_token)
    throw new Error(`customer login failed: ${response.status} ${JSON.stringify(body)}`);
  const balance = await fetch(`${base}/api/v1/wallet/wallet/${customer.walletId}/balance`, {
    headers: { authorization: `Bearer ${body.access_token}` },
  });
  if (balance.status !== 200) throw new Error(`balance with a login token failed: ${balance.status}`);
}

/** ledger-verify (LedgerService.verify), then a roll-up of the deferred deltas as the worker would do. */
export async function verifyLedger(admin: AdminConnection, ledger: LedgerService): Promise<string> {
  const started = Date.now();
  const result = await admin.resilient(() => ledger.verify());
  const seconds = (Date.now() - started) / 1000;
  await admin.resilient(() => ledger.rollUp());
  if (result.ok) return `clean (${seconds.toFixed(1)} s)`;
  return `**BROKEN**: ${result.unbalancedCurrencies.length} currencies, ${result.accountMismatches.length} accounts, ${result.negativeGuarded.length} negative, ${result.unbalancedTransfers.length} transfers`;
}

/** The PostgreSQL backends serving a database (its API's pool), for the CPU split. */
export async function postgresPids(pool: pg.Pool): Promise<number[]> {
  const result = await pool.query<{ pid: number }>(
    'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
  );
  return result.rows.map((row) => row.pid);
}

/** Deletes the run's Redis keys. */
export async function cleanRedis(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = nextCursor;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
