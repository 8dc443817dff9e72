/**
 * The figures and the report of `npm run bench:compare`: each side's req/s per round, the ratio current/baseline per
 * round (the two runs of a round are seconds apart), its geometric mean, spread and 95 % interval, and the verdict
 * against the ±5 % band of issue 15.
 */
import type { ComparedRun, Tree } from './compare-protocol.ts';
import { cpuLines, errorText, f0, f1, f2, row } from './format.ts';
import type { MachineFacts } from './machine.ts';

/** The band the issue sets: current/baseline within ±5 %. */
export const BAND = 0.05;

export interface Summary {
  rounds: number;
  baseline: SideSummary;
  current: SideSummary;
  /** current/baseline per round. */
  ratios: number[];
  /** Geometric mean of the per-round ratios. */
  ratio: number;
  /** 95 % interval of that mean (Student's t over the log ratios). */
  low: number;
  high: number;
  /** Standard deviation of the per-round ratios, relative (0.03 = 3 %). */
  spread: number;
  min: number;
  max: number;
  /** median(current) / median(baseline), for comparison with the paired figure. */
  medianRatio: number;
  /**
   * Geometric mean of the per-round ratios of CPU per transfer (API + PostgreSQL), current/baseline: the work one
   * transfer costs, which a busy machine disturbs less than throughput (a second opinion, not the verdict).
   */
  cpuRatio: number;
  pass: boolean;
  /** Whether the whole 95 % interval lies inside the band. */
  conclusive: boolean;
}

interface SideSummary {
  rps: number[];
  median: number;
  mean: number;
  /** Relative standard deviation of the rounds' req/s. */
  variation: number;
  p99: number;
  /** API + PostgreSQL CPU ms per transfer, per round. */
  cpuMs: number[];
  errors: number;
  ledger: string;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
const deviation = (values: number[]) => {
  if (values.length < 2) return Number.NaN;
  const m = mean(values);
  return Math.sqrt(values.reduce((sum, value) => sum + (value - m) ** 2, 0) / (values.length - 1));
};
/** Student's t, two-sided 95 %, by degrees of freedom (1–20; 2.0 beyond). */
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086,
];

function sideSummary(runs: ComparedRun[]): SideSummary {
  const rps = runs.map((entry) => entry.result.rps);
  const broken = runs.filter((entry) => !entry.verification.startsWith('clean'));
  return {
    rps,
    median: median(rps),
    mean: mean(rps),
    variation: deviation(rps) / mean(rps),
    cpuMs: runs.map((entry) => {
      const cpu = entry.result.cpu;
      return cpu
        ? ((cpu.api + cpu.postgres) * cpu.seconds * 1000) / Math.max(1, entry.result.ok)
        : Number.NaN;
    }),
    p99: median(runs.map((entry) => entry.result.p99)),
    errors: runs.reduce((sum, entry) => sum + entry.result.errors, 0),
    ledger:
      broken.length === 0
        ? `clean after each of ${runs.length} runs`
        : `**BROKEN** after ${broken.length} of ${runs.length} runs: ${broken[0]!.verification}`,
  };
}

export function summarise(runs: ComparedRun[]): Summary {
  const rounds = Math.max(...runs.map((entry) => entry.round)) + 1;
  const of = (side: string) => runs.filter((entry) => entry.side === side).sort((a, b) => a.round - b.round);
  const baseline = sideSummary(of('baseline'));
  const current = sideSummary(of('current'));
  const ratios = current.rps.map((rps, index) => rps / baseline.rps[index]!);
  const logs = ratios.map((ratio) => Math.log(ratio));
  const centre = mean(logs);
  const half =
    logs.length > 1 ? (T95[logs.length - 2] ?? 2) * (deviation(logs) / Math.sqrt(logs.length)) : Infinity;
  const ratio = Math.exp(centre);
  const low = Math.exp(centre - half);
  const high = Math.exp(centre + half);
  return {
    rounds,
    baseline,
    current,
    ratios,
    ratio,
    low,
    high,
    spread: deviation(ratios) / mean(ratios),
    min: Math.min(...ratios),
    max: Math.max(...ratios),
    medianRatio: current.median / baseline.median,
    cpuRatio: Math.exp(mean(current.cpuMs.map((ms, index) => Math.log(ms / baseline.cpuMs[index]!)))),
    pass: Math.abs(ratio - 1) <= BAND,
    conclusive: low >= 1 - BAND && high <= 1 + BAND,
  };
}

/** The commit's short hash; this checkout as it is when the tree is the working tree. */
export function treeName(tree: Tree): string {
  return tree.created
    ? tree.commit.slice(0, 12)
    : `${tree.commit.slice(0, 12)} + uncommitted changes (the working tree)`;
}

const pct = (value: number) => `${value >= 0 ? '+' : '−'}${Math.abs(value * 100).toFixed(1)} %`;

function verdictText(summary: Summary): string {
  const change = summary.ratio - 1;
  const head = summary.pass
    ? `**PASS**: current/baseline = ${summary.ratio.toFixed(3)} (${pct(change)}), within ±${BAND * 100} %`
    : `**FAIL**: current/baseline = ${summary.ratio.toFixed(3)} (${pct(change)}), ${change < 0 ? 'slower' : 'faster'} than the ±${BAND * 100} % band${change > 0 ? ' (not a regression)' : ''}`;
  const interval = `95 % interval ${summary.low.toFixed(3)}–${summary.high.toFixed(3)}`;
  const noise = summary.conclusive
    ? `${interval}, inside the band: the noise of this run does not change the verdict.`
    : `${interval}, wider than the band allows: the run was too noisy for a firm verdict — repeat it, or add rounds (\`--rounds\`).`;
  return `${head}. ${noise}`;
}

export function compareSection(input: {
  trees: Tree[];
  runs: ComparedRun[];
  summary: Summary;
  settings: {
    rounds: number;
    seconds: number;
    warmup: number;
    connections: number;
    pool: number;
    customers: number;
    holders: number;
  };
  facts: MachineFacts;
  end: { loadEnd: number[]; otherDatabases: number; otherSessions: number };
  commandLine: string;
}): string {
  const { trees, runs, summary, settings, facts, end } = input;
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' / ');
  const treeLine = (tree: Tree) =>
    `- **${tree.label}**: \`${treeName(tree)}\` (asked: \`${tree.asked}\`) — ${tree.subject.slice(0, 140)}${tree.benchFrom ? `; bench/ taken from \`${tree.benchFrom.slice(0, 12)}\` (this tree predates bench/compare-side.ts)` : ''}; node_modules: ${tree.nodeModules}`;
  const sideRow = (label: string, side: SideSummary) =>
    row([
      label,
      side.rps.map((value) => f0(value)).join(' / '),
      f0(side.median),
      f0(side.mean),
      `${(side.variation * 100).toFixed(1)} %`,
      f1(side.p99),
      f2(median(side.cpuMs)),
      side.errors,
      side.ledger,
    ]);
  const of = (side: string, round: number) =>
    runs.find((entry) => entry.side === side && entry.round === round)!;
  return [
    `# Transfer row: current vs baseline (${new Date().toISOString()})`,
    '',
    `Issue 15: "the transfer benchmark row, measured in the same run before and after, must stay within ±5 %". The row is PERFORMANCE.md's goal row of scenario 1: \`POST /api/v1/wallet/transaction/transfer\`, random payer (one of ${settings.holders.toLocaleString('en-US')} signed-in customers) and payee (one of ${settings.customers.toLocaleString('en-US')} wallets), fresh Idempotency-Key, PIN; ${settings.connections} connections, 1 API worker, DATABASE_POOL_SIZE=${settings.pool}. Each tree runs its own migrations, seed and \`src/main.ts\` on a fresh database of the same PostgreSQL server; both APIs stay up and the runs alternate in ABBA order, ${settings.rounds} rounds of ${settings.seconds} s each (warm-up ${settings.warmup} s before each run, after 10 s of unmeasured transfers on each fresh API). ledger-verify after every run. How to read this: bench/README.md.`,
    '',
    ...trees.map(treeLine),
    '',
    `### Verdict\n\n${verdictText(summary)}`,
    '',
    '| side | req/s per round | median req/s | mean req/s | variation between rounds | p99 ms (median) | API + PG CPU ms per transfer (median) | errors | ledger-verify |',
    '|---|---|---|---|---|---|---|---|---|',
    sideRow('baseline', summary.baseline),
    sideRow('current', summary.current),
    '',
    `Ratio current/baseline: per round ${summary.ratios.map((ratio) => ratio.toFixed(3)).join(', ')}; geometric mean **${summary.ratio.toFixed(3)}**, 95 % interval ${summary.low.toFixed(3)}–${summary.high.toFixed(3)}, min–max ${summary.min.toFixed(3)}–${summary.max.toFixed(3)}, spread (relative standard deviation of the per-round ratios) ${(summary.spread * 100).toFixed(1)} %. Ratio of the medians: ${summary.medianRatio.toFixed(3)}.`,
    '',
    `CPU per transfer (API + PostgreSQL; a second opinion that a busy machine disturbs less than throughput, not the verdict): current/baseline ${summary.cpuRatio.toFixed(3)} (geometric mean of the per-round ratios; ${summary.current.cpuMs.map((ms, index) => (ms / summary.baseline.cpuMs[index]!).toFixed(2)).join(', ')}).`,
    '',
    '| round | order | baseline req/s | current req/s | current/baseline | baseline errors | current errors | notes |',
    '|---|---|---|---|---|---|---|---|',
    ...Array.from({ length: summary.rounds }, (_, round) => {
      const base = of('baseline', round);
      const cur = of('current', round);
      const notes = [base.result.note, cur.result.note].filter(Boolean).join('; ');
      return row([
        round + 1,
        round % 2 === 0 ? 'baseline, current' : 'current, baseline',
        f0(base.result.rps),
        f0(cur.result.rps),
        f2(cur.result.rps / base.result.rps),
        errorText({ ...base.result, note: undefined }),
        errorText({ ...cur.result, note: undefined }),
        notes || '—',
      ]);
    }),
    '',
    'Where the CPU went during each measured run (cores busy on average; "other" is what none of this run used, i.e. other engineers\' work):',
    '',
    cpuLines(
      runs.map((entry) => ({
        label: `round ${entry.round + 1} ${entry.side}`,
        cpu: entry.result.cpu,
        ok: entry.result.ok,
      })),
    ),
    '',
    '### Machine and command',
    '',
    `- CPU: ${facts.cpu}; memory ${facts.memoryGiB} GiB; Node ${facts.node}; ${facts.postgres.split(' on ')[0]}`,
    `- One round trip at the start: ${facts.roundTrip}.`,
    `- Load average (1/5/15 min) at start: ${load(facts.loadStart)}; at end: ${load(end.loadEnd)}. Other sessions on the PostgreSQL server at start: ${facts.otherSessions} in ${facts.otherDatabases} databases; at end: ${end.otherSessions} in ${end.otherDatabases}.`,
    `- Command: \`${input.commandLine}\``,
  ].join('\n');
}
