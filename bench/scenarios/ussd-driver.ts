/**
 * The load driver of the ussd scenario. autocannon sends independent requests; a USSD session is a chain of steps
 * where each request depends on the previous answer (Africa's Talking's `text` grows by one input per step), so this
 * runs `concurrency` virtual users, each dialling session after session through the simulator's programmatic API
 * (scripts/ussd-sim) over keep-alive HTTP connections, and times every step. The reference transfer runs through the
 * same driver (a one-step "session"), so the ratio compares the two paths with the same client cost.
 */
import { Agent, request } from 'node:http';
import type { UssdTransport } from '../../scripts/ussd-sim/index.ts';
import { between, type CpuUse, snapshot } from '../lib/cpu.ts';

/** What one virtual user's session reports: the time of each step (ms), and why it failed if it did. */
export interface SessionOutcome {
  steps: number[];
  failure?: string;
}

export interface SessionLoadResult {
  concurrency: number;
  seconds: number;
  sessions: number;
  sessionsPerSecond: number;
  stepsPerSecond: number;
  /** Latency (ms) of each step by position, sorted; `all` is every step together. */
  perStep: Float64Array[];
  all: Float64Array;
  errors: number;
  errorKinds: Record<string, number>;
  cpu?: CpuUse;
}

/** HTTP/1.1 keep-alive, one socket per virtual user, like a gateway's connection pool. */
export function httpTransport(baseUrl: string, sockets: number): { transport: UssdTransport; close(): void } {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const transport: UssdTransport = (wire) =>
    new Promise((resolve, reject) => {
      const outgoing = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: wire.method,
          path: wire.path,
          headers: { ...wire.headers, 'content-length': Buffer.byteLength(wire.body) },
          timeout: 10_000,
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () =>
            resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          incoming.on('error', reject);
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error('timeout after 10 s')));
      outgoing.on('error', reject);
      outgoing.end(wire.body);
    });
  return { transport, close: () => agent.destroy() };
}

/** Runs `session(user)` in a loop on `concurrency` users: a warm-up thrown away, then `seconds` measured. */
export async function driveSessions(options: {
  concurrency: number;
  seconds: number;
  warmupSeconds: number;
  session: (user: number) => Promise<SessionOutcome>;
  cpuPids?: () => Promise<{ api: number[]; postgres: number[] }>;
}): Promise<SessionLoadResult> {
  if (options.warmupSeconds > 0) await phase(options, options.warmupSeconds, false);
  return phase(options, options.seconds, true);
}

async function phase(
  options: Parameters<typeof driveSessions>[0],
  seconds: number,
  measure: boolean,
): Promise<SessionLoadResult> {
  const perStep: number[][] = [];
  const errorKinds: Record<string, number> = {};
  let sessions = 0;
  let steps = 0;
  const pids = measure && options.cpuPids ? await options.cpuPids() : undefined;
  const before = pids ? snapshot(pids.api, pids.postgres) : undefined;
  const started = performance.now();
  const until = started + seconds * 1000;
  const user = async (index: number) => {
    while (performance.now() < until) {
      let outcome: SessionOutcome;
      try {
        outcome = await options.session(index);
      } catch (error) {
        outcome = { steps: [], failure: error instanceof Error ? error.message.slice(0, 60) : String(error) };
      }
      // A session that ends after the window closed is not counted (nor are its steps), as autocannon does.
      if (performance.now() > until) break;
      if (outcome.failure) {
        errorKinds[outcome.failure] = (errorKinds[outcome.failure] ?? 0) + 1;
        continue;
      }
      sessions += 1;
      steps += outcome.steps.length;
      outcome.steps.forEach((ms, position) => {
        const values = perStep[position] ?? [];
        perStep[position] = values;
        values.push(ms);
      });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, index) => user(index)));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = before && pids ? between(before, snapshot(pids.api, pids.postgres)) : undefined;
  const sorted = perStep.map((values) => Float64Array.from(values).sort());
  const all = Float64Array.from(perStep.flat()).sort();
  return {
    concurrency: options.concurrency,
    seconds: elapsed,
    sessions,
    sessionsPerSecond: sessions / elapsed,
    stepsPerSecond: steps / elapsed,
    perStep: sorted,
    all,
    errors: Object.values(errorKinds).reduce((sum, count) => sum + count, 0),
    errorKinds,
    cpu,
  };
}

export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}
