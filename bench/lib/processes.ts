/** Child processes of the benchmark: the API cluster and the bare Fastify reference, started and stopped by id. */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

export interface Server {
  readonly port: number;
  readonly child: ChildProcess;
  /** Worker pids (the cluster's workers, or the process itself). */
  readonly pids: number[];
  /** The last stderr output (crashes). */
  readonly stderr: string;
  stop(): Promise<void>;
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();

/** Kills what is still running (by the child's own pid) when the orchestrator fails. */
export function killAll(): void {
  for (const child of running) {
    try {
      child.kill('SIGTERM');
    } catch {
      // already gone
    }
  }
}

/**
 * Starts `node <script>` with `env` and waits for its `{type:'ready', pids}` IPC message. The child's stdout (the
 * API's pino logs, shared by cluster workers) goes straight to `logFile` or /dev/null, never through this process;
 * the last stderr lines are kept for error messages.
 */
export async function startServer(options: {
  script: string;
  env: Record<string, string>;
  port: number;
  logFile?: string;
  timeoutMs?: number;
}): Promise<Server> {
  const out = options.logFile ? openSync(options.logFile, 'a') : 'ignore';
  const child = spawn(process.execPath, [join(ROOT, options.script)], {
    cwd: ROOT,
    env: options.env,
    stdio: ['ignore', out, 'pipe', 'ipc'],
  });
  if (typeof out === 'number') closeSync(out);
  running.add(child);
  let stderrTail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      resolve();
    });
  });
  const pids = await new Promise<number[]>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${options.script} did not start in time:\n${stderrTail}`)),
      options.timeoutMs ?? 60_000,
    );
    child.on('message', (message: { type?: string; pids?: number[] }) => {
      if (message?.type !== 'ready') return;
      clearTimeout(timer);
      resolve(message.pids ?? []);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${options.script} exited with ${code} before it was ready:\n${stderrTail}`));
    });
  });
  return {
    port: options.port,
    child,
    pids,
    get stderr() {
      return stderrTail;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timeout = new Promise<void>((resolve) =>
        setTimeout(() => {
          if (child.exitCode === null) child.kill('SIGKILL');
          resolve();
        }, 25_000).unref(),
      );
      await Promise.race([exited, timeout]);
      await exited;
    },
  };
}

/** Waits until `url` answers 200 (the API's readiness route checks PostgreSQL and Redis). */
export async function waitFor(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
