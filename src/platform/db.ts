/**
 * The database port: Drizzle over PostgreSQL (node-postgres pool) or embedded PGlite, one migration set for both.
 * Services own transactions through `inTransaction`; repositories receive the executor they run on.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { DependencyUnavailableError } from './errors.ts';

/** Anything queries can run on: the database or an open transaction. */
export type Executor = PgDatabase<PgQueryResultHKT>;

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly db: Executor;
  /** Present on PostgreSQL. */
  readonly pool: pg.Pool | undefined;
  /** Present on PGlite. */
  readonly pglite: PGlite | undefined;
  readonly connectionString: string | undefined;
  poolStats(): PoolStats;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const MIGRATIONS_FOLDER = join(import.meta.dirname, '..', '..', 'migrations');

export interface DatabaseOptions {
  url: string | undefined;
  dataDir: string;
  poolSize: number;
  statementTimeoutMs: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) return openPostgres(options.url, options.poolSize, options.statementTimeoutMs);
  return openPglite(options.dataDir === ':memory:' ? undefined : join(options.dataDir, 'pglite'));
}

function openPostgres(url: string, poolSize: number, statementTimeoutMs: number): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    statement_timeout: statementTimeoutMs || undefined,
    connectionTimeoutMillis: 5000,
    application_name: 'codeforge-suite',
  });
  // A dropped idle connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  // Nor one dropped while checked out (mid-transaction): its query fails (503), the pool discards it on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = drizzlePg({ client: pool }) as unknown as Executor;
  return {
    kind: 'postgres',
    db,
    pool,
    pglite: undefined,
    connectionString: url,
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    ping: async () => {
      await pool.query('select 1');
    },
    close: () => pool.end(),
  };
}

async function openPglite(directory: string | undefined): Promise<Database> {
  if (directory) mkdirSync(directory, { recursive: true });
  const raw = directory ? await PGlite.create(directory) : await PGlite.create();
  const client = reentrantClient(raw);
  const db = reentrant(drizzlePglite({ client }) as unknown as Executor);
  return {
    kind: 'pglite',
    db,
    pool: undefined,
    pglite: client,
    connectionString: undefined,
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
    ping: async () => {
      await client.query('select 1');
    },
    close: () => raw.close(),
  };
}

/** The transaction open in this async context on the embedded database (`open` false once it ended). */
const openTransaction = new AsyncLocalStorage<{ tx: Executor; open: boolean }>();

/** PGlite's own transaction open in this async context (what `reentrantClient` sends statements to). */
const openClientTransaction = new AsyncLocalStorage<{ tx: Transaction; open: boolean }>();

/**
 * The PGlite client, reentrant as `reentrant` below makes the drizzle database: a statement sent on the client from
 * inside a transaction's async context runs in that transaction. This reaches what goes to the client directly, not
 * through a query builder made in the context: the prepared reads built once at start-up (a wallet by id, a
 * principal's status) and pg-boss's statements on the embedded database.
 */
function reentrantClient(client: PGlite): PGlite {
  return new Proxy(client, {
    get(target, property) {
      if (property === 'transaction')
        return <T>(work: (tx: Transaction) => Promise<T>) =>
          target.transaction(async (tx) => {
            const scope = { tx, open: true };
            try {
              return await openClientTransaction.run(scope, () => work(tx));
            } finally {
              scope.open = false;
            }
          });
      if (property === 'query' || property === 'exec' || property === 'sql') {
        const current = openClientTransaction.getStore();
        const on = current?.open ? current.tx : target;
        const value = Reflect.get(on, property, on) as (...args: unknown[]) => unknown;
        return value.bind(on);
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** On PGlite: the transaction open in the caller's async context, if any (what `reentrant` sends queries to). */
export function openTransactionOf(): Executor | undefined {
  const current = openTransaction.getStore();
  return current?.open ? current.tx : undefined;
}

/**
 * PGlite has one connection: while a transaction holds it, a query sent on the database waits until the transaction
 * ends. Code inside a transaction that reads through the database instead of its transaction (an event handler
 * reading a setting on a cold cache, or through another module's service that takes no executor) would wait for
 * itself, and the whole embedded API would stop. On PGlite, then, a query sent on the database from inside a
 * transaction's async context runs in that transaction, and a transaction begun there is a savepoint of it. What runs
 * in other contexts (other requests, the job poller) queues for the connection as before. PostgreSQL is unchanged:
 * there each such read takes a connection of its own.
 */
function reentrant(db: Executor): Executor {
  return new Proxy(db, {
    get(target, property) {
      const current = openTransaction.getStore();
      const on = current?.open ? current.tx : target;
      if (property === 'transaction')
        return (work: (tx: Executor) => Promise<unknown>, config?: unknown) =>
          (on.transaction as (w: (tx: unknown) => Promise<unknown>, c?: unknown) => Promise<unknown>)(
            async (tx) => {
              const scope = { tx: tx as Executor, open: true };
              try {
                return await openTransaction.run(scope, () => work(tx as Executor));
              } finally {
                // Work it started and did not await (a timer, a buffer's flush) must not reach a finished transaction.
                scope.open = false;
              }
            },
            on === target ? config : undefined,
          );
      const value = Reflect.get(on, property, on);
      return typeof value === 'function' ? value.bind(on) : value;
    },
  });
}

export async function runMigrations(database: Database): Promise<void> {
  if (database.kind === 'postgres') {
    // One migrator at a time across API processes starting together.
    const client = await database.pool!.connect();
    try {
      await client.query('select pg_advisory_lock(7401)');
      await migratePg(drizzlePg({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await client.query('select pg_advisory_unlock(7401)').catch(() => {});
      client.release();
    }
    return;
  }
  await migratePglite(drizzlePglite({ client: database.pglite! }), { migrationsFolder: MIGRATIONS_FOLDER });
}

const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

/** The SQLSTATE of a driver error, looking through Drizzle's wrapper. */
export function sqlState(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What a log may say about a failed query: never its bound parameters, nor the database's message about them. */
export interface QueryFailure {
  /** A name for the statement: its verb and first table or function, and a hash of its text (`update wallets#1a2b3c4d`). */
  statement: string;
  /** SQLSTATE, e.g. 57014 for a statement timeout. */
  code: string | undefined;
  constraint?: string;
  table?: string;
  column?: string;
}

const STATEMENT_TARGET =
  /^(?:with\b.*?\)\s*)?(select|insert|update|delete|call|lock|truncate|copy)\b(?:.*?\b(?:into|from|update|call|table)\b)?\s*"?([a-z_][a-z0-9_.]*)"?/is;

/** The statement name of a query's text (the text itself holds placeholders, but is long and may inline literals). */
export function statementName(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const match = STATEMENT_TARGET.exec(flat);
  const verb = (match?.[1] ?? flat.split(' ')[0] ?? 'query').toLowerCase();
  const target = match?.[2] && match[2].toLowerCase() !== verb ? ` ${match[2].toLowerCase()}` : '';
  return `${verb}${target}#${createHash('sha256').update(text).digest('hex').slice(0, 8)}`;
}

/**
 * The failed query or database error in an error's cause chain (drizzle's `DrizzleQueryError` carries the statement and its bound
 * parameters — a PIN's keyed hash, a new password's hash, phone numbers — and puts both in its message; the driver's
 * error carries the SQLSTATE and, in its message and `detail`, the offending values). Null when neither is there.
 */
export function queryFailure(error: unknown): QueryFailure | null {
  let text: string | undefined;
  let code: string | undefined;
  let fromDatabase = false;
  const names: Pick<QueryFailure, 'constraint' | 'table' | 'column'> = {};
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current && typeof current === 'object'; depth += 1) {
    const node = current as Record<string, unknown>;
    if (text === undefined && typeof node.query === 'string' && 'params' in node) text = node.query;
    if (code === undefined && typeof node.code === 'string' && /^[0-9A-Z]{5}$/.test(node.code))
      code = node.code;
    // The driver's error (node-postgres, PGlite): its message and `detail` may quote the values it refused.
    if (typeof node.severity === 'string' && 'routine' in node) fromDatabase = true;
    for (const key of ['constraint', 'table', 'column'] as const)
      if (names[key] === undefined && typeof node[key] === 'string') names[key] = node[key] as string;
    current = node.cause;
  }
  if (text === undefined && !fromDatabase) return null;
  return { statement: text === undefined ? 'unknown' : statementName(text), code, ...names };
}

/** The constraint a unique/foreign-key violation names, if any. */
export function violatedConstraint(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth += 1) {
    const constraint = (current as { constraint?: unknown }).constraint;
    if (typeof constraint === 'string') return constraint;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export interface TransactionOptions {
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
  maxAttempts?: number;
}

/**
 * Runs `work` in one transaction, retrying serialization failures and deadlocks with jittered backoff,
 * so callers never see them as 5xx. `work` must be safe to re-run (it only touches the database).
 */
export async function inTransaction<T>(
  db: Executor,
  work: (tx: Executor) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const maxAttempts = options.maxAttempts ?? 8;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await transactionOn(db, work, options.isolation ?? 'read committed');
    } catch (error) {
      // The connection died mid-transaction: the ROLLBACK on the dead client fails and hides the first error.
      if (/not queryable/.test(String((error as { cause?: Error }).cause?.message)))
        throw new DependencyUnavailableError('postgres', error);
      const state = sqlState(error);
      if (attempt >= maxAttempts || !state || !RETRYABLE_SQLSTATES.has(state)) throw error;
      const backoffMs = Math.min(200, 2 ** attempt) * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, backoffMs));
    }
  }
}

/**
 * drizzle's node-postgres `transaction` checks a client out of the pool and sends BEGIN outside its try/finally: when
 * BEGIN fails (the connection was lost) the client is never released and the pool shrinks for good, until the node
 * answers only 503. On a pool the client is checked out here and always given back. A connection found dead at BEGIN
 * (dropped while idle in the pool: a database restart, a network cut) is discarded and the transaction starts again
 * once on a fresh one — nothing ran yet, neither in the database nor in `work` — instead of answering 503.
 */
async function transactionOn<T>(
  db: Executor,
  work: (tx: Executor) => Promise<T>,
  isolationLevel: NonNullable<TransactionOptions['isolation']>,
): Promise<T> {
  const pool = (db as { $client?: unknown }).$client;
  let started = false;
  const run = (on: Executor) =>
    on.transaction(
      async (tx) => {
        started = true;
        return work(tx as unknown as Executor);
      },
      { isolationLevel },
    );
  if (!(pool instanceof pg.Pool)) return run(db);
  for (let attempt = 1; ; attempt += 1) {
    const client = await pool.connect();
    let dead: Error | undefined;
    try {
      return await run(drizzlePg({ client }) as unknown as Executor);
    } catch (error) {
      if (started || attempt >= 2 || !isConnectionLoss(error)) throw error;
      dead = error instanceof Error ? error : new Error(String(error));
    } finally {
      // A client whose connection is gone is destroyed, not handed out again.
      client.release(dead);
    }
  }
}

/**
 * A read on the pool (never inside a transaction, never a write) started again once when the connection it was given
 * turns out to be dead — dropped while idle in the pool by a database restart or a network cut: a read has no effect
 * to repeat, and the dead client has left the pool. The hot reads of every request use it.
 */
export async function readRetried<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (!isConnectionLoss(error)) throw error;
    return read();
  }
}

/** The connection itself failed (reset, closed, terminated), as opposed to a statement the database refused. */
function isConnectionLoss(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (['ECONNRESET', 'EPIPE'].includes(code) || /^(08|57P0)/.test(code)))
      return true;
    const message = (current as { message?: unknown }).message;
    if (
      typeof message === 'string' &&
      /Connection terminated|not queryable|Connection is closed/i.test(message)
    )
      return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * A value built once per database handle (drizzle prepared queries, which are bound to the handle they were built
 * on): the returned function gives the cached value while the handle stays the same, and builds it again when the
 * application's handle is replaced.
 */
export function perDatabase<T>(build: (db: Executor) => T): (db: Executor) => T {
  let cached: { db: Executor; value: T } | null = null;
  return (db) => {
    if (cached?.db !== db) cached = { db, value: build(db) };
    return cached.value;
  };
}

/**
 * Retention deletes: removes the rows of `table` whose `id` the `doomed` query selects, at most `batchSize` per
 * statement (short transactions, no long lock), until a batch comes back short. Returns how many went.
 */
export async function deleteInBatches(
  db: Executor,
  table: string,
  doomed: ReturnType<typeof sql>,
  batchSize = 5000,
): Promise<number> {
  let total = 0;
  for (;;) {
    const [row] = await rawRows<{ removed: number }>(
      db,
      sql`with doomed as (${doomed} limit ${batchSize}), removed as (
               delete from ${sql.identifier(table)} t using doomed where t.id = doomed.id returning 1
             )
             select count(*)::int as removed from removed`,
    );
    const removed = Number(row?.removed ?? 0);
    total += removed;
    if (removed < batchSize) return total;
  }
}

/** Rows of a raw query, for the few places (health, metrics) that need no table definitions. */
export async function rawRows<T extends Record<string, unknown>>(
  db: Executor,
  query: ReturnType<typeof sql>,
) {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/** Rows of a fixed SQL text with $1…$n parameters on any executor (unprepared; inside a transaction too). */
export async function textRows<T extends Record<string, unknown>>(
  db: Executor,
  text: string,
  values: readonly unknown[],
): Promise<T[]> {
  return rawRows<T>(db, boundSql(text, values));
}

/** A SQL text with $1…$n and its values as a Drizzle query (for executors that only take Drizzle's `sql`). */
function boundSql(text: string, values: readonly unknown[]) {
  const parts = text.split(/\$(\d+)/);
  return sql.join(
    parts.map((part, index) => (index % 2 === 0 ? sql.raw(part) : sql`${values[Number(part) - 1]}`)),
    sql.raw(''),
  );
}

/**
 * Rows of a fixed SQL text with $1…$n parameters, as a named prepared statement on the pool's connections (parsed and
 * planned once per connection; no query text built per call): for the hottest calls of the money path. Inside a
 * transaction (an executor that is not the database itself) it runs through Drizzle unprepared.
 */
export async function preparedRows<T extends Record<string, unknown>>(
  db: Executor,
  name: string,
  text: string,
  values: readonly unknown[],
): Promise<T[]> {
  const client = (db as { $client?: unknown }).$client;
  if (client instanceof pg.Pool) return (await client.query<T>({ name, text, values: [...values] })).rows;
  if (client instanceof PGlite) return (await client.query<T>(text, [...values])).rows;
  return textRows<T>(db, text, values);
}
