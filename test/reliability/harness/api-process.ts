/**
 * The API as its own process (`node src/main.ts`), the unit the reliability driver kills: spawned on a chosen port
 * with an environment pointing DATABASE_URL / REDIS_URL through the fault proxies, ready when `/health/ready` says
 * so, SIGKILLed (no cleanup, as the OOM killer or a power cut would), restarted. Its output is kept (the tail, for
 * failure messages) and the lines a 500 leaves are collected as evidence.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../..', import.meta.url).pathname;
const TAIL_LINES = 400;

/**
 * Every API process this test process started and that is still running. The test process may end without its
 * `after` hooks (an uncaught error, the runner's SIGTERM): the API processes must not outlive it (they would keep
 * their ports, their database sessions and the CPU), so they are SIGKILLed on the way out.
 */
const live = new Set<ChildProcess>();
let reaperInstalled = false;

function installReaper(): void {
  if (reaperInstalled) return;
  reaperInstalled = true;
  const reap = () => {
    for (const child of live) child.kill('SIGKILL');
    live.clear();
  };
  process.on('exit', reap);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      reap();
      // Other handlers (PostgreSQL's safety net in faults.ts) run too; then the default outcome of the signal.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the harness asked for it (kill/stop); false for a crash point or a failed start. */
  requested: boolean;
  /** Whether that life had answered /health/ready (false: it died starting, e.g. while PostgreSQL was down). */
  wasReady: boolean;
  /** The last lines it wrote, when it died by itself. */
  tail?: string;
}

const handedOut = new Set<number>();

/** Whether `port` can be listened on at 127.0.0.1 right now. */
async function canListen(port: number): Promise<number | null> {
  const server = net.createServer();
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (!bound) return null;
  const { port: actual } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return actual;
}

/** The kernel's range of ephemeral ports (the source ports of outgoing connections). */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low && high) return [low, high];
  } catch {
    // not Linux
  }
  return [32768, 60999];
}

/**
 * A free TCP port on 127.0.0.1 for an API node, which keeps it across restarts. Taken below the ephemeral range: a
 * port from that range is free while a killed node restarts, and any outgoing connection of the machine (the clients'
 * and the proxies') may take it as its source port in that gap, after which the node can never listen again.
 */
export async function freePort(): Promise<number> {
  const [low] = ephemeralRange();
  const floor = 20_000;
  if (low - floor > 1000)
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const candidate = floor + Math.floor(Math.random() * (low - floor));
      // Not one handed out already in this process (its node may be down, restarting, right now).
      if (handedOut.has(candidate)) continue;
      const port = await canListen(candidate);
      if (port !== null) {
        handedOut.add(port);
        return port;
      }
    }
  const port = await canListen(0);
  if (port === null) throw new Error('no free port');
  return port;
}

export class ApiProcess {
  readonly port: number;
  readonly url: string;
  readonly #env: Record<string, string>;
  readonly #tail: string[] = [];
  /** Log lines at error level (pino level ≥ 50): where a 500's cause is written. */
  readonly errorLines: string[] = [];
  #child: ChildProcess | null = null;
  #exited: Promise<ExitInfo> | null = null;
  #requested = false;
  #wasReady = false;
  #supervised = false;
  #stopping = false;
  #nextEnv: Record<string, string> | null = null;
  #lifeEnv: Record<string, string> = {};
  #ready: Promise<void> = Promise.resolve();
  starts = 0;
  exits: ExitInfo[] = [];
  onExit: ((exit: ExitInfo) => void) | null = null;

  constructor(options: { port: number; env: Record<string, string> }) {
    this.port = options.port;
    this.url = `http://127.0.0.1:${options.port}`;
    this.#env = options.env;
  }

  get running(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The environment given to the current life only (e.g. its CRASH_POINTS). */
  get lifeEnv(): Readonly<Record<string, string>> {
    return this.#lifeEnv;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** The last lines the process wrote (stdout and stderr), for failure messages. */
  tail(lines = 40): string {
    return this.#tail.slice(-lines).join('\n');
  }

  /** Spawns the process (`extraEnv` for this life only, e.g. CRASH_POINTS) without waiting for readiness. */
  spawn(extraEnv: Record<string, string> = {}): void {
    if (this.running) throw new Error('the API is already running');
    this.#requested = false;
    this.#wasReady = false;
    this.#lifeEnv = extraEnv;
    this.starts += 1;
    const child = spawn(process.execPath, ['src/main.ts'], {
      cwd: ROOT,
      env: {
        // Restarts are the expensive part of a kill: V8's code cache saves a third of the start-up.
        NODE_COMPILE_CACHE: join(tmpdir(), 'codeforge-reliability-compile-cache'),
        ...this.#env,
        LOCAL_PORT: String(this.port),
        LOCAL_HOST: '127.0.0.1',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    installReaper();
    live.add(child);
    child.once('exit', () => live.delete(child));
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) this.#line(line);
      });
    }
    this.#exited = (async () => {
      const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
      const info: ExitInfo = { code, signal, requested: this.#requested, wasReady: this.#wasReady };
      if (!info.requested) info.tail = this.tail(30);
      this.exits.push(info);
      this.onExit?.(info);
      if (this.#supervised && !this.#stopping) {
        this.#ready = this.#revive();
        this.#ready.catch(() => {});
      }
      return info;
    })();
  }

  /**
   * From now on every exit (a kill, a crash point, a failed start) is followed by a restart, as a process manager
   * would do; `whenReady()` resolves once the replacement answers /health/ready.
   */
  supervise(): void {
    this.#supervised = true;
  }

  /** The environment added to the next start only (e.g. CRASH_POINTS for the life after the next kill). */
  armNext(env: Record<string, string>): void {
    this.#nextEnv = env;
  }

  /** Resolves when the supervised process is up and ready again (rejects if it cannot be brought back). */
  whenReady(): Promise<void> {
    return this.#ready;
  }

  async #revive(): Promise<void> {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const env = this.#nextEnv ?? {};
      this.#nextEnv = null;
      // spawn() inside the exit handler: the replacement registers its own handler.
      this.#supervised = false;
      this.spawn(env);
      try {
        await this.waitReady(60_000);
        this.#supervised = true;
        return;
      } catch (error) {
        if (this.#stopping) return;
        // Not ready (PostgreSQL down, a refused connection at start-up): kill what is there and try again.
        if (this.running) {
          this.#requested = true;
          this.#child!.kill('SIGKILL');
        }
        const exit = await this.#exited;
        // A life that could not start (PostgreSQL down) never had its chance: the next one carries its environment
        // (an armed crash point), unless that life died of the crash point itself while it was being polled.
        const crashPoint = exit?.signal === 'SIGKILL' && !exit.requested;
        if (!crashPoint && Object.keys(env).length > 0) this.#nextEnv ??= env;
        if (Date.now() > deadline) {
          this.#supervised = true;
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  /** Starts and waits until `/health/ready` answers 200; throws (with the output tail) if it exits or times out. */
  async start(extraEnv: Record<string, string> = {}, timeoutMs = 60_000): Promise<void> {
    this.spawn(extraEnv);
    await this.waitReady(timeoutMs);
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`the API exited before it was ready:\n${this.tail()}`);
      try {
        const response = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(2000) });
        await response.arrayBuffer();
        if (response.status === 200) {
          this.#wasReady = true;
          return;
        }
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline)
        throw new Error(`the API was not ready within ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Resolves when the current process has exited (immediately if none). */
  async exited(): Promise<ExitInfo | null> {
    return this.#exited ? this.#exited : null;
  }

  /**
   * Waits at most `ms` for the current process to exit by itself (a crash point); if it is still running then, it is
   * SIGKILLed (so nothing is left behind) and `null` is returned.
   */
  async exitWithin(ms: number): Promise<ExitInfo | null> {
    if (!this.#exited) return null;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    });
    try {
      const outcome = await Promise.race([this.#exited, timeout]);
      if (outcome !== 'timeout') return outcome;
      await this.kill();
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL, and wait for the exit. */
  async kill(): Promise<ExitInfo | null> {
    if (!this.#child) return null;
    if (this.running) {
      this.#requested = true;
      this.#child.kill('SIGKILL');
    }
    return this.#exited;
  }

  /** Kill (if running) and start again, waiting for readiness. */
  async restart(extraEnv: Record<string, string> = {}, timeoutMs = 60_000): Promise<void> {
    await this.kill();
    await this.start(extraEnv, timeoutMs);
  }

  /** For `after`: never throws, and no restart follows. */
  async stop(): Promise<void> {
    try {
      this.#stopping = true;
      this.#supervised = false;
      this.onExit = null;
      await this.kill();
    } catch {
      // already gone
    }
  }

  #line(line: string): void {
    this.#tail.push(line);
    if (this.#tail.length > TAIL_LINES) this.#tail.splice(0, this.#tail.length - TAIL_LINES);
    const level = /"level":(\d+)/.exec(line)?.[1];
    if (level && Number(level) >= 50) this.errorLines.push(line.slice(0, 4000));
  }
}
