/**
 * The balance read (`GET /api/v1/wallet/wallet/:id/balance`) in one statement: the wallet, its balance and holds and
 * whether the principal may see it, checked together; the answer as it was, and one rate-limit Redis command.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import pg from 'pg';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  createCustomer,
  deposit,
  openWallet,
  type TestCustomer,
  type TestWallet,
} from '../../../test/helpers/money.ts';
import { uuidv7 } from '../../platform/ids.ts';

type Fn = (this: unknown, ...args: unknown[]) => unknown;

/** Every PostgreSQL statement (name and text) and Redis command (name and first argument) `work` sends. */
async function traced(work: () => Promise<unknown>) {
  const statements: string[] = [];
  const redis: { name: string; key: string }[] = [];
  const clientPrototype = pg.Client.prototype as unknown as { query: Fn };
  const query = clientPrototype.query;
  clientPrototype.query = function (this: unknown, ...args: unknown[]) {
    const config = args[0] as string | { text?: string; name?: string };
    statements.push(typeof config === 'string' ? config : `${config?.name ?? ''} ${config?.text ?? ''}`);
    return query.apply(this, args);
  };
  const redisPrototype = Redis.prototype as unknown as { sendCommand: Fn };
  const send = redisPrototype.sendCommand;
  redisPrototype.sendCommand = function (this: unknown, ...args: unknown[]) {
    const command = args[0] as { name: string; args: unknown[] };
    // EVALSHA/EVAL carry the script first, the number of keys, then the key.
    const key = /^eval/i.test(command.name) ? command.args[2] : command.args[0];
    redis.push({ name: command.name, key: String(key) });
    return send.apply(this, args);
  };
  try {
    await work();
  } finally {
    clientPrototype.query = query;
    redisPrototype.sendCommand = send;
  }
  // The principal's status is the identity module's (every authenticated request; cached there or not).
  const own = statements.filter((text) => !/principal_status|principal/i.test(text.split(' ')[0] ?? ''));
  return { statements, own, redis };
}

/** Waits until the app's background work (the AML decision of an earlier payment, …) has stopped sending statements. */
async function quiet(): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const idle = await traced(() => new Promise((resolve) => setTimeout(resolve, 150)));
    if (idle.statements.length === 0) return;
  }
  throw new Error('the app never went quiet');
}

describe('balance read', () => {
  let t: TestContext;
  let alice: TestCustomer;
  let bob: TestCustomer;
  let aliceWallet: TestWallet;
  let shopWalletId: string;

  before(async () => {
    t = await startTestApp();
    alice = await createCustomer(t, 'Alice', '+254722000101');
    bob = await createCustomer(t, 'Bob', '+254722000102');
    aliceWallet = await openWallet(t, alice.id);
    await openWallet(t, bob.id);
    await deposit(t, aliceWallet.id, 123_456);
    // A merchant owned by Bob, with its wallet: Bob reads it as his own, Alice may not.
    const merchantId = uuidv7();
    const db = t.deps.database.db;
    await db.execute(sql`insert into merchants (id, merchant_number, name, mcc, city, country, currency, owner_customer_id,
      status, fee_bps) values (${merchantId}, ${`M${Date.now()}`}, 'Bob''s shop', '5411', 'Nairobi', 'KE', 'KES', ${bob.id},
      'active', 150)`);
    const shop = await t.application.wallets.openMerchantWallet(db, merchantId, 'KES');
    shopWalletId = shop.id;
  });
  after(async () => t.close());

  const read = (walletId: string, token: string) =>
    t.app.inject({ method: 'GET', url: `/api/v1/wallet/wallet/${walletId}/balance`, headers: bearer(token) });

  test('the owner reads it in one statement, the answer as before, byte for byte', async () => {
    await read(aliceWallet.id, alice.token); // the statement is prepared on some connection already
    let answer: Awaited<ReturnType<typeof read>> | undefined;
    await quiet();
    const trace = await traced(async () => {
      answer = await read(aliceWallet.id, alice.token);
    });
    assert.equal(answer!.statusCode, 200, answer!.body);
    assert.equal(
      answer!.body,
      '{"currency":"KES","balance":123456,"available":123456,"pending_debits":0,"pending_credits":0}',
    );
    assert.equal(trace.own.length, 1, `one statement: ${JSON.stringify(trace.statements)}`);
    assert.match(trace.own[0]!, /ledger_accounts/);
    assert.ok(trace.statements.length <= 2, JSON.stringify(trace.statements));
    const rateLimit = trace.redis.filter((command) => command.key.includes('rl:'));
    assert.equal(rateLimit.length, 1, `one rate-limit command: ${JSON.stringify(trace.redis)}`);
    assert.equal(rateLimit[0]!.name, 'evalsha');
  });

  test("another customer's wallet is a 404 like a missing one, found out in the same one statement", async () => {
    let answer: Awaited<ReturnType<typeof read>> | undefined;
    await quiet();
    const trace = await traced(async () => {
      answer = await read(aliceWallet.id, bob.token);
    });
    assert.equal(answer!.statusCode, 404, answer!.body);
    assert.equal(answer!.json().error_code, 'NOT_FOUND');
    assert.equal(trace.own.length, 1, JSON.stringify(trace.statements));
    const missing = await read(uuidv7(), bob.token);
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error_code, 'NOT_FOUND');
    assert.equal(
      JSON.stringify({ ...missing.json(), request_id: null }),
      JSON.stringify({ ...answer!.json(), request_id: null }),
      'the same answer: whether the wallet exists is not told',
    );
  });

  test("a merchant's owner reads the merchant's wallet in one statement; other customers may not", async () => {
    let answer: Awaited<ReturnType<typeof read>> | undefined;
    await quiet();
    const trace = await traced(async () => {
      answer = await read(shopWalletId, bob.token);
    });
    assert.equal(answer!.statusCode, 200, answer!.body);
    assert.equal(
      answer!.body,
      '{"currency":"KES","balance":0,"available":0,"pending_debits":0,"pending_credits":0}',
    );
    assert.equal(trace.own.length, 1, JSON.stringify(trace.statements));
    assert.equal((await read(shopWalletId, alice.token)).statusCode, 404);
    // The other reads that ask the same question (the wallet itself) agree.
    assert.equal(
      (
        await t.app.inject({
          method: 'GET',
          url: `/api/v1/wallet/wallet/${shopWalletId}`,
          headers: bearer(bob.token),
        })
      ).statusCode,
      200,
    );
    assert.equal(
      (
        await t.app.inject({
          method: 'GET',
          url: `/api/v1/wallet/wallet/${shopWalletId}`,
          headers: bearer(alice.token),
        })
      ).statusCode,
      404,
    );
  });

  test('staff with wallet:read read any wallet', async () => {
    const answer = await read(aliceWallet.id, t.adminToken);
    assert.equal(answer.statusCode, 200, answer.body);
    assert.equal(answer.json().balance, 123_456);
    assert.equal((await read(shopWalletId, t.adminToken)).statusCode, 200);
    assert.equal((await read(uuidv7(), t.adminToken)).statusCode, 404);
  });
});
