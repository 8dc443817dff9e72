/**
 * The done-when for the money path: 20 concurrent clients make 2,000 random transfers among 50 wallets on the
 * real database; afterwards the ledger verifies, money is conserved to the minor unit, no request failed with a 5xx,
 * and every idempotency key was applied exactly once (replays return the stored answer and move nothing).
 * MONEY_CONCURRENCY_TRANSFERS raises the count for soak runs. The seed is printed; MONEY_CONCURRENCY_SEED repeats it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, count, eq } from 'drizzle-orm';
import { transactions } from '../../src/modules/transactions/transactions.tables.ts';
import { startTestApp, type TestContext } from '../helpers/app.ts';
import {
  balanceOf,
  createCustomer,
  deposit,
  openWallet,
  TEST_PIN,
  type TestCustomer,
  type TestWallet,
} from '../helpers/money.ts';

const WALLETS = 50;
const CLIENTS = 20;
// The done-when figure on PostgreSQL; a shorter run on the single-connection embedded database.
const TRANSFERS = Number(
  process.env.MONEY_CONCURRENCY_TRANSFERS ?? (process.env.TEST_DATABASE_URL ? 2000 : 300),
);
const OPENING = 200_000;
const SEED = Number(process.env.MONEY_CONCURRENCY_SEED ?? Date.now() % 1_000_000);

/** mulberry32: a small seeded generator so a failing run can be repeated. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

interface Sent {
  key: string;
  sender: number;
  payload: { to_wallet_number: string; amount: number; currency: string; pin: string };
  status: number;
  body: string;
}

describe(`money under concurrency (seed ${SEED})`, () => {
  let t: TestContext;
  const people: { customer: TestCustomer; wallet: TestWallet }[] = [];

  before(async () => {
    process.stdout.write(`# money-concurrency seed ${SEED} (MONEY_CONCURRENCY_SEED=${SEED} repeats it)\n`);
    t = await startTestApp({ DATABASE_POOL_SIZE: '20' });
    for (let index = 0; index < WALLETS; index += 1) {
      const customer = await createCustomer(t, `Client${index}`, `+2547440${String(index).padStart(5, '0')}`);
      const wallet = await openWallet(t, customer.id);
      await deposit(t, wallet.id, OPENING);
      people.push({ customer, wallet });
    }
  });
  after(async () => t.close());

  test(`${CLIENTS} clients, ${TRANSFERS} random transfers among ${WALLETS} wallets`, async () => {
    const next = random(SEED);
    const plan = Array.from({ length: TRANSFERS }, (_, index) => {
      const sender = Math.floor(next() * WALLETS);
      let receiver = Math.floor(next() * (WALLETS - 1));
      if (receiver >= sender) receiver += 1;
      const amount = 1 + Math.floor(next() * 20_000);
      return {
        key: `conc-${SEED}-${index}`,
        sender,
        payload: {
          to_wallet_number: people[receiver]!.wallet.wallet_number,
          amount,
          currency: 'KES',
          pin: TEST_PIN,
        },
      };
    });
    const sent: Sent[] = [];
    let cursor = 0;
    const send = async (item: (typeof plan)[number]) => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/wallet/transaction/transfer',
        headers: {
          authorization: `Bearer ${people[item.sender]!.customer.token}`,
          'idempotency-key': item.key,
        },
        payload: item.payload,
      });
      return { ...item, status: response.statusCode, body: response.body };
    };
    const client = async (id: number) => {
      for (;;) {
        const index = cursor;
        cursor += 1;
        if (index >= plan.length) return;
        sent.push(await send(plan[index]!));
        // Every fifth step a client also reads a balance, as apps do between payments.
        if (index % 5 === id % 5) await balanceOf(t, people[index % WALLETS]!.wallet.id);
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: CLIENTS }, (_, id) => client(id)));
    const seconds = (Date.now() - started) / 1000;

    const byStatus = new Map<number, number>();
    for (const item of sent) byStatus.set(item.status, (byStatus.get(item.status) ?? 0) + 1);
    process.stdout.write(
      `# ${sent.length} transfers in ${seconds.toFixed(1)} s: ${JSON.stringify(Object.fromEntries(byStatus))}\n`,
    );
    assert.equal(sent.length, TRANSFERS);
    const serverErrors = sent.filter((item) => item.status >= 500);
    assert.equal(serverErrors.length, 0, serverErrors[0]?.body);
    for (const item of sent.filter((entry) => entry.status !== 201)) {
      assert.equal(item.status, 422, item.body);
      assert.equal(JSON.parse(item.body).error_code, 'INSUFFICIENT_BALANCE', item.body);
    }
    const accepted = sent.filter((item) => item.status === 201);
    assert.ok(accepted.length > TRANSFERS / 2, 'most transfers went through');

    // Replays: the same key and body answer the stored bytes and move nothing.
    const totalBefore = await walletTotal();
    const replays = await Promise.all(sent.filter((_, index) => index % 10 === 0).map((item) => send(item)));
    for (const [index, replay] of replays.entries()) {
      const original = sent.filter((_, position) => position % 10 === 0)[index]!;
      assert.equal(replay.status, original.status);
      assert.equal(replay.body, original.body);
    }
    assert.equal(await walletTotal(), totalBefore);

    // Each accepted key is exactly one completed transaction.
    const [completed] = await t.deps.database.db
      .select({ value: count() })
      .from(transactions)
      .where(and(eq(transactions.type, 'p2p'), eq(transactions.status, 'completed')));
    assert.equal(completed!.value, accepted.length);
    const ids = new Set(accepted.map((item) => JSON.parse(item.body).id as string));
    assert.equal(ids.size, accepted.length);

    // Money is conserved: what was paid in is in the wallets, the fee income and the duty payable.
    const fees = await t.application.ledger.balance(
      await t.application.ledger.houseAccount('fee_income:KES'),
    );
    const duty = await t.application.ledger.balance(
      await t.application.ledger.houseAccount('tax_payable:KES'),
    );
    const charged = accepted.reduce((sum, item) => {
      const body = JSON.parse(item.body);
      return sum + BigInt(body.fee) + BigInt(body.tax);
    }, 0n);
    assert.equal(fees.balance + duty.balance, charged);
    assert.equal((await walletTotal()) + fees.balance + duty.balance, BigInt(OPENING * WALLETS));

    await t.application.ledger.rollUp();
    const verification = await t.application.ledger.verify();
    assert.ok(verification.ok, JSON.stringify(verification));
  });

  async function walletTotal(): Promise<bigint> {
    let total = 0n;
    for (const person of people) {
      const balance = await balanceOf(t, person.wallet.id);
      assert.ok(balance.balance >= 0, 'no wallet below zero');
      total += BigInt(balance.balance);
    }
    return total;
  }
});
