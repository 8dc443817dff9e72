/**
 * The shared test services, without loading the application (the reliability harness runs the API as separate
 * processes and imports only this): whether PostgreSQL and Redis are given, and a database of a test's own.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export function baseDatabaseUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
}

/**
 * Cross-node behaviour needs a shared PostgreSQL and Redis. Without them (a fresh clone, `npm test` with no
 * services) the suite runs on embedded PGlite and the memory store, and the cross-node tests are not defined;
 * CI always sets both, so there they always run.
 */
export const sharedServices = Boolean(baseDatabaseUrl() && process.env.REDIS_URL);

/**
 * node:test `skip` options for tests that need a service: `false` where it is given (CI), else the reason, so a run
 * without services counts them as skipped with that reason instead of passing a suite that defined nothing.
 */
export const needsSharedServices: false | string = sharedServices
  ? false
  : 'needs TEST_DATABASE_URL and REDIS_URL';
export const needsRedis: false | string = process.env.REDIS_URL ? false : 'needs REDIS_URL';
export const needsPostgres: false | string = baseDatabaseUrl() ? false : 'needs TEST_DATABASE_URL';

/** Creates an empty database on the server of TEST_DATABASE_URL and returns its URL and a drop function. */
export async function createTestDatabase(
  prefix = 'cf_test',
): Promise<{ url: string; drop: () => Promise<void> } | null> {
  const base = baseDatabaseUrl();
  if (!base) return null;
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
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
