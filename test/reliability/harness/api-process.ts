/**
 * The API as its own process (`node src/main.ts`), the unit the reliability driver kills: spawned on a chosen port
 * with an environment pointing DATABASE_URL / REDIS_URL through the fault proxies, ready when `/health/ready` says
 * so, SIGKILLed (no cleanup, as the OOM killer or a power cut would), restarted. Its output is kept (the tail, for
 * failure messages) and the lines a 500 leaves are collected as evidence.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../..', import.meta.url).pathname;
const TAIL_LINES = 400;

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

/** A free TCP port on 127.0.0.1 (the API keeps it across restarts). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
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
        await this.#exited;
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
