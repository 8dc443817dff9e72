/**
 * Test harness: each test file gets its own PostgreSQL database (created, migrated, dropped) and its own Redis
 * key prefix when TEST_DATABASE_URL / REDIS_URL are set; otherwise an in-memory PGlite and the memory store.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { type Application, buildApp } from '../../src/app.ts';
import { type Config, parseConfig } from '../../src/config.ts';
import { closeDependencies, type Dependencies, openDependencies } from '../../src/platform/dependencies.ts';
import { ErrorContractRecorder } from '../../src/platform/error-contract.ts';
import { seedAll, seedFirstAdmin } from '../../src/seed.ts';

export const ADMIN_PASSWORD = 'correct horse battery staple 42';

import { createSeededTestDatabase } from './databases.ts';

export { baseDatabaseUrl, createTestDatabase, sharedServices } from './databases.ts';

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

/**
 * A migrated, seeded app with an administrator signed in. `startJobs` also starts the job queue (for tests whose
 * routes queue work). Torn down when any step fails: a database briefly unavailable at start-up fails the test file
 * instead of leaving pools open that keep the process alive until the runner's timeout.
 */
export async function startTestApp(
  overrides: Record<string, string | undefined> = {},
  options: { startJobs?: boolean; embedded?: boolean } = {},
): Promise<TestContext> {
  // A copy of a migrated, seeded template (built once per version of the code): migrating and seeding each file's
  // own database cost seconds per file.
  // `embedded`: on PGlite (one connection, as the quick start runs) even where PostgreSQL is given.
  const database = options.embedded
    ? null
    : await createSeededTestDatabase(async (url) => {
        const building = await openDependencies(testConfig({}, url), { migrate: true, runsWorker: false });
        try {
          await seedAll(building);
        } finally {
          await closeDependencies(building);
        }
      });
  let deps: Dependencies | undefined;
  let application: Application | undefined;
  // Every error answer must carry a code its route declares (src/api-errors.ts); checked when the app closes.
  const errorContract = new ErrorContractRecorder();
  try {
    const config = testConfig(overrides, database?.url);
    deps = await openDependencies(config, { migrate: true, runsWorker: false });
    if (!database?.seeded) await seedAll(deps);
    const logs = new LogCapture();
    application = await buildApp(deps, { logStream: logs, errorContract });
    await seedFirstAdmin(deps, application.identity);
    await application.app.ready();
    if (options.startJobs) await deps.jobs.start();
    const tokens = await login(application.app, 'admin', ADMIN_PASSWORD);
    const opened = { deps, application };
    return {
      deps,
      application,
      app: application.app,
      config,
      logs,
      adminToken: tokens.access_token,
      close: async () => {
        await opened.application.app.close();
        await closeDependencies(opened.deps);
        await database?.drop();
        // Reported after the teardown, without throwing, so callers' own teardown after close() still runs; the
        // exit code fails the test file.
        const broken = errorContract.report();
        if (broken) {
          console.error(broken);
          process.exitCode = 1;
        }
      },
    };
  } catch (error) {
    await application?.app.close().catch(() => {});
    if (deps) await closeDependencies(deps).catch(() => {});
    await database?.drop().catch(() => {});
    throw error;
  }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * Runs `work` (building an app whose config was copied with `PRODUCTION: true`) with the module variables production
 * refuses at their development defaults set: a copied config has no environment of its own, so modules read the
 * process's (the goAML reporting entity id).
 */
export async function withProductionModuleVariables<T>(work: () => Promise<T>): Promise<T> {
  const saved = process.env.GOAML_RENTITY_ID;
  process.env.GOAML_RENTITY_ID = '4711';
  try {
    return await work();
  } finally {
    if (saved === undefined) delete process.env.GOAML_RENTITY_ID;
    else process.env.GOAML_RENTITY_ID = saved;
  }
}
