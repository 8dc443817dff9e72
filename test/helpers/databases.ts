/**
 * The shared test services, without loading the application (the reliability harness runs the API as separate
 * processes and imports only this): whether PostgreSQL and Redis are given, and a database of a test's own.
 */
import { createHash, randomBytes } from 'node:crypto';
import { globSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
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

/**
 * What a migrated, seeded database depends on: the migrations, the seed files and the code (module seeds). Its hash
 * names the template, so a change to any of them builds a new one.
 */
function sourceHash(): string {
  const root = join(import.meta.dirname, '..', '..');
  const hash = createHash('sha256');
  const files = [
    ...globSync('migrations/**/*', { cwd: root }),
    ...globSync('seed/**/*', { cwd: root }),
    ...globSync('src/**/*.{ts,json}', { cwd: root }),
  ].sort();
  for (const file of files) {
    const path = join(root, file);
    if (!statSync(path).isFile()) continue;
    hash.update(file);
    hash.update(readFileSync(path));
  }
  return hash.digest('hex').slice(0, 16);
}

const urlOf = (base: string, name: string) => {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
};

/**
 * Like `createTestDatabase`, but migrated and seeded: a copy (`CREATE DATABASE … TEMPLATE`) of a template database
 * built once per version of the migrations, seeds and code by `prepare` — instead of every test file migrating and
 * seeding its own (seconds each, hundreds of files). Test processes building the same template at once wait on an
 * advisory lock; older templates are dropped when a new one is built (one still being copied is waited for).
 * `TEST_DATABASE_TEMPLATE=off` makes every file migrate and seed its own again.
 */
export async function createSeededTestDatabase(
  prepare: (url: string) => Promise<void>,
  prefix = 'cf_test',
): Promise<{ url: string; drop: () => Promise<void>; seeded: boolean } | null> {
  const base = baseDatabaseUrl();
  if (!base) return null;
  if (process.env.TEST_DATABASE_TEMPLATE === 'off') {
    const plain = await createTestDatabase(prefix);
    return plain && { ...plain, seeded: false };
  }
  const template = `cf_tmpl_${sourceHash()}`;
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  const copy = async () => {
    await admin.query(`create database ${name} template ${template}`);
    return {
      url: urlOf(base, name),
      seeded: true,
      drop: async () => {
        const client = new pg.Client({ connectionString: base });
        await client.connect();
        await client.query(`drop database if exists ${name} with (force)`);
        await client.end();
      },
    };
  };
  try {
    // Copied under the lock: nobody drops the template between its check and the copy.
    await admin.query('select pg_advisory_lock(hashtext($1))', [template]);
    try {
      const exists = await admin.query('select 1 from pg_database where datname = $1', [template]);
      if (!exists.rowCount) {
        const building = `${template}_b${process.pid}`;
        await admin.query(`drop database if exists ${building} with (force)`);
        await admin.query(`create database ${building}`);
        try {
          await prepare(urlOf(base, building));
        } catch (error) {
          await admin.query(`drop database if exists ${building} with (force)`).catch(() => {});
          throw error;
        }
        await admin.query(`alter database ${building} rename to ${template}`);
        // Other versions' templates go in CI only (one version of the code there); on a developer's machine several
        // versions are tested at once and one's template must not vanish under another's copy.
        if (!process.env.CI) return await copy();
        const stale = await admin.query<{ datname: string }>(
          `select datname from pg_database where datname like 'cf\\_tmpl\\_%' and datname <> $1`,
          [template],
        );
        for (const { datname } of stale.rows)
          await admin.query(`drop database if exists ${datname}`).catch(() => {});
      }
      return await copy();
    } finally {
      await admin.query('select pg_advisory_unlock(hashtext($1))', [template]);
    }
  } finally {
    await admin.end();
  }
}
