/**
 * The database port on both engines: one migration set gives the same schema on PGlite and PostgreSQL;
 * inTransaction rolls back on throw and (on PostgreSQL) retries serialization failures; sqlState unwraps errors.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { baseDatabaseUrl, createTestDatabase } from '../../test/helpers/app.ts';
import { needsPostgres } from '../../test/helpers/databases.ts';
import {
  type Database,
  type Executor,
  inTransaction,
  MIGRATIONS_FOLDER,
  openDatabase,
  rawRows,
  runMigrations,
  sqlState,
  violatedConstraint,
} from './db.ts';

/** Tables and views of schema public, with their columns, as comparable text. */
async function publicSchema(db: Executor): Promise<{ tables: string[]; columns: string[] }> {
  const tables = await rawRows<{ table_name: string; table_type: string }>(
    db,
    sql`select table_name, table_type from information_schema.tables where table_schema = 'public'`,
  );
  const columns = await rawRows<{
    table_name: string;
    column_name: string;
    data_type: string;
    is_nullable: string;
    column_default: string | null;
  }>(
    db,
    sql`select table_name, column_name, data_type, is_nullable, column_default
        from information_schema.columns where table_schema = 'public'`,
  );
  return {
    tables: tables.map((row) => `${row.table_name} (${row.table_type})`).sort(),
    columns: columns
      .map(
        (row) =>
          `${row.table_name}.${row.column_name} ${row.data_type} nullable=${row.is_nullable} default=${row.column_default}`,
      )
      .sort(),
  };
}

async function appliedMigrations(db: Executor): Promise<number> {
  const rows = await rawRows<{ count: string | number }>(
    db,
    sql`select count(*)::int as count from drizzle.__drizzle_migrations`,
  );
  return Number(rows[0]?.count);
}

const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
  entries: unknown[];
};

/** A scratch schema for the transaction tests, so the migrated public schema stays as migrations left it. */
async function createScratchTable(db: Executor): Promise<void> {
  await db.execute(sql`create schema if not exists db_test`);
  await db.execute(sql`create table db_test.counter (id int primary key, n int not null)`);
  await db.execute(sql`insert into db_test.counter (id, n) values (1, 0)`);
}

async function counterValue(db: Executor): Promise<number> {
  const rows = await rawRows<{ n: number }>(db, sql`select n from db_test.counter where id = 1`);
  return Number(rows[0]?.n);
}

async function rowCount(db: Executor): Promise<number> {
  const rows = await rawRows<{ count: number }>(db, sql`select count(*)::int as count from db_test.counter`);
  return Number(rows[0]?.count);
}

/** Behaviour every engine must share. */
function transactionSuite(getDatabase: () => Database) {
  test('inTransaction commits the work and returns its value', async () => {
    const { db } = getDatabase();
    const result = await inTransaction(db, async (tx) => {
      await tx.execute(sql`insert into db_test.counter (id, n) values (2, 5)`);
      return 'done';
    });
    assert.equal(result, 'done');
    assert.equal(await rowCount(db), 2);
    await db.execute(sql`delete from db_test.counter where id = 2`);
  });

  test('inTransaction rolls back every write when the work throws', async () => {
    const { db } = getDatabase();
    const failure = new Error('business rule broken');
    await assert.rejects(
      inTransaction(db, async (tx) => {
        await tx.execute(sql`insert into db_test.counter (id, n) values (3, 1)`);
        await tx.execute(sql`update db_test.counter set n = n + 100 where id = 1`);
        throw failure;
      }),
      (error) => error === failure,
    );
    assert.equal(await rowCount(db), 1);
    assert.equal(await counterValue(db), 0);
  });

  test('a database error rolls back and is not retried; sqlState reads it through the wrapper', async () => {
    const { db } = getDatabase();
    let attempts = 0;
    let caught: unknown;
    try {
      await inTransaction(db, async (tx) => {
        attempts += 1;
        await tx.execute(sql`update db_test.counter set n = n + 1 where id = 1`);
        await tx.execute(sql`insert into db_test.counter (id, n) values (1, 0)`);
      });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof Error, 'the duplicate key must surface');
    assert.equal(attempts, 1);
    assert.equal(sqlState(caught), '23505');
    assert.equal(violatedConstraint(caught), 'counter_pkey');
    assert.equal(await counterValue(db), 0);
  });
}

/** The schema PGlite ends with, compared with PostgreSQL's below (opening PGlite costs seconds: once). */
let pgliteSchema: { tables: string[]; columns: string[] } | undefined;

describe('database on PGlite', () => {
  let database: Database;
  before(async () => {
    database = await openDatabase({
      url: undefined,
      dataDir: ':memory:',
      poolSize: 1,
      statementTimeoutMs: 0,
    });
    await runMigrations(database);
    pgliteSchema = await publicSchema(database.db);
  });
  after(async () => {
    await database?.close();
  });

  test('migrations apply and record every journal entry; a second run is a no-op', async () => {
    assert.equal(database.kind, 'pglite');
    assert.equal(await appliedMigrations(database.db), journal.entries.length);
    const before = await publicSchema(database.db);
    assert.ok(before.tables.length > 0);
    await runMigrations(database);
    assert.equal(await appliedMigrations(database.db), journal.entries.length);
    assert.deepEqual(await publicSchema(database.db), before);
  });

  describe('transactions', () => {
    before(async () => createScratchTable(database.db));
    transactionSuite(() => database);
  });
});

// PostgreSQL suites exist where PostgreSQL does (always in CI).
if (baseDatabaseUrl())
  describe('database on PostgreSQL', () => {
    let database: Database;
    let drop: (() => Promise<void>) | undefined;
    before(async () => {
      const created = await createTestDatabase();
      if (!created) {
        throw new Error(
          'TEST_DATABASE_URL is not set: these tests need PostgreSQL (e.g. postgres://postgres@127.0.0.1:5432/postgres)',
        );
      }
      drop = created.drop;
      database = await openDatabase({
        url: created.url,
        dataDir: ':memory:',
        poolSize: 5,
        statementTimeoutMs: 10_000,
      });
      await runMigrations(database);
    });
    after(async () => {
      await database?.close();
      await drop?.();
    });

    test('migrations apply and record every journal entry; a second run is a no-op', async () => {
      assert.equal(database.kind, 'postgres');
      assert.equal(await appliedMigrations(database.db), journal.entries.length);
      const before = await publicSchema(database.db);
      await runMigrations(database);
      assert.deepEqual(await publicSchema(database.db), before);
    });

    test('PGlite and PostgreSQL end with the same tables and columns', async () => {
      assert.ok(pgliteSchema, 'the PGlite suite did not migrate');
      const onPostgres = await publicSchema(database.db);
      assert.ok(onPostgres.tables.length > 0);
      assert.deepEqual(pgliteSchema.tables, onPostgres.tables);
      assert.deepEqual(pgliteSchema.columns, onPostgres.columns);
    });

    test('concurrent migrators (two processes starting together) both succeed', async () => {
      const url = database.connectionString!;
      const second = await openDatabase({
        url,
        dataDir: ':memory:',
        poolSize: 2,
        statementTimeoutMs: 10_000,
      });
      try {
        await Promise.all([runMigrations(database), runMigrations(second)]);
        assert.equal(await appliedMigrations(database.db), journal.entries.length);
      } finally {
        await second.close();
      }
    });

    describe('transactions', () => {
      before(async () => createScratchTable(database.db));
      transactionSuite(() => database);

      /**
       * Two serializable read-then-write transactions on one row: each reads before either writes (a barrier),
       * so the second writer gets 40001 on its first attempt.
       */
      async function conflictingIncrements(maxAttempts: number): Promise<{
        results: PromiseSettledResult<void>[];
        attempts: number;
      }> {
        let attempts = 0;
        let firstReads = 0;
        let releaseBarrier = () => {};
        const barrier = new Promise<void>((resolve) => {
          releaseBarrier = resolve;
        });
        const increment = () => {
          let mine = 0;
          return inTransaction(
            database.db,
            async (tx) => {
              mine += 1;
              attempts += 1;
              const value = await counterValue(tx);
              if (mine === 1) {
                firstReads += 1;
                if (firstReads === 2) releaseBarrier();
                await Promise.race([barrier, sleep(5_000)]);
              }
              await tx.execute(sql`update db_test.counter set n = ${value + 1} where id = 1`);
            },
            { isolation: 'serializable', maxAttempts },
          );
        };
        const results = await Promise.allSettled([increment(), increment()]);
        return { results, attempts };
      }

      test('without retries, the read-then-write race really produces a 40001', async () => {
        await database.db.execute(sql`update db_test.counter set n = 0 where id = 1`);
        const { results, attempts } = await conflictingIncrements(1);
        assert.equal(attempts, 2);
        const rejected = results.filter((result) => result.status === 'rejected');
        assert.equal(rejected.length, 1, 'exactly one transaction must lose');
        assert.equal(sqlState(rejected[0]?.reason), '40001');
        assert.equal(await counterValue(database.db), 1);
      });

      test('inTransaction retries the serialization failure so both increments commit', async () => {
        await database.db.execute(sql`update db_test.counter set n = 0 where id = 1`);
        const { results, attempts } = await conflictingIncrements(8);
        for (const result of results) assert.equal(result.status, 'fulfilled', String(result));
        assert.ok(attempts >= 3, `expected a retry, saw ${attempts} attempts`);
        assert.equal(await counterValue(database.db), 2);
      });
    });
  });
else test('database on PostgreSQL', { skip: needsPostgres }, () => {});

describe('sqlState', () => {
  test('finds the SQLSTATE through wrapper errors', () => {
    const driver = Object.assign(new Error('could not serialize access'), { code: '40001' });
    assert.equal(sqlState(driver), '40001');
    assert.equal(sqlState(new Error('Failed query', { cause: driver })), '40001');
    const deeper = new Error('service', { cause: new Error('Failed query', { cause: driver }) });
    assert.equal(sqlState(deeper), '40001');
    assert.equal(
      sqlState(new Error('x', { cause: Object.assign(new Error('dl'), { code: '40P01' }) })),
      '40P01',
    );
  });

  test('ignores errors without a SQLSTATE', () => {
    assert.equal(sqlState(undefined), undefined);
    assert.equal(sqlState(new Error('plain')), undefined);
    assert.equal(sqlState(Object.assign(new Error('socket'), { code: 'ECONNREFUSED' })), undefined);
    assert.equal(sqlState(Object.assign(new Error('numeric code'), { code: 40001 })), undefined);
    assert.equal(sqlState('a string'), undefined);
  });
});
