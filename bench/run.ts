/**
 * `npm run bench [-- --scenarios transfer,hot,read,login,ussd,agents,aml,aml-screening,growth,anatomy,profile --quick --full --keep]`
 *
 * The HTTP benchmarks of PERFORMANCE.md (scenarios 1–7) against a real PostgreSQL and Redis, each figure a ratio to a
 * reference measured minutes apart in the same run:
 *  - a scratch database `codeforge_bench_<stamp>` (migrated and seeded by the app's own code, then ≥10k customers and
 *    wallets in bulk SQL, funded by real ledger postings) and `codeforge_bench_<stamp>_tpcb` for pgbench;
 *  - the API as child processes (`bench/cluster.ts`: node:cluster of 1 or 2 workers running `src/main.ts` unchanged);
 *  - customers' sessions are opened by the app's own SessionService (same JWTs as a login; HTTP login is checked
 *    once and measured in the login scenario), autocannon as a library with a fresh Idempotency-Key and a random
 *    payer/payee per request;
 *  - pgbench TPC-B scale 10 at the same client count right before each transfer run; ledger-verify after each run;
 *    pgbench select-only (`-S`) on the same database right before the balance read.
 * Prints one markdown table per scenario and writes bench/results/<date>-bench[-quick|-full|-partial].md (+ .json).
 *
 * This file is the runner: setup, the order of the scenarios, and the teardown. The options are in lib/options.ts,
 * the seeding in lib/setup.ts and lib/seed.ts, the API and load driver in lib/runner.ts, each scenario group with its
 * section in scenarios/, the report file in lib/report.ts. See bench/README.md.
 */
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeDependencies } from '../src/platform/dependencies.ts';
import { AdminConnection } from './lib/admin.ts';
import { log, startClock } from './lib/format.ts';
import { machineFacts, otherActivity } from './lib/machine.ts';
import {
  apiLogs,
  databaseName,
  full,
  growthName,
  keep,
  quick,
  S,
  scenarios,
  stamp,
  tpcbName,
} from './lib/options.ts';
import { pgbenchInit } from './lib/pgbench.ts';
import { killAll } from './lib/processes.ts';
import { commands, factsSection, raw, section, stoppedSection, writeReport } from './lib/report.ts';
import { transferRequestOf } from './lib/requests.ts';
import { Runner } from './lib/runner.ts';
import { cleanRedis, databaseUrl, payersOf } from './lib/setup.ts';
import { agentsScenario } from './scenarios/agents.ts';
import { amlScenario, amlScreeningInChild } from './scenarios/aml.ts';
import { anatomyScenario } from './scenarios/anatomy.ts';
import { growthScenario } from './scenarios/growth.ts';
import { hotScenario } from './scenarios/hot.ts';
import { loginScenario } from './scenarios/login.ts';
import { profileScenario } from './scenarios/profile.ts';
import { readScenario } from './scenarios/read.ts';
import { type TransferRow, transferMoreWorkers, transferOneWorker } from './scenarios/transfer.ts';
import { ussdScenario } from './scenarios/ussd.ts';

async function main() {
  startClock();
  log(
    `codeforge bench: ${[...scenarios].join(', ')}${quick ? ' (quick)' : ''}${full ? ' (full: 10M growth)' : ''}`,
  );
  const admin = new AdminConnection(S.baseUrl);
  const facts = await machineFacts(admin, S.redisUrl);
  // TPC-B for the transfer rows, its select-only script (same tables) for the balance read.
  const needsTpcb = scenarios.has('transfer') || scenarios.has('read');
  if (needsTpcb) await admin.query(`create database ${tpcbName}`);
  const logDirectory = apiLogs ? mkdtempSync(join(tmpdir(), 'cf-bench-logs-')) : null;
  const bench = new Runner(admin, await admin.postmasterStart(), logDirectory);

  try {
    // ------------------------------------------------------------------------------------------- setup and seed
    const primary = await bench.setup(databaseName, { staff: scenarios.has('login') });
    const seedSeconds = primary.seedSeconds;
    raw.seedSeconds = seedSeconds;
    if (needsTpcb) {
      const phase = Date.now();
      commands.push(await pgbenchInit(databaseUrl(S.baseUrl, tpcbName), 10));
      log(`pgbench -i -s 10 (${((Date.now() - phase) / 1000).toFixed(1)} s)`);
    }

    // ------------------------------------------------------------------------------------------- tokens
    bench.api = await bench.startApi(primary, 1);
    const payers = await payersOf(primary, S.tokenHolders);
    bench.setPrimary(primary, payers, transferRequestOf(payers, primary.customers));
    await bench.warm(bench.api);

    // ------------------------------------------------------------------------------------------- scenarios
    if (scenarios.has('anatomy')) await anatomyScenario(bench);
    const transferRows: TransferRow[] = [];
    if (scenarios.has('transfer')) await transferOneWorker(bench, transferRows);
    if (scenarios.has('hot')) await hotScenario(bench);
    if (scenarios.has('read')) await readScenario(bench);
    if (scenarios.has('login')) await loginScenario(bench);
    if (scenarios.has('ussd')) await ussdScenario(bench);
    if (scenarios.has('agents')) await agentsScenario(bench);
    if (scenarios.has('aml')) await amlScenario(bench);
    // In a child of its own: the index's build wants a larger young generation and the heap figures a forced GC.
    if (scenarios.has('aml-screening')) section(amlScreeningInChild(quick));
    // The rows with more workers come last among the transfer rows: each restarts the API.
    if (scenarios.has('transfer')) await transferMoreWorkers(bench, transferRows);
    if (scenarios.has('growth')) await growthScenario(bench);
    if (scenarios.has('profile')) await profileScenario(bench);

    await bench.api?.stop();
    bench.api = null;
    const finalFacts = { loadEnd: loadavg(), ...(await otherActivity(admin)) };
    section(factsSection(facts, finalFacts, seedSeconds));
  } catch (error) {
    section(stoppedSection(error));
    throw error;
  } finally {
    killAll();
    await bench.api?.stop().catch(() => {});
    await bench.growthApi?.stop().catch(() => {});
    for (const db of bench.databases) {
      await db.identity.tokens.stop().catch(() => {});
      await closeDependencies(db.deps);
    }
    await cleanRedis(S.redisUrl, `cfbench:${stamp}`).catch(() => {});
    const names = [databaseName, growthName, tpcbName];
    if (!keep) {
      for (const name of names)
        await admin.query(`drop database if exists ${name} with (force)`).catch(() => {});
    } else log(`kept databases ${names.join(', ')} (those that were created)`);
    await admin.end();
    if (logDirectory) log(`API logs in ${logDirectory}`);
    writeReport();
  }
}

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});

main()
  .then(() => process.exit(0))
  .catch((error) => {
    let text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    for (let cause = (error as { cause?: unknown })?.cause, depth = 0; cause && depth < 3; depth += 1) {
      text += `\ncaused by: ${cause instanceof Error ? cause.message : String(cause)}`;
      cause = (cause as { cause?: unknown }).cause;
    }
    process.stderr.write(`${text}\n`);
    killAll();
    process.exit(1);
  });
