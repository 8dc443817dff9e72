/**
 * `npm run bench:loans` — the loans benchmarks of issue 16 (PERFORMANCE.md scenario 8), each figure against a
 * reference taken in the same run on the same PostgreSQL (bench/README.md, "Loans"):
 *   1. close of business over N active loans (bench/loans-cob.ts): loans/s, peak memory at N and N/10, and COB time
 *      ÷ a plain SQL UPDATE of the same rows;
 *   2. application → decision over HTTP (bench/loans-apply.ts): req/s, p50/p99 of POST /api/v1/loan/application/add
 *      against GET /health/live and a balance read on the same API, with no bureau and with a fake Metropol.
 * Options: --loans N (default 100000; --quick 10000), --batch N (COB batch size, default the job's 500),
 *   --profile (a CPU profile of the close at N), --parts cob,apply, --seconds N, --connections N, --customers N, --pool N (the API's DATABASE_POOL_SIZE), --pg URL, --redis URL, --keep.
 * Writes bench/results/<date>-loans[-cob|-apply][-<N/1000>k][-quick][-partial].md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CloseOfBusiness } from '../src/modules/loans/loans.cob.ts';
import { AdminConnection } from './lib/admin.ts';
import { log, startClock } from './lib/format.ts';
import { machineFacts } from './lib/machine.ts';
import { cleanRedis } from './lib/setup.ts';
import { type ApplyFigures, applyPart, applySection } from './loans-apply.ts';
import { type CobSize, cobSection, cobSize } from './loans-cob.ts';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    loans: { type: 'string' },
    batch: { type: 'string' },
    parts: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string' },
    customers: { type: 'string' },
    pool: { type: 'string' },
    pg: { type: 'string' },
    redis: { type: 'string' },
  },
  allowPositionals: false,
});

const quick = flags.quick ?? false;
const loans = Number(flags.loans ?? (quick ? 10_000 : 100_000));
const parts = new Set((flags.parts ?? 'cob,apply').split(',').map((part) => part.trim()));
const serverUrl =
  flags.pg ??
  process.env.BENCH_DATABASE_URL ??
  process.env.DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = flags.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
const commandLine = `npm run bench:loans${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;

async function main() {
  startClock();
  const admin = new AdminConnection(serverUrl);
  const facts = await machineFacts(admin, redisUrl);
  const startedAt = new Date();
  const sections: string[] = [];
  let stopped: unknown;
  const date = CloseOfBusiness.previousBusinessDate();
  try {
    if (parts.has('cob')) {
      const sizes: CobSize[] = [];
      for (const size of [Math.max(100, Math.round(loans / 10)), loans]) {
        log(`close of business over ${size.toLocaleString('en-US')} loans`);
        sizes.push(
          await cobSize(admin, {
            serverUrl,
            redisUrl,
            stamp,
            loans: size,
            batchSize: Number(flags.batch ?? 500),
            keep: flags.keep ?? false,
            profile: (flags.profile ?? false) && size === loans,
          }),
        );
      }
      sections.push(cobSection(sizes, date));
    }
    if (parts.has('apply')) {
      const figures: ApplyFigures = await applyPart(admin, {
        serverUrl,
        redisUrl,
        stamp,
        quick,
        seconds: flags.seconds ? Number(flags.seconds) : undefined,
        connections: Number(flags.connections ?? 8),
        customers: flags.customers ? Number(flags.customers) : undefined,
        pool: flags.pool ? Number(flags.pool) : undefined,
        keep: flags.keep ?? false,
      });
      sections.push(applySection(figures));
    }
  } catch (error) {
    stopped = error;
    log(`stopped: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    await cleanRedis(redisUrl, `cfbench:${stamp}:`).catch(() => {});
  }
  // -quick, -cob / -apply (one part), -30k (a portfolio size asked for), -partial (stopped).
  const kind = [
    parts.size < 2 ? `-${[...parts].join('-')}` : '',
    flags.loans ? `-${loans >= 1000 ? `${loans / 1000}k` : loans}` : '',
    quick ? '-quick' : '',
    stopped ? '-partial' : '',
  ].join('');
  const other = await admin.query<{ n: string }>(
    `select count(*)::text as n from pg_stat_activity where datname is not null and datname not like 'codeforge_bench_%'`,
  );
  const output = [
    `# Loans benchmark (${startedAt.toISOString()})`,
    '',
    `\`${commandLine}\` — PERFORMANCE.md scenario 8. Every figure is divided by a reference taken in the same run on the same PostgreSQL; absolute figures only illustrate. **This machine is shared (${cpus().length} cores) and other engineers' test suites were running: the figures are noisy** (see "other cores" and the load averages below).`,
    '',
    ...sections,
    ...(stopped ? [`**Stopped:** ${stopped instanceof Error ? stopped.message : String(stopped)}`, ''] : []),
    '## Machine',
    '',
    `- CPU ${facts.cpu}, ${facts.memoryGiB} GiB; Node ${facts.node}; ${facts.postgres.split(',')[0]}`,
    `- PostgreSQL settings: ${facts.settings}`,
    `- Round trips: ${facts.roundTrip}`,
    `- Load average at start ${facts.loadStart.map((value) => value.toFixed(1)).join(' ')}, at end ${loadavg()
      .map((value) => value.toFixed(1))
      .join(
        ' ',
      )}; other sessions on the server at start ${facts.otherSessions} (${facts.otherDatabases} databases), at end ${other.rows[0]!.n}`,
    '',
  ].join('\n');
  process.stdout.write(`\n${output}`);
  const directory = join(import.meta.dirname, 'results');
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `${startedAt.toISOString().slice(0, 10)}-loans${kind}.md`);
  writeFileSync(file, output);
  log(`wrote ${file}`);
  await admin.end();
  if (stopped) process.exitCode = 1;
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
