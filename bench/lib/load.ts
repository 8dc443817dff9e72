/**
 * autocannon as a library: every request is built by `next()` (fresh Idempotency-Key, random payer and payee, the
 * payer's bearer token …), a short warm-up is thrown away, then the measured run. Latencies are the client-side
 * response times of 2xx answers (sub-millisecond precision, not autocannon's whole-millisecond histogram); anything
 * else is an error, counted by status and `error_code`.
 */
import autocannon from 'autocannon';
import { between, type CpuSnapshot, type CpuUse, snapshot } from './cpu.ts';

export interface BuiltRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  warmupSeconds: number;
  next: () => BuiltRequest;
  /**
   * The same request every time, built once (no per-request setup, no body collected): the cheapest load autocannon
   * can generate, for references such as the bare route, so the load generator takes as little CPU as it can.
   */
  fixed?: boolean;
  /** Sees every answer's body (collecting refresh tokens …). */
  onAnswer?: (status: number, body: string) => void;
  /** Sampled for the CPU split: API workers and PostgreSQL backends. */
  cpuPids?: () => Promise<{ api: number[]; postgres: number[] }>;
}

export interface LoadResult {
  connections: number;
  seconds: number;
  ok: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
  /** `status error_code` → count, connection errors and timeouts included. */
  errorKinds: Record<string, number>;
  cpu?: CpuUse;
  /** The 2xx latencies (ms), to merge interleaved runs. */
  latencies: Float64Array;
  /** Something that disturbed the run (a restart of the shared PostgreSQL …). */
  note?: string;
  /** performance.now() when the measured part started and ended (after the warm-up). */
  from: number;
  to: number;
}

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

function fixedRequest(built: BuiltRequest) {
  return { method: built.method, path: built.path, headers: built.headers, body: built.body };
}

function dynamicRequest(options: LoadOptions, kind: (key: string) => void): autocannon.Request {
  return {
    setupRequest: () => options.next() as unknown as autocannon.Request,
    onResponse: (status: number, body: string) => {
      options.onAnswer?.(status, body);
      if (status >= 200 && status < 300) return;
      let code = '';
      try {
        code = String((JSON.parse(body) as { error_code?: string }).error_code ?? '');
      } catch {
        code = body.slice(0, 40);
      }
      kind(`${status} ${code}`.trim());
    },
  } as autocannon.Request;
}

async function once(
  options: LoadOptions,
  seconds: number,
  measure: boolean,
): Promise<Omit<LoadResult, 'connections'>> {
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  const errorKinds: Record<string, number> = {};
  const kind = (key: string) => {
    errorKinds[key] = (errorKinds[key] ?? 0) + 1;
  };
  let finish: (result: autocannon.Result) => void = () => {};
  let fail: (error: unknown) => void = () => {};
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const instance = autocannon(
    {
      url: options.url,
      connections: options.connections,
      duration: seconds,
      timeout: 10,
      ...(options.fixed ? fixedRequest(options.next()) : { requests: [dynamicRequest(options, kind)] }),
    },
    (error, result) => (error ? fail(error) : finish(result)),
  );
  instance.on('response', (_client: unknown, status: number, _bytes: number, responseTime: number) => {
    if (status < 200 || status >= 300) {
      if (options.fixed) kind(String(status));
      return;
    }
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[count] = responseTime;
    count += 1;
  });
  instance.on('reqError', (error: Error) => kind(`connection ${error.message}`));
  let before: CpuSnapshot | undefined;
  const pids = measure && options.cpuPids ? await options.cpuPids() : undefined;
  if (pids) before = snapshot(pids.api, pids.postgres);
  const started = performance.now();
  const result = await finished;
  const ended = performance.now();
  const elapsed = (ended - started) / 1000;
  const cpu = before && pids ? between(before, snapshot(pids.api, pids.postgres)) : undefined;
  const sorted = latencies.slice(0, count).sort();
  const errors = Object.values(errorKinds).reduce((sum, value) => sum + value, 0);
  // autocannon counts timeouts in `errors` and emits reqError for them too; keep the larger view.
  const counted = Math.max(errors, result.non2xx + result.errors);
  return {
    seconds: elapsed,
    ok: count,
    rps: count / elapsed,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    errors: counted,
    errorKinds,
    cpu,
    latencies: sorted,
    from: started,
    to: ended,
  };
}

/** Interleaved slices of one variant as one result: requests and time summed, latencies merged. */
export function combine(results: LoadResult[]): LoadResult {
  const ok = results.reduce((sum, result) => sum + result.ok, 0);
  const seconds = results.reduce((sum, result) => sum + result.seconds, 0);
  const merged = new Float64Array(ok);
  let offset = 0;
  for (const result of results) {
    merged.set(result.latencies, offset);
    offset += result.latencies.length;
  }
  merged.sort();
  const errorKinds: Record<string, number> = {};
  for (const result of results)
    for (const [kind, count] of Object.entries(result.errorKinds))
      errorKinds[kind] = (errorKinds[kind] ?? 0) + count;
  const cpus = results.map((result) => result.cpu).filter((cpu): cpu is CpuUse => Boolean(cpu));
  const average = (pick: (cpu: CpuUse) => number) =>
    cpus.reduce((sum, cpu) => sum + pick(cpu) * cpu.seconds, 0) /
    Math.max(
      1e-9,
      cpus.reduce((sum, cpu) => sum + cpu.seconds, 0),
    );
  const notes = results.map((result) => result.note).filter(Boolean);
  return {
    connections: results[0]!.connections,
    seconds,
    ok,
    rps: ok / seconds,
    p50: percentile(merged, 0.5),
    p90: percentile(merged, 0.9),
    p99: percentile(merged, 0.99),
    errors: results.reduce((sum, result) => sum + result.errors, 0),
    errorKinds,
    cpu:
      cpus.length > 0
        ? {
            seconds: cpus.reduce((sum, cpu) => sum + cpu.seconds, 0),
            api: average((cpu) => cpu.api),
            postgres: average((cpu) => cpu.postgres),
            loadgen: average((cpu) => cpu.loadgen),
            other: average((cpu) => cpu.other),
            machine: average((cpu) => cpu.machine),
          }
        : undefined,
    latencies: merged,
    note: notes.length > 0 ? notes.join('; ') : undefined,
    from: results[0]!.from,
    to: results[results.length - 1]!.to,
  };
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  if (options.warmupSeconds > 0) await once(options, options.warmupSeconds, false);
  const measured = await once(options, options.seconds, true);
  return { connections: options.connections, ...measured };
}
