/**
 * The report of `npm run bench`: each scenario's markdown section is printed as it comes and written at the end, in
 * scenario order, to bench/results/<date>-bench[-quick|-full][-partial].md with the raw figures in a `.json` beside it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { log, startedAt } from './format.ts';
import type { MachineFacts } from './machine.ts';
import { ALL_SCENARIOS, commandLine, databaseName, full, quick, S, scenarios } from './options.ts';

const sections: string[] = [];
/** The raw figures of the run, written as JSON (latency arrays left out). */
export const raw: Record<string, unknown> = {
  settings: S,
  scenarios: [...scenarios],
  database: databaseName,
};
/** The reference commands as run (pgbench …), listed under the machine facts. */
export const commands: string[] = [];
/** When a restart of the shared PostgreSQL was seen. */
export const restarts: string[] = [];

/** Printed as it comes; written to the file in scenario order (anatomy, 1–6, profile, machine). */
export function section(markdown: string) {
  sections.push(markdown);
  process.stdout.write(`\n${markdown}\n\n`);
}

export function factsSection(
  facts: MachineFacts,
  end: { loadEnd: number[]; otherDatabases: number; otherSessions: number },
  seedSeconds: number,
): string {
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' / ');
  return [
    '## Machine and commands',
    '',
    `- CPU: ${facts.cpu}; memory ${facts.memoryGiB} GiB; Node ${facts.node}`,
    `- ${facts.postgres}`,
    `- PostgreSQL settings (server defaults, untouched): ${facts.settings}`,
    `- One round trip on this machine at the start: ${facts.roundTrip}. Every statement or Redis command a request makes costs about this much.`,
    `- Load average (1/5/15 min) at start: ${load(facts.loadStart)}; at end: ${load(end.loadEnd)}. Other sessions on the PostgreSQL server at start: ${facts.otherSessions} in ${facts.otherDatabases} databases; at end: ${end.otherSessions} in ${end.otherDatabases} (other engineers' tests run on this machine at the same time: see the "other" CPU column).`,
    `- Restarts of the shared PostgreSQL seen during the run (another engineer's reliability test restarts it): ${restarts.length === 0 ? 'none' : restarts.join(', ')}.`,
    `- Seeding (bulk SQL + ledger postings): ${seedSeconds.toFixed(1)} s. Whole run: ${((Date.now() - startedAt) / 60000).toFixed(1)} min.`,
    `- Command: \`${commandLine}\``,
    `- API: \`node bench/cluster.ts\` (node:cluster, 1 or 2 workers running \`src/main.ts\`) with DATABASE_POOL_SIZE=${S.pool}, WORKER_IN_PROCESS=false (no worker process runs: outbox events accumulate undelivered), RATE_LIMIT_MAX=1000000, TRUST_PROXY=true, LOG_LEVEL=${S.logLevel} (logs to /dev/null), REDIS_KEY_PREFIX=cfbench:<stamp>:`,
    `- Load generator: autocannon ${S.seconds} s (warm-up ${S.warmup} s) in the orchestrator process, on the same 2 cores.`,
    ...[...new Set(commands)].map((command) => `- \`${command}\``),
  ].join('\n');
}

/** The section that closes a run which failed: what stopped it, and that the tables above are what was measured. */
export function stoppedSection(error: unknown): string {
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  const cause = (error as { cause?: { message?: string } })?.cause?.message;
  return `## Machine and commands\n\n**The run stopped early**: ${message}${cause ? ` (${cause})` : ''}. The tables above are what was measured before.\n\n- Command: \`${commandLine}\`\n- Restarts of the shared PostgreSQL seen: ${restarts.length === 0 ? 'none' : restarts.join(', ')}`;
}

export function writeReport() {
  if (sections.length === 0) return;
  const date = new Date().toISOString().slice(0, 10);
  const complete = ALL_SCENARIOS.every((name) => scenarios.has(name));
  const suffix = `${quick ? '-quick' : full ? '-full' : ''}${complete ? '' : '-partial'}`;
  const directory = join(import.meta.dirname, '..', 'results');
  mkdirSync(directory, { recursive: true });
  const header = [
    `# CodeForge HTTP benchmarks (${new Date().toISOString()})`,
    `Scenarios: ${[...scenarios].join(', ')}${quick ? ' — **quick mode** (short runs, fewer signed-in customers: for iterating, not for the record)' : ''}. Every goal is a ratio to a reference measured in the same run on the same machine (PERFORMANCE.md); absolute figures are illustrations. How to read this: bench/README.md.`,
  ];
  const orderOf = (markdown: string) => {
    const heading = /^## (\S+)/.exec(markdown)?.[1] ?? '';
    if (heading === 'Anatomy') return 0;
    if (heading === 'Profile') return 7;
    if (heading === 'Machine') return 8;
    return Number.parseInt(heading, 10) || 6.5;
  };
  const ordered = sections
    .map((markdown, index) => ({ markdown, index, order: orderOf(markdown) }))
    .sort((a, b) => a.order - b.order || a.index - b.index)
    .map((entry) => entry.markdown);
  const file = join(directory, `${date}-bench${suffix}.md`);
  writeFileSync(file, `${[...header, ...ordered].join('\n\n')}\n`);
  writeFileSync(
    join(directory, `${date}-bench${suffix}.json`),
    JSON.stringify(
      raw,
      (key, value) =>
        key === 'latencies' ? undefined : typeof value === 'bigint' ? value.toString() : value,
      2,
    ),
  );
  log(`wrote ${file}`);
}
