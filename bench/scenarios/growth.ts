/**
 * 6. growth: the transfer on a second app database (B) that holds 1M (and with `--full` 10M) journal rows, against the
 * primary database (A), runs alternating A, B, A, B …; table scans per transfer and EXPLAIN ANALYZE of every read
 * statement on B; the operator's CLI ledger-verify on B with the API's configuration.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type pg from 'pg';
import { explainSamples, measureAnatomy } from '../lib/anatomy.ts';
import { f0, f2, log, sleep } from '../lib/format.ts';
import { combine, type LoadResult, load } from '../lib/load.ts';
import { growthName, quick, S } from '../lib/options.ts';
import { raw, section } from '../lib/report.ts';
import { transferRequestOf } from '../lib/requests.ts';
import type { Runner } from '../lib/runner.ts';
import { journalRows, seedChurn } from '../lib/seed.ts';
import { type AppDatabase, payersOf, verifyLedger } from '../lib/setup.ts';
import { anatomyCases } from './anatomy.ts';
import { type GrowthStep, growthSection } from './growth-report.ts';

export async function growthScenario(bench: Runner): Promise<void> {
  const { admin, primary, transferRequest } = bench;
  const api = bench.server;
  const c = S.growthConnections;
  // A second app database (B) gets the journal rows; the primary one (A) keeps only what the earlier scenarios
  // left. Both APIs stay up and the runs alternate A, B, A, B …, so a drift of the shared machine hits both alike.
  const grown = await bench.setup(growthName, { staff: false });
  bench.growthApi = await bench.startApi(grown, 1);
  const growthApi = bench.growthApi;
  const grownPayers = await payersOf(grown, S.tokenHolders);
  const grownRequest = transferRequestOf(grownPayers, grown.customers);
  const steps: GrowthStep[] = [];
  const wallets = grown.customers.map((row) => row.walletId);
  for (const target of S.growthSteps) {
    const present = await admin.resilient(() => journalRows(grown.pool));
    const perRound = wallets.length * 2;
    let rounds = Math.ceil(Math.max(0, target - present) / perRound);
    if (rounds % 2 === 1) rounds += 1;
    let phase = Date.now();
    let lastLog = Date.now();
    await admin.resilient(async () => {
      // After an interrupted insert, only what is still missing (every chunk is its own transaction).
      const have = await journalRows(grown.pool);
      let left = Math.ceil(Math.max(0, target - have) / perRound);
      if (left % 2 === 1) left += 1;
      if (left === 0) return;
      await seedChurn(grown.pool, grown.ledger, {
        walletIds: wallets,
        rounds: left,
        roundsPerChunk: 10,
        onChunk: (written) => {
          if (Date.now() - lastLog > 30_000) {
            lastLog = Date.now();
            log(`  growth insert: ${written.toLocaleString('en-US')} rows so far`);
          }
        },
      });
    });
    const insertSeconds = (Date.now() - phase) / 1000;
    phase = Date.now();
    for (const db of [primary, grown]) {
      await db.pool.query('vacuum analyze ledger_entries, ledger_transfers, ledger_batches, ledger_accounts');
      await db.pool.query('checkpoint');
    }
    const settleSeconds = (Date.now() - phase) / 1000;
    log(
      `growth: inserted ${(rounds * perRound).toLocaleString('en-US')} journal rows in ${insertSeconds.toFixed(0)} s (vacuum analyze + checkpoint ${settleSeconds.toFixed(0)} s)`,
    );
    const slices = quick ? 1 : 3;
    const slice = Math.max(3, Math.round(S.seconds / slices));
    // B's API process is young (its JIT, caches and pool connections are cold) while A's has served every earlier
    // scenario: both get a longer warm-up first, B more, so neither figure carries a start-up cost.
    for (const [db, server, next, seconds] of [
      [grown, growthApi, grownRequest, quick ? 6 : 15],
      [primary, api, transferRequest, quick ? 3 : 5],
    ] as const)
      await load({
        url: db.base,
        connections: c,
        seconds,
        warmupSeconds: 0,
        next,
        cpuPids: bench.cpuOf(server, db),
      });
    const small: LoadResult[] = [];
    const big: LoadResult[] = [];
    const statsBefore = await admin.resilient(() => tableStats(grown.pool));
    for (let round = 0; round < slices; round += 1) {
      small.push(await bench.measure(transferRequest, c, slice, round === 0 ? S.warmup : 2));
      big.push(
        await bench.drive({
          url: grown.base,
          connections: c,
          seconds: slice,
          warmupSeconds: round === 0 ? S.warmup : 2,
          next: grownRequest,
          cpuPids: bench.cpuOf(growthApi, grown),
        }),
      );
      log(`growth round ${round + 1}/${slices}: A ${f0(small[round]!.rps)}, B ${f0(big[round]!.rps)} req/s`);
    }
    await sleep(1500);
    const statsAfter = await admin.resilient(() => tableStats(grown.pool));
    const bigResult = combine(big);
    steps.push({
      label: `${(target / 1_000_000).toLocaleString('en-US')}M`,
      rowsSmall: await admin.resilient(() => journalRows(primary.pool)),
      rowsBig: await admin.resilient(() => journalRows(grown.pool)),
      small: combine(small),
      big: bigResult,
      smallRounds: small.map((result) => f0(result.rps)).join(' / '),
      bigRounds: big.map((result) => f0(result.rps)).join(' / '),
      verifySmall: await bench.verify(),
      verifyBig: await verifyLedger(admin, grown.ledger),
      cli: await cliLedgerVerify(grown),
      insertSeconds,
      settleSeconds,
      scans: scanDeltas(statsBefore, statsAfter, bigResult.ok),
    });
    const last = steps[steps.length - 1]!;
    log(
      `growth ${last.label}: A ${f0(last.small.rps)} req/s (${last.rowsSmall.toLocaleString('en-US')} rows), B ${f0(last.big.rps)} req/s (${last.rowsBig.toLocaleString('en-US')} rows), ratio ${f2(last.big.rps / last.small.rps)}; ledger A ${last.verifySmall}, B ${last.verifyBig}`,
    );
  }
  // The read statements of each request, captured with B's own parameters, explained on B at its largest size.
  const captured = await admin.resilient(() =>
    measureAnatomy(grown.deps, anatomyCases(grownPayers, grown.customers, 0.2)),
  );
  const explained = await explainSamples(grown.pool, [...captured.samples.values()]);
  await growthApi.stop();
  bench.growthApi = null;
  raw.growth = steps;
  raw.explain = explained;
  section(growthSection(c, steps, explained));
}

/** The operator's `ledger-verify` (src/cli.ts) with the API's own environment, timed; its verdict line or error. */
async function cliLedgerVerify(db: AppDatabase): Promise<string> {
  const started = Date.now();
  const outcome = await new Promise<{ code: number | null; output: string }>((resolve) => {
    execFile(
      process.execPath,
      [join(import.meta.dirname, '..', '..', 'src', 'cli.ts'), 'ledger-verify'],
      {
        env: db.env,
        cwd: join(import.meta.dirname, '..', '..'),
        timeout: 15 * 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) =>
        resolve({
          code: error ? ((error as { code?: number }).code ?? 1) : 0,
          output: `${stdout}\n${stderr}`,
        }),
    );
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const lines = outcome.output
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const failed = lines.find((line) => /^Failed query:/.test(line));
  const verdict =
    lines.find((line) => /ledger verified|ledger BROKEN/.test(line)) ??
    lines.find((line) => /timeout|canceling/i.test(line)) ??
    (failed
      ? `${failed.replace(/\s+/g, ' ').slice(0, 90)}… (the CLI prints no cause; ${outcome.code === 1 && Number(seconds) >= 30 ? 'it failed past the 30 s statement timeout' : 'see the CLI output'})`
      : undefined) ??
    lines.at(-1) ??
    '';
  return `exit ${outcome.code} after ${seconds} s: ${verdict.slice(0, 160)}`;
}

type TableStats = Map<string, { seq: number; idx: number; rows: number }>;

async function tableStats(pool: pg.Pool): Promise<TableStats> {
  const result = await pool.query<{ relname: string; seq: string; idx: string; rows: string }>(
    `select s.relname, s.seq_scan::text as seq, coalesce(s.idx_scan, 0)::text as idx,
       greatest(s.n_live_tup, c.reltuples::bigint, 0)::text as rows
     from pg_stat_user_tables s join pg_class c on c.oid = s.relid where s.schemaname = 'public'`,
  );
  return new Map(
    result.rows.map((row) => [
      row.relname,
      { seq: Number(row.seq), idx: Number(row.idx), rows: Number(row.rows) },
    ]),
  );
}

function scanDeltas(before: TableStats, after: TableStats, requests: number) {
  const out: { table: string; rows: number; seqPerRequest: number; idxPerRequest: number }[] = [];
  for (const [table, stats] of after) {
    const start = before.get(table);
    if (!start) continue;
    const seq = stats.seq - start.seq;
    const idx = stats.idx - start.idx;
    if (seq === 0 && idx === 0) continue;
    out.push({
      table,
      rows: stats.rows,
      seqPerRequest: seq / Math.max(1, requests),
      idxPerRequest: idx / Math.max(1, requests),
    });
  }
  return out.sort((a, b) => b.rows - a.rows);
}
