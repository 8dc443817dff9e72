/**
 * 1. transfer: `POST /api/v1/wallet/transaction/transfer` at each connection count with 1 and 2 API workers, each row
 * right after pgbench TPC-B at the same client count, ledger-verify after each row; and the goal row again on an API
 * that commits statement by statement (`PAYMENT_COMMIT=stepwise`, ADR 0016).
 */
import { cpuLines, errorText, f0, f1, f2, HEADER, log, row, verdict } from '../lib/format.ts';
import type { LoadResult } from '../lib/load.ts';
import { S, tpcbName } from '../lib/options.ts';
import { type PgbenchResult, pgbench } from '../lib/pgbench.ts';
import { commands, raw, section } from '../lib/report.ts';
import type { Runner } from '../lib/runner.ts';
import { databaseUrl } from '../lib/setup.ts';

export interface TransferRow {
  /** PAYMENT_COMMIT of the API (ADR 0016). */
  commit: string;
  workers: number;
  connections: number;
  result: LoadResult;
  reference: PgbenchResult;
  verification: string;
}

/** One row per connection count on the API as it runs now, each after its pgbench reference. */
async function runTransfers(
  bench: Runner,
  rows: TransferRow[],
  workers: number,
  connectionCounts = S.connections,
  commit = 'one-call',
): Promise<void> {
  for (const connections of connectionCounts) {
    const reference = await pgbench(databaseUrl(S.baseUrl, tpcbName), connections, S.seconds);
    commands.push(reference.command);
    log(`pgbench -c ${connections}: ${f0(reference.tps)} tps`);
    const result = await bench.measure(bench.transferRequest, connections, S.seconds);
    const verification = await bench.verify();
    rows.push({ workers, connections, result, reference, verification, commit });
    log(
      `transfer (${commit}) c=${connections} w=${workers}: ${f0(result.rps)} req/s (ratio ${f2(result.rps / reference.tps)}), p99 ${f1(result.p99)} ms, errors ${result.errors}; ledger ${verification}`,
    );
  }
}

/** The one-worker rows, then the goal row on the stepwise commit path; leaves a warm one-worker API running. */
export async function transferOneWorker(bench: Runner, rows: TransferRow[]): Promise<void> {
  if (S.workers.includes(1)) await runTransfers(bench, rows, 1);
  // The same goal row with the payment committed statement by statement (ADR 0016's comparison, same run).
  await bench.restartApi(1, { PAYMENT_COMMIT: 'stepwise' });
  await runTransfers(bench, rows, 1, [S.pool], 'stepwise');
  await bench.restartApi(1);
}

/** The rows with more workers (restarting the API for each count), then the scenario's section. */
export async function transferMoreWorkers(bench: Runner, rows: TransferRow[]): Promise<void> {
  if (S.workers.some((count) => count !== 1)) {
    for (const workers of S.workers.filter((count) => count !== 1)) {
      await bench.restartApi(workers);
      log(`API restarted with ${workers} workers (and warmed up)`);
      await runTransfers(bench, rows, workers);
    }
    await bench.restartApi(1);
  }
  raw.transfer = rows;
  section(transferSection(rows));
}

function transferSection(rows: TransferRow[]): string {
  const lines = [
    '## 1. transfer — `POST /api/v1/wallet/transaction/transfer` vs pgbench TPC-B (scale 10)',
    '',
    `Random payer (one of ${S.tokenHolders.toLocaleString('en-US')} signed-in customers) and payee (one of ${S.customers.toLocaleString('en-US')} wallets), 1–9.99 KES + fee + excise duty, fresh Idempotency-Key, PIN; ${S.seconds} s measured after ${S.warmup} s warm-up; API pool ${S.pool} connections per worker. Reference: \`pgbench -c N -j 2 -T ${S.seconds} -M prepared\` run right before each row. The PERFORMANCE.md goal is the row at the pool size's client count (${S.pool} connections, 1 worker); the other rows use the same criteria for information. The row marked \`PAYMENT_COMMIT=stepwise\` runs the same load on an API that commits statement by statement instead of in one call (ADR 0016), for comparison in the same run.`,
    '',
    HEADER,
  ];
  for (const entry of rows) {
    const ratio = entry.result.rps / entry.reference.tps;
    const ok =
      ratio >= 0.6 &&
      entry.result.p99 <= 25 &&
      entry.result.errors === 0 &&
      entry.verification.startsWith('clean');
    const goal = entry.connections === S.pool && entry.workers === 1 && entry.commit === 'one-call';
    lines.push(
      row([
        goal
          ? '**transfer (goal row)**'
          : entry.commit === 'one-call'
            ? 'transfer'
            : `transfer, PAYMENT_COMMIT=${entry.commit}`,
        entry.connections,
        entry.workers,
        f0(entry.result.rps),
        `${f0(entry.reference.tps)} (TPC-B)`,
        f2(ratio),
        `≥0.60×, p99 ≤25 ms, 0 errors: ${verdict(ok)}`,
        f1(entry.result.p50),
        f1(entry.result.p90),
        f1(entry.result.p99),
        errorText(entry.result),
        entry.verification,
      ]),
    );
  }
  lines.push(
    '',
    'pgbench reference runs (per-transaction latencies from `-l`):',
    '',
    '| clients | tps | p50 ms | p90 ms | p99 ms | failed |',
    '|---|---|---|---|---|---|',
    ...rows.map((entry) =>
      row([
        entry.reference.clients,
        f0(entry.reference.tps),
        f2(entry.reference.p50),
        f2(entry.reference.p90),
        f2(entry.reference.p99),
        entry.reference.failed,
      ]),
    ),
    '',
    'Where the CPU went during each measured API run (cores busy on average; 2 cores in the machine):',
    '',
    cpuLines(
      rows.map((entry) => ({
        label: `c=${entry.connections} w=${entry.workers}${entry.commit === 'one-call' ? '' : ` ${entry.commit}`}`,
        cpu: entry.result.cpu,
        ok: entry.result.ok,
      })),
    ),
  );
  return lines.join('\n');
}
