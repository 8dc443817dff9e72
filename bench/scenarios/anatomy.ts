/**
 * Anatomy: one request at a time through `app.inject` in-process, every PostgreSQL statement and Redis command counted
 * on the client side — round trips, DB time and app CPU per transfer, balance read, statement page and login.
 */
import { type Anatomy, type InjectRequest, measureAnatomy } from '../lib/anatomy.ts';
import { f1, f2, pick, row } from '../lib/format.ts';
import { S } from '../lib/options.ts';
import { raw, section } from '../lib/report.ts';
import { transferRequestOf } from '../lib/requests.ts';
import type { Runner } from '../lib/runner.ts';
import { BENCH_PIN, type SeededCustomer } from '../lib/seed.ts';
import type { Payer } from '../lib/setup.ts';

export async function anatomyScenario(bench: Runner): Promise<void> {
  const { primary, payers, admin } = bench;
  const measured = await admin.resilient(() =>
    measureAnatomy(primary.deps, anatomyCases(payers, primary.customers, 1)),
  );
  raw.anatomy = measured.anatomies;
  section(anatomySection(measured.anatomies));
  await admin.resilient(() => primary.ledger.rollUp());
}

/** The requests the anatomy step sends one at a time (`scale` shrinks the counts). */
export function anatomyCases(payers: Payer[], customers: SeededCustomer[], scale: number) {
  const transferRequest = transferRequestOf(payers, customers);
  const owners = payers.slice(0, S.historyWallets);
  const count = (value: number) => Math.max(3, Math.round(value * scale));
  return [
    {
      name: 'transfer',
      count: count(100),
      warmup: count(50),
      next: (): InjectRequest => {
        const built = transferRequest();
        return { method: built.method, url: built.path, headers: built.headers, payload: built.body };
      },
    },
    {
      name: 'balance',
      count: count(100),
      warmup: count(30),
      next: (): InjectRequest => {
        const payer = pick(payers);
        return {
          method: 'GET',
          url: `/api/v1/wallet/wallet/${payer.walletId}/balance`,
          headers: { authorization: `Bearer ${payer.token}` },
        };
      },
    },
    {
      name: 'statement (100 rows)',
      count: count(50),
      warmup: count(5),
      next: (): InjectRequest => {
        const owner = pick(owners);
        return {
          method: 'GET',
          url: `/api/v1/wallet/wallet/${owner.walletId}/statement?limit=100`,
          headers: { authorization: `Bearer ${owner.token}` },
        };
      },
    },
    {
      name: 'customer login',
      count: count(30),
      warmup: count(5),
      next: (): InjectRequest => {
        const customer = pick(customers);
        return {
          method: 'POST',
          url: '/api/v1/auth/customer/login',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify({ phone: customer.phone, pin: BENCH_PIN }),
        };
      },
    },
  ];
}

function anatomySection(anatomies: Anatomy[]): string {
  const lines = [
    '## Anatomy — round trips per request (in-process, one request at a time)',
    '',
    'The same app code built in-process on the bench database; each request sent alone through `app.inject`; every PostgreSQL statement and Redis command counted on the client side (pg_stat_statements would need `shared_preload_libraries`, i.e. a server restart, which the benchmark must not do). "Round trips" are the request\'s waits on PostgreSQL or Redis: a statement or command sent while another is in flight shares its wait. "DB ms" is the sum of statement round trips as the client saw them (unloaded); "app CPU ms" is the CPU this process spent per request (the app JavaScript, the pg and ioredis clients, `inject`), PostgreSQL and Redis excluded.',
    '',
    '| request | statements / request | of which BEGIN | Redis commands / request | round trips / request | wall ms / request | DB ms / request | app CPU ms / request | failed |',
    '|---|---|---|---|---|---|---|---|---|',
    ...anatomies.map((entry) =>
      row([
        entry.name,
        f1(entry.statementsPerRequest),
        f1(entry.transactionsPerRequest),
        f1(entry.redisPerRequest),
        f1(entry.roundTripsPerRequest),
        f2(entry.msPerRequest),
        f2(entry.dbMsPerRequest),
        f2(entry.cpuMsPerRequest),
        entry.failed,
      ]),
    ),
  ];
  for (const entry of anatomies.filter((item) => item.name === 'transfer' || item.name === 'balance')) {
    lines.push(
      '',
      `Statements of one ${entry.name} (${f1(entry.statementsPerRequest)} in all):`,
      '',
      '| per request | mean ms | statement |',
      '|---|---|---|',
      ...entry.top.map((statement) =>
        row([
          f2(statement.perRequest),
          f2(statement.meanMs),
          `\`${statement.text.slice(0, 150).replace(/\|/g, '\\|')}${statement.text.length > 150 ? '…' : ''}\``,
        ]),
      ),
    );
  }
  return lines.join('\n');
}
