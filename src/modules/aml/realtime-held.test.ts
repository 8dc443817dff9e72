/**
 * End to end through the transfer route with the AML screen on the payment engine, rules added as data: block →
 * 422 TRANSACTION_BLOCKED (no rule named) and nothing moved; review → held (payer's available reduced, payee nothing),
 * listed for analysts, the payer told "under review" without any rule; release → completed and credited; reject
 * (reason required) → voided; the review SLA alert raised once per overdue hold.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { needsPostgres } from '../../../test/helpers/databases.ts';
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
import { notifications } from '../notifications/index.ts';
import { amlAlerts, amlDecisions } from './aml.tables.ts';
import { amlModule } from './index.ts';

describe('AML held payments end to end', () => {
  let t: TestContext;
  let alice: TestCustomer;
  let bob: TestCustomer;
  let aliceWallet: TestWallet;
  let bobWallet: TestWallet;

  const rule = (code: string, action: string, conditions: unknown[]) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/aml/rules',
      headers: bearer(t.adminToken),
      payload: {
        code,
        kind: 'realtime',
        name: code,
        mode: 'active',
        action,
        priority: 'critical',
        definition: { conditions },
      },
    });

  before(async () => {
    // Jobs started: the under-review message queues its delivery job.
    t = await startTestApp({}, { startJobs: true });
    alice = await createCustomer(t, 'Alice', '+254722000521');
    bob = await createCustomer(t, 'Bob', '+254722000522');
    aliceWallet = await openWallet(t, alice.id);
    bobWallet = await openWallet(t, bob.id);
    await deposit(t, aliceWallet.id, 1_000_000);
    const exactly = (amount: string) => ({ field: 'amount', op: 'eq', values: { KES: amount } });
    assert.equal((await rule('rt_e2e_block', 'block', [exactly('4321')])).statusCode, 201);
    const between = [
      { field: 'amount', op: 'gte', values: { KES: '5555' } },
      { field: 'amount', op: 'lte', values: { KES: '6666' } },
      { field: 'type', in: ['p2p'] },
    ];
    assert.equal((await rule('rt_e2e_review', 'review', between)).statusCode, 201);
  });
  after(async () => t.close());

  const transfer = (amount: number) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/transfer',
      headers: idempotent(alice.token),
      payload: { to_wallet_number: bobWallet.wallet_number, amount, currency: 'KES', pin: TEST_PIN },
    });
  const staff = (method: 'GET' | 'POST', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(t.adminToken), ...(payload ? { payload } : {}) });
  const decision = async (transactionId: string) => {
    await t.application.system.api(amlModule).realtime.screen.idle();
    const [row] = await t.deps.database.db
      .select()
      .from(amlDecisions)
      .where(eq(amlDecisions.transactionId, transactionId));
    return row;
  };

  test('an ordinary transfer is allowed and completes', async () => {
    const response = await transfer(1_000);
    assert.equal(response.statusCode, 201, response.body);
    assert.equal(response.json().status, 'completed');
    assert.equal((await decision(response.json().id))?.outcome, 'allow');
  });

  test('block: 422 TRANSACTION_BLOCKED naming no rule, nothing moved, an alert raised', async () => {
    const before = await balanceOf(t, aliceWallet.id);
    const response = await transfer(4_321);
    assert.equal(response.statusCode, 422, response.body);
    assert.equal(response.json().error_code, 'TRANSACTION_BLOCKED');
    assert.doesNotMatch(response.body, /rt_e2e|rule|aml/i);
    assert.deepEqual(await balanceOf(t, aliceWallet.id), before);
    const [blocked] = await t.deps.database.db
      .select()
      .from(amlDecisions)
      .where(and(eq(amlDecisions.customerId, alice.id), eq(amlDecisions.outcome, 'block')));
    assert.equal(blocked?.fired[0]?.code, 'rt_e2e_block');
    const alerts = await t.deps.database.db
      .select()
      .from(amlAlerts)
      .where(and(eq(amlAlerts.customerId, alice.id), eq(amlAlerts.pattern, 'rt_e2e_block')));
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.priority, 'critical');
  });

  test('review: held with the payer’s funds reserved; release posts it and credits the payee', async () => {
    const aliceBefore = await balanceOf(t, aliceWallet.id);
    const bobBefore = await balanceOf(t, bobWallet.id);
    const response = await transfer(5_555);
    assert.equal(response.statusCode, 201, response.body);
    const held = response.json();
    assert.equal(held.status, 'held');
    assert.doesNotMatch(response.body, /rt_e2e|rule/i, 'the customer reads no rule');
    assert.equal((await balanceOf(t, aliceWallet.id)).available, aliceBefore.available - held.total);
    assert.equal((await balanceOf(t, bobWallet.id)).balance, bobBefore.balance);

    const list = await staff('GET', '/api/v1/aml/held');
    assert.equal(list.statusCode, 200, list.body);
    const item = list
      .json()
      .items.find((entry: { transaction_id: string }) => entry.transaction_id === held.id);
    assert.equal(item?.fired[0]?.code, 'rt_e2e_review');
    assert.equal(item?.amount, '5555');
    assert.equal(item?.overdue, false);

    const released = await staff('POST', `/api/v1/aml/held/${held.id}/release`);
    assert.equal(released.statusCode, 200, released.body);
    assert.equal(released.json().transaction.status, 'completed');
    assert.equal(released.json().decision.resolution, 'released');
    assert.equal((await balanceOf(t, bobWallet.id)).balance, bobBefore.balance + 5_555);
    assert.equal((await balanceOf(t, aliceWallet.id)).balance, aliceBefore.balance - held.total);
    const row = await decision(held.id);
    assert.equal(row?.resolution, 'released');
    assert.ok(row?.resolvedBy && row.resolvedAt);

    const twice = await staff('POST', `/api/v1/aml/held/${held.id}/release`);
    assert.equal(twice.statusCode, 409, twice.body);
    assert.equal(twice.json().error_code, 'AML_HELD_RESOLVED');
    const listed = await staff('GET', '/api/v1/aml/held');
    assert.ok(
      !listed.json().items.some((entry: { transaction_id: string }) => entry.transaction_id === held.id),
    );
  });

  // The aml consumer queues the message's delivery job inside its dispatch transaction: on the embedded database
  // that waits for a second connection it does not have, so this one runs against PostgreSQL (CI).
  test('the payer of a held payment is told it is under review, with nothing of AML', {
    skip: needsPostgres,
  }, async () => {
    const held = (await transfer(5_600)).json();
    assert.equal(held.status, 'held');
    const events = t.application.system.events;
    while ((await events.handOut()) > 0) {}
    while ((await events.dispatch('aml')) > 0) {}
    assert.deepEqual(await events.deadLetters('aml'), []);
    const told = await t.deps.database.db
      .select()
      .from(notifications)
      .where(
        and(eq(notifications.recipientId, alice.id), eq(notifications.templateCode, 'notification.message')),
      );
    const about = told.filter((message) => message.data.transaction_id === held.id);
    assert.ok(about.length > 0, 'an under-review message is queued');
    for (const message of about) {
      assert.match(message.body, /review/i);
      assert.match(message.body, new RegExp(held.reference));
      assert.doesNotMatch(message.body, /rt_e2e|rule|alert|case|aml/i);
    }
  });

  test('reject needs a reason; then the hold is voided and the payer has it all back', async () => {
    const aliceBefore = await balanceOf(t, aliceWallet.id);
    const bobBefore = await balanceOf(t, bobWallet.id);
    const held = (await transfer(6_666)).json();
    assert.equal(held.status, 'held');
    const noReason = await staff('POST', `/api/v1/aml/held/${held.id}/reject`, {});
    assert.equal(noReason.statusCode, 422, noReason.body);
    const rejected = await staff('POST', `/api/v1/aml/held/${held.id}/reject`, {
      reason: 'structuring suspected',
    });
    assert.equal(rejected.statusCode, 200, rejected.body);
    assert.equal(rejected.json().transaction.status, 'failed');
    assert.equal(rejected.json().decision.resolution, 'rejected');
    assert.deepEqual(await balanceOf(t, aliceWallet.id), aliceBefore);
    assert.equal((await balanceOf(t, bobWallet.id)).balance, bobBefore.balance);
    const unknown = await staff('POST', '/api/v1/aml/held/01890000-0000-7000-8000-000000000000/release');
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error_code, 'AML_HELD_NOT_FOUND');
  });

  test('a payment the engine resolved already (a crash between the two commits) closes its decision', async () => {
    const held = (await transfer(5_700)).json();
    assert.equal(held.status, 'held');
    await t.application.transactions.engine.releaseHeld(held.id, systemContext());
    const retried = await staff('POST', `/api/v1/aml/held/${held.id}/release`);
    assert.equal(retried.statusCode, 409, retried.body);
    assert.equal(retried.json().error_code, 'AML_HELD_RESOLVED');
    assert.equal((await decision(held.id))?.resolution, 'released');
    const listed = await staff('GET', '/api/v1/aml/held');
    assert.ok(
      !listed.json().items.some((entry: { transaction_id: string }) => entry.transaction_id === held.id),
    );
  });

  test('the review SLA job raises one review_sla alert per overdue hold, once', async () => {
    const held = (await transfer(6_000)).json();
    assert.equal(held.status, 'held');
    const realtime = t.application.system.api(amlModule).realtime;
    const db = t.deps.database.db;
    assert.equal(await realtime.held.alertOverdue(), 0, 'not due yet');
    await db
      .update(amlDecisions)
      .set({ reviewDueAt: new Date(Date.now() - 60_000) })
      .where(eq(amlDecisions.transactionId, held.id));
    assert.equal(await realtime.held.alertOverdue(), 1);
    assert.equal(await realtime.held.alertOverdue(), 0, 'raised once');
    const alerts = await db
      .select()
      .from(amlAlerts)
      .where(and(eq(amlAlerts.customerId, alice.id), eq(amlAlerts.pattern, 'review_sla')));
    assert.equal(alerts.length, 1);
    assert.deepEqual(alerts[0]?.evidence.transaction_ids, [held.id]);
    const item = (await staff('GET', `/api/v1/aml/held/${held.id}`)).json();
    assert.equal(item.overdue, true);
  });
});
