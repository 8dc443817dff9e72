/**
 * Part 2 of `npm run bench:loans`: application → decision over HTTP. The API is built in-process (`buildApp`, as
 * test/helpers/app.ts does) and listens on a port; customers are seeded in bulk (bench/lib/seed.ts: a funded KES
 * wallet; here half move to the standard KYC tier, all get a national ID and are backdated 400 days) and signed in
 * by the app's SessionService. autocannon (bench/lib/load.ts) drives `POST /api/v1/loan/application/add` on the demo
 * product `salary-advance`, every request by a customer who has not applied yet (fraud check, scoring and the
 * decision — approve within the auto-approval limit creates the loan and its schedule — all happen inside the
 * request). References on the same API in the same run: `GET /health/live` and a wallet balance read. Two variants,
 * each on its own customers: the bureau not configured (internal score only), and a fake Metropol
 * (test/fakes/metropol.ts) that every customer with a national ID on file is asked about.
 */
import type pg from 'pg';
import { type Application, buildApp } from '../src/app.ts';
import { parseConfig } from '../src/config.ts';
import { keyedHash, sealEnvelope } from '../src/platform/crypto.ts';
import { inTransaction } from '../src/platform/db.ts';
import { closeDependencies, type Dependencies, openDependencies } from '../src/platform/dependencies.ts';
import { FakeMetropol } from '../test/fakes/metropol.ts';
import type { AdminConnection } from './lib/admin.ts';
import { errorText, f0, f2, log } from './lib/format.ts';
import { type BuiltRequest, type LoadResult, load } from './lib/load.ts';
import { idempotencyKey } from './lib/requests.ts';
import { type SeededCustomer, seedCustomers } from './lib/seed.ts';
import { postgresPids } from './lib/setup.ts';
import { loansEnv, random, scratchDatabase } from './loans-setup.ts';

interface Applicant extends SeededCustomer {
  token: string;
  nationalId: string;
}

export interface ApplyVariant {
  name: string;
  health: LoadResult;
  apply: LoadResult;
  balance: LoadResult;
  /** Application status → count over every 201 (warm-up included). */
  outcomes: Record<string, number>;
  applicants: number;
  used: number;
  bureauCalls: number;
  /** During the application run: the app's backends by what they were doing, averaged over 200 ms samples. */
  waits: [string, number][];
}

/** Samples what the database's backends wait on (pg_stat_activity every 200 ms) until `stop()`. */
function waitSampler(monitor: pg.Pool) {
  const totals = new Map<string, number>();
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const rows = await monitor
        .query<{ what: string; n: number }>(
          `select case when state = 'active' then coalesce(wait_event_type || ':' || wait_event, 'running')
             else state end as what, count(*)::int as n
           from pg_stat_activity
           where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'
             and state <> 'idle'
           group by 1`,
        )
        .catch(() => ({ rows: [] as { what: string; n: number }[] }));
      samples += 1;
      for (const row of rows.rows) totals.set(row.what, (totals.get(row.what) ?? 0) + row.n);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return async (): Promise<[string, number][]> => {
    running = false;
    await loop;
    return [...totals]
      .map(([what, n]): [string, number] => [what, n / Math.max(1, samples)])
      .sort((a, b) => b[1] - a[1]);
  };
}

export interface ApplyFigures {
  connections: number;
  pool: number;
  seconds: number;
  warmup: number;
  customers: number;
  variants: ApplyVariant[];
}

const AMOUNTS = [200_000, 500_000, 1_000_000, 1_500_000, 3_000_000];

async function signIn(
  application: Application,
  deps: Dependencies,
  holders: (SeededCustomer & { nationalId: string })[],
) {
  const out: Applicant[] = [];
  for (let start = 0; start < holders.length; start += 250) {
    await inTransaction(deps.database.db, async (tx) => {
      for (const holder of holders.slice(start, start + 250)) {
        const issued = await application.identity.sessions.openSession(
          tx,
          { type: 'customer', id: holder.id },
          {
            actor: { type: 'customer', id: holder.id },
            ip: '127.0.0.1',
            userAgent: 'codeforge-bench',
            requestId: null,
          },
          'mobile',
        );
        out.push({ ...holder, token: issued.access_token });
      }
    });
  }
  return out;
}

/**
 * National IDs on file (sealed and blind-indexed as the customers module stores them), half the customers at the
 * standard KYC tier, customers and wallets 400 days old.
 */
async function prepareCustomers(
  deps: Dependencies,
  customers: SeededCustomer[],
): Promise<(SeededCustomer & { nationalId: string })[]> {
  const pool = deps.database.pool!;
  const withIds = customers.map((customer, index) => ({
    ...customer,
    nationalId: `3${String(index).padStart(7, '0')}`,
  }));
  for (let start = 0; start < withIds.length; start += 2000) {
    const part = withIds.slice(start, start + 2000);
    await pool.query(
      `update customers c set national_id_type = 'national_id', national_id_sealed = t.sealed,
         national_id_index = t.idx, national_id_last4 = right(t.number, 4), created_at = now() - interval '400 days',
         kyc_tier = t.tier
       from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[]) as t(id, sealed, idx, number, tier)
       where c.id = t.id`,
      [
        part.map((c) => c.id),
        part.map((c) =>
          JSON.stringify(sealEnvelope(deps.keys, Buffer.from(c.nationalId), `customer:${c.id}:national_id`)),
        ),
        part.map((c) => keyedHash(deps.config.HMAC_PEPPER, 'national-id:national_id', c.nationalId)),
        part.map((c) => c.nationalId),
        // Half at the basic KYC tier, half verified (standard): the scorecard's tier factor differs.
        part.map((_, index) => ((start + index) % 2 === 0 ? 'basic' : 'standard')),
      ],
    );
  }
  await pool.query(
    `update wallets set created_at = now() - interval '400 days' where owner_type = 'customer'`,
  );
  await pool.query('vacuum analyze');
  return withIds;
}

async function runVariant(
  name: string,
  options: {
    baseEnv: Record<string, string>;
    holders: (SeededCustomer & { nationalId: string })[];
    productId: string;
    bureau: boolean;
    monitor: pg.Pool;
    connections: number;
    seconds: number;
    warmup: number;
  },
): Promise<ApplyVariant> {
  const rnd = random(7);
  const fake = options.bureau ? new FakeMetropol() : null;
  const started = fake ? await fake.start() : null;
  if (fake)
    for (const holder of options.holders)
      fake.setPerson(holder.nationalId, {
        score: 400 + Math.floor(rnd() * 450),
        delinquencyCode: rnd() < 0.9 ? '002' : '005',
      });
  const env = {
    ...options.baseEnv,
    ...(fake
      ? {
          METROPOL_BASE_URL: started!.baseUrl,
          METROPOL_PUBLIC_KEY: fake.publicKey,
          METROPOL_PRIVATE_KEY: fake.privateKey,
        }
      : {}),
  };
  const deps = await openDependencies(parseConfig(env), { migrate: false, runsWorker: false });
  const application = await buildApp(deps);
  try {
    await deps.jobs.start();
    await application.app.listen({ port: 0, host: '127.0.0.1' });
    const address = application.app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const applicants = await signIn(application, deps, options.holders);
    log(`${name}: API on ${url}, ${applicants.length} applicants signed in`);
    const cpuPids = async () => ({ api: [], postgres: await postgresPids(deps.database.pool!) });
    const common = {
      url,
      connections: options.connections,
      seconds: options.seconds,
      warmupSeconds: options.warmup,
      cpuPids,
    };
    const health = await load({
      ...common,
      next: () => ({ method: 'GET', path: '/health/live', headers: {} }),
    });
    let next = 0;
    const outcomes: Record<string, number> = {};
    const stopSampling = waitSampler(options.monitor);
    const apply = await load({
      ...common,
      next: (): BuiltRequest => {
        const index = next % applicants.length;
        next += 1;
        const applicant = applicants[index]!;
        return {
          method: 'POST',
          path: '/api/v1/loan/application/add',
          headers: {
            authorization: `Bearer ${applicant.token}`,
            'idempotency-key': idempotencyKey(),
            'content-type': 'application/json',
            'x-device-id': `bench-device-${applicant.id.slice(-12)}`,
          },
          body: JSON.stringify({
            product_id: options.productId,
            amount_minor: AMOUNTS[index % AMOUNTS.length],
            term: 1 + (index % 3),
            purpose: 'Stock for the shop',
            declared_monthly_income_minor: 1_500_000,
          }),
        };
      },
      onAnswer: (status, body) => {
        if (status !== 201) return;
        const state = (JSON.parse(body) as { status?: string }).status ?? '?';
        outcomes[state] = (outcomes[state] ?? 0) + 1;
      },
    });
    const waits = await stopSampling();
    const balance = await load({
      ...common,
      next: () => {
        const applicant = applicants[Math.floor(rnd() * applicants.length)]!;
        return {
          method: 'GET',
          path: `/api/v1/wallet/wallet/${applicant.walletId}/balance`,
          headers: { authorization: `Bearer ${applicant.token}` },
        };
      },
    });
    log(
      `${name}: health ${f0(health.rps)} req/s, application ${f0(apply.rps)} req/s (p99 ${f2(apply.p99)} ms), balance ${f0(balance.rps)} req/s`,
    );
    return {
      name,
      health,
      apply,
      balance,
      outcomes,
      applicants: applicants.length,
      used: next,
      bureauCalls: fake?.requests.length ?? 0,
      waits,
    };
  } finally {
    await application.app.close();
    await closeDependencies(deps);
    await started?.close();
  }
}

export async function applyPart(
  admin: AdminConnection,
  options: {
    serverUrl: string;
    redisUrl: string;
    stamp: string;
    quick: boolean;
    seconds?: number;
    connections: number;
    customers?: number;
    /** DATABASE_POOL_SIZE of the API (default 2 × connections + 2). */
    pool?: number;
    keep: boolean;
  },
): Promise<ApplyFigures> {
  const seconds = options.seconds ?? (options.quick ? 5 : 15);
  const warmup = options.quick ? 2 : 3;
  const count = options.customers ?? (options.quick ? 4000 : 12_000);
  const prefix = `cfbench:${options.stamp}:apply:`;
  const db = await scratchDatabase(admin, {
    name: `codeforge_bench_${options.stamp}_apply`,
    serverUrl: options.serverUrl,
    redisUrl: options.redisUrl,
    redisKeyPrefix: prefix,
  });
  try {
    const customers = await seedCustomers(db.pool, db.deps.database.db, db.ledger, {
      count,
      pepper: db.config.HMAC_PEPPER,
    });
    const holders = await prepareCustomers(db.deps, customers);
    const product = await db.pool.query<{ id: string }>(
      `select id from loan_products where code = 'salary-advance'`,
    );
    const productId = product.rows[0]!.id;
    log(`apply: ${f0(count)} customers seeded with funded wallets and national IDs`);
    // Two connections per concurrent application at most (see bench/README.md, "Loans": the submission reads the
    // KYC tier on the pool while holding its transaction, so a pool no larger than the client count deadlocks).
    const pool = options.pool ?? 2 * options.connections + 2;
    const baseEnv = loansEnv({ url: db.url, redisUrl: options.redisUrl, redisKeyPrefix: prefix, pool });
    const half = Math.floor(holders.length / 2);
    const common = {
      baseEnv,
      productId,
      monitor: db.pool,
      connections: options.connections,
      seconds,
      warmup,
    };
    const variants = [
      await runVariant('no bureau (internal score only)', {
        ...common,
        holders: holders.slice(0, half),
        bureau: false,
      }),
      await runVariant('fake Metropol bureau', { ...common, holders: holders.slice(half), bureau: true }),
    ];
    return { connections: options.connections, pool, seconds, warmup, customers: count, variants };
  } finally {
    await db.drop(options.keep);
  }
}

export function applySection(figures: ApplyFigures): string {
  const lines = [
    '## 2. Application → decision over HTTP',
    '',
    `In-process API (\`buildApp\`, DATABASE_POOL_SIZE=${figures.pool}), autocannon in the same process, ${figures.connections} connections, ${figures.seconds} s measured after ${figures.warmup} s of warm-up per run; ${f0(figures.customers)} customers, half per variant, each applying once (\`salary-advance\`: auto-approval up to KES 20,000, amounts KES 2,000–30,000, 1–3 months). Ratios are application req/s ÷ the reference's req/s on the same API, run minutes apart.`,
    '',
    '| variant | request | req/s | ratio to /health/live | ratio to balance read | p50 ms | p99 ms | errors | Node cores (API + autocannon) | PG cores | other cores |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const variant of figures.variants) {
    for (const [label, result] of [
      ['`GET /health/live`', variant.health],
      ['`POST /api/v1/loan/application/add`', variant.apply],
      ['`GET /wallet/wallet/:id/balance`', variant.balance],
    ] as const) {
      const cpu = result.cpu;
      lines.push(
        `| ${variant.name} | ${label} | ${f0(result.rps)} | ${f2(result.rps / variant.health.rps)} | ${f2(result.rps / variant.balance.rps)} | ${f2(result.p50)} | ${f2(result.p99)} | ${errorText(result)} | ${cpu ? f2(cpu.loadgen) : '—'} | ${cpu ? f2(cpu.postgres) : '—'} | ${cpu ? f2(cpu.other) : '—'} |`,
      );
    }
  }
  lines.push('');
  for (const variant of figures.variants)
    lines.push(
      `- ${variant.name}: decisions (every 201, warm-up included) ${Object.entries(variant.outcomes)
        .map(([state, n]) => `${state} ${f0(n)}`)
        .join(
          ', ',
        )}; ${f0(variant.used)} requests for ${f0(variant.applicants)} applicants${variant.used > variant.applicants ? ' (**some applied twice**: their second application meets the open-application rules)' : ''}; bureau calls ${f0(variant.bureauCalls)}. The API's PostgreSQL backends during the application run (average count by state / wait event): ${variant.waits
        .map(([what, n]) => `${what} ${f2(n)}`)
        .join(', ')}.`,
    );
  lines.push('');
  return lines.join('\n');
}
