/**
 * One side of `npm run bench:compare` (bench/compare.ts), run as a child process from inside the tree it measures, so
 * that tree's own migrations, seed, SessionService and `src/main.ts` are what is measured:
 *  - creates, migrates and seeds a fresh app database on the shared server (as `npm run bench` does), starts the API
 *    (`bench/cluster.ts`, 1 worker), opens the payers' sessions, warms the API up, then sends `{type:'ready'}`;
 *  - on `{type:'run', connections, seconds, warmupSeconds}` runs the transfer load (the goal row's request: random
 *    payer and payee, fresh Idempotency-Key, PIN), then ledger-verify and the roll-up, and answers `{type:'result'}`;
 *  - on `{type:'stop'}` (or when the orchestrator goes away) stops the API and drops its database and Redis keys.
 *
 * Its settings come as JSON in COMPARE_SIDE (see `SideSettings`).
 */
import { closeDependencies } from '../src/platform/dependencies.ts';
import { AdminConnection, isConnectionError } from './lib/admin.ts';
import type { SideMessage, SideReady, SideResult, SideSettings } from './lib/compare-protocol.ts';
import { log, startClock } from './lib/format.ts';
import { type LoadResult, load } from './lib/load.ts';
import { killAll, type Server, startServer, waitFor } from './lib/processes.ts';
import { transferRequestOf } from './lib/requests.ts';
import {
  type AppDatabase,
  cleanRedis,
  payersOf,
  postgresPids,
  setupDatabase,
  verifyLedger,
} from './lib/setup.ts';

const settings = JSON.parse(process.env.COMPARE_SIDE ?? '{}') as SideSettings;
const admin = new AdminConnection(settings.serverUrl);
let db: AppDatabase | null = null;
let api: Server | null = null;
let stopping: Promise<void> | null = null;

function send(message: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) return reject(new Error('compare-side.ts runs as a child of bench/compare.ts'));
    process.send(message, (error: Error | null) => (error ? reject(error) : resolve()));
  });
}

function say(message: string) {
  log(`${settings.label}: ${message}`);
}

async function start() {
  startClock();
  const created = await setupDatabase(settings.database, {
    admin,
    serverUrl: settings.serverUrl,
    redisUrl: settings.redisUrl,
    redisKeyPrefix: settings.redisKeyPrefix,
    dataDir: settings.dataDir,
    pool: settings.pool,
    logLevel: settings.logLevel,
    customers: settings.customers,
    historyWallets: 200,
    historyRounds: 120,
    staffUsers: 0,
  });
  db = created;
  api = await startServer({
    script: 'bench/cluster.ts',
    env: { ...created.env, BENCH_WORKERS: '1', BENCH_WORKER_EXEC_ARGV: '[]' },
    port: created.port,
    timeoutMs: 180_000,
  });
  await waitFor(`${created.base}/health/ready`, 60_000);
  const server = api;
  const payers = await payersOf(created, settings.holders);
  const next = transferRequestOf(payers, created.customers);
  const cpuPids = async () => ({
    api: server.pids,
    postgres: await postgresPids(created.pool).catch(() => []),
  });
  // A fresh API process (cold JIT, caches and pool) serves transfers a while before anything is measured on it.
  await load({
    url: created.base,
    connections: 16,
    seconds: settings.warmSeconds,
    warmupSeconds: 0,
    next,
    cpuPids,
  });
  await admin.resilient(() => created.ledger.rollUp());
  let postmaster = await admin.postmasterStart();
  say(`API up on ${created.base}, ${payers.length.toLocaleString('en-US')} payers, warmed up`);

  process.on('message', (message: SideMessage) => {
    if (message.type === 'stop') {
      void stop(0);
      return;
    }
    if (message.type !== 'run') return;
    void (async () => {
      const options = { url: created.base, next, cpuPids, ...message };
      let result: LoadResult;
      try {
        result = await load(options);
      } catch (error) {
        if (!isConnectionError(error)) throw error;
        await admin.waitForPostgres();
        result = await load(options);
        result.note = 'measured again after a PostgreSQL restart';
      }
      const now = await admin.postmasterStart().catch(() => 'unknown');
      if (now !== postmaster) {
        result.note = "PostgreSQL restarted during this run (another engineer's reliability test)";
        postmaster = now;
      }
      const verification = await verifyLedger(admin, created.ledger);
      const { latencies: _latencies, ...summary } = result;
      await send({ type: 'result', result: summary, verification } satisfies SideResult);
    })().catch(async (error: unknown) => {
      process.stderr.write(`${settings.label}: ${error instanceof Error ? error.stack : String(error)}\n`);
      await stop(1);
    });
  });
  await send({
    type: 'ready',
    base: created.base,
    pids: server.pids,
    seedSeconds: created.seedSeconds,
  } satisfies SideReady);
}

/** Stops the API, closes the database connections and drops what this side created; then exits with `code`. */
function stop(code: number): Promise<void> {
  stopping ??= (async () => {
    killAll();
    await api?.stop().catch(() => {});
    if (db) {
      await db.identity.tokens.stop().catch(() => {});
      await closeDependencies(db.deps).catch(() => {});
    }
    await admin.query(`drop database if exists ${settings.database} with (force)`).catch(() => {});
    await cleanRedis(settings.redisUrl, settings.redisKeyPrefix).catch(() => {});
    await admin.end();
    process.exit(code);
  })();
  return stopping;
}

// The orchestrator went away (crash, Ctrl-C): do not leave an API or a database behind.
process.on('disconnect', () => void stop(1));
process.on('SIGTERM', () => void stop(1));
process.on('SIGINT', () => void stop(130));

start().catch(async (error: unknown) => {
  process.stderr.write(`${settings.label}: ${error instanceof Error ? error.stack : String(error)}\n`);
  await stop(1);
});
