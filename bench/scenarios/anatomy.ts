/**
 * Anatomy: one request at a time through `app.inject` in-process, every PostgreSQL statement and Redis command counted
 * on the client side — round trips, DB time and app CPU per transfer, balance read, statement page and login.
 */
import { type Anatomy, type InjectRequest, measureAnatomy } from '../lib/anatomy.ts';
import { f0, f1, f2, pick, row } from '../lib/format.ts';
import { S } from '../lib/options.ts';
import { raw, section } from '../lib/report.ts';
import { transferRequestOf } from '../lib/requests.ts';
import type { Runner } from '../lib/runner.ts';
import { BENCH_PIN, type SeededCustomer } from '../lib/seed.ts';
import type { Payer } from '../lib/setup.ts';

export async function anatomyScenario(bench: Runner): Promise<void> {
  const { primary, payers, admin } = bench;
  const measured = await admin.resilient(() =>
    measureAnatomy(primary.deps, anatomyCases(payers, primary.customers, 1)),
  );
  raw.anatomy = measured.anatomies;
  const writes = await admin.resilient(() => transferWrites(bench));
  raw.anatomyWrites = writes;
  section(`${anatomySection(measured.anatomies)}\n\n${writesSection(writes)}`);
  await admin.resilient(() => primary.ledger.rollUp());
}

/** PostgreSQL flushes a backend's statistics at most once a second, and an idle backend's after 10 s. */
const STATS_SETTLE_MS = 11_000;
const WRITE_SAMPLE = 200;

interface TableWrites {
  table: string;
  indexes: number;
  inserted: number;
  updated: number;
  hot: number;
  deleted: number;
}

interface TransferWrites {
  transfers: number;
  commits: number;
  walBytes: number;
  tables: TableWrites[];
}

/**
 * What a transfer writes in the database: rows inserted, updated (HOT or not) and deleted per table, index entries
 * (each insert and each non-HOT update adds one to every index of its table: an upper bound, partial indexes
 * included), commits and WAL bytes, over WRITE_SAMPLE transfers sent one at a time in-process.
 */
async function transferWrites(bench: Runner): Promise<TransferWrites> {
  const pool = bench.primary.pool;
  const snapshot = async () => {
    const tables = await pool.query<{
      relname: string;
      indexes: number;
      ins: string;
      upd: string;
      hot: string;
      del: string;
    }>(`select s.relname, (select count(*)::int from pg_index i where i.indrelid = s.relid) as indexes,
               s.n_tup_ins as ins, s.n_tup_upd as upd, s.n_tup_hot_upd as hot, s.n_tup_del as del
          from pg_stat_user_tables s`);
    const [database] = (
      await pool.query<{ commits: string; lsn: string }>(
        `select xact_commit as commits, pg_current_wal_lsn()::text as lsn from pg_stat_database
          where datname = current_database()`,
      )
    ).rows;
    return { tables: tables.rows, commits: Number(database!.commits), lsn: database!.lsn };
  };
  const lsnBytes = async (from: string, to: string) =>
    Number(
      (await pool.query<{ bytes: string }>('select pg_wal_lsn_diff($2, $1) as bytes', [from, to])).rows[0]!
        .bytes,
    );
  await new Promise((resolve) => setTimeout(resolve, STATS_SETTLE_MS));
  const before = await snapshot();
  const cases = anatomyCases(bench.payers, bench.primary.customers, 1)
    .filter((entry) => entry.name === 'transfer')
    .map((entry) => ({ ...entry, count: WRITE_SAMPLE, warmup: 0 }));
  await measureAnatomy(bench.primary.deps, cases);
  await new Promise((resolve) => setTimeout(resolve, STATS_SETTLE_MS));
  const after = await snapshot();
  const earlier = new Map(before.tables.map((table) => [table.relname, table]));
  const tables = after.tables
    .map((table) => {
      const was = earlier.get(table.relname);
      const delta = (key: 'ins' | 'upd' | 'hot' | 'del') => Number(table[key]) - Number(was?.[key] ?? 0);
      return {
        table: table.relname,
        indexes: table.indexes,
        inserted: delta('ins') / WRITE_SAMPLE,
        updated: delta('upd') / WRITE_SAMPLE,
        hot: delta('hot') / WRITE_SAMPLE,
        deleted: delta('del') / WRITE_SAMPLE,
      };
    })
    .filter((table) => table.inserted + table.updated + table.deleted > 0)
    .sort((a, b) => b.inserted + b.updated - (a.inserted + a.updated));
  return {
    transfers: WRITE_SAMPLE,
    // Minus the two statistics reads of the snapshot itself.
    commits: (after.commits - before.commits - 2) / WRITE_SAMPLE,
    walBytes: (await lsnBytes(before.lsn, after.lsn)) / WRITE_SAMPLE,
    tables,
  };
}

function writesSection(writes: TransferWrites): string {
  const indexEntries = (table: TableWrites) => (table.inserted + table.updated - table.hot) * table.indexes;
  const total = (pick: (table: TableWrites) => number) =>
    writes.tables.reduce((sum, table) => sum + pick(table), 0);
  return [
    `What one transfer writes in PostgreSQL (${writes.transfers} transfers one at a time in-process; \`pg_stat_user_tables\` and \`pg_stat_database\` deltas after statistics settled; WAL from \`pg_current_wal_lsn()\`, server-wide, so other databases' writes meanwhile count too): **${f2(writes.commits)} commits, ${f0(writes.walBytes)} WAL bytes, ${f1(total((table) => table.inserted))} rows inserted, ${f1(total((table) => table.updated))} updated (${f1(total((table) => table.hot))} HOT), ${f1(total(indexEntries))} index entries** (inserts and non-HOT updates × the table's indexes, partial ones included: an upper bound).`,
    '',
    '| table | indexes | inserted | updated | of which HOT | deleted | index entries |',
    '|---|---|---|---|---|---|---|',
    ...writes.tables.map((table) =>
      row([
        table.table,
        table.indexes,
        f2(table.inserted),
        f2(table.updated),
        f2(table.hot),
        f2(table.deleted),
        f1(indexEntries(table)),
      ]),
    ),
  ].join('\n');
}

/** The requests the anatomy step sends one at a time (`scale` shrinks the counts). */
export function anatomyCases(payers: Payer[], customers: SeededCustomer[], scale: number) {
  const transferRequest = transferRequestOf(payers, customers);
  const owners = payers.slice(0, S.historyWallets);
  const count = (value: number) => Math.max(3, Math.round(value * scale));
  return [
    {
      name: 'transfer',
      count: count(100),
      warmup: count(50),
      next: (): InjectRequest => {
        const built = transferRequest();
        return { method: built.method, url: built.path, headers: built.headers, payload: built.body };
      },
    },
    {
      name: 'balance',
      count: count(100),
      warmup: count(30),
      next: (): InjectRequest => {
        const payer = pick(payers);
        return {
          method: 'GET',
          url: `/api/v1/wallet/wallet/${payer.walletId}/balance`,
          headers: { authorization: `Bearer ${payer.token}` },
        };
      },
    },
    {
      name: 'statement (100 rows)',
      count: count(50),
      warmup: count(5),
      next: (): InjectRequest => {
        const owner = pick(owners);
        return {
          method: 'GET',
          url: `/api/v1/wallet/wallet/${owner.walletId}/statement?limit=100`,
          headers: { authorization: `Bearer ${owner.token}` },
        };
      },
    },
    {
      name: 'customer login',
      count: count(30),
      warmup: count(5),
      next: (): InjectRequest => {
        const customer = pick(customers);
        return {
          method: 'POST',
          url: '/api/v1/auth/customer/login',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify({ phone: customer.phone, pin: BENCH_PIN }),
        };
      },
    },
  ];
}

function anatomySection(anatomies: Anatomy[]): string {
  const lines = [
    '## Anatomy — round trips per request (in-process, one request at a time)',
    '',
    'The same app code built in-process on the bench database; each request sent alone through `app.inject`; every PostgreSQL statement and Redis command counted on the client side (pg_stat_statements would need `shared_preload_libraries`, i.e. a server restart, which the benchmark must not do). "Round trips" are the request\'s waits on PostgreSQL or Redis: a statement or command sent while another is in flight shares its wait. "DB ms" is the sum of statement round trips as the client saw them (unloaded); "app CPU ms" is the CPU this process spent per request (the app JavaScript, the pg and ioredis clients, `inject`), PostgreSQL and Redis excluded.',
    '',
    '| request | statements / request | of which BEGIN | Redis commands / request | round trips / request | wall ms / request | DB ms / request | app CPU ms / request | failed |',
    '|---|---|---|---|---|---|---|---|---|',
    ...anatomies.map((entry) =>
      row([
        entry.name,
        f1(entry.statementsPerRequest),
        f1(entry.transactionsPerRequest),
        f1(entry.redisPerRequest),
        f1(entry.roundTripsPerRequest),
        f2(entry.msPerRequest),
        f2(entry.dbMsPerRequest),
        f2(entry.cpuMsPerRequest),
        entry.failed,
      ]),
    ),
  ];
  for (const entry of anatomies.filter((item) => item.name === 'transfer' || item.name === 'balance')) {
    lines.push(
      '',
      `Statements of one ${entry.name} (${f1(entry.statementsPerRequest)} in all):`,
      '',
      '| per request | mean ms | statement |',
      '|---|---|---|',
      ...entry.top.map((statement) =>
        row([
          f2(statement.perRequest),
          f2(statement.meanMs),
          `\`${statement.text.slice(0, 150).replace(/\|/g, '\\|')}${statement.text.length > 150 ? '…' : ''}\``,
        ]),
      ),
    );
  }
  return lines.join('\n');
}
