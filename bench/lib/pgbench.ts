/**
 * The references of the transfer and read scenarios: pgbench TPC-B (scale 10), or its select-only script (`-S`: one
 * primary-key read of pgbench_accounts per transaction), on its own database of the same server, at the same client
 * count and duration as the API run it is compared with, minutes apart at most. Latency percentiles come from
 * pgbench's per-transaction log (-l).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PgbenchResult {
  clients: number;
  seconds: number;
  tps: number;
  p50: number;
  p90: number;
  p99: number;
  failed: number;
  command: string;
}

function connectionArgs(url: string): { args: string[]; env: NodeJS.ProcessEnv; database: string } {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.slice(1));
  const args = [
    '-h',
    parsed.hostname,
    '-p',
    parsed.port || '5432',
    '-U',
    decodeURIComponent(parsed.username),
  ];
  const env = { ...process.env };
  if (parsed.password) env.PGPASSWORD = decodeURIComponent(parsed.password);
  return { args, env, database };
}

/** `pgbench -i -s <scale>` (creates and fills the four TPC-B tables). */
export async function pgbenchInit(url: string, scale: number): Promise<string> {
  const { args, env, database } = connectionArgs(url);
  const command = ['pgbench', '-i', '-q', '-s', String(scale), ...args, database];
  await run(command[0]!, command.slice(1), { env, maxBuffer: 16 * 1024 * 1024 });
  return command.join(' ');
}

/**
 * `pgbench -c N -j 2 -T s -M prepared` (TPC-B-like built-in script), or with `selectOnly` the same with `-S`
 * (select-only built-in script: the reference of single-row reads such as the balance).
 */
export async function pgbench(
  url: string,
  clients: number,
  seconds: number,
  options: { selectOnly?: boolean } = {},
): Promise<PgbenchResult> {
  try {
    return await pgbenchOnce(url, clients, seconds, options.selectOnly === true);
  } catch {
    // A restart of the shared server (another engineer's reliability test) kills the run: once more, a bit later.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    return pgbenchOnce(url, clients, seconds, options.selectOnly === true);
  }
}

async function pgbenchOnce(
  url: string,
  clients: number,
  seconds: number,
  selectOnly: boolean,
): Promise<PgbenchResult> {
  const { args, env, database } = connectionArgs(url);
  const directory = mkdtempSync(join(tmpdir(), 'cf-pgbench-'));
  const prefix = join(directory, 'tx');
  const measured = [
    ...(selectOnly ? ['-S'] : []),
    '-c',
    String(clients),
    '-j',
    '2',
    '-T',
    String(seconds),
    '-M',
    'prepared',
  ];
  const command = ['pgbench', ...measured, ...args, database];
  try {
    const { stdout } = await run(
      'pgbench',
      [...measured, '-l', `--log-prefix=${prefix}`, ...args, database],
      { env, maxBuffer: 16 * 1024 * 1024, cwd: directory },
    );
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1] ?? NaN);
    const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
    const latencies: number[] = [];
    for (const file of readdirSync(directory)) {
      for (const line of readFileSync(join(directory, file), 'utf8').split('\n')) {
        const fields = line.split(' ');
        if (fields.length >= 3) latencies.push(Number(fields[2]) / 1000);
      }
    }
    latencies.sort((a, b) => a - b);
    const at = (fraction: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * fraction))] ?? 0;
    return {
      clients,
      seconds,
      tps,
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      failed,
      command: command.join(' '),
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
