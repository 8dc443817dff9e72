/**
 * Part 1 of `npm run bench:loans`: close of business over a portfolio of N active loans (bench/loans-portfolio.ts),
 * run by the real `CloseOfBusiness` in a child process (bench/loans-cob-child.ts) for one business date, against, in
 * the same run on the same rows, a plain SQL `UPDATE` of every loan's `last_cob_date`, `days_past_due` and
 * `arrears_bucket` computed from its instalments (taken before the close with the rows reset afterwards, and again
 * after it). The figure is loans/s and COB time ÷ UPDATE time; memory is the child's RSS (sampled every 100 ms and
 * `resourceUsage().maxRSS`), measured at N and at N/10 on separate databases so "flat in portfolio size" shows.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type pg from 'pg';
import { addDays } from '../src/modules/loans/loans.calendar.ts';
import { CloseOfBusiness } from '../src/modules/loans/loans.cob.ts';
import type { AdminConnection } from './lib/admin.ts';
import { between, type CpuUse, snapshot } from './lib/cpu.ts';
import { type ProfileSummary, summariseProfile } from './lib/cpuprofile.ts';
import { f0, f1, f2, log } from './lib/format.ts';
import { seedCustomers } from './lib/seed.ts';
import type { CobChildResult } from './loans-cob-child.ts';
import { type PortfolioFacts, seedPortfolio } from './loans-portfolio.ts';
import { loansEnv, type ScratchDatabase, scratchDatabase } from './loans-setup.ts';

export interface CobSize {
  loans: number;
  facts: PortfolioFacts;
  child: CobChildResult;
  cpu: CpuUse;
  updateSeconds: number[];
  updatePgCpu: number[];
  after: Record<string, string>;
  ledger: string;
  /** Per loan closed: commits and rows inserted/updated/deleted per table (pg_stat deltas over the run). */
  work: { commits: number; rows: [string, number][] };
  profile?: ProfileSummary;
}

/** The reference: one statement over the same loans, what a set-based close computing only arrears would cost. */
const REFERENCE_UPDATE = `
  update loans l set last_cob_date = $1::date,
    days_past_due = coalesce($1::date - o.oldest, 0),
    arrears_bucket = case when o.oldest is null then 'current' when $1::date - o.oldest <= 30 then '1-30'
      when $1::date - o.oldest <= 60 then '31-60' when $1::date - o.oldest <= 90 then '61-90' else '90+' end,
    updated_at = now()
  from (select l2.id, (select min(i.due_date) from loan_instalments i
          where i.loan_id = l2.id and i.due_date < $1::date and i.status <> 'paid') as oldest
        from loans l2 where l2.status = 'active') o
  where l.id = o.id`;

async function pidsOf(pool: pg.Pool): Promise<number[]> {
  const result = await pool.query<{ pid: number }>(
    'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
  );
  return result.rows.map((row) => row.pid);
}

/** Times the reference UPDATE on one connection, with that backend's CPU (seconds). */
async function referenceUpdate(pool: pg.Pool, date: string): Promise<{ seconds: number; pgCpu: number }> {
  const client = await pool.connect();
  try {
    const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    const before = snapshot([], [pid]);
    const started = performance.now();
    const result = await client.query(REFERENCE_UPDATE, [date]);
    const seconds = (performance.now() - started) / 1000;
    const cpu = between(before, snapshot([], [pid]));
    if (!result.rowCount) throw new Error('the reference UPDATE touched no row');
    return { seconds, pgCpu: cpu.postgres * cpu.seconds };
  } finally {
    client.release();
  }
}

/** Commits of the database and rows written per table so far (statistics are flushed within a second). */
async function databaseWork(pool: pg.Pool): Promise<{ commits: number; rows: Map<string, number> }> {
  await new Promise((resolve) => setTimeout(resolve, 1200));
  const commits = await pool.query<{ n: string }>(
    'select xact_commit::text as n from pg_stat_database where datname = current_database()',
  );
  const tables = await pool.query<{ name: string; n: string }>(
    'select relname as name, (n_tup_ins + n_tup_upd + n_tup_del)::text as n from pg_stat_user_tables',
  );
  return {
    commits: Number(commits.rows[0]!.n),
    rows: new Map(tables.rows.map((row) => [row.name, Number(row.n)])),
  };
}

async function runChild(
  db: ScratchDatabase,
  date: string,
  batchSize: number,
  profileDir: string | null,
): Promise<{ result: CobChildResult; cpu: CpuUse; exitedAt: number }> {
  const others = new Set(await pidsOf(db.pool));
  const env = loansEnv({
    url: db.url,
    redisUrl: db.env.REDIS_URL!,
    redisKeyPrefix: db.env.REDIS_KEY_PREFIX!,
    pool: 2,
  });
  const child = spawn(
    process.execPath,
    [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      `${import.meta.dirname}/loans-cob-child.ts`,
      JSON.stringify(env),
      date,
      String(batchSize),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  child.stderr.on('data', (chunk: Buffer) => process.stdout.write(chunk));
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  let before: ReturnType<typeof snapshot> | undefined;
  let pgPids: number[] = [];
  let result: CobChildResult | undefined;
  let cpu: CpuUse | undefined;
  for await (const line of lines) {
    const message = JSON.parse(line) as { ready?: boolean; result?: CobChildResult };
    if (message.ready) {
      pgPids = (await pidsOf(db.pool)).filter((pid) => !others.has(pid));
      before = snapshot([child.pid!], pgPids);
      child.stdin.write('go\n');
    } else if (message.result) {
      cpu = between(before!, snapshot([child.pid!], pgPids));
      result = message.result;
    }
  }
  const code = await exited;
  if (!result || !cpu) throw new Error(`close of business child exited with ${code} and no result`);
  return { result, cpu, exitedAt: Date.now() };
}

async function stateAfter(pool: pg.Pool, date: string): Promise<Record<string, string>> {
  const one = async (text: string, values: unknown[] = []) =>
    String((await pool.query<{ n: string }>(text, values)).rows[0]?.n ?? '0');
  return {
    'loans closed for D': await one(`select count(*) as n from loans where last_cob_date = $1`, [date]),
    'interest accruals posted': await one(
      `select count(*) as n from loan_transactions where type = 'interest_accrual' and business_date = $1`,
      [date],
    ),
    'penalties posted': await one(
      `select count(*) as n from loan_transactions where type = 'penalty' and business_date = $1`,
      [date],
    ),
    'instalments overdue': await one(`select count(*) as n from loan_instalments where status = 'overdue'`),
    'reminders recorded': await one(`select count(*) as n from loan_reminders_sent where date = $1`, [date]),
    'notifications queued': await one(`select count(*) as n from notifications`),
    'open collection cases': await one(
      `select count(*) as n from loan_collection_cases where status = 'open'`,
    ),
    'loans by bucket': (
      await pool.query<{ b: string; n: string }>(
        'select arrears_bucket as b, count(*) as n from loans group by 1 order by 1',
      )
    ).rows
      .map((row) => `${row.b} ${row.n}`)
      .join(', '),
  };
}

export async function cobSize(
  admin: AdminConnection,
  options: {
    serverUrl: string;
    redisUrl: string;
    stamp: string;
    loans: number;
    batchSize: number;
    keep: boolean;
    /** A CPU profile of the child (--cpu-prof), summarised. */
    profile: boolean;
  },
): Promise<CobSize> {
  const date = CloseOfBusiness.previousBusinessDate();
  const name = `codeforge_bench_${options.stamp}_cob${options.loans}`;
  const db = await scratchDatabase(admin, {
    name,
    serverUrl: options.serverUrl,
    redisUrl: options.redisUrl,
    redisKeyPrefix: `cfbench:${options.stamp}:cob${options.loans}:`,
  });
  try {
    log(`${name}: migrated and seeded by the app`);
    const customers = await seedCustomers(db.pool, db.deps.database.db, db.ledger, {
      count: Math.max(200, Math.ceil(options.loans / 4)),
      pepper: db.config.HMAC_PEPPER,
    });
    const facts = await seedPortfolio(db.pool, db.deps.database.db, db.ledger, {
      count: options.loans,
      customers,
      businessDate: date,
      log: (text) => log(`  ${text}`),
    });
    await db.pool.query('vacuum analyze');
    log(
      `${name}: ${f0(facts.loans)} loans, ${f0(facts.instalments)} instalments seeded (${f1(facts.seconds)} s)`,
    );
    // The reference first, then the rows as they were (and vacuumed, so the close finds no dead versions).
    await db.pool.query(
      'create table bench_loans_saved as select id, last_cob_date, days_past_due, arrears_bucket, updated_at from loans',
    );
    const first = await referenceUpdate(db.pool, date);
    await db.pool.query(
      `update loans l set last_cob_date = s.last_cob_date, days_past_due = s.days_past_due,
         arrears_bucket = s.arrears_bucket, updated_at = s.updated_at
       from bench_loans_saved s where s.id = l.id`,
    );
    await db.pool.query('vacuum analyze loans');
    log(`reference UPDATE: ${f2(first.seconds)} s; close of business for ${date} …`);
    const profileDir = options.profile ? mkdtempSync(join(tmpdir(), 'cf-cob-prof-')) : null;
    const workBefore = await databaseWork(db.pool);
    const { result, cpu, exitedAt } = await runChild(db, date, options.batchSize, profileDir);
    const workAfter = await databaseWork(db.pool);
    const per = Math.max(1, result.processed);
    const work = {
      commits: (workAfter.commits - workBefore.commits) / per,
      rows: [...workAfter.rows]
        .map(([table, n]): [string, number] => [table, (n - (workBefore.rows.get(table) ?? 0)) / per])
        .filter(([, n]) => n >= 0.005)
        .sort((a, b) => b[1] - a[1]),
    };
    let profile: ProfileSummary | undefined;
    if (profileDir) {
      const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
      if (file)
        profile = summariseProfile(join(profileDir, file), 15, {
          startBeforeEndMs: exitedAt - result.runStartedAt,
          endBeforeEndMs: exitedAt - result.runEndedAt,
        });
      rmSync(profileDir, { recursive: true, force: true });
    }
    log(
      `close of business: ${f0(result.processed)} loans in ${f1(result.seconds)} s (${f0(result.processed / result.seconds)} loans/s), ${result.failed} failed`,
    );
    const after = await stateAfter(db.pool, date);
    const second = await referenceUpdate(db.pool, date);
    const verify = await db.ledger.verify();
    const ledger = verify.ok
      ? 'clean'
      : `**BROKEN**: ${verify.unbalancedCurrencies.length} currencies, ${verify.accountMismatches.length} accounts, ${verify.negativeGuarded.length} negative, ${verify.unbalancedTransfers.length} transfers`;
    return {
      loans: options.loans,
      facts,
      child: result,
      cpu,
      updateSeconds: [first.seconds, second.seconds],
      updatePgCpu: [first.pgCpu, second.pgCpu],
      after,
      ledger,
      work,
      profile,
    };
  } finally {
    await db.drop(options.keep);
  }
}

const mib = (bytes: number) => f0(bytes / 1024 / 1024);

export function cobSection(sizes: CobSize[], date: string): string {
  const lines = [
    `## 1. Close of business (business date ${date}, one day after ${addDays(date, -1)}'s close)`,
    '',
    '| loans | COB s | loans/s | ref. UPDATE s (before / after) | COB ÷ UPDATE | Node CPU ms/loan | PG CPU ms/loan | other cores | RSS before run MiB | peak RSS MiB (sampled) | maxRSS MiB | RSS at 10/50/90 % MiB | peak heap MiB | failed | rerun | ledger-verify |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const size of sizes) {
    const c = size.child;
    const reference = (size.updateSeconds[0]! + size.updateSeconds[1]!) / 2;
    const perLoan = (cores: number) => f2((cores * size.cpu.seconds * 1000) / Math.max(1, c.processed));
    lines.push(
      `| ${f0(size.loans)} | ${f1(c.seconds)} | ${f0(c.processed / c.seconds)} | ${f2(size.updateSeconds[0]!)} / ${f2(size.updateSeconds[1]!)} | ${f0(c.seconds / reference)}× | ${perLoan(size.cpu.api)} | ${perLoan(size.cpu.postgres)} | ${f2(size.cpu.other)} | ${mib(c.baselineRss)} | ${mib(c.peakRss)} | ${mib(c.maxRss)} | ${c.rssAt.map(mib).join(' / ')} | ${mib(c.peakHeapUsed)} | ${c.failed} | ${f2(c.rerunSeconds)} s (${c.rerunStatus}) | ${size.ledger} |`,
    );
  }
  lines.push('');
  for (const size of sizes) {
    const facts = size.facts;
    lines.push(
      `**${f0(size.loans)} loans** (seeded in ${f1(facts.seconds)} s): ${f0(facts.instalments)} instalments; ` +
        `${Object.entries(facts.byProduct)
          .map(([code, n]) => `${code} ${f0(n)}`)
          .join(', ')}; ${f0(facts.dailyLoans)} on daily interest; before D: ${Object.entries(facts.byBucket)
          .map(([bucket, n]) => `${bucket} ${f0(n)}`)
          .join(', ')}. After the close: ${Object.entries(size.after)
          .map(([label, value]) => `${label} ${value}`)
          .join('; ')}. Reference UPDATE PostgreSQL CPU ${size.updatePgCpu.map(f2).join(' / ')} s. ` +
        (size.child.failures.length > 0 ? `First failures: ${JSON.stringify(size.child.failures)}.` : ''),
      '',
    );
  }
  if (sizes.length === 2) {
    const [small, large] = sizes as [CobSize, CobSize];
    const growth = (size: CobSize) => mib(size.child.peakRss - size.child.baselineRss);
    lines.push(
      `Memory: peak RSS ${mib(small.child.peakRss)} MiB at ${f0(small.loans)} loans, ${mib(large.child.peakRss)} MiB at ${f0(large.loans)} ` +
        `(×${f2(large.child.peakRss / small.child.peakRss)} for ×${f0(large.loans / small.loans)} the loans; above the composed process ` +
        `before the run: +${growth(small)} MiB and +${growth(large)} MiB). Throughput ${f0(small.child.processed / small.child.seconds)} vs ${f0(large.child.processed / large.child.seconds)} loans/s.`,
      '',
    );
  }
  for (const size of sizes)
    lines.push(
      `Database work per loan closed at ${f0(size.loans)} loans: ${f2(size.child.statements / Math.max(1, size.child.processed))} statements (counted at the pg client, BEGIN/COMMIT included), ${f2(size.work.commits)} commits; rows written (inserted + updated + deleted) ${size.work.rows
        .map(([table, n]) => `${table} ${f2(n)}`)
        .join(', ')}.`,
      '',
    );
  const profiled = sizes.find((size) => size.profile);
  if (profiled?.profile) {
    const profile = profiled.profile;
    const cell = (text: string) => text.replaceAll('|', '\\|');
    lines.push(
      `CPU profile of the close of business at ${f0(profiled.loans)} loans (\`--profile\`; ${f0(profile.busyMs)} ms busy of ${f0(profile.totalMs)} ms):`,
      '',
      '| origin | ms | share |',
      '|---|---|---|',
      ...profile.origins.map((o) => `| ${cell(o.origin)} | ${f0(o.ms)} | ${f0(o.share * 100)} % |`),
      '',
      '| function (self time) | origin | ms | share |',
      '|---|---|---|---|',
      ...profile.functions.map(
        (fn) => `| ${cell(fn.name)} | ${cell(fn.origin)} | ${f0(fn.ms)} | ${f0(fn.share * 100)} % |`,
      ),
      '',
    );
  }
  return lines.join('\n');
}
