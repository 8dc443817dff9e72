/**
 * Hot house accounts: does charging every transfer a fee to ONE account serialise the ledger? Runs the posting
 * function directly (no HTTP) with N clients on a scratch database and compares, in the same run:
 *   random    — transfers between random wallets, no fee;
 *   deferred  — the same plus a fee leg to the fee-income account as shipped (deferred: append-only deltas);
 *   hot-row   — the same plus a fee leg to a plain (row-updated) income account, the design we rejected.
 * Target (ISSUE 5 / PERFORMANCE.md): deferred ≥ 0.9 × random. Usage:
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node bench/ledger-hot-account.ts [clients] [seconds]
 * Writes bench/results/<date>-ledger-hot-account.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { LedgerService } from '../src/modules/ledger/index.ts';
import { inTransaction, openDatabase, runMigrations } from '../src/platform/db.ts';

const CLIENTS = Number(process.argv[2] ?? 16);
const SECONDS = Number(process.argv[3] ?? 10);
const WALLETS = 2_000;

async function main() {
  const base = process.env.DATABASE_URL;
  if (!base)
    throw new Error('DATABASE_URL must point at a PostgreSQL server (a scratch database is created on it)');
  const name = `cf_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const database = await openDatabase({
    url: url.toString(),
    dataDir: '',
    poolSize: CLIENTS + 2,
    statementTimeoutMs: 0,
  });
  try {
    await runMigrations(database);
    const ledger = new LedgerService(database.db);
    await ledger.ensureHouseAccounts('KES');
    const deferredFees = await ledger.houseAccount('fee_income:KES');
    const hotRow = await ledger.houseAccount('bench_fee_row:KES', {
      name: 'Row-updated fees',
      kind: 'income',
      deferred: false,
    });
    const cash = await ledger.houseAccount('capital:KES');
    const wallets: string[] = [];
    await inTransaction(database.db, async (tx) => {
      for (let index = 0; index < WALLETS; index += 1) {
        const account = await ledger.createAccount(tx, {
          name: 'bench',
          currency: 'KES',
          kind: 'liability',
          debitsMustNotExceedCredits: true,
        });
        wallets.push(account.id);
      }
    });
    for (let start = 0; start < WALLETS; start += 200) {
      await inTransaction(database.db, (tx) =>
        ledger.post(tx, {
          key: `fund:${start}`,
          code: 'funding',
          legs: wallets
            .slice(start, start + 200)
            .map((id) => ({ debit: cash, credit: id, amount: 100_000_000n, code: 'principal' })),
        }),
      );
    }
    const scenarios: [string, string | null][] = [
      ['random', null],
      ['deferred', deferredFees],
      ['hot-row', hotRow],
    ];
    const results: { scenario: string; tps: number; p50: number; p99: number; errors: number }[] = [];
    for (const [scenario, feeAccount] of scenarios) {
      results.push({ scenario, ...(await run(ledger, database.db, wallets, feeAccount)) });
      process.stdout.write(`${scenario}: ${results.at(-1)!.tps.toFixed(0)} tps\n`);
    }
    await ledger.rollUp();
    const verification = await ledger.verify();
    const random = results[0]!.tps;
    const lines = [
      `# Ledger hot-account benchmark (${new Date().toISOString()})`,
      '',
      `PostgreSQL, ${CLIENTS} clients, ${SECONDS} s per scenario, ${WALLETS} wallets; one posting = one round trip to \`ledger_post\` inside BEGIN/COMMIT.`,
      '',
      '| scenario | tps | ratio to random | p50 ms | p99 ms | errors |',
      '|---|---|---|---|---|---|',
      ...results.map(
        (row) =>
          `| ${row.scenario} | ${row.tps.toFixed(0)} | ${(row.tps / random).toFixed(2)} | ${row.p50.toFixed(2)} | ${row.p99.toFixed(2)} | ${row.errors} |`,
      ),
      '',
      `ledger-verify after the run: ${verification.ok ? 'clean' : `BROKEN ${JSON.stringify(verification)}`}`,
      '',
      'Target: deferred ≥ 0.90 × random (fees must not serialise throughput).',
      '',
    ];
    const output = lines.join('\n');
    process.stdout.write(`\n${output}`);
    const directory = join(import.meta.dirname, 'results');
    mkdirSync(directory, { recursive: true });
    writeFileSync(join(directory, `${new Date().toISOString().slice(0, 10)}-ledger-hot-account.md`), output);
  } finally {
    await database.close();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

async function run(
  ledger: LedgerService,
  db: Parameters<typeof inTransaction>[0],
  wallets: string[],
  feeAccount: string | null,
) {
  const deadline = Date.now() + SECONDS * 1000;
  const latencies: number[] = [];
  let errors = 0;
  let sequence = 0;
  const client = async () => {
    while (Date.now() < deadline) {
      const from = wallets[Math.floor(Math.random() * wallets.length)]!;
      let to = wallets[Math.floor(Math.random() * wallets.length)]!;
      if (to === from) to = wallets[(wallets.indexOf(from) + 1) % wallets.length]!;
      const legs = [{ debit: from, credit: to, amount: 100n, code: 'principal' }];
      if (feeAccount) legs.push({ debit: from, credit: feeAccount, amount: 1n, code: 'fee' });
      const started = performance.now();
      try {
        sequence += 1;
        await inTransaction(db, (tx) =>
          ledger.post(tx, { key: `bench:${process.pid}:${sequence}:${Math.random()}`, code: 'p2p', legs }),
        );
        latencies.push(performance.now() - started);
      } catch {
        errors += 1;
      }
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (fraction: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * fraction))] ?? 0;
  return { tps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors };
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
