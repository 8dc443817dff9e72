/**
 * Close of business in a process of its own (spawned by bench/loans-cob.ts), so its memory figures are those of the
 * job alone, not of the seeding: the modules composed as the worker composes them (defineJobs), then the real
 * `CloseOfBusiness` of src/modules/loans/loans.cob.ts, built with the module's own collections and notifications
 * (only the progress callback is the benchmark's), for one business date. Prints `{"ready":…}` once composed, waits
 * for a line on stdin (the orchestrator takes its CPU snapshot), runs, then runs the same date again (the rerun must
 * find nothing), and prints the result as one JSON line. RSS is sampled every 100 ms; statements are counted at the
 * pg client.
 *   node bench/loans-cob-child.ts <env as JSON> <business date> <batch size>
 */
import { createInterface } from 'node:readline';
import pg from 'pg';
import { parseConfig } from '../src/config.ts';
import { defineJobs } from '../src/jobs.ts';
import { ledgerModule } from '../src/modules/ledger/index.ts';
import { loansModule } from '../src/modules/loans/index.ts';
import { CloseOfBusiness, type CobProgress } from '../src/modules/loans/loans.cob.ts';
import { LoanLedger } from '../src/modules/loans/loans.ledger.ts';
import { notificationsModule } from '../src/modules/notifications/index.ts';
import { closeDependencies, openDependencies } from '../src/platform/dependencies.ts';

export interface CobChildResult {
  seconds: number;
  processed: number;
  failed: number;
  batches: number;
  status: string;
  failures: { loan_id: string; error: string }[];
  rerunSeconds: number;
  rerunStatus: string;
  /** RSS once composed, before the run (bytes). */
  baselineRss: number;
  /** The highest sampled RSS during the run (bytes), and heap used. */
  peakRss: number;
  peakHeapUsed: number;
  /** process.resourceUsage().maxRSS at the end (bytes): the process's lifetime peak. */
  maxRss: number;
  samples: number;
  /** RSS at 10 %, 50 % and 90 % of the run (bytes): flat or growing. */
  rssAt: number[];
  cpuSeconds: number;
  /** Statements sent to PostgreSQL during the run (BEGIN and COMMIT included), counted at the pg client. */
  statements: number;
  /** Date.now() when the measured run started and ended (the CPU profile's window). */
  runStartedAt: number;
  runEndedAt: number;
}

// Counts every statement the process sends (pg.Client#query: drizzle, the ledger's raw SQL, pg-boss alike).
let statements = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements += 1;
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;

async function main() {
  const [envText, date, batchText] = process.argv.slice(2);
  const env = JSON.parse(envText!) as Record<string, string>;
  const deps = await openDependencies(parseConfig(env), { migrate: false, runsWorker: false });
  const background = await defineJobs(deps);
  await deps.jobs.start();
  const system = background.system;
  const loans = system.api(loansModule);
  const progressLines: string[] = [];
  const cob = new CloseOfBusiness({
    db: deps.database.db,
    ledger: new LoanLedger(system.api(ledgerModule)),
    notifications: system.api(notificationsModule).service,
    collections: loans.collections,
    batchSize: Number(batchText ?? 500),
    log: (progress: CobProgress) => {
      if (progress.done || progress.batch % 10 === 0)
        process.stderr.write(
          `  cob ${progress.business_date} batch ${progress.batch}: ${progress.processed} processed, ${progress.failed} failed${progress.done ? ' (done)' : ''}\n`,
        );
      progressLines.push(JSON.stringify(progress));
    },
  });
  await deps.database.pool!.query('select 1');
  const baselineRss = process.memoryUsage().rss;
  process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => lines.once('line', () => resolve()));
  lines.close();

  const rss: number[] = [];
  let peakRss = 0;
  let peakHeapUsed = 0;
  const sample = () => {
    const memory = process.memoryUsage();
    rss.push(memory.rss);
    peakRss = Math.max(peakRss, memory.rss);
    peakHeapUsed = Math.max(peakHeapUsed, memory.heapUsed);
  };
  const timer = setInterval(sample, 100);
  const cpu = process.cpuUsage();
  const statementsBefore = statements;
  const runStartedAt = Date.now();
  const started = performance.now();
  const run = await cob.runCob(date!);
  const seconds = (performance.now() - started) / 1000;
  const runEndedAt = Date.now();
  const sent = statements - statementsBefore;
  sample();
  clearInterval(timer);
  const used = process.cpuUsage(cpu);
  const rerunStarted = performance.now();
  const rerun = await cob.runCob(date!);
  const rerunSeconds = (performance.now() - rerunStarted) / 1000;
  const at = (fraction: number) => rss[Math.min(rss.length - 1, Math.floor(rss.length * fraction))] ?? 0;
  const result: CobChildResult = {
    seconds,
    processed: run.loans_processed,
    failed: run.loans_failed,
    batches: run.batches,
    status: run.status,
    failures: run.failures.slice(0, 5),
    rerunSeconds,
    rerunStatus: `${rerun.status}, ${rerun.loans_processed} processed in total`,
    baselineRss,
    peakRss,
    peakHeapUsed,
    maxRss: process.resourceUsage().maxRSS * 1024,
    samples: rss.length,
    rssAt: [at(0.1), at(0.5), at(0.9)],
    cpuSeconds: (used.user + used.system) / 1e6,
    statements: sent,
    runStartedAt,
    runEndedAt,
  };
  process.stdout.write(`${JSON.stringify({ result })}\n`);
  await background.stop();
  await system.close();
  await closeDependencies(deps);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
