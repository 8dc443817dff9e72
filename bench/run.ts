/**
 * `npm run bench [-- --scenarios transfer,hot,read,login,ussd,growth,anatomy,profile --quick --full --keep]`
 *
 * The HTTP benchmarks of PERFORMANCE.md (scenarios 1–6) against a real PostgreSQL and Redis, each figure a ratio to a
 * reference measured minutes apart in the same run:
 *  - a scratch database `codeforge_bench_<stamp>` (migrated and seeded by the app's own code, then ≥10k customers and
 *    wallets in bulk SQL, funded by real ledger postings) and `codeforge_bench_<stamp>_tpcb` for pgbench;
 *  - the API as child processes (`bench/cluster.ts`: node:cluster of 1 or 2 workers running `src/main.ts` unchanged);
 *  - customers' sessions are opened by the app's own SessionService (same JWTs as a login; HTTP login is checked
 *    once and measured in the login scenario), autocannon as a library with a fresh Idempotency-Key and a random
 *    payer/payee per request;
 *  - pgbench TPC-B scale 10 at the same client count right before each transfer run; ledger-verify after each run.
 * Prints one markdown table per scenario and writes bench/results/<date>-bench[-quick|-full|-partial].md (+ .json).
 * See bench/README.md.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { parseConfig } from '../src/config.ts';
import { createIdentity } from '../src/modules/identity/index.ts';
import { LedgerService } from '../src/modules/ledger/index.ts';
import { systemContext } from '../src/platform/audit.ts';
import { ARGON2_PARAMETERS, hashPassword, verifyPassword } from '../src/platform/crypto.ts';
import { inTransaction, runMigrations } from '../src/platform/db.ts';
import { closeDependencies, openDependencies } from '../src/platform/dependencies.ts';
import { seedAll, seedFirstAdmin } from '../src/seed.ts';
import { type Anatomy, explainSamples, type InjectRequest, measureAnatomy } from './lib/anatomy.ts';
import { type CpuUse, describeCpu } from './lib/cpu.ts';
import { type ProfileSummary, summariseProfile } from './lib/cpuprofile.ts';
import { type BuiltRequest, combine, type LoadResult, load } from './lib/load.ts';
import { type PgbenchResult, pgbench, pgbenchInit } from './lib/pgbench.ts';
import { freePort, killAll, type Server, startServer, waitFor } from './lib/processes.ts';
import {
  BENCH_PIN,
  journalRows,
  type SeededCustomer,
  seedChurn,
  seedCustomers,
  seedFeeFreeProduct,
  seedMerchant,
  setProduct,
} from './lib/seed.ts';

// ---------------------------------------------------------------------------------------------------------- options

const ALL_SCENARIOS = ['anatomy', 'transfer', 'hot', 'read', 'login', 'ussd', 'growth', 'profile'] as const;
type Scenario = (typeof ALL_SCENARIOS)[number];

const { values: flags } = parseArgs({
  options: {
    scenarios: { type: 'string' },
    quick: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    workers: { type: 'string' },
    pool: { type: 'string' },
    customers: { type: 'string' },
    pg: { type: 'string' },
    redis: { type: 'string' },
    'log-level': { type: 'string' },
    'api-logs': { type: 'boolean', default: false },
  },
  allowPositionals: false,
});

const quick = flags.quick ?? false;
const full = flags.full ?? false;
const requested = (flags.scenarios ?? ALL_SCENARIOS.join(','))
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean);
for (const name of requested)
  if (!(ALL_SCENARIOS as readonly string[]).includes(name))
    throw new Error(`unknown scenario "${name}" (known: ${ALL_SCENARIOS.join(', ')})`);
const scenarios = new Set(requested as Scenario[]);
const list = (value: string) => value.split(',').map((item) => Number(item.trim()));

const S = {
  seconds: Number(flags.seconds ?? (quick ? 5 : 15)),
  warmup: Number(flags.warmup ?? (quick ? 2 : 3)),
  readSeconds: Number(flags.seconds ?? (quick ? 4 : 10)),
  loginSeconds: Number(flags.seconds ?? (quick ? 4 : 10)),
  connections: list(flags.connections ?? (quick ? '8,32' : '8,32,64')),
  workers: list(flags.workers ?? (quick ? '1' : '1,2')),
  pool: Number(flags.pool ?? 8),
  customers: Number(flags.customers ?? 10_000),
  tokenHolders: quick ? 2_000 : Number(flags.customers ?? 10_000),
  historyWallets: 200,
  historyRounds: 120,
  hotConnections: 32,
  readConnections: 64,
  loginConnections: 16,
  growthConnections: 32,
  growthSteps: quick ? [200_000] : full ? [1_000_000, 10_000_000] : [1_000_000],
  profileSeconds: quick ? 5 : 12,
  staffUsers: 24,
  logLevel: flags['log-level'] ?? 'info',
  baseUrl: flags.pg ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: flags.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
};
S.tokenHolders = Math.min(S.tokenHolders, S.customers);

// ---------------------------------------------------------------------------------------------------------- helpers

const startedAt = Date.now();
const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
const databaseName = `codeforge_bench_${stamp}`;
const tpcbName = `${databaseName}_tpcb`;
const growthName = `${databaseName}_growth`;

function log(message: string) {
  const elapsed = Math.round((Date.now() - startedAt) / 1000);
  const stampText = `${String(Math.floor(elapsed / 60)).padStart(2, '0')}:${String(elapsed % 60).padStart(2, '0')}`;
  process.stdout.write(`[${stampText}] ${message}\n`);
}

function urlFor(name: string): string {
  const url = new URL(S.baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

const f0 = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '—');
const f2 = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : '—');
const f1 = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : '—');
const pick = <T>(items: T[]): T => items[randomInt(items.length)]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function errorText(result: LoadResult): string {
  const kinds = Object.entries(result.errorKinds)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, count]) => `${kind} ×${count}`);
  const text = result.errors === 0 ? '0' : `${result.errors} (${kinds.slice(0, 3).join('; ')})`;
  return result.note ? `${text} — ${result.note}` : text;
}

const report: string[] = [];
const raw: Record<string, unknown> = { settings: S, scenarios: [...scenarios], database: databaseName };
const commands: string[] = [];
const restarts: string[] = [];

let admin: AdminConnection;

/** Printed as it comes; written to the file in scenario order (anatomy, 1–6, profile, machine). */
function section(markdown: string) {
  report.push(markdown);
  process.stdout.write(`\n${markdown}\n\n`);
}

// ---------------------------------------------------------------------------------------------------------- main

async function main() {
  log(
    `codeforge bench: ${[...scenarios].join(', ')}${quick ? ' (quick)' : ''}${full ? ' (full: 10M growth)' : ''}`,
  );
  admin = new AdminConnection(S.baseUrl);
  const postmaster = async () =>
    (await admin.query<{ started: string }>('select pg_postmaster_start_time()::text as started')).rows[0]!
      .started;
  const facts = await machineFacts(admin);
  const postmasterAtStart = await postmaster();
  const needsTpcb = scenarios.has('transfer');
  if (needsTpcb) await admin.query(`create database ${tpcbName}`);
  const logDirectory = flags['api-logs'] ? mkdtempSync(join(tmpdir(), 'cf-bench-logs-')) : null;
  const keep = flags.keep ?? false;
  const databases: AppDatabase[] = [];
  let api: Server | null = null;
  let growthApi: Server | null = null;

  const startApi = async (
    db: AppDatabase,
    workers: number,
    execArgv: string[] = [],
    extraEnv: Record<string, string> = {},
  ): Promise<Server> => {
    const server = await startServer({
      script: 'bench/cluster.ts',
      env: {
        ...db.env,
        ...extraEnv,
        BENCH_WORKERS: String(workers),
        BENCH_WORKER_EXEC_ARGV: JSON.stringify(execArgv),
      },
      port: db.port,
      logFile: logDirectory ? join(logDirectory, `api-${db.name}-${workers}w-${Date.now()}.log`) : undefined,
      timeoutMs: 90_000,
    });
    await waitFor(`${db.base}/health/ready`);
    return server;
  };
  const cpuOf = (server: Server, db: AppDatabase) => async () => ({
    api: server.pids,
    postgres: await postgresPids(db.pool).catch(() => []),
  });
  /** A load run that notes when the shared PostgreSQL restarted meanwhile (its errors are then not the app's). */
  let lastPostmaster = postmasterAtStart;
  const drive = async (options: Parameters<typeof load>[0]): Promise<LoadResult> => {
    let result: LoadResult;
    try {
      result = await load(options);
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      // The shared server went away under us (a reliability test restarts it): wait for it, measure again.
      await waitForPostgres();
      result = await load(options);
      result.note = 'measured again after a PostgreSQL restart';
    }
    const now = await postmaster().catch(() => 'unknown');
    if (now !== lastPostmaster) {
      result.note = "PostgreSQL restarted during this run (another engineer's reliability test)";
      restarts.push(new Date().toISOString());
      lastPostmaster = now;
    }
    return result;
  };

  try {
    // ------------------------------------------------------------------------------------------- setup and seed
    const primary = await setupDatabase(databaseName, { staff: scenarios.has('login') });
    databases.push(primary);
    const { deps, pool, ledger, customers, products, merchant, staff } = primary;
    const base = primary.base;
    const seedSeconds = primary.seedSeconds;
    raw.seedSeconds = seedSeconds;
    if (needsTpcb) {
      const phase = Date.now();
      commands.push(await pgbenchInit(urlFor(tpcbName), 10));
      log(`pgbench -i -s 10 (${((Date.now() - phase) / 1000).toFixed(1)} s)`);
    }

    // ------------------------------------------------------------------------------------------- tokens
    api = await startApi(primary, 1);
    const payers = await payersOf(primary, S.tokenHolders);
    const transferRequest = transferRequestOf(payers, customers);
    const verify = () => verifyLedger(ledger);
    /** A fresh API process (cold JIT, caches and pool) serves transfers a while before anything is measured on it. */
    const warm = async (server: Server) => {
      await load({
        url: base,
        connections: 16,
        seconds: quick ? 4 : 10,
        warmupSeconds: 0,
        next: transferRequest,
        cpuPids: cpuOf(server, primary),
      });
      await resilient(() => ledger.rollUp());
    };
    await warm(api);

    // ------------------------------------------------------------------------------------------- anatomy
    if (scenarios.has('anatomy')) {
      const measured = await resilient(() => measureAnatomy(deps, anatomyCases(payers, customers, 1)));
      raw.anatomy = measured.anatomies;
      section(anatomySection(measured.anatomies));
      await resilient(() => ledger.rollUp());
    }

    // ------------------------------------------------------------------------------------------- transfer
    const transferRows: TransferRow[] = [];
    const runTransfers = async (workers: number, connectionCounts = S.connections, commit = 'one-call') => {
      for (const connections of connectionCounts) {
        const reference = await pgbench(urlFor(tpcbName), connections, S.seconds);
        commands.push(reference.command);
        log(`pgbench -c ${connections}: ${f0(reference.tps)} tps`);
        const result = await drive({
          url: base,
          connections,
          seconds: S.seconds,
          warmupSeconds: S.warmup,
          next: transferRequest,
          cpuPids: cpuOf(api!, primary),
        });
        const verification = await verify();
        transferRows.push({ workers, connections, result, reference, verification, commit });
        log(
          `transfer (${commit}) c=${connections} w=${workers}: ${f0(result.rps)} req/s (ratio ${f2(result.rps / reference.tps)}), p99 ${f1(result.p99)} ms, errors ${result.errors}; ledger ${verification}`,
        );
      }
    };
    if (scenarios.has('transfer') && S.workers.includes(1)) await runTransfers(1);
    if (scenarios.has('transfer')) {
      // The same goal row with the payment committed statement by statement (ADR 0016's comparison, same run).
      await api.stop();
      api = await startApi(primary, 1, [], { PAYMENT_COMMIT: 'stepwise' });
      await warm(api);
      await runTransfers(1, [S.pool], 'stepwise');
      await api.stop();
      api = await startApi(primary, 1);
      await warm(api);
    }

    // ------------------------------------------------------------------------------------------- hot account
    if (scenarios.has('hot')) {
      const c = S.hotConnections;
      // The three variants run interleaved (A B C, A B C, …) so a drift of the shared machine hits all of them alike.
      const rounds = quick ? 1 : 3;
      const slice = Math.max(3, Math.round(S.seconds / rounds));
      const merchantRequest = (): BuiltRequest => {
        const payer = pick(payers);
        return {
          method: 'POST',
          path: '/api/v1/wallet/transaction/merchant',
          headers: {
            authorization: `Bearer ${payer.token}`,
            'idempotency-key': idempotencyKey(),
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            merchant_id: merchant.id,
            amount: 100 + randomInt(900),
            currency: 'KES',
            pin: BENCH_PIN,
          }),
        };
      };
      const variants = [
        { key: 'random', product: products.feeFree, next: transferRequest, slices: [] as LoadResult[] },
        { key: 'fee', product: products.standard, next: transferRequest, slices: [] as LoadResult[] },
        { key: 'merchant', product: products.standard, next: merchantRequest, slices: [] as LoadResult[] },
      ];
      for (let round = 0; round < rounds; round += 1) {
        for (const variant of variants) {
          await resilient(() => setProduct(pool, variant.product));
          variant.slices.push(
            await drive({
              url: base,
              connections: c,
              seconds: slice,
              warmupSeconds: round === 0 ? S.warmup : 2,
              next: variant.next,
              cpuPids: cpuOf(api, primary),
            }),
          );
        }
        log(
          `hot round ${round + 1}/${rounds}: ${variants.map((variant) => `${variant.key} ${f0(variant.slices[round]!.rps)}`).join(', ')} req/s`,
        );
      }
      await resilient(() => setProduct(pool, products.standard));
      const [random, fee, merchantResult] = variants.map((variant) => combine(variant.slices)) as [
        LoadResult,
        LoadResult,
        LoadResult,
      ];
      const verification = await verify();
      const perRound = (index: number) => variants[index]!.slices.map((result) => f0(result.rps)).join(' / ');
      raw.hot = { random, fee, merchant: merchantResult, rounds };
      section(
        hotSection(
          c,
          [
            { label: 'random wallets, fee-free product (reference)', result: random, rounds: perRound(0) },
            {
              label: 'random wallets, fee + excise duty to `fee_income:KES` / `tax_payable:KES`',
              result: fee,
              rounds: perRound(1),
              target: 0.9,
            },
            {
              label: 'all payments to one merchant (QR/merchant route)',
              result: merchantResult,
              rounds: perRound(2),
            },
          ],
          { rounds, slice, verification },
        ),
      );
    }

    // ------------------------------------------------------------------------------------------- read
    if (scenarios.has('read')) {
      const c = S.readConnections;
      const balance = await drive({
        url: base,
        connections: c,
        seconds: S.readSeconds,
        warmupSeconds: S.warmup,
        next: () => {
          const payer = pick(payers);
          return {
            method: 'GET',
            path: `/api/v1/wallet/wallet/${payer.walletId}/balance`,
            headers: { authorization: `Bearer ${payer.token}` },
          };
        },
        cpuPids: cpuOf(api, primary),
      });
      log(`read: balance ${f0(balance.rps)} req/s`);
      const owners = payers.slice(0, S.historyWallets);
      const statement = await drive({
        url: base,
        connections: c,
        seconds: S.readSeconds,
        warmupSeconds: S.warmup,
        next: () => {
          const owner = pick(owners);
          return {
            method: 'GET',
            path: `/api/v1/wallet/wallet/${owner.walletId}/statement?limit=100`,
            headers: { authorization: `Bearer ${owner.token}` },
          };
        },
        cpuPids: cpuOf(api, primary),
      });
      log(`read: statement ${f0(statement.rps)} req/s`);
      const barePort = await freePort();
      const bare = await startServer({
        script: 'bench/bare-fastify.ts',
        env: { PATH: process.env.PATH ?? '', LOCAL_PORT: String(barePort), NODE_ENV: 'production' },
        port: barePort,
      });
      let bareResult: LoadResult;
      try {
        bareResult = await drive({
          url: `http://127.0.0.1:${barePort}`,
          connections: c,
          seconds: S.readSeconds,
          warmupSeconds: S.warmup,
          next: () => ({ method: 'GET', path: '/', headers: {} }),
          fixed: true,
          cpuPids: async () => ({ api: bare.pids, postgres: [] }),
        });
      } finally {
        await bare.stop();
      }
      log(`read: bare Fastify ${f0(bareResult.rps)} req/s`);
      raw.read = { balance, statement, bare: bareResult };
      section(readSection(c, balance, statement, bareResult));
    }

    // ------------------------------------------------------------------------------------------- login
    if (scenarios.has('login')) {
      const c = S.loginConnections;
      const refreshPool: string[] = [];
      const customerLogin = await drive({
        url: base,
        connections: c,
        seconds: S.loginSeconds,
        warmupSeconds: S.warmup,
        next: () => {
          const customer = pick(customers);
          return {
            method: 'POST',
            path: '/api/v1/auth/customer/login',
            headers: {
              'content-type': 'application/json',
              // Customers on their own addresses: the per-IP PIN sign-in limit counts in-flight attempts too.
              'x-forwarded-for': `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`,
            },
            body: JSON.stringify({ phone: customer.phone, pin: BENCH_PIN }),
          };
        },
        onAnswer: (status, body) => {
          if (status === 200) refreshPool.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
        },
        cpuPids: cpuOf(api, primary),
      });
      log(`login: customer PIN ${f0(customerLogin.rps)}/s`);
      const staffLogin = await drive({
        url: base,
        connections: c,
        seconds: S.loginSeconds,
        warmupSeconds: S.warmup,
        next: () => ({
          method: 'POST',
          path: '/api/v1/auth/login',
          headers: {
            'content-type': 'application/json',
            // Many clients behind the load balancer (TRUST_PROXY=true): the per-IP login limit is per client.
            'x-forwarded-for': `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`,
          },
          body: JSON.stringify({ username: pick(staff), password: STAFF_PASSWORD }),
        }),
        cpuPids: cpuOf(api, primary),
      });
      log(`login: staff password ${f0(staffLogin.rps)}/s`);
      let starved = 0;
      const refresh = await drive({
        url: base,
        connections: c,
        seconds: S.loginSeconds,
        warmupSeconds: S.warmup,
        next: () => {
          const token = refreshPool.shift();
          if (!token) starved += 1;
          return {
            method: 'POST',
            path: '/api/v1/auth/refresh',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ refresh_token: token ?? 'starved' }),
          };
        },
        onAnswer: (status, body) => {
          if (status === 200) refreshPool.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
        },
        cpuPids: cpuOf(api, primary),
      });
      log(`login: refresh ${f0(refresh.rps)}/s (pool ${refreshPool.length}, starved ${starved})`);
      const argon = await argon2Cost();
      raw.login = { customerLogin, staffLogin, refresh, argon };
      section(loginSection(c, customerLogin, staffLogin, refresh, argon));
    }

    if (scenarios.has('ussd')) section(ussdSection());

    // ------------------------------------------------------------------------------------------- 2 workers
    if (scenarios.has('transfer') && S.workers.some((count) => count !== 1)) {
      for (const workers of S.workers.filter((count) => count !== 1)) {
        await api.stop();
        api = await startApi(primary, workers);
        await warm(api);
        log(`API restarted with ${workers} workers (and warmed up)`);
        await runTransfers(workers);
      }
      await api.stop();
      api = await startApi(primary, 1);
      await warm(api);
    }
    if (scenarios.has('transfer')) {
      raw.transfer = transferRows;
      section(transferSection(transferRows));
    }

    // ------------------------------------------------------------------------------------------- growth
    if (scenarios.has('growth')) {
      const c = S.growthConnections;
      // A second app database (B) gets the journal rows; the primary one (A) keeps only what the earlier scenarios
      // left. Both APIs stay up and the runs alternate A, B, A, B …, so a drift of the shared machine hits both alike.
      const grown = await setupDatabase(growthName, { staff: false });
      databases.push(grown);
      growthApi = await startApi(grown, 1);
      const grownPayers = await payersOf(grown, S.tokenHolders);
      const grownRequest = transferRequestOf(grownPayers, grown.customers);
      const steps: GrowthStep[] = [];
      const wallets = grown.customers.map((row) => row.walletId);
      for (const target of S.growthSteps) {
        const present = await resilient(() => journalRows(grown.pool));
        const perRound = wallets.length * 2;
        let rounds = Math.ceil(Math.max(0, target - present) / perRound);
        if (rounds % 2 === 1) rounds += 1;
        let phase = Date.now();
        let lastLog = Date.now();
        await resilient(async () => {
          // After an interrupted insert, only what is still missing (every chunk is its own transaction).
          const have = await journalRows(grown.pool);
          let left = Math.ceil(Math.max(0, target - have) / perRound);
          if (left % 2 === 1) left += 1;
          if (left === 0) return;
          await seedChurn(grown.pool, grown.ledger, {
            walletIds: wallets,
            rounds: left,
            roundsPerChunk: 10,
            onChunk: (written) => {
              if (Date.now() - lastLog > 30_000) {
                lastLog = Date.now();
                log(`  growth insert: ${written.toLocaleString('en-US')} rows so far`);
              }
            },
          });
        });
        const insertSeconds = (Date.now() - phase) / 1000;
        phase = Date.now();
        for (const db of [primary, grown]) {
          await db.pool.query(
            'vacuum analyze ledger_entries, ledger_transfers, ledger_batches, ledger_accounts',
          );
          await db.pool.query('checkpoint');
        }
        const settleSeconds = (Date.now() - phase) / 1000;
        log(
          `growth: inserted ${(rounds * perRound).toLocaleString('en-US')} journal rows in ${insertSeconds.toFixed(0)} s (vacuum analyze + checkpoint ${settleSeconds.toFixed(0)} s)`,
        );
        const slices = quick ? 1 : 3;
        const slice = Math.max(3, Math.round(S.seconds / slices));
        // B's API process is young (its JIT, caches and pool connections are cold) while A's has served every earlier
        // scenario: both get a longer warm-up first, B more, so neither figure carries a start-up cost.
        for (const [db, server, next, seconds] of [
          [grown, growthApi, grownRequest, quick ? 6 : 15],
          [primary, api, transferRequest, quick ? 3 : 5],
        ] as const)
          await load({
            url: db.base,
            connections: c,
            seconds,
            warmupSeconds: 0,
            next,
            cpuPids: cpuOf(server, db),
          });
        const small: LoadResult[] = [];
        const big: LoadResult[] = [];
        const statsBefore = await resilient(() => tableStats(grown.pool));
        for (let round = 0; round < slices; round += 1) {
          small.push(
            await drive({
              url: base,
              connections: c,
              seconds: slice,
              warmupSeconds: round === 0 ? S.warmup : 2,
              next: transferRequest,
              cpuPids: cpuOf(api, primary),
            }),
          );
          big.push(
            await drive({
              url: grown.base,
              connections: c,
              seconds: slice,
              warmupSeconds: round === 0 ? S.warmup : 2,
              next: grownRequest,
              cpuPids: cpuOf(growthApi, grown),
            }),
          );
          log(
            `growth round ${round + 1}/${slices}: A ${f0(small[round]!.rps)}, B ${f0(big[round]!.rps)} req/s`,
          );
        }
        await sleep(1500);
        const statsAfter = await resilient(() => tableStats(grown.pool));
        const bigResult = combine(big);
        steps.push({
          label: `${(target / 1_000_000).toLocaleString('en-US')}M`,
          rowsSmall: await resilient(() => journalRows(pool)),
          rowsBig: await resilient(() => journalRows(grown.pool)),
          small: combine(small),
          big: bigResult,
          smallRounds: small.map((result) => f0(result.rps)).join(' / '),
          bigRounds: big.map((result) => f0(result.rps)).join(' / '),
          verifySmall: await verify(),
          verifyBig: await verifyLedger(grown.ledger),
          cli: await cliLedgerVerify(grown),
          insertSeconds,
          settleSeconds,
          scans: scanDeltas(statsBefore, statsAfter, bigResult.ok),
        });
        const last = steps[steps.length - 1]!;
        log(
          `growth ${last.label}: A ${f0(last.small.rps)} req/s (${last.rowsSmall.toLocaleString('en-US')} rows), B ${f0(last.big.rps)} req/s (${last.rowsBig.toLocaleString('en-US')} rows), ratio ${f2(last.big.rps / last.small.rps)}; ledger A ${last.verifySmall}, B ${last.verifyBig}`,
        );
      }
      // The read statements of each request, captured with B's own parameters, explained on B at its largest size.
      const captured = await resilient(() =>
        measureAnatomy(grown.deps, anatomyCases(grownPayers, grown.customers, 0.2)),
      );
      const explained = await explainSamples(grown.pool, [...captured.samples.values()]);
      await growthApi.stop();
      growthApi = null;
      raw.growth = steps;
      raw.explain = explained;
      section(growthSection(c, steps, explained));
    }

    // ------------------------------------------------------------------------------------------- profile
    if (scenarios.has('profile')) {
      await api.stop();
      const summaries: { name: string; summary: ProfileSummary; result: LoadResult }[] = [];
      const targets = [
        { name: 'transfer, 32 connections', connections: 32, next: transferRequest },
        {
          name: 'balance read, 64 connections',
          connections: 64,
          next: (): BuiltRequest => {
            const payer = pick(payers);
            return {
              method: 'GET',
              path: `/api/v1/wallet/wallet/${payer.walletId}/balance`,
              headers: { authorization: `Bearer ${payer.token}` },
            };
          },
        },
      ].slice(0, quick ? 1 : 2);
      for (const target of targets) {
        const directory = mkdtempSync(join(tmpdir(), 'cf-bench-prof-'));
        api = await startApi(primary, 1, ['--cpu-prof', `--cpu-prof-dir=${directory}`]);
        await warm(api);
        const result = await drive({
          url: base,
          connections: target.connections,
          seconds: S.profileSeconds,
          warmupSeconds: S.warmup,
          next: target.next,
          cpuPids: cpuOf(api, primary),
        });
        await api.stop();
        const exited = performance.now();
        const file = readdirSync(directory).find((name) => name.endsWith('.cpuprofile'));
        if (file)
          summaries.push({
            name: target.name,
            summary: summariseProfile(join(directory, file), 20, {
              startBeforeEndMs: exited - result.from,
              endBeforeEndMs: exited - result.to,
            }),
            result,
          });
        rmSync(directory, { recursive: true, force: true });
        log(`profiled ${target.name}: ${f0(result.rps)} req/s under --cpu-prof`);
      }
      api = null;
      await resilient(() => ledger.rollUp());
      raw.profile = summaries.map((entry) => ({ name: entry.name, ...entry.summary }));
      section(profileSection(summaries));
    }

    await api?.stop();
    api = null;
    const finalFacts = { loadEnd: loadavg(), ...(await otherActivity(admin)) };
    section(factsSection(facts, finalFacts, seedSeconds));
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const cause = (error as { cause?: { message?: string } })?.cause?.message;
    section(
      `## Machine and commands\n\n**The run stopped early**: ${message}${cause ? ` (${cause})` : ''}. The tables above are what was measured before.\n\n- Command: \`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\`\n- Restarts of the shared PostgreSQL seen: ${restarts.length === 0 ? 'none' : restarts.join(', ')}`,
    );
    throw error;
  } finally {
    killAll();
    await api?.stop().catch(() => {});
    await growthApi?.stop().catch(() => {});
    for (const db of databases) {
      await db.identity.tokens.stop().catch(() => {});
      await closeDependencies(db.deps);
    }
    await cleanRedis(S.redisUrl, `cfbench:${stamp}`).catch(() => {});
    const names = [databaseName, growthName, tpcbName];
    if (!keep) {
      for (const name of names)
        await admin.query(`drop database if exists ${name} with (force)`).catch(() => {});
    } else log(`kept databases ${names.join(', ')} (those that were created)`);
    await admin.end();
    if (logDirectory) log(`API logs in ${logDirectory}`);
    writeReport();
  }
}

// ---------------------------------------------------------------------------------------------------------- pieces

type Identity = Awaited<ReturnType<typeof createIdentity>>;

/** One app database with everything the scenarios need, and how to start an API on it. */
interface AppDatabase {
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

const STAFF_PASSWORD = 'bench staff passphrase 7391';

/** Creates, migrates and seeds `name` with the app's own code, then the bench data in bulk. */
async function setupDatabase(name: string, options: { staff: boolean }): Promise<AppDatabase> {
  await admin.query(`create database ${name}`);
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'production',
    DATABASE_URL: urlFor(name),
    REDIS_URL: S.redisUrl,
    REDIS_KEY_PREFIX: `cfbench:${stamp}:${name.endsWith('_growth') ? 'g' : 'm'}:`,
    LOCAL_HOST: '127.0.0.1',
    LOCAL_PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    AUTO_MIGRATE: 'false',
    WORKER_IN_PROCESS: 'false',
    RATE_LIMIT_MAX: '1000000',
    TRUST_PROXY: 'true',
    DATABASE_POOL_SIZE: String(S.pool),
    LOG_LEVEL: S.logLevel,
    ACCESS_TOKEN_EXPIRE_MINUTES: '720',
    ADMIN_PASSWORD: 'bench operator passphrase 2026',
    DATA_DIR: join(tmpdir(), `cf-bench-${stamp}`),
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
    count: S.customers,
    pepper: config.HMAC_PEPPER,
  });
  const products = await seedFeeFreeProduct(pool);
  const merchant = await seedMerchant(pool);
  const historyRows = await seedChurn(pool, ledger, {
    walletIds: customers.slice(0, S.historyWallets).map((row) => row.walletId),
    rounds: S.historyRounds,
    roundsPerChunk: S.historyRounds,
  });
  const staff: string[] = [];
  if (options.staff) {
    for (let index = 0; index < S.staffUsers; index += 1) {
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
  }
  await pool.query('vacuum analyze');
  const seedSeconds = (Date.now() - phase) / 1000;
  log(
    `seeded ${S.customers.toLocaleString('en-US')} customers/wallets, merchant, ${historyRows.toLocaleString('en-US')} history rows, ${staff.length} staff users (${seedSeconds.toFixed(1)} s)`,
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

function isConnectionError(error: unknown): boolean {
  return /terminat|ECONNRESET|ECONNREFUSED|EPIPE|not yet accepting|shutting down|Connection terminated|57P0/i.test(
    `${String(error)} ${(error as { code?: string })?.code ?? ''}`,
  );
}

/** Until the shared PostgreSQL accepts connections again (at most two minutes). */
async function waitForPostgres(): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await admin.query('select 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(2000);
    }
  }
}

/** An orchestrator step on the database, done again once if a server restart interrupted it. */
async function resilient<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isConnectionError(error)) throw error;
    log(`PostgreSQL went away (${String(error).slice(0, 80)}); waiting and retrying`);
    await waitForPostgres();
    await sleep(2000);
    return work();
  }
}

type Payer = SeededCustomer & { token: string };

/** Signed-in customers of a database (its API must be up: one of them logs in over HTTP first). */
async function payersOf(db: AppDatabase, count: number): Promise<Payer[]> {
  const phase = Date.now();
  const holders = db.customers.slice(0, count);
  await checkHttpLogin(db.base, holders[0]!);
  const tokens = await mintTokens(db.identity, db.deps.database.db, holders);
  log(
    `${holders.length.toLocaleString('en-US')} customer sessions opened by the app's SessionService on ${db.name} (${((Date.now() - phase) / 1000).toFixed(1)} s)`,
  );
  return holders.map((customer, index) => ({ ...customer, token: tokens[index]! }));
}

/** The requests the anatomy step sends one at a time (`scale` shrinks the counts). */
function anatomyCases(payers: Payer[], customers: SeededCustomer[], scale: number) {
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

let sequence = 0;
function idempotencyKey(): string {
  sequence += 1;
  return `bench-${process.pid}-${sequence}-${randomBytes(6).toString('hex')}`;
}

/** A P2P transfer from a random signed-in payer to a random other wallet. */
function transferRequestOf(payers: Payer[], customers: SeededCustomer[]): () => BuiltRequest {
  return () => {
    const payer = pick(payers);
    let payee = pick(customers);
    while (payee.walletId === payer.walletId) payee = pick(customers);
    return {
      method: 'POST',
      path: '/api/v1/wallet/transaction/transfer',
      headers: {
        authorization: `Bearer ${payer.token}`,
        'idempotency-key': idempotencyKey(),
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        to_wallet_number: payee.walletNumber,
        amount: 100 + randomInt(900),
        currency: 'KES',
        pin: BENCH_PIN,
      }),
    };
  };
}

/** ledger-verify (LedgerService.verify), then a roll-up of the deferred deltas as the worker would do. */
async function verifyLedger(ledger: LedgerService): Promise<string> {
  const started = Date.now();
  const result = await resilient(() => ledger.verify());
  const seconds = (Date.now() - started) / 1000;
  await resilient(() => ledger.rollUp());
  if (result.ok) return `clean (${seconds.toFixed(1)} s)`;
  return `**BROKEN**: ${result.unbalancedCurrencies.length} currencies, ${result.accountMismatches.length} accounts, ${result.negativeGuarded.length} negative, ${result.unbalancedTransfers.length} transfers`;
}

/** The operator's `ledger-verify` (src/cli.ts) with the API's own environment, timed; its verdict line or error. */
async function cliLedgerVerify(db: AppDatabase): Promise<string> {
  const started = Date.now();
  const outcome = await new Promise<{ code: number | null; output: string }>((resolve) => {
    execFile(
      process.execPath,
      [join(import.meta.dirname, '..', 'src', 'cli.ts'), 'ledger-verify'],
      {
        env: db.env,
        cwd: join(import.meta.dirname, '..'),
        timeout: 15 * 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) =>
        resolve({
          code: error ? ((error as { code?: number }).code ?? 1) : 0,
          output: `${stdout}\n${stderr}`,
        }),
    );
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const lines = outcome.output
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const failed = lines.find((line) => /^Failed query:/.test(line));
  const verdict =
    lines.find((line) => /ledger verified|ledger BROKEN/.test(line)) ??
    lines.find((line) => /timeout|canceling/i.test(line)) ??
    (failed
      ? `${failed.replace(/\s+/g, ' ').slice(0, 90)}… (the CLI prints no cause; ${outcome.code === 1 && Number(seconds) >= 30 ? 'it failed past the 30 s statement timeout' : 'see the CLI output'})`
      : undefined) ??
    lines.at(-1) ??
    '';
  return `exit ${outcome.code} after ${seconds} s: ${verdict.slice(0, 160)}`;
}

async function postgresPids(pool: pg.Pool): Promise<number[]> {
  const result = await pool.query<{ pid: number }>(
    'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
  );
  return result.rows.map((row) => row.pid);
}

/**
 * Access tokens for the customers who make requests: sessions opened by the app's own SessionService (what the
 * login route calls once the PIN matched: same signing key, same claims, a refresh-token row), 4 transactions in
 * parallel. Logging 10k customers in over HTTP would take minutes here: every login takes the audit chain's lock
 * across its commit (see the login scenario), ~40/s on this machine.
 */
async function mintTokens(
  identity: Awaited<ReturnType<typeof createIdentity>>,
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

async function argon2Cost(): Promise<{ msPerVerification: number; parameters: string }> {
  const hash = await hashPassword(STAFF_PASSWORD);
  const started = performance.now();
  for (let index = 0; index < 10; index += 1) await verifyPassword(STAFF_PASSWORD, hash);
  const { memoryKiB, passes, parallelism } = ARGON2_PARAMETERS;
  return {
    msPerVerification: (performance.now() - started) / 10,
    parameters: `argon2id m=${memoryKiB} KiB, t=${passes}, p=${parallelism}`,
  };
}

type TableStats = Map<string, { seq: number; idx: number; rows: number }>;

async function tableStats(pool: pg.Pool): Promise<TableStats> {
  const result = await pool.query<{ relname: string; seq: string; idx: string; rows: string }>(
    `select s.relname, s.seq_scan::text as seq, coalesce(s.idx_scan, 0)::text as idx,
       greatest(s.n_live_tup, c.reltuples::bigint, 0)::text as rows
     from pg_stat_user_tables s join pg_class c on c.oid = s.relid where s.schemaname = 'public'`,
  );
  return new Map(
    result.rows.map((row) => [
      row.relname,
      { seq: Number(row.seq), idx: Number(row.idx), rows: Number(row.rows) },
    ]),
  );
}

function scanDeltas(before: TableStats, after: TableStats, requests: number) {
  const out: { table: string; rows: number; seqPerRequest: number; idxPerRequest: number }[] = [];
  for (const [table, stats] of after) {
    const start = before.get(table);
    if (!start) continue;
    const seq = stats.seq - start.seq;
    const idx = stats.idx - start.idx;
    if (seq === 0 && idx === 0) continue;
    out.push({
      table,
      rows: stats.rows,
      seqPerRequest: seq / Math.max(1, requests),
      idxPerRequest: idx / Math.max(1, requests),
    });
  }
  return out.sort((a, b) => b.rows - a.rows);
}

/** The maintenance connection; reconnects after the shared server restarts (other engineers' reliability tests do). */
class AdminConnection {
  readonly #url: string;
  #client: pg.Client | null = null;

  constructor(url: string) {
    this.#url = url;
  }

  async #connected(): Promise<pg.Client> {
    if (this.#client) return this.#client;
    const client = new pg.Client({ connectionString: this.#url });
    client.on('error', () => {
      if (this.#client === client) this.#client = null;
    });
    await client.connect();
    this.#client = client;
    return client;
  }

  async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await (await this.#connected()).query<R>(text, values);
    } catch (error) {
      if (this.#client && !/terminat|ECONNRESET|EPIPE|not queryable/i.test(String(error))) throw error;
      this.#client?.end().catch(() => {});
      this.#client = null;
      await sleep(3000);
      return (await this.#connected()).query<R>(text, values);
    }
  }

  async end(): Promise<void> {
    await this.#client?.end().catch(() => {});
    this.#client = null;
  }
}

async function machineFacts(admin: AdminConnection) {
  const version = (await admin.query<{ version: string }>('select version()')).rows[0]!.version;
  const settings = await admin.query<{ name: string; setting: string; unit: string | null }>(
    `select name, setting, unit from pg_settings where name in ('shared_buffers', 'max_connections',
       'synchronous_commit', 'fsync', 'shared_preload_libraries', 'work_mem', 'checkpoint_timeout', 'max_wal_size')`,
  );
  return {
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
    memoryGiB: (totalmem() / 1024 ** 3).toFixed(1),
    node: process.version,
    postgres: version,
    settings: settings.rows.map((row) => `${row.name}=${row.setting}${row.unit ?? ''}`).join(', '),
    loadStart: loadavg(),
    roundTrip: await roundTrips(admin),
    ...(await otherActivity(admin)),
  };
}

/** What one round trip costs on this machine: `select 1` over TCP (as the API and pgbench connect) and Redis PING. */
async function roundTrips(admin: AdminConnection): Promise<string> {
  const time = async (run: () => Promise<unknown>, count: number) => {
    for (let index = 0; index < 50; index += 1) await run();
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let index = 0; index < count; index += 1) await run();
    const used = process.cpuUsage(cpu);
    return `${f0(((performance.now() - started) / count) * 1000)} µs wall, ${f0((used.user + used.system) / count)} µs client CPU`;
  };
  const postgres = await time(() => admin.query('select 1'), 1000);
  const redis = new Redis(S.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const ping = await time(() => redis.ping(), 1000);
  redis.disconnect();
  return `PostgreSQL \`select 1\` ${postgres}; Redis PING ${ping} (sequential, from Node)`;
}

async function otherActivity(admin: AdminConnection) {
  const result = await admin.query<{ databases: string; sessions: string }>(
    `select count(distinct datname)::text as databases, count(*)::text as sessions from pg_stat_activity
     where datname is not null and datname not like 'codeforge_bench_%' and pid <> pg_backend_pid()`,
  );
  return {
    otherDatabases: Number(result.rows[0]!.databases),
    otherSessions: Number(result.rows[0]!.sessions),
  };
}

async function cleanRedis(url: string, prefix: string): Promise<void> {
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

// ---------------------------------------------------------------------------------------------------------- report

interface TransferRow {
  /** PAYMENT_COMMIT of the API (ADR 0016). */
  commit: string;
  workers: number;
  connections: number;
  result: LoadResult;
  reference: PgbenchResult;
  verification: string;
}

interface GrowthStep {
  label: string;
  rowsSmall: number;
  rowsBig: number;
  small: LoadResult;
  big: LoadResult;
  smallRounds: string;
  bigRounds: string;
  verifySmall: string;
  verifyBig: string;
  /** `npm run cli -- ledger-verify` on B as an operator would run it (the API's configuration, 30 s timeout). */
  cli: string;
  insertSeconds: number;
  settleSeconds: number;
  scans: { table: string; rows: number; seqPerRequest: number; idxPerRequest: number }[];
}

const HEADER =
  '| scenario | connections | workers | req/s | reference req/s | ratio | target | p50 ms | p90 ms | p99 ms | errors | ledger-verify |\n' +
  '|---|---|---|---|---|---|---|---|---|---|---|---|';

function row(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

function verdict(ok: boolean): string {
  return ok ? 'met' : '**missed**';
}

function cpuLines(entries: { label: string; cpu?: CpuUse; ok: number }[]): string {
  const lines = [
    '| run | API cores | PostgreSQL cores | autocannon cores | other (not ours) | API CPU ms/req | PG CPU ms/req |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const entry of entries) {
    const cpu = entry.cpu;
    if (!cpu) continue;
    const perRequest = (cores: number) => f2((cores * cpu.seconds * 1000) / Math.max(1, entry.ok));
    lines.push(
      row([
        entry.label,
        f2(cpu.api),
        f2(cpu.postgres),
        f2(cpu.loadgen),
        f2(cpu.other),
        perRequest(cpu.api),
        perRequest(cpu.postgres),
      ]),
    );
  }
  return lines.join('\n');
}

function transferSection(rows: TransferRow[]): string {
  const lines = [
    '## 1. transfer — `POST /api/v1/wallet/transaction/transfer` vs pgbench TPC-B (scale 10)',
    '',
    `Random payer (one of ${S.tokenHolders.toLocaleString('en-US')} signed-in customers) and payee (one of ${S.customers.toLocaleString('en-US')} wallets), 1–9.99 KES + fee + excise duty, fresh Idempotency-Key, PIN; ${S.seconds} s measured after ${S.warmup} s warm-up; API pool ${S.pool} connections per worker. Reference: \`pgbench -c N -j 2 -T ${S.seconds} -M prepared\` run right before each row. The PERFORMANCE.md goal is the row at the pool size's client count (${S.pool} connections, 1 worker); the other rows use the same criteria for information. The row marked \`PAYMENT_COMMIT=stepwise\` runs the same load on an API that commits statement by statement instead of in one call (ADR 0016), for comparison in the same run.`,
    '',
    HEADER,
  ];
  for (const entry of rows) {
    const ratio = entry.result.rps / entry.reference.tps;
    const ok =
      ratio >= 0.6 &&
      entry.result.p99 <= 25 &&
      entry.result.errors === 0 &&
      entry.verification.startsWith('clean');
    const goal = entry.connections === S.pool && entry.workers === 1 && entry.commit === 'one-call';
    lines.push(
      row([
        goal
          ? '**transfer (goal row)**'
          : entry.commit === 'one-call'
            ? 'transfer'
            : `transfer, PAYMENT_COMMIT=${entry.commit}`,
        entry.connections,
        entry.workers,
        f0(entry.result.rps),
        `${f0(entry.reference.tps)} (TPC-B)`,
        f2(ratio),
        `≥0.60×, p99 ≤25 ms, 0 errors: ${verdict(ok)}`,
        f1(entry.result.p50),
        f1(entry.result.p90),
        f1(entry.result.p99),
        errorText(entry.result),
        entry.verification,
      ]),
    );
  }
  lines.push(
    '',
    'pgbench reference runs (per-transaction latencies from `-l`):',
    '',
    '| clients | tps | p50 ms | p90 ms | p99 ms | failed |',
    '|---|---|---|---|---|---|',
    ...rows.map((entry) =>
      row([
        entry.reference.clients,
        f0(entry.reference.tps),
        f2(entry.reference.p50),
        f2(entry.reference.p90),
        f2(entry.reference.p99),
        entry.reference.failed,
      ]),
    ),
    '',
    'Where the CPU went during each measured API run (cores busy on average; 2 cores in the machine):',
    '',
    cpuLines(
      rows.map((entry) => ({
        label: `c=${entry.connections} w=${entry.workers}${entry.commit === 'one-call' ? '' : ` ${entry.commit}`}`,
        cpu: entry.result.cpu,
        ok: entry.result.ok,
      })),
    ),
  );
  return lines.join('\n');
}

function hotSection(
  c: number,
  variants: { label: string; result: LoadResult; rounds: string; target?: number }[],
  run: { rounds: number; slice: number; verification: string },
): string {
  const reference = variants[0]!.result.rps;
  const lines = [
    '## 2. hot-account — fees to one house account, payments to one merchant',
    '',
    `${c} connections, 1 worker; the three variants run interleaved, ${run.rounds} round(s) of ${run.slice} s each (per-round req/s below the table), so a drift of the shared machine hits them alike. The reference is the same transfer with every wallet on a fee-free product (principal leg only); the fee variant adds the product's fee and excise-duty legs to \`fee_income:KES\` and \`tax_payable:KES\` (deferred house accounts) on every transfer; the merchant variant sends every payment to one merchant wallet (\`/wallet/transaction/merchant\`, 1% discount fee; the merchant's wallet row and ledger account are locked by every payment). ledger-verify after the last round.`,
    '',
    HEADER,
  ];
  for (const variant of variants) {
    const ratio = variant.result.rps / reference;
    lines.push(
      row([
        variant.label,
        c,
        1,
        f0(variant.result.rps),
        variant === variants[0] ? '—' : f0(reference),
        variant === variants[0] ? '1.00' : f2(ratio),
        variant.target
          ? `≥${variant.target.toFixed(2)}× random: ${verdict(ratio >= variant.target)}`
          : '(reported)',
        f1(variant.result.p50),
        f1(variant.result.p90),
        f1(variant.result.p99),
        errorText(variant.result),
        variant === variants[variants.length - 1] ? run.verification : '(after the last round)',
      ]),
    );
  }
  lines.push(
    '',
    `Per round (req/s): ${variants.map((variant, index) => `${['random, no fee', 'fee + duty', 'one merchant'][index]}: ${variant.rounds}`).join('; ')}.`,
    '',
    cpuLines(
      variants.map((variant) => ({
        label: variant.label.split(' (')[0]!,
        cpu: variant.result.cpu,
        ok: variant.result.ok,
      })),
    ),
  );
  return lines.join('\n');
}

function readSection(c: number, balance: LoadResult, statement: LoadResult, bare: LoadResult): string {
  const ratio = balance.rps / bare.rps;
  return [
    '## 3. read — balance and a 100-row statement page vs a bare Fastify route',
    '',
    `${c} connections, 1 API worker, ${S.readSeconds} s each; each request is a random signed-in customer reading their own wallet (statement: one of ${S.historyWallets} wallets with ≥${S.historyRounds} journal lines, \`?limit=100\`). Reference: a bare Fastify 5 JSON route (\`bench/bare-fastify.ts\`) in its own process, same connections, same run.`,
    '',
    HEADER,
    row([
      'balance `GET /wallet/wallet/:id/balance`',
      c,
      1,
      f0(balance.rps),
      f0(bare.rps),
      f2(ratio),
      `≥0.30× bare: ${verdict(ratio >= 0.3)}`,
      f1(balance.p50),
      f1(balance.p90),
      f1(balance.p99),
      errorText(balance),
      '—',
    ]),
    row([
      'statement page (100 rows)',
      c,
      1,
      f0(statement.rps),
      f0(bare.rps),
      f2(statement.rps / bare.rps),
      '(reported)',
      f1(statement.p50),
      f1(statement.p90),
      f1(statement.p99),
      errorText(statement),
      '—',
    ]),
    row([
      'bare Fastify JSON route (reference)',
      c,
      1,
      f0(bare.rps),
      '—',
      '—',
      '—',
      f1(bare.p50),
      f1(bare.p90),
      f1(bare.p99),
      errorText(bare),
      '—',
    ]),
    '',
    cpuLines([
      { label: 'balance', cpu: balance.cpu, ok: balance.ok },
      { label: 'statement', cpu: statement.cpu, ok: statement.ok },
      { label: 'bare Fastify', cpu: bare.cpu, ok: bare.ok },
    ]),
  ].join('\n');
}

function loginSection(
  c: number,
  customer: LoadResult,
  staffLogin: LoadResult,
  refresh: LoadResult,
  argon: { msPerVerification: number; parameters: string },
): string {
  return [
    '## 4. login — customer PIN logins, staff password logins, token refreshes',
    '',
    `${c} connections, 1 API worker, ${S.loginSeconds} s each. Customers: random among ${S.customers.toLocaleString('en-US')} (phone + PIN). Staff: ${S.staffUsers} users, each request from a different client address (\`X-Forwarded-For\`, TRUST_PROXY=true) so the 200-per-IP-per-15-min login limit applies per client as it would behind a load balancer. Refresh: the refresh tokens the customer-login run returned, each used once (rotation). Staff passwords cost one ${argon.parameters} verification: ${f1(argon.msPerVerification)} ms of CPU each, measured in this process — deliberate; it bounds staff logins to about ${f0((2 * 1000) / argon.msPerVerification)}/s on 2 cores.`,
    '',
    HEADER,
    row([
      'customer PIN login',
      c,
      1,
      f0(customer.rps),
      '—',
      '—',
      '(reported)',
      f1(customer.p50),
      f1(customer.p90),
      f1(customer.p99),
      errorText(customer),
      '—',
    ]),
    row([
      `staff password login (${argon.parameters})`,
      c,
      1,
      f0(staffLogin.rps),
      '—',
      '—',
      '(reported)',
      f1(staffLogin.p50),
      f1(staffLogin.p90),
      f1(staffLogin.p99),
      errorText(staffLogin),
      '—',
    ]),
    row([
      'token refresh (rotation)',
      c,
      1,
      f0(refresh.rps),
      '—',
      '—',
      '(reported)',
      f1(refresh.p50),
      f1(refresh.p90),
      f1(refresh.p99),
      errorText(refresh),
      '—',
    ]),
    '',
    cpuLines([
      { label: 'customer login', cpu: customer.cpu, ok: customer.ok },
      { label: 'staff login', cpu: staffLogin.cpu, ok: staffLogin.ok },
      { label: 'refresh', cpu: refresh.cpu, ok: refresh.ok },
    ]),
  ].join('\n');
}

function ussdSection(): string {
  return [
    '## 5. ussd — 5-step USSD session',
    '',
    HEADER,
    row([
      'ussd session (5 steps, balance check)',
      '—',
      '—',
      '—',
      '—',
      '—',
      'p99 < 50 ms per step',
      '—',
      '—',
      '—',
      '—',
      '—',
    ]),
    '',
    '**Not measured: there is no USSD module in the codebase** (no USSD gateway route or session handling; USSD is listed under "Planned work" in docs/architecture.md). Nothing was faked; this row stays empty until the module exists.',
  ].join('\n');
}

function growthSection(
  c: number,
  steps: GrowthStep[],
  explained: Awaited<ReturnType<typeof explainSamples>>,
): string {
  const slices = quick ? 1 : 3;
  const lines = [
    '## 6. growth — transfer with 1M (and 10M) journal rows already present',
    '',
    `Transfer as in scenario 1, ${c} connections, 1 worker per database. Two app databases, seeded alike: **A** (the primary one, with only what the earlier scenarios left — the "0 rows" figure) and **B**, which gets the journal rows; both APIs stay up, get a warm-up (B ${quick ? 6 : 15} s, its process being younger; A ${quick ? 3 : 5} s) and then the runs alternate A, B (${slices} round(s) of ${Math.max(3, Math.round(S.seconds / slices))} s each, 2–3 s warm-up before each), so a drift of the shared machine hits both alike. Rows are inserted into B by SQL (\`generate_series\`, chunks of 10 rounds): pairs of postings between every wallet and a dedicated \`bench_churn:KES\` account, UUIDv7-style keys, exact running balances and totals (ledger-verify checks them). After each insert both databases get \`VACUUM ANALYZE\` of the ledger tables and a \`CHECKPOINT\` (what autovacuum and the checkpointer would have done by then). ${full ? '' : 'The 10M step runs with `--full`.'}`,
    '',
    HEADER,
  ];
  for (const step of steps) {
    const ratio = step.big.rps / step.small.rps;
    const isTen = step.rowsBig >= 9_000_000;
    lines.push(
      row([
        `transfer, A: ${step.rowsSmall.toLocaleString('en-US')} journal rows (reference)`,
        c,
        1,
        f0(step.small.rps),
        '—',
        '1.00',
        '—',
        f1(step.small.p50),
        f1(step.small.p90),
        f1(step.small.p99),
        errorText(step.small),
        step.verifySmall,
      ]),
      row([
        `**transfer, B: ${step.rowsBig.toLocaleString('en-US')} journal rows** (insert ${step.insertSeconds.toFixed(0)} s, vacuum + checkpoint ${step.settleSeconds.toFixed(0)} s)`,
        c,
        1,
        f0(step.big.rps),
        f0(step.small.rps),
        f2(ratio),
        isTen
          ? `≥0.90× A: ${verdict(ratio >= 0.9)}`
          : `≥0.90× A (the goal is at 10M; information at this size): ${ratio >= 0.9 ? 'met' : 'missed'}`,
        f1(step.big.p50),
        f1(step.big.p90),
        f1(step.big.p99),
        errorText(step.big),
        step.verifyBig,
      ]),
    );
  }
  if (!steps.some((step) => step.rowsBig >= 9_000_000))
    lines.push(
      row([
        'transfer, B: 10M journal rows',
        c,
        1,
        'not run',
        '—',
        '—',
        '≥0.90× A: run with `--full`',
        '—',
        '—',
        '—',
        '—',
        '—',
      ]),
    );
  const last = steps[steps.length - 1]!;
  lines.push(
    '',
    `Per round (req/s): ${steps.map((step) => `${step.label}: A ${step.smallRounds}; B ${step.bigRounds}`).join(' — ')}.`,
    '',
    `The operator's \`npm run cli -- ledger-verify\` on B, with the API's configuration (DATABASE_STATEMENT_TIMEOUT_MS default, 30 s): ${steps.map((step) => `${step.label}: ${step.cli}`).join(' — ')}. (The ledger-verify column runs the same checks from the benchmark with no statement timeout.)`,
    '',
    `Table scans per transfer on B during the last step (pg_stat_user_tables deltas; "rows" is the planner's estimate; sequential scans on tables of a few rows are the planner's right choice):`,
    '',
    '| table | rows | seq scans / transfer | index scans / transfer |',
    '|---|---|---|---|',
    ...last.scans.map((scan) =>
      row([scan.table, scan.rows.toLocaleString('en-US'), f2(scan.seqPerRequest), f2(scan.idxPerRequest)]),
    ),
    '',
    cpuLines(
      steps.flatMap((step) => [
        { label: `${step.label}: A`, cpu: step.small.cpu, ok: step.small.ok },
        { label: `${step.label}: B`, cpu: step.big.cpu, ok: step.big.ok },
      ]),
    ),
  );
  if (explained.length > 0) {
    lines.push(
      '',
      `EXPLAIN (ANALYZE, BUFFERS) on B at ${last.rowsBig.toLocaleString('en-US')} journal rows of every read statement a transfer, a balance read, a statement page and a login ran there (captured with their own parameters, one request at a time):`,
      '',
      '| statement | execution ms | plan (scan nodes) |',
      '|---|---|---|',
      ...explained.map((entry) =>
        row([
          `\`${entry.text.slice(0, 110).replace(/\|/g, '\\|')}${entry.text.length > 110 ? '…' : ''}\``,
          f2(entry.ms),
          entry.plan
            .split('\n')
            .filter((line) => /Scan|Seek|Sort|Limit/.test(line))
            .map((line) => line.trim().replace(/\|/g, '\\|'))
            .slice(0, 4)
            .join('; ') + (entry.seqScan ? ' **(seq scan)**' : ''),
        ]),
      ),
    );
  }
  return lines.join('\n');
}

function anatomySection(anatomies: Anatomy[]): string {
  const lines = [
    '## Anatomy — round trips per request (in-process, one request at a time)',
    '',
    'The same app code built in-process on the bench database; each request sent alone through `app.inject`; every PostgreSQL statement and Redis command counted on the client side (pg_stat_statements would need `shared_preload_libraries`, i.e. a server restart, which the benchmark must not do). "DB ms" is the sum of statement round trips as the client saw them (unloaded); "app CPU ms" is the CPU this process spent per request (the app JavaScript, the pg and ioredis clients, `inject`), PostgreSQL and Redis excluded.',
    '',
    '| request | statements / request | of which BEGIN | Redis commands / request | wall ms / request | DB ms / request | app CPU ms / request | failed |',
    '|---|---|---|---|---|---|---|---|',
    ...anatomies.map((entry) =>
      row([
        entry.name,
        f1(entry.statementsPerRequest),
        f1(entry.transactionsPerRequest),
        f1(entry.redisPerRequest),
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

function profileSection(entries: { name: string; summary: ProfileSummary; result: LoadResult }[]): string {
  const lines = [
    '## Profile — `node --cpu-prof` on the API worker',
    '',
    "One API worker started with `--cpu-prof` (a separate run, not counted above); only the samples of the measured window (no start-up, warm-up or shutdown); self time of the busiest functions and origins, as a share of the worker's busy (non-idle) time.",
  ];
  for (const entry of entries) {
    const { summary } = entry;
    lines.push(
      '',
      `### ${entry.name}: ${f0(entry.result.rps)} req/s under the profiler, worker busy ${f0(summary.busyMs)} of ${f0(summary.totalMs)} ms (${describeCpu(entry.result.cpu)})`,
      '',
      '| origin | self ms | share |',
      '|---|---|---|',
      ...summary.origins
        .slice(0, 12)
        .map((origin) => row([origin.origin, f0(origin.ms), `${(origin.share * 100).toFixed(1)}%`])),
      '',
      '| function | origin | self ms | share |',
      '|---|---|---|---|',
      ...summary.functions
        .slice(0, 15)
        .map((fn) =>
          row([
            `\`${fn.name.replace(/\|/g, '\\|')}\``,
            fn.origin,
            f0(fn.ms),
            `${(fn.share * 100).toFixed(1)}%`,
          ]),
        ),
    );
  }
  return lines.join('\n');
}

function factsSection(
  facts: Awaited<ReturnType<typeof machineFacts>>,
  end: { loadEnd: number[]; otherDatabases: number; otherSessions: number },
  seedSeconds: number,
): string {
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' / ');
  return [
    '## Machine and commands',
    '',
    `- CPU: ${facts.cpu}; memory ${facts.memoryGiB} GiB; Node ${facts.node}`,
    `- ${facts.postgres}`,
    `- PostgreSQL settings (server defaults, untouched): ${facts.settings}`,
    `- One round trip on this machine at the start: ${facts.roundTrip}. Every statement or Redis command a request makes costs about this much.`,
    `- Load average (1/5/15 min) at start: ${load(facts.loadStart)}; at end: ${load(end.loadEnd)}. Other sessions on the PostgreSQL server at start: ${facts.otherSessions} in ${facts.otherDatabases} databases; at end: ${end.otherSessions} in ${end.otherDatabases} (other engineers' tests run on this machine at the same time: see the "other" CPU column).`,
    `- Restarts of the shared PostgreSQL seen during the run (another engineer's reliability test restarts it): ${restarts.length === 0 ? 'none' : restarts.join(', ')}.`,
    `- Seeding (bulk SQL + ledger postings): ${seedSeconds.toFixed(1)} s. Whole run: ${((Date.now() - startedAt) / 60000).toFixed(1)} min.`,
    `- Command: \`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\``,
    `- API: \`node bench/cluster.ts\` (node:cluster, 1 or 2 workers running \`src/main.ts\`) with DATABASE_POOL_SIZE=${S.pool}, WORKER_IN_PROCESS=false (no worker process runs: outbox events accumulate undelivered), RATE_LIMIT_MAX=1000000, TRUST_PROXY=true, LOG_LEVEL=${S.logLevel} (logs to /dev/null), REDIS_KEY_PREFIX=cfbench:<stamp>:`,
    `- Load generator: autocannon ${S.seconds} s (warm-up ${S.warmup} s) in the orchestrator process, on the same 2 cores.`,
    ...[...new Set(commands)].map((command) => `- \`${command}\``),
  ].join('\n');
}

function writeReport() {
  if (report.length === 0) return;
  const date = new Date().toISOString().slice(0, 10);
  const complete = ALL_SCENARIOS.every((name) => scenarios.has(name));
  const suffix = `${quick ? '-quick' : full ? '-full' : ''}${complete ? '' : '-partial'}`;
  const directory = join(import.meta.dirname, 'results');
  mkdirSync(directory, { recursive: true });
  const header = [
    `# CodeForge HTTP benchmarks (${new Date().toISOString()})`,
    `Scenarios: ${[...scenarios].join(', ')}${quick ? ' — **quick mode** (short runs, fewer signed-in customers: for iterating, not for the record)' : ''}. Every goal is a ratio to a reference measured in the same run on the same machine (PERFORMANCE.md); absolute figures are illustrations. How to read this: bench/README.md.`,
  ];
  const orderOf = (markdown: string) => {
    const heading = /^## (\S+)/.exec(markdown)?.[1] ?? '';
    if (heading === 'Anatomy') return 0;
    if (heading === 'Profile') return 7;
    if (heading === 'Machine') return 8;
    return Number.parseInt(heading, 10) || 6.5;
  };
  const ordered = report
    .map((markdown, index) => ({ markdown, index, order: orderOf(markdown) }))
    .sort((a, b) => a.order - b.order || a.index - b.index)
    .map((entry) => entry.markdown);
  const file = join(directory, `${date}-bench${suffix}.md`);
  writeFileSync(file, `${[...header, ...ordered].join('\n\n')}\n`);
  writeFileSync(
    join(directory, `${date}-bench${suffix}.json`),
    JSON.stringify(
      raw,
      (key, value) =>
        key === 'latencies' ? undefined : typeof value === 'bigint' ? value.toString() : value,
      2,
    ),
  );
  log(`wrote ${file}`);
}

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});

main()
  .then(() => process.exit(0))
  .catch((error) => {
    let text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    for (let cause = (error as { cause?: unknown })?.cause, depth = 0; cause && depth < 3; depth += 1) {
      text += `\ncaused by: ${cause instanceof Error ? cause.message : String(cause)}`;
      cause = (cause as { cause?: unknown }).cause;
    }
    process.stderr.write(`${text}\n`);
    killAll();
    process.exit(1);
  });
