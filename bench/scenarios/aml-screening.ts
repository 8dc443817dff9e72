/**
 * AML screening speed (issue 20): one name against a sanctions/PEP list of 100k, 1M and 2M entries, in one run.
 *
 *   node --expose-gc --max-semi-space-size=64 --max-old-space-size=8192 bench/scenarios/aml-screening.ts
 *        [--sizes 100000,1000000,2000000] [--queries 2000] [--seed 20]
 *
 * `--max-semi-space-size=64` (a larger young generation) cut the 1M build from ≈ 100 s to ≈ 37 s on the 2-core
 * machine: the build allocates short-lived strings beside a large live heap of entries, and with the default young
 * generation they are promoted and collected by full GCs. A process that builds a million-entry index at load time
 * (the API and the worker) benefits the same way through NODE_OPTIONS.
 *
 * In-process and alone (no database, no API: the index is what a screening waits on; the screening's one INSERT is
 * the same at any list size). Not part of `npm run bench`'s scenario list (bench/lib/options.ts): run it as above, or
 * call `amlScreeningScenario()` from bench/run.ts and pass its markdown to `section()`.
 *
 * Per size: a deterministic synthetic list (aml.matching.synthetic.ts: real-world-like given and family names plus
 * syllable family names, aliases, dates of birth, nationalities), the NameIndex's build time and the heap it adds
 * (after a forced GC, entries excluded), then the same query set at every size — a quarter names on the list as
 * written, a quarter altered (typo, family name first, initial, date of birth), half names not on the list (most
 * customers) — warmed up, then timed one by one: p50, p99, max of the wall time, and of the search's own CPU time
 * (on a shared 2-core machine other processes stretch the wall time; the CPU time is the work). The growth ratio is p99 at the largest size over p99
 * at the smallest, printed against the linear ratio (the size ratio, 20× for 100k → 2M). Goal: p99 < 50 ms at 1M.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type IndexEntry, NameIndex } from '../../src/modules/aml/aml.matching.index.ts';
import {
  seededRandom,
  syntheticEntries,
  syntheticName,
} from '../../src/modules/aml/aml.matching.synthetic.ts';

export interface ScreeningBenchRow {
  size: number;
  buildSeconds: number;
  heapMiB: number;
  arrayMiB: number;
  slots: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The search's own CPU time (user + system): what the machine's other load does not inflate. */
  cpuP50Ms: number;
  cpuP99Ms: number;
  meanCandidates: number;
  meanMatches: number;
  listedFound: number;
}

interface Query {
  name: string;
  birthDate?: string;
  /** The entry it was made from, when it is on the list. */
  listed?: string;
}

function alter(random: () => number, name: string): string {
  const tokens = name.split(' ');
  const kind = Math.floor(random() * 3);
  if (kind === 0) return [...tokens.slice(1), tokens[0]].join(' ');
  if (kind === 1) return [`${(tokens[0] as string)[0]}.`, ...tokens.slice(1)].join(' ');
  const last = tokens.at(-1) as string;
  const at = 1 + Math.floor(random() * (last.length - 2));
  const typo = last.slice(0, at) + (last[at + 1] ?? '') + last[at] + last.slice(at + 2);
  return [...tokens.slice(0, -1), typo].join(' ');
}

/** Drawn from the first `onList` entries, which every size's list shares (same seed, same prefix). */
function querySet(entries: readonly IndexEntry[], count: number, seed: number): Query[] {
  const random = seededRandom(seed + 1);
  const queries: Query[] = [];
  for (let i = 0; i < count; i += 1) {
    const roll = random();
    const entry = entries[Math.floor(random() * entries.length)] as IndexEntry;
    if (roll < 0.25) queries.push({ name: entry.name, birthDate: entry.birthDates[0], listed: entry.id });
    else if (roll < 0.5) queries.push({ name: alter(random, entry.name), listed: entry.id });
    else queries.push({ name: syntheticName(random), birthDate: '1985-06-15' });
  }
  return queries;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;

function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export function measureSize(size: number, queries: readonly Query[], seed: number): ScreeningBenchRow {
  let entries: IndexEntry[] | null = syntheticEntries(size, seed);
  collect();
  const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const started = performance.now();
  let index: NameIndex | null = new NameIndex(entries);
  const buildSeconds = (performance.now() - started) / 1000;
  collect();
  const after = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const stats = index.stats();
  const options = (query: Query) => ({ birthDate: query.birthDate, limit: 10, minScore: 0.85 });
  for (const query of queries.slice(0, 300)) index.search(query.name, options(query));
  const times: number[] = [];
  const cpu: number[] = [];
  let candidates = 0;
  let matches = 0;
  let listed = 0;
  let listedFound = 0;
  for (const query of queries) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const found = index.search(query.name, options(query));
    times.push(performance.now() - t0);
    const used = process.cpuUsage(c0);
    cpu.push((used.user + used.system) / 1000);
    candidates += index.candidateCount(query.name);
    matches += found.length;
    if (query.listed) {
      listed += 1;
      if (found.some((match) => match.entry.id === query.listed)) listedFound += 1;
    }
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const row: ScreeningBenchRow = {
    size,
    buildSeconds,
    heapMiB: (after - before) / 2 ** 20,
    arrayMiB: stats.arrayBytes / 2 ** 20,
    slots: stats.slots,
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    maxMs: times.at(-1) as number,
    cpuP50Ms: percentile(cpu, 50),
    cpuP99Ms: percentile(cpu, 99),
    meanCandidates: candidates / queries.length,
    meanMatches: matches / queries.length,
    listedFound: listed ? listedFound / listed : 1,
  };
  index = null;
  entries = null;
  collect();
  return row;
}

export function screeningTable(rows: readonly ScreeningBenchRow[], queries: number): string {
  const lines = [
    `### AML screening: one name against the list (${queries} queries per size, in-process NameIndex)`,
    '',
    '| entries | names+aliases | index build | index heap | of which typed arrays | p50 | p99 | max | CPU p50 | CPU p99 | candidates scored | matches/query | listed found (top 10) | p99 < 50 ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows)
    lines.push(
      `| ${row.size.toLocaleString('en')} | ${row.slots.toLocaleString('en')} | ${row.buildSeconds.toFixed(1)} s | ` +
        `${row.heapMiB.toFixed(0)} MiB | ${row.arrayMiB.toFixed(0)} MiB | ${row.p50Ms.toFixed(2)} ms | ` +
        `${row.p99Ms.toFixed(2)} ms | ${row.maxMs.toFixed(1)} ms | ${row.cpuP50Ms.toFixed(2)} ms | ` +
        `${row.cpuP99Ms.toFixed(2)} ms | ${row.meanCandidates.toFixed(0)} | ${row.meanMatches.toFixed(2)} | ` +
        `${(row.listedFound * 100).toFixed(1)} % | ${row.p99Ms < 50 ? 'PASS' : 'FAIL'} |`,
    );
  const first = rows[0];
  const last = rows.at(-1);
  if (first && last && last.size > first.size) {
    const linear = last.size / first.size;
    const growth = last.p99Ms / first.p99Ms;
    lines.push(
      '',
      `Growth ${first.size.toLocaleString('en')} → ${last.size.toLocaleString('en')}: p99 ×${growth.toFixed(2)} ` +
        `against ×${linear.toFixed(0)} if linear (p50 ×${(last.p50Ms / first.p50Ms).toFixed(2)}, CPU p99 ` +
        `×${(last.cpuP99Ms / first.cpuP99Ms).toFixed(2)}): ` +
        `${growth < linear ? 'sublinear' : 'NOT sublinear'}.`,
    );
  }
  lines.push(
    '',
    `Load average during the run: ${loadavg()
      .map((load) => load.toFixed(1))
      .join(', ')} (${cpus().length} cores).`,
  );
  return lines.join('\n');
}

export function amlScreeningScenario(sizes: readonly number[], queryCount = 2000, seed = 20): string {
  const smallest = Math.min(...sizes);
  const queries = querySet(syntheticEntries(Math.min(smallest, 100_000), seed), queryCount, seed);
  const rows: ScreeningBenchRow[] = [];
  for (const size of [...sizes].sort((a, b) => a - b)) {
    const row = measureSize(size, queries, seed);
    console.error(
      `aml-screening ${size}: build ${row.buildSeconds.toFixed(1)} s, heap ${row.heapMiB.toFixed(0)} MiB, ` +
        `p50 ${row.p50Ms.toFixed(2)} ms, p99 ${row.p99Ms.toFixed(2)} ms`,
    );
    rows.push(row);
  }
  return screeningTable(rows, queryCount);
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '100000,1000000,2000000' },
      queries: { type: 'string', default: '2000' },
      seed: { type: 'string', default: '20' },
    },
  });
  if (!(globalThis as { gc?: unknown }).gc) console.error('(run with --expose-gc for the heap figures)');
  const sizes = values.sizes.split(',').map((size) => Number(size.trim()));
  console.log(amlScreeningScenario(sizes, Number(values.queries), Number(values.seed)));
}
