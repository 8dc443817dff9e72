/** The growth scenario's section: A and B per step, the per-round figures, scans per transfer and the plans on B. */
import type { explainSamples } from '../lib/anatomy.ts';
import { cpuLines, errorText, f0, f1, f2, HEADER, row, verdict } from '../lib/format.ts';
import type { LoadResult } from '../lib/load.ts';
import { full, quick, S } from '../lib/options.ts';

export interface GrowthStep {
  label: string;
  rowsSmall: number;
  rowsBig: number;
  small: LoadResult;
  big: LoadResult;
  smallRounds: string;
  bigRounds: string;
  verifySmall: string;
  verifyBig: string;
  /** `npm run cli -- ledger-verify` on B as an operator would run it (the API's configuration, 30 s timeout). */
  cli: string;
  insertSeconds: number;
  settleSeconds: number;
  scans: { table: string; rows: number; seqPerRequest: number; idxPerRequest: number }[];
}

export function growthSection(
  c: number,
  steps: GrowthStep[],
  explained: Awaited<ReturnType<typeof explainSamples>>,
): string {
  const slices = quick ? 1 : 3;
  const lines = [
    '## 6. growth — transfer with 1M (and 10M) journal rows already present',
    '',
    `Transfer as in scenario 1, ${c} connections, 1 worker per database. Two app databases, seeded alike: **A** (the primary one, with only what the earlier scenarios left — the "0 rows" figure) and **B**, which gets the journal rows; both APIs stay up, get a warm-up (B ${quick ? 6 : 15} s, its process being younger; A ${quick ? 3 : 5} s) and then the runs alternate A, B (${slices} round(s) of ${Math.max(3, Math.round(S.seconds / slices))} s each, 2–3 s warm-up before each), so a drift of the shared machine hits both alike. Rows are inserted into B by SQL (\`generate_series\`, chunks of 10 rounds): pairs of postings between every wallet and a dedicated \`bench_churn:KES\` account, UUIDv7-style keys, exact running balances and totals (ledger-verify checks them). After each insert both databases get \`VACUUM ANALYZE\` of the ledger tables and a \`CHECKPOINT\` (what autovacuum and the checkpointer would have done by then). ${full ? '' : 'The 10M step runs with `--full`.'}`,
    '',
    HEADER,
  ];
  for (const step of steps) {
    const ratio = step.big.rps / step.small.rps;
    const isTen = step.rowsBig >= 9_000_000;
    lines.push(
      row([
        `transfer, A: ${step.rowsSmall.toLocaleString('en-US')} journal rows (reference)`,
        c,
        1,
        f0(step.small.rps),
        '—',
        '1.00',
        '—',
        f1(step.small.p50),
        f1(step.small.p90),
        f1(step.small.p99),
        errorText(step.small),
        step.verifySmall,
      ]),
      row([
        `**transfer, B: ${step.rowsBig.toLocaleString('en-US')} journal rows** (insert ${step.insertSeconds.toFixed(0)} s, vacuum + checkpoint ${step.settleSeconds.toFixed(0)} s)`,
        c,
        1,
        f0(step.big.rps),
        f0(step.small.rps),
        f2(ratio),
        isTen
          ? `≥0.90× A: ${verdict(ratio >= 0.9)}`
          : `≥0.90× A (the goal is at 10M; information at this size): ${ratio >= 0.9 ? 'met' : 'missed'}`,
        f1(step.big.p50),
        f1(step.big.p90),
        f1(step.big.p99),
        errorText(step.big),
        step.verifyBig,
      ]),
    );
  }
  if (!steps.some((step) => step.rowsBig >= 9_000_000))
    lines.push(
      row([
        'transfer, B: 10M journal rows',
        c,
        1,
        'not run',
        '—',
        '—',
        '≥0.90× A: run with `--full`',
        '—',
        '—',
        '—',
        '—',
        '—',
      ]),
    );
  const last = steps[steps.length - 1]!;
  lines.push(
    '',
    `Per round (req/s): ${steps.map((step) => `${step.label}: A ${step.smallRounds}; B ${step.bigRounds}`).join(' — ')}.`,
    '',
    `The operator's \`npm run cli -- ledger-verify\` on B, with the API's configuration (DATABASE_STATEMENT_TIMEOUT_MS default, 30 s): ${steps.map((step) => `${step.label}: ${step.cli}`).join(' — ')}. (The ledger-verify column runs the same checks from the benchmark with no statement timeout.)`,
    '',
    `Table scans per transfer on B during the last step (pg_stat_user_tables deltas; "rows" is the planner's estimate; sequential scans on tables of a few rows are the planner's right choice):`,
    '',
    '| table | rows | seq scans / transfer | index scans / transfer |',
    '|---|---|---|---|',
    ...last.scans.map((scan) =>
      row([scan.table, scan.rows.toLocaleString('en-US'), f2(scan.seqPerRequest), f2(scan.idxPerRequest)]),
    ),
    '',
    cpuLines(
      steps.flatMap((step) => [
        { label: `${step.label}: A`, cpu: step.small.cpu, ok: step.small.ok },
        { label: `${step.label}: B`, cpu: step.big.cpu, ok: step.big.ok },
      ]),
    ),
  );
  if (explained.length > 0) {
    lines.push(
      '',
      `EXPLAIN (ANALYZE, BUFFERS) on B at ${last.rowsBig.toLocaleString('en-US')} journal rows of every read statement a transfer, a balance read, a statement page and a login ran there (captured with their own parameters, one request at a time):`,
      '',
      '| statement | execution ms | plan (scan nodes) |',
      '|---|---|---|',
      ...explained.map((entry) =>
        row([
          `\`${entry.text.slice(0, 110).replace(/\|/g, '\\|')}${entry.text.length > 110 ? '…' : ''}\``,
          f2(entry.ms),
          entry.plan
            .split('\n')
            .filter((line) => /Scan|Seek|Sort|Limit/.test(line))
            .map((line) => line.trim().replace(/\|/g, '\\|'))
            .slice(0, 4)
            .join('; ') + (entry.seqScan ? ' **(seq scan)**' : ''),
        ]),
      ),
    );
  }
  return lines.join('\n');
}
