/**
 * The set-up the reliability suites share: a test database (migrated, seeded, an administrator), a wallet product
 * of our own whose P2P fee rule the model reads back from the database, KYC transaction limits raised out of reach
 * (limits are not what these properties are about; a LIMIT_EXCEEDED would be reported as an unexpected refusal),
 * customers with a PIN and a session, one wallet each, paid in at the teller; and the environment of an API process
 * pointing at the same database and Redis prefix (optionally through the fault proxies).
 */
import assert from 'node:assert/strict';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { LedgerService } from '../../../src/modules/ledger/index.ts';
import type { Executor } from '../../../src/platform/db.ts';
import { bearer, type TestContext } from '../../helpers/app.ts';
import { createCustomer, deposit, TEST_PIN, type TestCustomer } from '../../helpers/money.ts';
import type { FeeRule } from './model.ts';

export { TEST_PIN };

/**
 * The P2P fee of the product under test: 0.3 % plus 5, at least 10, at most 120 (minor units), duty 15 % of the fee.
 * Both roundings meet exact halves (amounts ending in 500; a fee of 10 has a duty of 1.5), so rounding is tested.
 */
export const RELIABILITY_FEE_RULE: FeeRule = { fixed: 5, percent_bps: 30, min: 10, max: 120, tax_bps: 1500 };

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

async function call(t: TestContext, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) {
  return t.app.inject({ method, url, headers: bearer(t.adminToken), ...(payload ? { payload } : {}) });
}

/** Every KES transaction limit of every tier raised out of reach, counts unlimited. */
export async function raiseLimits(t: TestContext): Promise<number> {
  const list = await call(t, 'GET', '/api/v1/policy/transaction?currency=KES');
  assert.equal(list.statusCode, 200, list.body);
  const items = list.json().items as { id: string }[];
  for (const item of items) {
    const patched = await call(t, 'PATCH', `/api/v1/policy/transaction/${item.id}`, {
      max_amount: 1_000_000_000_000,
      max_count: null,
    });
    assert.equal(patched.statusCode, 200, patched.body);
  }
  return items.length;
}

export async function createProduct(t: TestContext, code: string): Promise<{ id: string; rule: FeeRule }> {
  const created = await call(t, 'POST', '/api/v1/wallet/product/add', {
    code,
    name: 'Reliability wallet (KES)',
    currency: 'KES',
    fees: { p2p: RELIABILITY_FEE_RULE },
    limits: {},
    allowed_channels: ['web', 'mobile', 'ussd', 'agent', 'api'],
  });
  assert.equal(created.statusCode, 201, created.body);
  const body = created.json() as { id: string; fees: Record<string, FeeRule> };
  return { id: body.id, rule: body.fees.p2p! };
}

/** The P2P fee rule of a product, read back from the database. */
export async function storedFeeRule(t: TestContext, productId: string): Promise<FeeRule | undefined> {
  const result = await t.deps.database.pool!.query<{ fees: Record<string, FeeRule> }>(
    'select fees from wallet_products where id = $1',
    [productId],
  );
  return result.rows[0]?.fees.p2p;
}

export async function buildWorld(
  t: TestContext,
  options: { wallets: number; opening: (index: number) => number; phonePrefix: string },
): Promise<World> {
  await raiseLimits(t);
  const product = await createProduct(t, 'RELIABILITY_KES');
  const people: Person[] = [];
  const opening = new Map<string, bigint>();
  const open = async (index: number): Promise<Person> => {
    const customer = await createCustomer(
      t,
      `Rel${index}`,
      `${options.phonePrefix}${String(index).padStart(5, '0')}`,
    );
    const created = await call(t, 'POST', '/api/v1/wallet/wallet/create', {
      customer_id: customer.id,
      currency: 'KES',
      product_id: product.id,
    });
    assert.equal(created.statusCode, 201, created.body);
    const wallet = created.json() as { id: string; wallet_number: string };
    const amount = options.opening(index);
    if (amount > 0) await deposit(t, wallet.id, amount);
    opening.set(wallet.id, BigInt(amount));
    return { index, customer, wallet };
  };
  // A few at a time: the round trips overlap, the order of `people` stays the index order.
  for (let start = 0; start < options.wallets; start += 8) {
    const batch = Array.from({ length: Math.min(8, options.wallets - start) }, (_, offset) => start + offset);
    people.push(...(await Promise.all(batch.map(open))));
  }
  return { productId: product.id, feeRule: await storedFeeRule(t, product.id), people, opening };
}

/** The environment of an API process on the test app's database and Redis prefix (URLs may go through proxies). */
export function apiEnvironment(
  t: TestContext,
  urls: { database: string; redis: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: urls.database,
    REDIS_URL: urls.redis,
    REDIS_KEY_PREFIX: t.config.REDIS_KEY_PREFIX,
    AUTO_MIGRATE: 'false',
    WORKER_IN_PROCESS: 'false',
    RATE_LIMIT_MAX: '1000000',
    LOG_LEVEL: 'warn',
    DATABASE_POOL_SIZE: '12',
    ...extra,
  };
}

/** Ledger balances of the given accounts (wallets: credits − debits) read in one statement: one snapshot. */
export async function walletBalances(t: TestContext, ids: string[]): Promise<Map<string, bigint>> {
  const result = await t.deps.database.pool!.query<{ id: string; balance: string }>(
    'select id, (credits_posted - debits_posted)::text as balance from ledger_accounts where id = any($1::uuid[])',
    [ids],
  );
  return new Map(result.rows.map((row) => [row.id, BigInt(row.balance)]));
}

/** Fee income and duty payable of a currency including the deltas not yet rolled up (one statement). */
export async function houseIncome(t: TestContext, currency = 'KES'): Promise<{ fee: bigint; duty: bigint }> {
  const result = await t.deps.database.pool!.query<{ code: string; balance: string }>(
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

/**
 * A pool of the harness's own for work done while faults are going on (the snapshot reader, the roll-up the worker
 * would run). A node-postgres client whose connection dies while checked out emits 'error'; without a listener that
 * is an uncaught exception, so every client gets one here (the query itself still fails and is counted).
 */
export function harnessDatabase(url: string): {
  pool: pg.Pool;
  ledger: LedgerService;
  close: () => Promise<void>;
} {
  const pool = new pg.Pool({ connectionString: url, max: 3, connectionTimeoutMillis: 3000 });
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const ledger = new LedgerService(drizzle({ client: pool }) as unknown as Executor);
  return { pool, ledger, close: () => pool.end().catch(() => {}) };
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
 * running, and the test runner would wait for ever), says what is still open. The timer itself does not keep it alive.
 */
export function reportIfStillAlive(suite: string, ms = 15_000): void {
  const cpu = process.cpuUsage();
  setTimeout(() => {
    const used = process.cpuUsage(cpu);
    // stderr: the test runner may no longer be reading this file's stdout.
    process.stderr.write(
      `# ${suite}: still running ${ms / 1000} s after cleanup; open: ${process.getActiveResourcesInfo().join(', ')}; ` +
        `cpu ${((used.user + used.system) / 1000).toFixed(0)} ms\n`,
    );
  }, ms).unref();
}
