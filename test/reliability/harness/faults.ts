/**
 * The seeded fault schedule and the driver that applies it: SIGKILL of an API node (or both), a crash point armed
 * for the node's next life (it kills itself at the n-th pass of a transfer step), `pg_terminate_backend` of the API's
 * database sessions, the TCP proxies dropping, refusing, delaying or resetting connections to PostgreSQL and Redis,
 * Redis `CLIENT PAUSE <ms> WRITE`, and — at most once per run — PostgreSQL stopped in immediate mode (no checkpoint,
 * crash recovery at start) and started again. PostgreSQL is always started again: in a `finally`, from `after` through
 * `ensurePostgresRunning`, and from an exit handler while it is down.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { ApiProcess } from './api-process.ts';
import { Prng } from './prng.ts';
import type { TcpProxy } from './tcp-proxy.ts';

const run = promisify(execFile);

/** The steps of a transfer that carry a `crashPoint(...)` (src/platform/idempotency.ts, transactions module). */
export const TRANSFER_CRASH_POINTS = [
  'transfer.after-claim',
  'transfer.after-prepare',
  'transfer.after-pin',
  'transfer.before-posting',
  // The one-call commit (PAYMENT_COMMIT=one-call, the default): after it, everything is committed.
  'transfer.after-commit',
  'transfer.before-response',
] as const;

/**
 * The stepwise commit's own points, inside its transaction (PAYMENT_COMMIT=stepwise, and a one-call commit that found
 * its wallets changed since the checks); it passes `transfer.before-posting` too.
 */
export const STEPWISE_CRASH_POINTS = [
  'transfer.after-posting',
  'transfer.after-record',
  'transfer.after-outbox',
] as const;

/**
 * The group commit's points (PAYMENT_COMMIT=batched, src/modules/transactions/transactions.commit.ts), passed only by
 * a batch of two or more payments (a batch of one goes through the single-payment commit): before the call (the batch
 * is built and nothing of it is committed) and after it (every payment of the batch committed with its stored answer,
 * no response sent). batch-crash.test.ts arms each of them.
 */
export const BATCH_CRASH_POINTS = ['transfer.batch-before-call', 'transfer.batch-after-call'] as const;

export type Fault =
  /** node -1: every node at once. */
  | { kind: 'kill-api'; node: number }
  | { kind: 'crash-point'; node: number; point: string; pass: number }
  | { kind: 'pg-terminate' }
  | { kind: 'pg-drop' }
  | { kind: 'pg-refuse'; ms: number }
  | { kind: 'pg-latency'; ms: number; jitterMs: number; durationMs: number }
  | { kind: 'pg-reset-mid-stream'; count: number }
  | { kind: 'redis-drop' }
  | { kind: 'redis-refuse'; ms: number }
  | { kind: 'redis-latency'; ms: number; jitterMs: number; durationMs: number }
  | { kind: 'redis-pause'; ms: number }
  | { kind: 'pg-restart'; downMs: number };

export type FaultKind = Fault['kind'];

export interface ScheduledFault {
  /** Applied once this many operations have been started. */
  atOperation: number;
  fault: Fault;
}

export interface ScheduleOptions {
  operations: number;
  faults: number;
  nodes: number;
  /** Window of the run (fractions of the operations) in which faults start. */
  from: number;
  to: number;
  /** One PostgreSQL immediate restart in the run (it disturbs everything on the server: at most one). */
  postgresRestart: boolean;
  /** Overrides of the draw weights (e.g. fewer kills in the short mode: each restart costs seconds of CPU). */
  weights?: Partial<Record<Exclude<FaultKind, 'pg-restart'>, number>>;
}

const WEIGHTS: [Exclude<FaultKind, 'pg-restart'>, number][] = [
  ['kill-api', 5],
  ['crash-point', 4],
  ['pg-terminate', 2],
  ['pg-drop', 2],
  ['pg-refuse', 1],
  ['pg-latency', 2],
  ['pg-reset-mid-stream', 2],
  ['redis-drop', 1],
  ['redis-refuse', 1],
  ['redis-latency', 1],
  ['redis-pause', 1],
];

function drawFault(random: Prng, kind: FaultKind, nodes: number): Fault {
  switch (kind) {
    case 'kill-api':
      return { kind, node: random.chance(0.2) ? -1 : random.int(0, nodes - 1) };
    case 'crash-point':
      return {
        kind,
        node: random.int(0, nodes - 1),
        point: random.pick([...TRANSFER_CRASH_POINTS, ...STEPWISE_CRASH_POINTS]),
        pass: random.int(2, 25),
      };
    case 'pg-terminate':
    case 'pg-drop':
    case 'redis-drop':
      return { kind };
    case 'pg-refuse':
    case 'redis-refuse':
      return { kind, ms: random.int(500, 2500) };
    case 'pg-latency':
      return { kind, ms: random.int(5, 40), jitterMs: random.int(0, 30), durationMs: random.int(2000, 5000) };
    case 'redis-latency':
      return {
        kind,
        ms: random.int(20, 200),
        jitterMs: random.int(0, 100),
        durationMs: random.int(2000, 5000),
      };
    case 'pg-reset-mid-stream':
      return { kind, count: random.int(1, 4) };
    case 'redis-pause':
      // Below the API's 2 s Redis command timeout half the time, above it the other half.
      return { kind, ms: random.int(500, 3000) };
    case 'pg-restart':
      return { kind, downMs: random.int(500, 3000) };
  }
}

/**
 * The fault schedule of a run, fixed by the seed: `faults` faults at operation counts spread over the window, the
 * kinds drawn by weight, at least one plain kill and one crash point, and the PostgreSQL restart (if asked) once.
 */
export function faultSchedule(seed: number, options: ScheduleOptions): ScheduledFault[] {
  const random = Prng.derive(seed, 'faults');
  const weights = WEIGHTS.map(([kind, weight]) => [kind, options.weights?.[kind] ?? weight] as const);
  const total = weights.reduce((sum, [, weight]) => sum + weight, 0);
  const kinds: FaultKind[] = ['kill-api', 'crash-point'];
  if (options.postgresRestart) kinds.push('pg-restart');
  while (kinds.length < options.faults) {
    let draw = random.next() * total;
    for (const [kind, weight] of weights) {
      draw -= weight;
      if (draw < 0) {
        kinds.push(kind);
        break;
      }
    }
  }
  random.shuffle(kinds);
  const low = Math.floor(options.operations * options.from);
  const high = Math.floor(options.operations * options.to);
  const positions = kinds.map(() => random.int(low, high)).sort((left, right) => left - right);
  return kinds.map((kind, index) => ({
    atOperation: positions[index]!,
    fault: drawFault(random, kind, options.nodes),
  }));
}

export function describeFault(fault: Fault): string {
  const { kind, ...rest } = fault;
  const detail = Object.entries(rest)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  return detail ? `${kind} ${detail}` : kind;
}

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL: immediate stop and start, always started again.

const CLUSTER = (process.env.RELIABILITY_PG_CLUSTER ?? '15 main').split(/\s+/);
let postgresStoppedByUs = false;
let safetyNetInstalled = false;

function pgctl(action: 'start' | 'stop', ...extra: string[]) {
  return run('pg_ctlcluster', ['--skip-systemctl-redirect', ...CLUSTER, action, ...extra], {
    timeout: 120_000,
  });
}

function startPostgresSync(): void {
  try {
    execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', ...CLUSTER, 'start'], {
      timeout: 120_000,
      stdio: 'ignore',
    });
  } catch {
    // already running
  }
}

/** While PostgreSQL is down because of us, a dying test process starts it on its way out. */
function installSafetyNet(): void {
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  process.on('exit', () => {
    if (postgresStoppedByUs) startPostgresSync();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (postgresStoppedByUs) startPostgresSync();
      process.exit(130);
    });
  }
}

async function canConnect(url: string, timeoutMs = 2000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function waitForPostgres(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(url))) {
    if (Date.now() > deadline)
      throw new Error(`PostgreSQL did not accept connections within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Stop in immediate mode, stay down `downMs`, start, and wait until it accepts connections (started in `finally`). */
export async function restartPostgresImmediate(adminUrl: string, downMs: number): Promise<void> {
  installSafetyNet();
  postgresStoppedByUs = true;
  try {
    await pgctl('stop', '-m', 'immediate');
    await new Promise((resolve) => setTimeout(resolve, downMs));
  } finally {
    await pgctl('start').catch(() => {});
    await waitForPostgres(adminUrl);
    postgresStoppedByUs = false;
  }
}

/** For `after`: starts PostgreSQL if it is not accepting connections (never throws). */
export async function ensurePostgresRunning(adminUrl: string): Promise<void> {
  try {
    if (await canConnect(adminUrl)) return;
    await pgctl('start').catch(() => {});
    await waitForPostgres(adminUrl, 60_000);
    postgresStoppedByUs = false;
  } catch {
    // reported by the test that needed it
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The driver.

export interface FaultTargets {
  apis: ApiProcess[];
  pgProxy: TcpProxy;
  redisProxy: TcpProxy;
  /** A direct (not proxied) administrative connection URL: pg_terminate_backend, readiness after a restart. */
  adminUrl: string;
  /** The database the API uses (its sessions are the ones terminated). */
  database: string;
  /** Direct (not proxied) Redis URL for CLIENT PAUSE. */
  redisUrl: string;
}

export interface FaultEvent {
  fault: Fault;
  description: string;
  atOperation: number;
  /** ms since the driver was created */
  startedAt: number;
  endedAt: number;
  note: string;
}

export class FaultDriver {
  readonly events: FaultEvent[] = [];
  readonly #targets: FaultTargets;
  readonly #origin = performance.now();
  readonly #background: Promise<void>[] = [];
  /**
   * Armed crash points: whether each went off within 20 s of its life becoming ready, and when that life was ready
   * (`performance.now()`; null when it never was): a life ready only after the plan was handed out gets no new
   * operations, so its point may go untested without anything being wrong.
   */
  readonly crashPoints: { description: string; fired: boolean; readyAt: number | null }[] = [];
  /** Per node, the watch of a crash point armed on it: a later kill of that node waits for it (or would void it). */
  readonly #armed = new Map<ApiProcess, Promise<void>>();
  #active = 0;

  constructor(targets: FaultTargets) {
    this.#targets = targets;
  }

  /** True while a fault is being applied (or its effect, such as a restart, is still running). */
  get active(): boolean {
    return this.#active > 0;
  }

  /**
   * How the API nodes' processes ended so far: requested SIGKILLs, crash points that fired, and anything else (a
   * process that died by itself: an uncaught error, a failed start) with the output before it.
   */
  kills(): {
    requested: number;
    crashPoints: number;
    failedStarts: number;
    died: { node: number; code: number | null; signal: string | null; tail: string }[];
  } {
    let requested = 0;
    let crashPoints = 0;
    let failedStarts = 0;
    const died: { node: number; code: number | null; signal: string | null; tail: string }[] = [];
    for (const [node, api] of this.#targets.apis.entries())
      for (const exit of api.exits) {
        // A SIGKILL nobody asked for is a crash point (whether or not the readiness poll saw that life).
        if (exit.signal === 'SIGKILL' && !exit.requested) crashPoints += 1;
        else if (!exit.wasReady) failedStarts += 1;
        else if (exit.requested) requested += 1;
        else died.push({ node, code: exit.code, signal: exit.signal, tail: exit.tail ?? '' });
      }
    return { requested, crashPoints, failedStarts, died };
  }

  async apply(scheduled: ScheduledFault): Promise<FaultEvent> {
    const { fault } = scheduled;
    this.#active += 1;
    const startedAt = performance.now() - this.#origin;
    let note = '';
    try {
      note = await this.#apply(fault);
    } finally {
      this.#active -= 1;
    }
    const event: FaultEvent = {
      fault,
      description: describeFault(fault),
      atOperation: scheduled.atOperation,
      startedAt,
      endedAt: performance.now() - this.#origin,
      note,
    };
    this.events.push(event);
    return event;
  }

  /** Waits for what faults left running in the background (armed crash points) and for every node to be ready. */
  async settle(): Promise<void> {
    await Promise.all(this.#background);
    await Promise.all(this.#targets.apis.map((api) => api.whenReady()));
  }

  async #watchCrashPoint(
    api: ApiProcess,
    base: number,
    crashPoints: string,
    description: string,
  ): Promise<void> {
    // The armed life may die while it is still being polled for readiness (clients retry on it as soon as it
    // listens): every exit after the kill counts. A life that could not start (PostgreSQL down) passes the crash
    // point on to the next one, so the watch lasts while the current life, or the next, carries it.
    const fired = () =>
      api.exits.slice(base + 1).some((exit) => exit.signal === 'SIGKILL' && !exit.requested);
    const armed = () => api.lifeEnv.CRASH_POINTS === crashPoints;
    const readyAt = await api.whenReady().then(
      () => performance.now(),
      () => null,
    );
    const deadline = Date.now() + 20_000;
    while (!fired() && armed() && api.running && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 25));
    // Not reached in time: end that life by hand so the crash point cannot go off later unobserved.
    if (!fired() && armed() && api.running) await api.kill();
    this.crashPoints.push({ description, fired: fired(), readyAt });
  }

  async #apply(fault: Fault): Promise<string> {
    const { apis, pgProxy, redisProxy } = this.#targets;
    switch (fault.kind) {
      case 'kill-api': {
        // A node still coming back from the last kill is left to finish starting; the supervisor restarts the
        // killed ones while the next faults go on (the other node keeps serving).
        const nodes = fault.node === -1 ? apis : [apis[fault.node % apis.length]!];
        await Promise.all(nodes.map((api) => this.#armed.get(api)));
        await Promise.all(nodes.map((api) => api.whenReady().catch(() => {})));
        await Promise.all(nodes.map((api) => api.kill()));
        return `${nodes.length} node(s) SIGKILLed (restarting)`;
      }
      case 'crash-point': {
        const api = apis[fault.node % apis.length]!;
        await this.#armed.get(api);
        await api.whenReady().catch(() => {});
        const base = api.exits.length;
        // The life after this kill carries the crash point; the supervisor starts it and, once it is dead, a clean one.
        const crashPoints = `${fault.point}:${fault.pass}`;
        api.armNext({ CRASH_POINTS: crashPoints });
        await api.kill();
        const watch = this.#watchCrashPoint(api, base, crashPoints, describeFault(fault));
        this.#armed.set(api, watch);
        this.#background.push(watch);
        return 'SIGKILLed; restarting with the crash point armed';
      }
      case 'pg-terminate': {
        const ports = pgProxy.upstreamPorts();
        const client = new pg.Client({ connectionString: this.#targets.adminUrl });
        client.on('error', () => {});
        await client.connect();
        try {
          const result = await client.query<{ n: number }>(
            `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
              where datname = $1 and client_port = any($2::int[])`,
            [this.#targets.database, ports],
          );
          return `${result.rows[0]!.n} backend(s) terminated`;
        } finally {
          await client.end().catch(() => {});
        }
      }
      case 'pg-drop':
        return `${pgProxy.dropAll()} connection(s) dropped`;
      case 'redis-drop':
        return `${redisProxy.dropAll()} connection(s) dropped`;
      case 'pg-refuse':
      case 'redis-refuse': {
        const proxy = fault.kind === 'pg-refuse' ? pgProxy : redisProxy;
        proxy.refuseFor(fault.ms);
        const dropped = proxy.dropAll();
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        return `${dropped} dropped, new connections refused for ${fault.ms} ms`;
      }
      case 'pg-latency':
      case 'redis-latency': {
        const proxy = fault.kind === 'pg-latency' ? pgProxy : redisProxy;
        proxy.setLatency(fault.ms, fault.jitterMs);
        try {
          await new Promise((resolve) => setTimeout(resolve, fault.durationMs));
        } finally {
          proxy.setLatency(0, 0);
        }
        return 'latency removed';
      }
      case 'pg-reset-mid-stream':
        pgProxy.resetMidStream(fault.count);
        return `${fault.count} reset(s) armed`;
      case 'redis-pause': {
        const client = new Redis(this.#targets.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
        client.on('error', () => {});
        try {
          await client.connect();
          await client.call('CLIENT', 'PAUSE', String(fault.ms), 'WRITE');
        } finally {
          client.disconnect();
        }
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        return 'pause over';
      }
      case 'pg-restart': {
        const started = Date.now();
        await restartPostgresImmediate(this.#targets.adminUrl, fault.downMs);
        return `PostgreSQL back after ${Date.now() - started} ms`;
      }
    }
  }
}
