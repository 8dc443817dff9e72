/**
 * The payment screen seam (where the AML module's real-time decision plugs in): allow keeps the one-call commit,
 * block refuses with TRANSACTION_BLOCKED and moves nothing, review posts a ledger hold and records the payment
 * `held` until staff release it (credited) or reject it (voided).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  balanceOf,
  createCustomer,
  deposit,
  idempotent,
  openWallet,
  TEST_PIN,
  type TestCustomer,
  type TestWallet,
} from '../../../test/helpers/money.ts';
import { systemContext } from '../../platform/audit.ts';
import type { AppError } from '../../platform/errors.ts';
import { eventsOf } from '../../platform/outbox.ts';
import type { PaymentEngine } from './transactions.engine.ts';
import type { ScreenInput } from './transactions.plan.ts';

describe('payment screen', () => {
  let t: TestContext;
  let engine: PaymentEngine;
  let alice: TestCustomer;
  let bob: TestCustomer;
  let aliceWallet: TestWallet;
  let bobWallet: TestWallet;
  const seen: ScreenInput[] = [];
  const recorded: string[] = [];

  before(async () => {
    t = await startTestApp();
    engine = t.application.transactions.engine;
    engine.setPaymentScreen({
      decide: async (input) => {
        seen.push(input);
        if (input.plan.amount === 4_321n) return { outcome: 'block' };
        if (input.plan.amount === 5_555n || input.plan.amount === 6_666n) return { outcome: 'review' };
        return { outcome: 'allow' };
      },
      recorded: (input, outcome) => recorded.push(`${input.transactionId}:${outcome}`),
    });
    alice = await createCustomer(t, 'Alice', '+254722000301');
    bob = await createCustomer(t, 'Bob', '+254722000302');
    aliceWallet = await openWallet(t, alice.id);
    bobWallet = await openWallet(t, bob.id);
    await deposit(t, aliceWallet.id, 1_000_000);
  });
  after(async () => t.close());

  const transfer = (amount: number) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/transfer',
      headers: idempotent(alice.token),
      payload: { to_wallet_number: bobWallet.wallet_number, amount, currency: 'KES', pin: TEST_PIN },
    });

  test('allow: the payment commits in one call and the screen hears it completed', async () => {
    const before = { ...engine.commits };
    const response = await transfer(1_000);
    assert.equal(response.statusCode, 201, response.body);
    assert.equal(response.json().status, 'completed');
    assert.equal(engine.commits.oneCall, before.oneCall + 1, 'the screen keeps the one-call path');
    const input = seen.at(-1)!;
    assert.equal(input.transactionId, response.json().id, 'the decision is taken under the record’s id');
    assert.equal(input.plan.type, 'p2p');
    assert.ok(input.wallets.get(aliceWallet.id), 'the screen sees the wallets the checks read');
    assert.ok(recorded.includes(`${response.json().id}:completed`));
  });

  test('block: TRANSACTION_BLOCKED names nothing, nothing moves, the refusal is recorded as failed', async () => {
    const before = await balanceOf(t, aliceWallet.id);
    const response = await transfer(4_321);
    assert.equal(response.statusCode, 422, response.body);
    assert.equal(response.json().error_code, 'TRANSACTION_BLOCKED');
    assert.equal(response.json().message, 'This payment cannot be made');
    assert.deepEqual(await balanceOf(t, aliceWallet.id), before);
    const id = seen.at(-1)!.transactionId;
    const record = await t.app.inject({
      method: 'GET',
      url: `/api/v1/transaction/transaction/${id}`,
      headers: bearer(alice.token),
    });
    assert.equal(record.statusCode, 200, record.body);
    assert.equal(record.json().status, 'failed');
    assert.ok(!recorded.some((entry) => entry.startsWith(id)), 'a blocked payment is not counted');
  });

  test('review: held as a ledger hold (payer reserved, payee nothing), then released and credited', async () => {
    const aliceBefore = await balanceOf(t, aliceWallet.id);
    const bobBefore = await balanceOf(t, bobWallet.id);
    const response = await transfer(5_555);
    assert.equal(response.statusCode, 201, response.body);
    const held = response.json();
    assert.equal(held.status, 'held');
    assert.equal(held.completed_at ?? null, null);
    const aliceHeld = await balanceOf(t, aliceWallet.id);
    assert.equal(aliceHeld.balance, aliceBefore.balance, 'posted balance unchanged while held');
    assert.equal(aliceHeld.available, aliceBefore.available - held.total, 'the total is reserved');
    const bobHeld = await balanceOf(t, bobWallet.id);
    assert.equal(bobHeld.balance, bobBefore.balance, 'the payee has nothing yet');
    assert.equal(bobHeld.available, bobBefore.available, 'nor anything to spend');
    assert.equal((bobHeld as { pending_credits?: number }).pending_credits, 5_555, 'only a pending arrival');
    assert.ok(recorded.includes(`${held.id}:held`));
    const events = await eventsOf(t.deps.database.db, 'transaction', held.id);
    assert.deepEqual(
      events.map((event) => event.topic),
      ['transaction.held'],
    );

    const released = await engine.releaseHeld(held.id, systemContext());
    assert.equal(released.status, 'completed');
    assert.equal((await balanceOf(t, aliceWallet.id)).balance, aliceBefore.balance - held.total);
    assert.equal((await balanceOf(t, bobWallet.id)).balance, bobBefore.balance + 5_555);
    const after = await eventsOf(t.deps.database.db, 'transaction', held.id);
    assert.deepEqual(
      after.map((event) => event.topic),
      ['transaction.held', 'transaction.completed'],
    );
    await assert.rejects(engine.releaseHeld(held.id, systemContext()), (error: AppError) => {
      assert.equal(error.errorCode, 'TRANSACTION_NOT_HELD');
      return true;
    });
  });

  test('review then reject: the hold is voided, the payer has it all back, the record failed', async () => {
    const aliceBefore = await balanceOf(t, aliceWallet.id);
    const bobBefore = await balanceOf(t, bobWallet.id);
    const response = await transfer(6_666);
    assert.equal(response.json().status, 'held', response.body);
    const rejected = await engine.rejectHeld(response.json().id, 'structuring suspected', systemContext());
    assert.equal(rejected.status, 'failed');
    assert.deepEqual(await balanceOf(t, aliceWallet.id), aliceBefore);
    assert.deepEqual(await balanceOf(t, bobWallet.id), { ...bobBefore, pending_credits: 0 });
    const events = await eventsOf(t.deps.database.db, 'transaction', response.json().id);
    assert.deepEqual(
      events.map((event) => event.topic),
      ['transaction.held', 'transaction.rejected'],
    );
    await assert.rejects(
      engine.rejectHeld(response.json().id, 'again', systemContext()),
      (error: AppError) => {
        assert.equal(error.errorCode, 'TRANSACTION_NOT_HELD');
        return true;
      },
    );
  });

  test('the same Idempotency-Key replays a held answer byte for byte', async () => {
    const key = `held-${Date.now()}`;
    const send = () =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/wallet/transaction/transfer',
        headers: idempotent(alice.token, key),
        payload: { to_wallet_number: bobWallet.wallet_number, amount: 5_555, currency: 'KES', pin: TEST_PIN },
      });
    const first = await send();
    const again = await send();
    assert.equal(first.json().status, 'held');
    assert.equal(again.body, first.body);
  });
});
