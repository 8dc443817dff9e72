/**
 * 3. read: a balance read and a 100-row statement page by random signed-in customers. The balance's reference is
 * `pgbench -S` (select-only, scale 10) at the same client count, run seconds before it; a bare Fastify 5 JSON route in
 * its own process at the same connection count shows the HTTP overhead.
 */
import { cpuLines, errorText, f0, f1, f2, HEADER, log, pick, row, verdict } from '../lib/format.ts';
import type { LoadResult } from '../lib/load.ts';
import { S, tpcbName } from '../lib/options.ts';
import { type PgbenchResult, pgbench } from '../lib/pgbench.ts';
import { freePort, startServer } from '../lib/processes.ts';
import { commands, raw, section } from '../lib/report.ts';
import { balanceRequestOf } from '../lib/requests.ts';
import type { Runner } from '../lib/runner.ts';
import { databaseUrl } from '../lib/setup.ts';

export async function readScenario(bench: Runner): Promise<void> {
  const c = S.readConnections;
  // The reference right before the figure it divides (same client count, same duration).
  const selectOnly = await pgbench(databaseUrl(S.baseUrl, tpcbName), c, S.readSeconds, { selectOnly: true });
  commands.push(selectOnly.command);
  log(`read: pgbench -S -c ${c}: ${f0(selectOnly.tps)} tps`);
  const balance = await bench.measure(balanceRequestOf(bench.payers), c, S.readSeconds);
  log(`read: balance ${f0(balance.rps)} req/s`);
  const owners = bench.payers.slice(0, S.historyWallets);
  const statement = await bench.measure(
    () => {
      const owner = pick(owners);
      return {
        method: 'GET',
        path: `/api/v1/wallet/wallet/${owner.walletId}/statement?limit=100`,
        headers: { authorization: `Bearer ${owner.token}` },
      };
    },
    c,
    S.readSeconds,
  );
  log(`read: statement ${f0(statement.rps)} req/s`);
  const barePort = await freePort();
  const bare = await startServer({
    script: 'bench/bare-fastify.ts',
    env: { PATH: process.env.PATH ?? '', LOCAL_PORT: String(barePort), NODE_ENV: 'production' },
    port: barePort,
  });
  let bareResult: LoadResult;
  try {
    bareResult = await bench.drive({
      url: `http://127.0.0.1:${barePort}`,
      connections: c,
      seconds: S.readSeconds,
      warmupSeconds: S.warmup,
      next: () => ({ method: 'GET', path: '/', headers: {} }),
      fixed: true,
      cpuPids: async () => ({ api: bare.pids, postgres: [] }),
    });
  } finally {
    await bare.stop();
  }
  log(`read: bare Fastify ${f0(bareResult.rps)} req/s`);
  raw.read = { balance, statement, bare: bareResult, pgbenchSelectOnly: selectOnly };
  section(readSection(c, balance, statement, bareResult, selectOnly));
}

function readSection(
  c: number,
  balance: LoadResult,
  statement: LoadResult,
  bare: LoadResult,
  selectOnly: PgbenchResult,
): string {
  const ratio = balance.rps / selectOnly.tps;
  return [
    '## 3. read — balance vs `pgbench -S`, and a 100-row statement page; a bare Fastify route for the HTTP overhead',
    '',
    `${c} connections, 1 API worker, ${S.readSeconds} s each; each request is a random signed-in customer reading their own wallet (statement: one of ${S.historyWallets} wallets with ≥${S.historyRounds} journal lines, \`?limit=100\`). Goal reference of the balance (PERFORMANCE.md): \`pgbench -S -c ${c} -j 2 -T ${S.readSeconds} -M prepared\` (select-only, scale 10: one primary-key read per transaction) on the same PostgreSQL, run right before it. Also shown: a bare Fastify 5 JSON route (\`bench/bare-fastify.ts\`) in its own process, same connections, same run (what HTTP alone costs).`,
    '',
    HEADER,
    row([
      'balance `GET /wallet/wallet/:id/balance`',
      c,
      1,
      f0(balance.rps),
      f0(selectOnly.tps),
      f2(ratio),
      `≥0.30× pgbench -S: ${verdict(ratio >= 0.3)}`,
      f1(balance.p50),
      f1(balance.p90),
      f1(balance.p99),
      errorText(balance),
      '—',
    ]),
    row([
      'balance vs the bare Fastify route',
      c,
      1,
      f0(balance.rps),
      f0(bare.rps),
      f2(balance.rps / bare.rps),
      '(reported)',
      '—',
      '—',
      '—',
      '—',
      '—',
    ]),
    row([
      `\`pgbench -S\` (reference, select-only, scale 10)`,
      c,
      '—',
      f0(selectOnly.tps),
      '—',
      '—',
      '—',
      f1(selectOnly.p50),
      f1(selectOnly.p90),
      f1(selectOnly.p99),
      selectOnly.failed > 0 ? `${selectOnly.failed} failed` : '0',
      '—',
    ]),
    row([
      'statement page (100 rows)',
      c,
      1,
      f0(statement.rps),
      f0(bare.rps),
      f2(statement.rps / bare.rps),
      '(reported)',
      f1(statement.p50),
      f1(statement.p90),
      f1(statement.p99),
      errorText(statement),
      '—',
    ]),
    row([
      'bare Fastify JSON route (reference)',
      c,
      1,
      f0(bare.rps),
      '—',
      '—',
      '—',
      f1(bare.p50),
      f1(bare.p90),
      f1(bare.p99),
      errorText(bare),
      '—',
    ]),
    '',
    cpuLines([
      { label: 'balance', cpu: balance.cpu, ok: balance.ok },
      { label: 'statement', cpu: statement.cpu, ok: statement.ok },
      { label: 'bare Fastify', cpu: bare.cpu, ok: bare.ok },
    ]),
  ].join('\n');
}
