/**
 * Test harness: each test file gets its own PostgreSQL database (created, migrated, dropped) and its own Redis
 * key prefix when TEST_DATABASE_URL / REDIS_URL are set; otherwise an in-memory PGlite and the memory store.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { type Application, buildApp } from '../../src/app.ts';
import { type Config, parseConfig } from '../../src/config.ts';
import { closeDependencies, type Dependencies, openDependencies } from '../../src/platform/dependencies.ts';
import { seedAll, seedFirstAdmin } from '../../src/seed.ts';

export const ADMIN_PASSWORD = 'correct horse battery staple 42';

export function baseDatabaseUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
}

/**
 * Cross-node behaviour needs a shared PostgreSQL and Redis. Without them (a fresh clone, `npm test` with no
 * services) the suite runs on embedded PGlite and the memory store, and the cross-node tests are not defined;
 * CI always sets both, so there they always run.
 */
export const sharedServices = Boolean(baseDatabaseUrl() && process.env.REDIS_URL);

/** Creates an empty database on the server of TEST_DATABASE_URL and returns its URL and a drop function. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> } | null> {
  const base = baseDatabaseUrl();
  if (!base) return null;
  const name = `cf_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

export class LogCapture extends Writable {
  lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void) {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    callback();
  }
  get text() {
    return this.lines.join('\n');
  }
}

export interface TestContext {
  deps: Dependencies;
  application: Application;
  app: Application['app'];
  config: Config;
  logs: LogCapture;
  adminToken: string;
  close: () => Promise<void>;
}

export function testConfig(overrides: Record<string, string | undefined> = {}, databaseUrl?: string): Config {
  return parseConfig({
    LOG_LEVEL: 'info',
    DATA_DIR: ':memory:',
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.REDIS_URL,
    REDIS_KEY_PREFIX: `cft:${randomBytes(4).toString('hex')}:`,
    ADMIN_EMAIL: 'admin@bank.test',
    ADMIN_PASSWORD,
    RATE_LIMIT_MAX: '100000',
    WORKER_IN_PROCESS: 'false',
    ...overrides,
  });
}

export async function login(app: Application['app'], username: string, password: string) {
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password },
  });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  return response.json() as { access_token: string; refresh_token: string };
}

/** A migrated, seeded app with an administrator signed in. */
export async function startTestApp(overrides: Record<string, string | undefined> = {}): Promise<TestContext> {
  const database = await createTestDatabase();
  const config = testConfig(overrides, database?.url);
  const deps = await openDependencies(config, { migrate: true, runsWorker: false });
  await seedAll(deps);
  const logs = new LogCapture();
  const application = await buildApp(deps, { logStream: logs });
  await seedFirstAdmin(deps, application.identity);
  await application.app.ready();
  const tokens = await login(application.app, 'admin', ADMIN_PASSWORD);
  return {
    deps,
    application,
    app: application.app,
    config,
    logs,
    adminToken: tokens.access_token,
    close: async () => {
      await application.app.close();
      await closeDependencies(deps);
      await database?.drop();
    },
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
