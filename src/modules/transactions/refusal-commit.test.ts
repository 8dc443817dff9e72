/**
 * A refusal's record and its stored answer commit together (issue 14). When that transaction fails at COMMIT (a
 * connection lost, the server restarting), nothing of it is stored: the client must not be told the refusal as if it
 * were the request's stored answer while the claim stays in progress (found by the bank reliability run: a client got
 * 422 and its key stayed in_progress). The refusal is then stored on its own, or the outcome answered as unknown.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  createCustomer,
  deposit,
  idempotent,
  openWallet,
  TEST_PIN,
  type TestCustomer,
  type TestWallet,
} from '../../../test/helpers/money.ts';
import { rawRows } from '../../platform/db.ts';

describe('a refusal whose record cannot commit', () => {
  let t: TestContext;
  let alice: TestCustomer;
  let bobWallet: TestWallet;

  before(async () => {
    t = await startTestApp();
    alice = await createCustomer(t, 'Alice', '+254722000101');
    const bob = await createCustomer(t, 'Bob', '+254722000102');
    const aliceWallet = await openWallet(t, alice.id);
    bobWallet = await openWallet(t, bob.id);
    await deposit(t, aliceWallet.id, 10_000);
    // A deferred trigger fails the refusal's transaction at COMMIT, after the claim's answer was written in it.
    await t.deps.database.db.execute(
      sql.raw(`
      create function test_fail_at_commit() returns trigger language plpgsql as $$
      begin raise exception 'commit failed (test)'; end $$`),
    );
    await t.deps.database.db.execute(
      sql.raw(`
      create constraint trigger test_fail_refusal_commit after insert on transactions
        deferrable initially deferred for each row when (new.status = 'failed')
        execute function test_fail_at_commit()`),
    );
  });
  after(async () => t.close());

  test('the client is never answered a stored refusal that was not stored', async () => {
    const key = 'refusal-commit-fails-1';
    const send = () =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/wallet/transaction/transfer',
        headers: idempotent(alice.token, key),
        payload: {
          to_wallet_number: bobWallet.wallet_number,
          amount: 500_000,
          currency: 'KES',
          pin: TEST_PIN,
        },
      });
    const first = await send();
    assert.ok([422, 503].includes(first.statusCode), first.body);
    const claims = await rawRows<{ state: string; response_status: number | null }>(
      t.deps.database.db,
      sql`select state, response_status from idempotency_keys where key = ${key}`,
    );
    if (first.statusCode === 422) {
      assert.deepEqual(
        claims,
        [{ state: 'completed', response_status: 422 }],
        'a 422 answered is a 422 stored',
      );
      const again = await send();
      assert.equal(again.statusCode, 422);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(again.body, first.body);
    } else {
      assert.deepEqual(claims, [], 'an unknown outcome releases the claim, so the retry runs');
    }
    const failedRecords = await rawRows<{ n: number }>(
      t.deps.database.db,
      sql`select count(*)::int as n from transactions where status = 'failed'`,
    );
    assert.equal(failedRecords[0]!.n, 0, 'the record rolled back with the answer');
  });
});
