/**
 * 1. transfer: `POST /api/v1/wallet/transaction/transfer` at each connection count with 1 and 2 API workers, each row
 * right after pgbench TPC-B at the same client count, ledger-verify after each row; and the goal row again on an API
 * that commits one payment per call (`PAYMENT_COMMIT=one-call`: no group commit) and on one that commits statement by
 * statement (`PAYMENT_COMMIT=stepwise`, ADR 0016). With one worker each row also shows the group commit's mean batch
 * size (the API's `payment_commit_payments_total` ÷ `payment_commit_calls_total` over the row's warm-up and run).
 */

import { metricValue } from '../../src/platform/metrics.ts';
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
  /** Payments per commit call (group commit), with one worker and PAYMENT_COMMIT=batched; null otherwise. */
  batch?: number | null;
  /** Idempotency claims per claim insert (their group commit), with one worker; null otherwise. */
  claimBatch?: number | null;
}

/** The group commit's counters as the API's /metrics shows them (one worker: the process that answers). */
async function commitCounters(
  base: string,
): Promise<{ calls: number; payments: number; claimCalls: number; claims: number } | null> {
  try {
    const text = await (await fetch(`${base}/metrics`)).text();
    const value = (name: string) => metricValue(text, name);
    const counters = {
      calls: value('payment_commit_calls_total'),
      payments: value('payment_commit_payments_total'),
      claimCalls: value('idempotency_claim_calls_total'),
      claims: value('idempotency_claim_inserts_total'),
    };
    return Object.values(counters).every(Number.isFinite) ? counters : null;
  } catch {
    return null;
  }
}

/** One row per connection count on the API as it runs now, each after its pgbench reference. */
async function runTransfers(
  bench: Runner,
  rows: TransferRow[],
  workers: number,
  connectionCounts = S.connections,
  commit = 'batched',
): Promise<void> {
  for (const connections of connectionCounts) {
    const reference = await pgbench(databaseUrl(S.baseUrl, tpcbName), connections, S.seconds);
    commands.push(reference.command);
    log(`pgbench -c ${connections}: ${f0(reference.tps)} tps`);
    const counted = workers === 1;
    const before = counted ? await commitCounters(bench.primary.base) : null;
    const result = await bench.measure(bench.transferRequest, connections, S.seconds);
    const after = counted ? await commitCounters(bench.primary.base) : null;
    const batch =
      commit === 'batched' && before && after && after.calls > before.calls
        ? (after.payments - before.payments) / (after.calls - before.calls)
        : null;
    const claimBatch =
      before && after && after.claimCalls > before.claimCalls
        ? (after.claims - before.claims) / (after.claimCalls - before.claimCalls)
        : null;
    const verification = await bench.verify();
    rows.push({ workers, connections, result, reference, verification, commit, batch, claimBatch });
    log(
      `transfer (${commit}) c=${connections} w=${workers}: ${f0(result.rps)} req/s (ratio ${f2(result.rps / reference.tps)}), p99 ${f1(result.p99)} ms, errors ${result.errors}${batch === null ? '' : `, mean batch ${f2(batch)}`}${claimBatch === null ? '' : `, claims per insert ${f2(claimBatch)}`}; ledger ${verification}`,
    );
  }
}

/**
 * The one-worker rows, then the goal row without group commit and on the stepwise commit path; leaves a warm
 * one-worker API running.
 */
export async function transferOneWorker(bench: Runner, rows: TransferRow[]): Promise<void> {
  if (S.workers.includes(1)) await runTransfers(bench, rows, 1);
  // The same goal row with one payment per commit call (issue 21's unbatched form, same run).
  await bench.restartApi(1, { PAYMENT_COMMIT: 'one-call' });
  await runTransfers(bench, rows, 1, [S.pool], 'one-call');
  // And committed statement by statement (ADR 0016's comparison, issue 21's reference: same run).
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
    const goal = entry.connections === S.pool && entry.workers === 1 && entry.commit === 'batched';
    lines.push(
      row([
        goal
          ? '**transfer (goal row)**'
          : entry.commit === 'batched'
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
  lines.push('', ...groupCommitLines(rows));
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
        label: `c=${entry.connections} w=${entry.workers}${entry.commit === 'batched' ? '' : ` ${entry.commit}`}`,
        cpu: entry.result.cpu,
        ok: entry.result.ok,
      })),
    ),
  );
  return lines.join('\n');
}

/**
 * Issue 21's targets on the one-worker rows: the goal row ≥ 0.25× TPC-B and ≥ 4× the stepwise commit with p99 ≤ 25 ms,
 * no errors and a clean ledger; at 64 connections no collapse (≥ the 8-connection figure); the mean batch size at each
 * connection count.
 */
function groupCommitLines(rows: TransferRow[]): string[] {
  const one = rows.filter((entry) => entry.workers === 1);
  const goal = one.find((entry) => entry.commit === 'batched' && entry.connections === S.pool);
  const unbatched = one.find((entry) => entry.commit === 'one-call');
  const stepwise = one.find((entry) => entry.commit === 'stepwise');
  const widest = one
    .filter((entry) => entry.commit === 'batched')
    .sort((a, b) => b.connections - a.connections)[0];
  if (!goal) return [];
  const tpcb = goal.result.rps / goal.reference.tps;
  const clean = goal.result.errors === 0 && goal.verification.startsWith('clean');
  const lines = [
    'Issue 21 (group commit) on one worker:',
    '',
    '| target | measured | |',
    '|---|---|---|',
    row([`goal row ≥ 0.25× TPC-B`, `${f2(tpcb)}×`, verdict(tpcb >= 0.25)]),
  ];
  if (stepwise) {
    const ratio = goal.result.rps / stepwise.result.rps;
    lines.push(row(['goal row ≥ 4× the stepwise commit', `${f2(ratio)}×`, verdict(ratio >= 4)]));
  }
  if (unbatched) {
    const ratio = goal.result.rps / unbatched.result.rps;
    lines.push(row(['(for information) batched ÷ one payment per call', `${f2(ratio)}×`, '']));
  }
  lines.push(
    row([
      'goal row p99 ≤ 25 ms, 0 errors, ledger clean',
      `${f1(goal.result.p99)} ms, ${goal.result.errors} errors, ${goal.verification}`,
      verdict(goal.result.p99 <= 25 && clean),
    ]),
  );
  if (widest && widest !== goal) {
    const ratio = widest.result.rps / goal.result.rps;
    lines.push(
      row([
        `${widest.connections} connections ≥ the ${S.pool}-connection figure (p99 reported)`,
        `${f0(widest.result.rps)} vs ${f0(goal.result.rps)} req/s (${f2(ratio)}×), p99 ${f1(widest.result.p99)} ms`,
        verdict(ratio >= 1),
      ]),
    );
  }
  lines.push(
    '',
    `Mean batch size (payments per commit call, over each row's warm-up and run): ${
      one
        .filter((entry) => entry.commit === 'batched' && entry.batch !== null && entry.batch !== undefined)
        .map((entry) => `${entry.connections} connections ${f2(entry.batch!)}`)
        .join('; ') || 'not measured'
    }.`,
  );
  return lines;
}
