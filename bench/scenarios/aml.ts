/**
 * 8. aml: the transfer with the AML real-time decision on vs off (`aml.realtime_enabled`), same API, same database,
 * same load, interleaved (off, on, off, on …) so a drift of the shared machine hits both alike. Goal (issue 20): the
 * transfer's throughput with AML on ≥ 0.85× with it off, and the decision's own time (`aml_decisions.duration_us`,
 * measured inside the API) under 5 ms at p99. The setting is changed in `app_settings` and the API restarted, so no
 * node keeps a cached value. After the runs: how many decisions were recorded and how they ended, and ledger-verify.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { f0, f1, f2, HEADER, log, row, verdict } from '../lib/format.ts';
import { combine, type LoadResult } from '../lib/load.ts';
import { quick, S } from '../lib/options.ts';
import { raw, section } from '../lib/report.ts';
import type { Runner } from '../lib/runner.ts';

const GOAL = 0.85;
const DECISION_P99_US = 5_000;
const VARIANTS = ['off', 'on'] as const;
type Variant = (typeof VARIANTS)[number];

async function setRealtime(bench: Runner, enabled: boolean): Promise<void> {
  await bench.primary.pool.query(
    `insert into app_settings (key, value) values ('aml.realtime_enabled', $1::jsonb)
     on conflict (key) do update set value = excluded.value, version = app_settings.version + 1`,
    [JSON.stringify(enabled)],
  );
  await bench.restartApi(1);
}

export async function amlScenario(bench: Runner): Promise<void> {
  const { pool } = bench.primary;
  const connections = S.pool;
  const rounds = quick ? 1 : 3;
  const slice = Math.max(3, Math.round(S.seconds / rounds));
  const since = new Date();
  const slices: Record<Variant, LoadResult[]> = { off: [], on: [] };
  for (let round = 0; round < rounds; round += 1) {
    for (const variant of VARIANTS) {
      await setRealtime(bench, variant === 'on');
      slices[variant].push(await bench.measure(bench.transferRequest, connections, slice, S.warmup));
    }
    log(
      `aml c=${connections} round ${round + 1}/${rounds}: off ${f0(slices.off[round]!.rps)}, on ${f0(slices.on[round]!.rps)} req/s`,
    );
  }
  const verification = await bench.verify();
  const decisions = await pool.query<{ outcome: string; count: string; p50: number; p99: number }>(
    `select outcome, count(*)::text as count,
            coalesce(percentile_cont(0.5) within group (order by duration_us), 0) as p50,
            coalesce(percentile_cont(0.99) within group (order by duration_us), 0) as p99
       from aml_decisions where created_at >= $1 group by outcome order by outcome`,
    [since],
  );
  const all = await pool.query<{ p99: number | null }>(
    `select percentile_cont(0.99) within group (order by duration_us) as p99 from aml_decisions where created_at >= $1`,
    [since],
  );
  const off = combine(slices.off);
  const on = combine(slices.on);
  const ratio = on.rps / off.rps;
  const decisionP99 = all.rows[0]?.p99 ?? null;
  raw.aml = {
    connections,
    rounds,
    slice,
    off,
    on,
    ratio,
    decisions: decisions.rows,
    decisionP99,
    verification,
  };
  const lines = [
    '## 8. aml — transfer with the AML real-time decision on vs off',
    '',
    `The transfer of scenario 1 at ${connections} connections, 1 worker, ${rounds} interleaved rounds of ${slice} s per variant; \`aml.realtime_enabled\` set in \`app_settings\` and the API restarted before each slice. Reference: the same transfer with the decision off, in the same run. Goal (issue 20): ratio ≥ ${GOAL}, the decision's own p99 ≤ ${DECISION_P99_US / 1000} ms.`,
    '',
    HEADER,
    row([
      'transfer, AML off',
      connections,
      1,
      f0(off.rps),
      '—',
      '—',
      '—',
      f1(off.p50),
      f1(off.p90),
      f1(off.p99),
      off.errors,
      verification,
    ]),
    row([
      'transfer, AML on',
      connections,
      1,
      f0(on.rps),
      f0(off.rps),
      f2(ratio),
      `≥ ${GOAL} (${verdict(ratio >= GOAL)})`,
      f1(on.p50),
      f1(on.p90),
      f1(on.p99),
      on.errors,
      verification,
    ]),
    '',
    '| decision outcome | count | p50 µs | p99 µs |',
    '|---|---|---|---|',
    ...decisions.rows.map((entry) => row([entry.outcome, entry.count, f0(entry.p50), f0(entry.p99)])),
    '',
    `Decision time p99 over all outcomes: ${decisionP99 === null ? 'no decisions recorded' : `${f0(decisionP99)} µs`} (goal ≤ ${DECISION_P99_US} µs: ${verdict(decisionP99 !== null && decisionP99 <= DECISION_P99_US)}). Added p99 at the HTTP level: ${f1(on.p99 - off.p99)} ms.`,
  ];
  section(lines.join('\n'));
}

/**
 * 9. aml-screening: one name against lists of 100k, 1M and 2M entries (100k and 1M with --quick), in a child process
 * with `--expose-gc --max-semi-space-size=64` (scenarios/aml-screening.ts says why). Goal: p99 < 50 ms at 1M, and a
 * cost that grows sublinearly with the list.
 */
export function amlScreeningInChild(quickRun: boolean): string {
  const sizes = quickRun ? '100000,1000000' : '100000,1000000,2000000';
  log(`aml-screening: sizes ${sizes} (a child process; about a minute per million entries)`);
  const child = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--max-semi-space-size=64',
      '--max-old-space-size=8192',
      join(import.meta.dirname, 'aml-screening.ts'),
      '--sizes',
      sizes,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 1024 * 1024 },
  );
  if (child.status !== 0) return `## 9. aml-screening\n\nThe run failed (exit ${child.status}).`;
  return `## 9. aml-screening — one name against a sanctions/PEP list\n\n${child.stdout.trim()}`;
}
