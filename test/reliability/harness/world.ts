/**
 * The set-up the reliability suites share, all of it through a real API process (no application is built inside
 * the test process: it would cost as much CPU as another node):
 *
 * - a test database of its own (created empty, dropped at the end), migrated and seeded by the first API process
 *   (AUTO_MIGRATE for that life only), with an administrator whose password the harness chose;
 * - a wallet product of our own whose P2P fee rule the model reads back from the database, and every KES transaction
 *   limit raised out of reach (limits are not what these properties are about: a LIMIT_EXCEEDED is reported as an
 *   unexpected refusal);
 * - customers with a PIN and a session, one wallet each, paid in at the teller;
 * - a database pool of the harness's own for the checks (ledger-verify, balances in one statement).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { LedgerService } from '../../../src/modules/ledger/index.ts';
import type { Executor } from '../../../src/platform/db.ts';
import { createTestDatabase } from '../../helpers/databases.ts';
import type { ApiProcess } from './api-process.ts';
import { type Answer, call } from './client.ts';
import type { FeeRule } from './model.ts';

/** The customers' transaction PIN (as in test/helpers/money.ts). */
export const TEST_PIN = '5827';

/** A fresh administrator password per run (the policy refuses guessable ones). */
const ADMIN_PASSWORD = `Qz7-${randomBytes(12).toString('base64url')}-wallet`;

/**
 * The P2P fee of the product under test: 0.3 % plus 5, at least 10, at most 120 (minor units), duty 15 % of the fee.
 * Both roundings meet exact halves (amounts ending in 500; a fee of 10 has a duty of 1.5), so rounding is tested.
 */
export const RELIABILITY_FEE_RULE: FeeRule = {
  fixed_minor: 5,
  percent_bps: 30,
  min_minor: 10,
  max_minor: 120,
  tax_bps: 1500,
};

export interface HarnessDatabase {
  url: string;
  pool: pg.Pool;
  ledger: LedgerService;
  close: () => Promise<void>;
}

/**
 * A pool of the harness's own. A node-postgres client whose connection dies while checked out emits 'error';
 * without a listener that is an uncaught exception, so every client gets one here (the query itself still fails).
 */
export function harnessDatabase(url: string): HarnessDatabase {
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 3000 });
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const ledger = new LedgerService(drizzle({ client: pool }) as unknown as Executor);
  return { url, pool, ledger, close: () => pool.end().catch(() => {}) };
}

/**
 * The suites need a shared PostgreSQL and Redis: they are defined only when TEST_DATABASE_URL (or DATABASE_URL) and
 * REDIS_URL are set, as CI always does.
 */
export { sharedServices } from '../../helpers/databases.ts';

/** The system under test as the harness sees it: its database, its Redis prefix, an administrator's token. */
export interface Bank {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  db: HarnessDatabase;
  adminToken: string;
  /** For `after`: closes the harness pool and drops the database. */
  close: () => Promise<void>;
}

/** An empty database and a Redis prefix for one suite; `adminToken` is set by `signIn`. */
export async function createBank(): Promise<Bank> {
  const database = await createTestDatabase('cf_rel');
  if (!database) throw new Error('TEST_DATABASE_URL is required');
  if (!process.env.REDIS_URL) throw new Error('REDIS_URL is required');
  const db = harnessDatabase(database.url);
  return {
    databaseUrl: database.url,
    redisUrl: process.env.REDIS_URL,
    redisPrefix: `cfr:${randomBytes(4).toString('hex')}:`,
    db,
    adminToken: '',
    close: async () => {
      await db.close();
      await database.drop();
    },
  };
}

/** The environment of an API process on the bank's database and Redis prefix (URLs may go through proxies). */
export function apiEnvironment(
  bank: Bank,
  urls: { database: string; redis: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: urls.database,
    REDIS_URL: urls.redis,
    REDIS_KEY_PREFIX: bank.redisPrefix,
    AUTO_MIGRATE: 'false',
    WORKER_IN_PROCESS: 'false',
    RATE_LIMIT_MAX: '1000000',
    LOG_LEVEL: 'warn',
    DATABASE_POOL_SIZE: '12',
    ADMIN_EMAIL: 'admin@reliability.test',
    ADMIN_PASSWORD,
    ...extra,
  };
}

/** The environment of the first life of the first process: it migrates, seeds and creates the administrator. */
export const FIRST_START = { AUTO_MIGRATE: 'true' };

function ok(answer: Answer, status: number, what: string): Extract<Answer, { kind: 'http' }> {
  assert.equal(answer.kind, 'http', `${what}: ${answer.kind === 'error' ? answer.error : ''}`);
  const response = answer as Extract<Answer, { kind: 'http' }>;
  assert.equal(response.status, status, `${what}: ${response.body}`);
  return response;
}

/** Signs the administrator in through `api` and keeps the token on the bank. */
export async function signIn(bank: Bank, api: ApiProcess): Promise<string> {
  const answer = ok(
    await call(api.url, 'POST', '/api/v1/auth/login', {
      body: { username: 'admin', password: ADMIN_PASSWORD },
    }),
    200,
    'administrator login',
  );
  bank.adminToken = (JSON.parse(answer.body) as { access_token: string }).access_token;
  return bank.adminToken;
}

export interface TestCustomer {
  id: string;
  phone: string;
  token: string;
}

export interface Person {
  index: number;
  customer: TestCustomer;
  wallet: { id: string; wallet_number: string };
}

export interface World {
  productId: string;
  /** The fee rule as stored in the database (what the model uses). */
  feeRule: FeeRule | undefined;
  people: Person[];
  /** wallet id → balance after the opening deposit */
  opening: Map<string, bigint>;
}

/** Cash paid in by the administrator acting as teller. */
export async function deposit(bank: Bank, api: ApiProcess, walletId: string, amount: number): Promise<void> {
  ok(
    await call(api.url, 'POST', '/api/v1/wallet/transaction/deposit', {
      token: bank.adminToken,
      key: `deposit-${randomUUID()}`,
      body: { wallet_id: walletId, amount, currency: 'KES' },
    }),
    201,
    'teller deposit',
  );
}

export async function buildWorld(
  bank: Bank,
  api: ApiProcess,
  options: { wallets: number; opening: (index: number) => number; phonePrefix: string },
): Promise<World> {
  const admin = (method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown) =>
    call(api.url, method, path, { token: bank.adminToken, body, timeoutMs: 60_000 });

  // Every KES transaction limit of every tier out of reach, counts unlimited.
  const limits = ok(await admin('GET', '/api/v1/policy/transaction?currency=KES'), 200, 'limits');
  for (const item of (JSON.parse(limits.body) as { items: { id: string }[] }).items)
    ok(
      await admin('PATCH', `/api/v1/policy/transaction/${item.id}`, {
        max_amount_minor: 1_000_000_000_000,
        max_count: null,
      }),
      200,
      'raise a limit',
    );
  const product = ok(
    await admin('POST', '/api/v1/wallet/product/add', {
      code: 'RELIABILITY_KES',
      name: 'Reliability wallet (KES)',
      currency: 'KES',
      fees: { p2p: RELIABILITY_FEE_RULE },
      limits: {},
      allowed_channels: ['web', 'mobile', 'ussd', 'agent', 'api'],
    }),
    201,
    'wallet product',
  );
  const productId = (JSON.parse(product.body) as { id: string }).id;

  const opening = new Map<string, bigint>();
  const open = async (index: number): Promise<Person> => {
    const phone = `${options.phonePrefix}${String(index).padStart(5, '0')}`;
    const created = ok(
      await admin('POST', '/api/v1/customer/customer/add', {
        first_name: `Rel${index}`,
        last_name: 'Test',
        phone,
      }),
      201,
      'customer',
    );
    const id = (JSON.parse(created.body) as { id: string }).id;
    ok(
      await admin('POST', '/api/v1/customer/credentials/pin', { customer_id: id, pin: TEST_PIN }),
      204,
      'PIN',
    );
    const session = ok(
      await call(api.url, 'POST', '/api/v1/auth/customer/login', { body: { phone, pin: TEST_PIN } }),
      200,
      'customer login',
    );
    const wallet = ok(
      await admin('POST', '/api/v1/wallet/wallet/create', {
        customer_id: id,
        currency: 'KES',
        product_id: productId,
      }),
      201,
      'wallet',
    );
    const { id: walletId, wallet_number } = JSON.parse(wallet.body) as { id: string; wallet_number: string };
    const amount = options.opening(index);
    if (amount > 0) await deposit(bank, api, walletId, amount);
    opening.set(walletId, BigInt(amount));
    return {
      index,
      customer: { id, phone, token: (JSON.parse(session.body) as { access_token: string }).access_token },
      wallet: { id: walletId, wallet_number },
    };
  };
  // A few at a time: the round trips overlap; `people` stays in index order.
  const people: Person[] = [];
  for (let start = 0; start < options.wallets; start += 8) {
    const batch = Array.from({ length: Math.min(8, options.wallets - start) }, (_, offset) => start + offset);
    people.push(...(await Promise.all(batch.map(open))));
  }
  const rule = await bank.db.pool.query<{ fees: Record<string, FeeRule> }>(
    'select fees from wallet_products where id = $1',
    [productId],
  );
  return { productId, feeRule: rule.rows[0]?.fees.p2p, people, opening };
}

/** Ledger balances of the given accounts (wallets: credits − debits) read in one statement: one snapshot. */
export async function walletBalances(bank: Bank, ids: string[]): Promise<Map<string, bigint>> {
  const result = await bank.db.pool.query<{ id: string; balance: string }>(
    'select id, (credits_posted - debits_posted)::text as balance from ledger_accounts where id = any($1::uuid[])',
    [ids],
  );
  return new Map(result.rows.map((row) => [row.id, BigInt(row.balance)]));
}

/** Fee income and duty payable of a currency including the deltas not yet rolled up (one statement). */
export async function houseIncome(bank: Bank, currency = 'KES'): Promise<{ fee: bigint; duty: bigint }> {
  const result = await bank.db.pool.query<{ code: string; balance: string }>(
    `select a.code,
        (a.credits_posted - a.debits_posted
          + coalesce((select sum(d.credits) - sum(d.debits) from ledger_deferred_deltas d where d.account_id = a.id), 0)
        )::text as balance
      from ledger_accounts a where a.code = any($1::text[])`,
    [[`fee_income:${currency}`, `tax_payable:${currency}`]],
  );
  const of = (code: string) => BigInt(result.rows.find((row) => row.code === code)?.balance ?? '0');
  return { fee: of(`fee_income:${currency}`), duty: of(`tax_payable:${currency}`) };
}

/** Runs `step`, giving up after `ms` (for `after` hooks that must not hang on a broken dependency). */
export async function bounded(label: string, ms: number, step: () => Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      step(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${label} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } catch (error) {
    process.stdout.write(`# cleanup: ${label}: ${(error as Error).message}\n`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * For the end of `after`: if the process is still alive `ms` later (something left open keeps the event loop
 * running, and the test runner would wait for ever), says what is still open, and `ms` after that ends the process
 * (with the exit code the test runner set: a failed test stays failed). The timers themselves do not keep it alive.
 */
export function reportIfStillAlive(suite: string, ms = 15_000): void {
  const cpu = process.cpuUsage();
  setTimeout(() => {
    const used = process.cpuUsage(cpu);
    // stderr: the test runner may no longer be reading this file's stdout.
    process.stderr.write(
      `# ${suite}: still running ${ms / 1000} s after cleanup; open: ${process.getActiveResourcesInfo().join(', ')}; ` +
        `cpu ${((used.user + used.system) / 1000).toFixed(0)} ms; exiting in ${ms / 1000} s\n`,
    );
    setTimeout(() => process.exit(), ms).unref();
  }, ms).unref();
}
