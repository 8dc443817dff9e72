/**
 * The quick start runs on the embedded database (PGlite: one connection) with no Redis. Everything the AML module
 * does on a payment — its real-time decision, then its consumer's handlers for the payment's events — must finish
 * there: a handler reading outside its own transaction would wait for the one connection its transaction holds, and
 * the whole embedded API would stop answering.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, deposit, idempotent, openWallet, TEST_PIN } from '../../../test/helpers/money.ts';
import { amlPaymentFacts } from './aml.tables.ts';

const within = <T>(promise: Promise<T>, ms: number, what: string) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms).unref(),
    ),
  ]);

describe('AML on the embedded database', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp({ REDIS_URL: undefined }, { embedded: true, startJobs: true });
  });
  after(async () => t.close());

  test('a payment is decided, its events handled by the aml consumer, and the database still answers', async () => {
    const payer = await createCustomer(t, 'Embedded', '+254722009001');
    const payee = await createCustomer(t, 'Payee', '+254722009002');
    const wallet = await openWallet(t, payer.id);
    await openWallet(t, payee.id);
    await deposit(t, wallet.id, 500_000);
    const sent = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/transfer',
      headers: idempotent(payer.token),
      payload: { to_phone: payee.phone, amount: 10_000, currency: 'KES', pin: TEST_PIN },
    });
    assert.equal(sent.statusCode, 201, sent.body);
    const events = t.application.system.events;
    await within(
      (async () => {
        while ((await events.handOut()) > 0) {}
        while ((await events.dispatch('aml')) > 0) {}
      })(),
      30_000,
      'the aml consumer',
    );
    assert.deepEqual(await events.deadLetters('aml'), []);
    const facts = await t.deps.database.db.select().from(amlPaymentFacts);
    assert.equal(facts.length, 2, 'the deposit and the transfer');
    const ready = await within(t.app.inject({ method: 'GET', url: '/health/ready' }), 10_000, 'readiness');
    assert.equal(ready.statusCode, 200, ready.body);
  });
});
