/**
 * What every scenario of `npm run bench` works with: the app databases of the run, the API process on the primary one
 * (started, restarted with other settings, warmed up), the signed-in payers, and the load driver that notes a restart
 * of the shared PostgreSQL.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdminConnection } from './admin.ts';
import { isConnectionError } from './admin.ts';
import type { BuiltRequest, LoadResult } from './load.ts';
import { load } from './load.ts';
import { quick, S, stamp } from './options.ts';
import { type Server, startServer, waitFor } from './processes.ts';
import { restarts } from './report.ts';
import { type AppDatabase, type Payer, postgresPids, setupDatabase, verifyLedger } from './setup.ts';

export class Runner {
  readonly admin: AdminConnection;
  /** Where the API's logs go (`--api-logs`), or null for /dev/null. */
  readonly logDirectory: string | null;
  /** Every app database created, closed at the end. */
  readonly databases: AppDatabase[] = [];
  /** The API on the primary database; scenarios restart it with other settings and leave one worker running. */
  api: Server | null = null;
  /** The API on the growth database while the growth scenario runs. */
  growthApi: Server | null = null;
  #primary: AppDatabase | null = null;
  #payers: Payer[] = [];
  #transferRequest: (() => BuiltRequest) | null = null;
  #lastPostmaster: string;

  constructor(admin: AdminConnection, postmasterAtStart: string, logDirectory: string | null) {
    this.admin = admin;
    this.#lastPostmaster = postmasterAtStart;
    this.logDirectory = logDirectory;
  }

  get primary(): AppDatabase {
    if (!this.#primary) throw new Error('the primary database is not set up yet');
    return this.#primary;
  }

  /** Signed-in customers of the primary database. */
  get payers(): Payer[] {
    return this.#payers;
  }

  /** A random P2P transfer on the primary database. */
  get transferRequest(): () => BuiltRequest {
    if (!this.#transferRequest) throw new Error('no payers signed in yet');
    return this.#transferRequest;
  }

  /** The API that is up, for scenarios that need one. */
  get server(): Server {
    if (!this.api) throw new Error('the API is not running');
    return this.api;
  }

  setPrimary(db: AppDatabase, payers: Payer[], transferRequest: () => BuiltRequest) {
    this.#primary = db;
    this.#payers = payers;
    this.#transferRequest = transferRequest;
  }

  /** Creates, migrates and seeds an app database of the run (`staff`: with staff users for the login scenario). */
  async setup(name: string, options: { staff: boolean }): Promise<AppDatabase> {
    const db = await setupDatabase(name, {
      admin: this.admin,
      serverUrl: S.baseUrl,
      redisUrl: S.redisUrl,
      redisKeyPrefix: `cfbench:${stamp}:${name.endsWith('_growth') ? 'g' : 'm'}:`,
      dataDir: join(tmpdir(), `cf-bench-${stamp}`),
      pool: S.pool,
      logLevel: S.logLevel,
      customers: S.customers,
      historyWallets: S.historyWallets,
      historyRounds: S.historyRounds,
      staffUsers: options.staff ? S.staffUsers : 0,
    });
    this.databases.push(db);
    return db;
  }

  async startApi(
    db: AppDatabase,
    workers: number,
    execArgv: string[] = [],
    extraEnv: Record<string, string> = {},
  ): Promise<Server> {
    const server = await startServer({
      script: 'bench/cluster.ts',
      env: {
        ...db.env,
        ...extraEnv,
        BENCH_WORKERS: String(workers),
        BENCH_WORKER_EXEC_ARGV: JSON.stringify(execArgv),
      },
      port: db.port,
      logFile: this.logDirectory
        ? join(this.logDirectory, `api-${db.name}-${workers}w-${Date.now()}.log`)
        : undefined,
      timeoutMs: 90_000,
    });
    await waitFor(`${db.base}/health/ready`);
    return server;
  }

  /** Stops the primary API and starts it again with `workers` (and flags, environment), then warms it up. */
  async restartApi(workers: number, extraEnv: Record<string, string> = {}): Promise<Server> {
    await this.api?.stop();
    this.api = null;
    this.api = await this.startApi(this.primary, workers, [], extraEnv);
    await this.warm(this.api);
    return this.api;
  }

  cpuOf(server: Server, db: AppDatabase) {
    return async () => ({
      api: server.pids,
      postgres: await postgresPids(db.pool).catch(() => []),
    });
  }

  /** A load run that notes when the shared PostgreSQL restarted meanwhile (its errors are then not the app's). */
  async drive(options: Parameters<typeof load>[0]): Promise<LoadResult> {
    let result: LoadResult;
    try {
      result = await load(options);
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      // The shared server went away under us (a reliability test restarts it): wait for it, measure again.
      await this.admin.waitForPostgres();
      result = await load(options);
      result.note = 'measured again after a PostgreSQL restart';
    }
    const now = await this.admin.postmasterStart().catch(() => 'unknown');
    if (now !== this.#lastPostmaster) {
      result.note = "PostgreSQL restarted during this run (another engineer's reliability test)";
      restarts.push(new Date().toISOString());
      this.#lastPostmaster = now;
    }
    return result;
  }

  /** A fresh API process (cold JIT, caches and pool) serves transfers a while before anything is measured on it. */
  async warm(server: Server): Promise<void> {
    const primary = this.primary;
    await load({
      url: primary.base,
      connections: 16,
      seconds: quick ? 4 : 10,
      warmupSeconds: 0,
      next: this.transferRequest,
      cpuPids: this.cpuOf(server, primary),
    });
    await this.admin.resilient(() => primary.ledger.rollUp());
  }

  /** ledger-verify on the primary database, then the roll-up the worker would do. */
  verify(): Promise<string> {
    return verifyLedger(this.admin, this.primary.ledger);
  }

  /** The primary database's API at `connections`, measured after the usual warm-up. */
  measure(next: () => BuiltRequest, connections: number, seconds: number, warmupSeconds = S.warmup) {
    const primary = this.primary;
    return this.drive({
      url: primary.base,
      connections,
      seconds,
      warmupSeconds,
      next,
      cpuPids: this.cpuOf(this.server, primary),
    });
  }
}
