/**
 * Profile: one API worker under `node --cpu-prof` (transfer at 32 connections, balance at 64), self time per function
 * and per origin over the measured window only.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeCpu } from '../lib/cpu.ts';
import { type ProfileSummary, summariseProfile } from '../lib/cpuprofile.ts';
import { f0, log, row } from '../lib/format.ts';
import type { BuiltRequest, LoadResult } from '../lib/load.ts';
import { quick, S } from '../lib/options.ts';
import { raw, section } from '../lib/report.ts';
import { balanceRequestOf } from '../lib/requests.ts';
import type { Runner } from '../lib/runner.ts';

export interface ProfileEntry {
  name: string;
  summary: ProfileSummary;
  result: LoadResult;
}

/**
 * One API worker started with `--cpu-prof`, loaded by `next` at `connections` for `seconds`; the summary of the
 * measured window. Stops the primary API first and leaves none running (the caller restarts it if it needs one).
 */
export async function profiled(
  bench: Runner,
  name: string,
  next: () => BuiltRequest,
  connections: number,
  seconds: number,
): Promise<ProfileEntry | null> {
  await bench.api?.stop();
  bench.api = null;
  const directory = mkdtempSync(join(tmpdir(), 'cf-bench-prof-'));
  try {
    bench.api = await bench.startApi(bench.primary, 1, ['--cpu-prof', `--cpu-prof-dir=${directory}`]);
    await bench.warm(bench.api);
    const result = await bench.measure(next, connections, seconds);
    await bench.api.stop();
    bench.api = null;
    const exited = performance.now();
    const file = readdirSync(directory).find((entry) => entry.endsWith('.cpuprofile'));
    log(`profiled ${name}: ${f0(result.rps)} req/s under --cpu-prof`);
    if (!file) return null;
    const summary = summariseProfile(join(directory, file), 20, {
      startBeforeEndMs: exited - result.from,
      endBeforeEndMs: exited - result.to,
    });
    return { name, summary, result };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Leaves no API running. */
export async function profileScenario(bench: Runner): Promise<void> {
  const targets = [
    { name: 'transfer, 32 connections', connections: 32, next: bench.transferRequest },
    { name: 'balance read, 64 connections', connections: 64, next: balanceRequestOf(bench.payers) },
  ].slice(0, quick ? 1 : 2);
  const summaries: ProfileEntry[] = [];
  for (const target of targets) {
    const entry = await profiled(bench, target.name, target.next, target.connections, S.profileSeconds);
    if (entry) summaries.push(entry);
  }
  await bench.admin.resilient(() => bench.primary.ledger.rollUp());
  raw.profile = summaries.map((entry) => ({ name: entry.name, ...entry.summary }));
  section(profileSection(summaries));
}

export function profileSection(
  entries: ProfileEntry[],
  heading = '## Profile — `node --cpu-prof` on the API worker',
): string {
  const lines = [
    heading,
    '',
    "One API worker started with `--cpu-prof` (a separate run, not counted above); only the samples of the measured window (no start-up, warm-up or shutdown); self time of the busiest functions and origins, as a share of the worker's busy (non-idle) time.",
  ];
  for (const entry of entries) {
    const { summary } = entry;
    lines.push(
      '',
      `### ${entry.name}: ${f0(entry.result.rps)} req/s under the profiler, worker busy ${f0(summary.busyMs)} of ${f0(summary.totalMs)} ms (${describeCpu(entry.result.cpu)})`,
      '',
      '| origin | self ms | share |',
      '|---|---|---|',
      ...summary.origins
        .slice(0, 12)
        .map((origin) => row([origin.origin, f0(origin.ms), `${(origin.share * 100).toFixed(1)}%`])),
      '',
      '| function | origin | self ms | share |',
      '|---|---|---|---|',
      ...summary.functions
        .slice(0, 15)
        .map((fn) =>
          row([
            `\`${fn.name.replace(/\|/g, '\\|')}\``,
            fn.origin,
            f0(fn.ms),
            `${(fn.share * 100).toFixed(1)}%`,
          ]),
        ),
    );
  }
  return lines.join('\n');
}
