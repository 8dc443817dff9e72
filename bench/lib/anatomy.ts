/**
 * What one request costs in round trips: the app is built in-process on the bench database (same code as the API
 * child), requests are sent one at a time through `app.inject`, and every PostgreSQL statement (pg.Client#query) and
 * Redis command (ioredis sendCommand) is counted and timed on the client side. Round trips are the times the request
 * waited on PostgreSQL or Redis: a statement or command sent while another is still in flight shares its round trip. pg_stat_statements needs
 * shared_preload_libraries (a server restart), which the benchmark must not do; this is the substitute.
 */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import type { Dependencies } from '../../src/platform/dependencies.ts';

export interface StatementStat {
  text: string;
  perRequest: number;
  meanMs: number;
}

export interface Anatomy {
  name: string;
  requests: number;
  failed: number;
  statementsPerRequest: number;
  redisPerRequest: number;
  /** Waits on PostgreSQL or Redis: statements and commands in flight together count once. */
  roundTripsPerRequest: number;
  msPerRequest: number;
  /** CPU of this process (the app's JavaScript, pg and ioredis clients, inject) per request. */
  cpuMsPerRequest: number;
  dbMsPerRequest: number;
  transactionsPerRequest: number;
  top: StatementStat[];
}

export interface Sample {
  text: string;
  values: unknown[];
}

export interface InjectRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

type QueryFn = (this: unknown, ...args: unknown[]) => unknown;

const normalise = (text: string) => text.replace(/\s+/g, ' ').trim();

export async function measureAnatomy(
  deps: Dependencies,
  cases: { name: string; count: number; warmup: number; next: () => InjectRequest }[],
): Promise<{ anatomies: Anatomy[]; samples: Map<string, Sample> }> {
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const application = await buildApp(deps, { logStream: sink, logLevel: 'warn' });
  await application.app.ready();
  const statements: { text: string; ms: number }[] = [];
  const samples = new Map<string, Sample>();
  let redisCommands = 0;
  let roundTrips = 0;
  let inFlight = 0;
  let recording = false;
  // A round trip starts when nothing else was in flight; one sent during another's flight adds no wait of its own.
  const sent = () => {
    if (inFlight === 0) roundTrips += 1;
    inFlight += 1;
    let settled = false;
    return () => {
      if (settled) return;
      settled = true;
      inFlight -= 1;
    };
  };
  const clientPrototype = pg.Client.prototype as unknown as { query: QueryFn };
  const originalQuery = clientPrototype.query;
  clientPrototype.query = function (this: unknown, ...args: unknown[]) {
    if (!recording) return originalQuery.apply(this, args);
    const config = args[0] as string | { text?: string; values?: unknown[] } | undefined;
    const text = normalise(typeof config === 'string' ? config : (config?.text ?? '?'));
    const values =
      (Array.isArray(args[1]) ? args[1] : typeof config === 'object' ? config?.values : []) ?? [];
    if (!samples.has(text)) samples.set(text, { text, values });
    const started = performance.now();
    const back = sent();
    const done = () => {
      back();
      statements.push({ text, ms: performance.now() - started });
    };
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      args[args.length - 1] = (...callbackArgs: unknown[]) => {
        done();
        return (last as (...a: unknown[]) => unknown)(...callbackArgs);
      };
      return originalQuery.apply(this, args);
    }
    const result = originalQuery.apply(this, args) as Promise<unknown> | undefined;
    if (result && typeof result.then === 'function') result.then(done, done);
    return result;
  };
  const redisPrototype = Redis.prototype as unknown as { sendCommand: QueryFn };
  const originalSend = redisPrototype.sendCommand;
  redisPrototype.sendCommand = function (this: unknown, ...args: unknown[]) {
    if (!recording) return originalSend.apply(this, args);
    redisCommands += 1;
    const back = sent();
    const result = originalSend.apply(this, args) as Promise<unknown> | undefined;
    if (result && typeof result.then === 'function') result.then(back, back);
    else back();
    return result;
  };
  const anatomies: Anatomy[] = [];
  try {
    for (const item of cases) {
      for (let index = 0; index < item.warmup; index += 1) await application.app.inject(item.next());
      statements.length = 0;
      redisCommands = 0;
      roundTrips = 0;
      inFlight = 0;
      recording = true;
      let failed = 0;
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      for (let index = 0; index < item.count; index += 1) {
        const response = await application.app.inject(item.next());
        if (response.statusCode >= 300) failed += 1;
      }
      const elapsed = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      recording = false;
      const byText = new Map<string, { count: number; ms: number }>();
      for (const { text, ms } of statements) {
        const entry = byText.get(text) ?? { count: 0, ms: 0 };
        entry.count += 1;
        entry.ms += ms;
        byText.set(text, entry);
      }
      const top = [...byText.entries()]
        .map(([text, entry]) => ({
          text,
          perRequest: entry.count / item.count,
          meanMs: entry.ms / entry.count,
        }))
        .sort((a, b) => b.perRequest * b.meanMs - a.perRequest * a.meanMs);
      anatomies.push({
        name: item.name,
        requests: item.count,
        failed,
        statementsPerRequest: statements.length / item.count,
        redisPerRequest: redisCommands / item.count,
        roundTripsPerRequest: roundTrips / item.count,
        msPerRequest: elapsed / item.count,
        cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / item.count,
        dbMsPerRequest: statements.reduce((sum, entry) => sum + entry.ms, 0) / item.count,
        transactionsPerRequest: statements.filter((entry) => /^begin/i.test(entry.text)).length / item.count,
        top,
      });
    }
  } finally {
    recording = false;
    clientPrototype.query = originalQuery;
    redisPrototype.sendCommand = originalSend;
    await application.app.close();
  }
  return { anatomies, samples };
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of the read statements a request ran (captured with their real parameters), on the
 * database as it is now: which index each uses, whether anything scans a table.
 */
export async function explainSamples(
  pool: pg.Pool,
  samples: Sample[],
): Promise<{ text: string; plan: string; ms: number; seqScan: boolean }[]> {
  const out: { text: string; plan: string; ms: number; seqScan: boolean }[] = [];
  for (const sample of samples) {
    if (!/^select/i.test(sample.text) || /ledger_post|pg_advisory|ledger_roll_up/i.test(sample.text))
      continue;
    try {
      const result = await pool.query<{ 'QUERY PLAN': string }>(
        `explain (analyze, buffers, costs off, timing on) ${sample.text}`,
        sample.values,
      );
      const lines = result.rows.map((row) => row['QUERY PLAN']);
      const ms = Number(/Execution Time: ([\d.]+) ms/.exec(lines.join('\n'))?.[1] ?? NaN);
      out.push({
        text: sample.text,
        plan: lines.join('\n'),
        ms,
        seqScan: lines.some((line) => /Seq Scan on (?!pg_)/.test(line)),
      });
    } catch (error) {
      out.push({ text: sample.text, plan: `(not explained: ${String(error)})`, ms: NaN, seqScan: false });
    }
  }
  return out;
}
