/** Reversals under maker-checker and customer disputes with holds, end to end through the API. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
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
import { eventsOf } from '../../platform/outbox.ts';

const PASSWORD = 'amber lantern river 7';

describe('reversals and disputes', () => {
  let t: TestContext;
  let alice: TestCustomer;
  let bob: TestCustomer;
  let carol: TestCustomer;
  let aliceWallet: TestWallet;
  let bobWallet: TestWallet;
  let carolWallet: TestWallet;
  let makerToken: string;
  let checkerToken: string;
  let supportToken: string;

  async function staff(username: string, roles: string[]): Promise<string> {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/user/add',
      headers: bearer(t.adminToken),
      payload: {
        username,
        email: `${username}@bank.test`,
        full_name: username,
        password: PASSWORD,
        roles,
        must_change_password: false,
      },
    });
    assert.equal(response.statusCode, 201, response.body);
    return (await login(t.app, username, PASSWORD)).access_token;
  }

  before(async () => {
    t = await startTestApp();
    alice = await createCustomer(t, 'Alice', '+254733000001');
    bob = await createCustomer(t, 'Bob', '+254733000002');
    carol = await createCustomer(t, 'Carol', '+254733000003');
    aliceWallet = await openWallet(t, alice.id);
    bobWallet = await openWallet(t, bob.id);
    carolWallet = await openWallet(t, carol.id);
    await deposit(t, aliceWallet.id, 2_000_000);
    makerToken = await staff('reversal_maker', ['operations']);
    checkerToken = await staff('reversal_checker', ['operations']);
    supportToken = await staff('dispute_agent', ['support_agent']);
  });
  after(async () => t.close());

  async function pay(from: TestCustomer, to: TestWallet, amount: number) {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/transfer',
      headers: idempotent(from.token),
      payload: { to_wallet_number: to.wallet_number, amount, currency: 'KES', pin: TEST_PIN },
    });
    assert.equal(response.statusCode, 201, response.body);
    return response.json() as { id: string; reference: string; fee: number; tax: number; total: number };
  }

  const post = (url: string, token: string, payload: object, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url, headers: { ...bearer(token), ...headers }, payload });
  const get = (url: string, token: string) => t.app.inject({ method: 'GET', url, headers: bearer(token) });
  const reverse = (token: string, transactionId: string, reason = 'Sent to the wrong wallet') =>
    post('/api/v1/transaction/transaction/reverse', token, { transaction_id: transactionId, reason });
  const approve = (token: string, requestId: string) =>
    post('/api/v1/policy/approval/approve', token, { request_id: requestId });
  const openDispute = (token: string, transactionId: string, reason = 'not_received', key?: string) =>
    post(
      '/api/v1/transaction/dispute/add',
      token,
      { transaction_id: transactionId, reason, description: 'I never got the goods' },
      key ? { 'idempotency-key': key } : {},
    );
  const resolve = (token: string, disputeId: string, outcome: 'refund' | 'reject') =>
    post(
      '/api/v1/transaction/dispute/resolve',
      token,
      {
        dispute_id: disputeId,
        outcome,
        resolution: outcome === 'refund' ? 'Recipient confirmed the mistake' : 'Goods were delivered',
      },
      // A refund moves money: like every money POST it needs an Idempotency-Key.
      { 'idempotency-key': `resolve-${randomUUID()}` },
    );
  const transaction = async (id: string) =>
    (await get(`/api/v1/transaction/transaction/${id}`, t.adminToken)).json();

  test('a reversal needs a second staff member and gives back amount, fee and duty', async () => {
    const aliceBefore = await balanceOf(t, aliceWallet.id);
    const bobBefore = await balanceOf(t, bobWallet.id);
    const paid = await pay(alice, bobWallet, 100_000);
    assert.equal(paid.total, 101_150);

    assert.equal((await reverse(alice.token, paid.id)).statusCode, 403, 'customers cannot reverse');
    assert.equal(
      (await reverse(supportToken, paid.id)).statusCode,
      403,
      'support agents lack transaction:reverse',
    );

    const filed = await reverse(makerToken, paid.id);
    assert.equal(filed.statusCode, 202, filed.body);
    const request = filed.json();
    assert.equal(request.action, 'transaction.reverse');
    assert.equal(request.status, 'pending');
    assert.equal(request.entity_id, paid.id);
    // A second request for the same transaction is refused when it is filed, not failed when approved.
    const second = await reverse(makerToken, paid.id, 'Filed twice by mistake');
    assert.equal(second.statusCode, 409, second.body);
    assert.equal(second.json().error_code, 'APPROVAL_ALREADY_PENDING');
    assert.equal(second.json().details.request_id, request.id);
    assert.equal((await transaction(paid.id)).status, 'completed', 'nothing happens before approval');

    const own = await approve(makerToken, request.id);
    assert.equal(own.statusCode, 403);
    assert.equal(own.json().error_code, 'OWN_REQUEST');

    const approved = await approve(checkerToken, request.id);
    assert.equal(approved.statusCode, 200, approved.body);
    assert.equal(approved.json().status, 'approved', approved.body);
    const reversal = approved.json().result;
    assert.equal(reversal.type, 'reversal');
    assert.equal(reversal.status, 'completed');
    assert.equal(reversal.related_transaction_id, paid.id);
    // Money in the approval's result is stored in jsonb, so it is a decimal string of minor units.
    assert.equal(reversal.amount, '100000');
    assert.equal(reversal.fee, String(paid.fee));
    assert.equal(reversal.total, String(paid.total));

    const original = await transaction(paid.id);
    assert.equal(original.status, 'reversed');
    assert.equal(original.history.at(-1).state, 'reversed');
    assert.equal(original.history.at(-1).reason, 'Sent to the wrong wallet');
    assert.deepEqual(await balanceOf(t, aliceWallet.id), aliceBefore);
    assert.deepEqual(await balanceOf(t, bobWallet.id), bobBefore);

    const again = await reverse(makerToken, paid.id);
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error_code, 'ALREADY_REVERSED');
    assert.deepEqual(await balanceOf(t, aliceWallet.id), aliceBefore);

    const events = await eventsOf(t.deps.database.db, 'transaction', paid.id);
    const reversed = events.find((event) => event.topic === 'transaction.reversed');
    assert.ok(reversed);
    assert.equal(reversed.payload.source_customer_id, alice.id);
    assert.equal(reversed.payload.destination_customer_id, bob.id);
    await t.application.ledger.rollUp();
    assert.ok((await t.application.ledger.verify()).ok);
  });

  test('a reversal the recipient can no longer cover fails on approval and changes nothing', async () => {
    const paid = await pay(alice, bobWallet, 50_000);
    await pay(bob, carolWallet, 40_000);
    const aliceBefore = await balanceOf(t, aliceWallet.id);
    const bobBefore = await balanceOf(t, bobWallet.id);
    const request = (await reverse(makerToken, paid.id)).json();
    const approved = await approve(checkerToken, request.id);
    assert.equal(approved.statusCode, 200, approved.body);
    assert.equal(approved.json().status, 'failed');
    assert.match(approved.json().error, /INSUFFICIENT/);
    assert.equal((await transaction(paid.id)).status, 'completed');
    assert.deepEqual(await balanceOf(t, aliceWallet.id), aliceBefore);
    assert.deepEqual(await balanceOf(t, bobWallet.id), bobBefore);
    const reversals = await get(
      `/api/v1/transaction/transaction?type=reversal&wallet_id=${bobWallet.id}`,
      t.adminToken,
    );
    assert.ok(
      !reversals
        .json()
        .items.some((item: { related_transaction_id: string }) => item.related_transaction_id === paid.id),
    );
  });

  test('only completed p2p, merchant, bill and cash transactions can be reversed', async () => {
    const missing = await reverse(makerToken, '01890000-0000-7000-8000-000000000000');
    assert.equal(missing.statusCode, 404);
    const bad = await post('/api/v1/transaction/transaction/reverse', makerToken, {
      transaction_id: 'nope',
      reason: 'x',
    });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().error_code, 'VALIDATION_ERROR');
  });

  test('the payer disputes a payment: the full amount is held on the recipient; others cannot see or open it', async () => {
    const paid = await pay(alice, bobWallet, 30_000);
    const bobBefore = await balanceOf(t, bobWallet.id);

    assert.equal(
      (await openDispute(carol.token, paid.id)).statusCode,
      404,
      'a stranger is told it does not exist',
    );
    assert.equal((await openDispute(bob.token, paid.id)).statusCode, 404, 'the recipient cannot dispute it');

    const key = 'dispute-open-0001';
    const opened = await openDispute(alice.token, paid.id, 'not_received', key);
    assert.equal(opened.statusCode, 201, opened.body);
    const dispute = opened.json();
    assert.equal(dispute.status, 'open');
    assert.equal(dispute.customer_id, alice.id);
    assert.equal(dispute.amount, 30_000);
    assert.equal(dispute.held_amount, 30_000, 'dispute/add answers what it held, in minor units');
    assert.equal(dispute.resolved_by_id, undefined, 'staff ids stay internal');
    assert.equal(dispute.hold_status, 'held');
    const staffView = await get(`/api/v1/transaction/dispute/${dispute.id}`, supportToken);
    assert.equal(staffView.json().held_amount, 30_000);
    assert.equal(dispute.transaction_reference, paid.reference);
    const replay = await openDispute(alice.token, paid.id, 'not_received', key);
    assert.equal(replay.statusCode, 201);
    assert.equal(replay.body, opened.body);

    const bobHeld = await balanceOf(t, bobWallet.id);
    assert.equal(bobHeld.balance, bobBefore.balance, 'a hold does not move the money');
    assert.equal(bobHeld.available, bobBefore.available - 30_000);

    assert.equal((await get(`/api/v1/transaction/dispute/${dispute.id}`, carol.token)).statusCode, 404);
    assert.equal((await get(`/api/v1/transaction/dispute/${dispute.id}`, bob.token)).statusCode, 404);
    assert.equal((await get(`/api/v1/transaction/dispute/${dispute.id}`, alice.token)).json().id, dispute.id);
    assert.deepEqual((await get('/api/v1/transaction/dispute', carol.token)).json().items, []);
    const mine = (await get('/api/v1/transaction/dispute', alice.token)).json().items;
    assert.deepEqual(
      mine.map((item: { id: string }) => item.id),
      [dispute.id],
    );

    const twice = await openDispute(alice.token, paid.id, 'duplicate');
    assert.equal(twice.statusCode, 409);
    assert.equal(twice.json().error_code, 'DISPUTE_EXISTS');
    const blocked = await reverse(makerToken, paid.id);
    assert.equal(blocked.statusCode, 409);
    assert.equal(blocked.json().error_code, 'DISPUTE_OPEN');

    const investigating = await post('/api/v1/transaction/dispute/investigate', supportToken, {
      dispute_id: dispute.id,
      note: 'Asked the recipient for a delivery note',
    });
    assert.equal(investigating.statusCode, 200, investigating.body);
    assert.equal(investigating.json().status, 'investigating');
    const reinvestigate = await post('/api/v1/transaction/dispute/investigate', supportToken, {
      dispute_id: dispute.id,
    });
    assert.equal(reinvestigate.statusCode, 409);
    assert.equal(
      (await post('/api/v1/transaction/dispute/investigate', alice.token, { dispute_id: dispute.id }))
        .statusCode,
      403,
      'customers cannot investigate',
    );
    const queue = await get('/api/v1/transaction/dispute?status=investigating', supportToken);
    assert.ok(queue.json().items.some((item: { id: string }) => item.id === dispute.id));

    const rejected = await resolve(supportToken, dispute.id, 'reject');
    assert.equal(rejected.statusCode, 200, rejected.body);
    assert.equal(rejected.json().status, 'rejected');
    assert.equal(rejected.json().hold_status, 'released');
    assert.equal(rejected.json().resolution, 'Goods were delivered');
    assert.ok(rejected.json().resolved_at);
    assert.deepEqual(await balanceOf(t, bobWallet.id), bobBefore, 'the hold is released');

    const twiceResolved = await resolve(supportToken, dispute.id, 'refund');
    assert.equal(twiceResolved.statusCode, 409);
    assert.equal(twiceResolved.json().error_code, 'DISPUTE_CLOSED');
    assert.deepEqual(await balanceOf(t, bobWallet.id), bobBefore);
    const reopened = await openDispute(alice.token, paid.id);
    assert.equal(reopened.statusCode, 409, 'a rejected dispute is final for the payer');
    assert.equal(reopened.json().error_code, 'DISPUTE_EXISTS');
    assert.deepEqual(await balanceOf(t, bobWallet.id), bobBefore, 'no new hold');

    const topics = (await eventsOf(t.deps.database.db, 'dispute', dispute.id)).map((event) => event.topic);
    assert.deepEqual(topics, ['dispute.opened', 'dispute.investigating', 'dispute.resolved']);
    const [openedEvent] = await eventsOf(t.deps.database.db, 'dispute', dispute.id);
    assert.equal(openedEvent!.payload.payer_customer_id, alice.id);
    assert.equal(openedEvent!.payload.recipient_customer_id, bob.id);
  });

  test('a refund with a full hold pays the payer back from suspense', async () => {
    const paid = await pay(alice, bobWallet, 10_000);
    const dispute = (await openDispute(alice.token, paid.id, 'wrong_amount')).json();
    assert.equal(
      (await get(`/api/v1/transaction/dispute/${dispute.id}`, supportToken)).json().held_amount,
      10_000,
    );
    const aliceBefore = await balanceOf(t, aliceWallet.id);
    const bobBefore = await balanceOf(t, bobWallet.id);
    const refunded = await resolve(supportToken, dispute.id, 'refund');
    assert.equal(refunded.statusCode, 200, refunded.body);
    assert.equal(refunded.json().status, 'refunded');
    assert.equal(refunded.json().hold_status, 'captured');
    assert.equal((await balanceOf(t, aliceWallet.id)).balance, aliceBefore.balance + 10_000);
    const bobAfter = await balanceOf(t, bobWallet.id);
    assert.equal(bobAfter.balance, bobBefore.balance - 10_000);
    assert.equal(bobAfter.available, bobBefore.available, 'the held money was already unavailable');
    const refund = await transaction(refunded.json().refund_transaction_id);
    assert.equal(refund.type, 'refund');
    assert.equal(refund.related_transaction_id, paid.id);
  });

  test('a partial hold when the recipient spent part; the refund takes the rest from them, or changes nothing', async () => {
    const paid = await pay(alice, bobWallet, 60_000);
    // Bob spends so that only part of the 600.00 is left in his wallet.
    const { available } = await balanceOf(t, bobWallet.id);
    const spend = available - 20_000 - 1_150; // fee 10.00 + duty 1.50 on top of the amount
    await pay(bob, carolWallet, spend);
    assert.equal((await balanceOf(t, bobWallet.id)).available, 20_000);

    const opened = await openDispute(alice.token, paid.id, 'unauthorized');
    assert.equal(opened.statusCode, 201, opened.body);
    const dispute = opened.json();
    assert.equal(dispute.held_amount, 20_000, 'the payer sees how much of their payment is secured');
    assert.equal(
      (await get(`/api/v1/transaction/dispute/${dispute.id}`, supportToken)).json().held_amount,
      20_000,
    );
    assert.equal((await balanceOf(t, bobWallet.id)).available, 0);

    const aliceBefore = await balanceOf(t, aliceWallet.id);
    const bobBefore = await balanceOf(t, bobWallet.id);
    const short = await resolve(supportToken, dispute.id, 'refund');
    assert.equal(short.statusCode, 409, short.body);
    assert.equal(short.json().error_code, 'COUNTERPARTY_INSUFFICIENT_FUNDS');
    assert.equal((await get(`/api/v1/transaction/dispute/${dispute.id}`, alice.token)).json().status, 'open');
    assert.deepEqual(await balanceOf(t, aliceWallet.id), aliceBefore);
    assert.deepEqual(await balanceOf(t, bobWallet.id), bobBefore);

    await deposit(t, bobWallet.id, 50_000);
    const refunded = await resolve(supportToken, dispute.id, 'refund');
    assert.equal(refunded.statusCode, 200, refunded.body);
    assert.equal(refunded.json().status, 'refunded');
    assert.equal((await balanceOf(t, aliceWallet.id)).balance, aliceBefore.balance + 60_000);
    assert.equal((await balanceOf(t, bobWallet.id)).balance, bobBefore.balance + 50_000 - 60_000);

    const history = await get('/api/v1/transaction/transaction?type=refund', alice.token);
    const refund = history
      .json()
      .items.find((item: { id: string }) => item.id === refunded.json().refund_transaction_id);
    assert.ok(refund, 'the refund is in the payer’s history');
    assert.equal(refund.related_transaction_id, paid.id);
    assert.equal(refund.amount, 60_000);

    const again = await resolve(supportToken, dispute.id, 'refund');
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error_code, 'DISPUTE_CLOSED');
    const reopen = await openDispute(alice.token, paid.id);
    assert.equal(reopen.statusCode, 409);
    assert.equal(reopen.json().error_code, 'DISPUTE_EXISTS');
    const reversal = await reverse(makerToken, paid.id);
    assert.equal(reversal.statusCode, 409);
    assert.equal(reversal.json().error_code, 'ALREADY_REFUNDED');

    const topics = (await eventsOf(t.deps.database.db, 'dispute', dispute.id)).map((event) => event.topic);
    assert.deepEqual(topics, ['dispute.opened', 'dispute.resolved']);
    const resolved = (await eventsOf(t.deps.database.db, 'dispute', dispute.id))[1]!;
    assert.equal(resolved.payload.outcome, 'refund');
    assert.equal(resolved.payload.payer_customer_id, alice.id);
    assert.equal(resolved.payload.recipient_customer_id, bob.id);
  });

  test('disputes open only within the window, on payments, with a known reason; staff may open on behalf', async () => {
    const configure = (value: number) =>
      t.app.inject({
        method: 'PATCH',
        url: '/api/v1/admin/config/payments.dispute_window_days',
        headers: bearer(t.adminToken),
        payload: { value },
      });
    const paid = await pay(alice, bobWallet, 5_000);
    assert.equal((await configure(1)).statusCode, 200);
    await t.deps.database.db.execute(
      sql`update transactions set completed_at = now() - interval '2 days' where id = ${paid.id}`,
    );
    const late = await openDispute(alice.token, paid.id);
    assert.equal(late.statusCode, 422, late.body);
    assert.equal(late.json().error_code, 'DISPUTE_WINDOW_CLOSED');
    assert.equal(late.json().details.window_days, 1);
    assert.equal((await configure(30)).statusCode, 200);

    const cash = await deposit(t, carolWallet.id, 1_000);
    const notPayment = await openDispute(t.adminToken, cash.id);
    assert.equal(notPayment.statusCode, 422);
    assert.equal(notPayment.json().error_code, 'NOT_DISPUTABLE');

    const unknownReason = await openDispute(alice.token, paid.id, 'bored');
    assert.equal(unknownReason.statusCode, 422);
    assert.equal(unknownReason.json().error_code, 'VALIDATION_ERROR');

    const onBehalf = await openDispute(supportToken, paid.id, 'fraud');
    assert.equal(onBehalf.statusCode, 201, onBehalf.body);
    assert.equal(onBehalf.json().customer_id, alice.id);
    const byCustomer = await get(
      `/api/v1/transaction/dispute?customer_id=${alice.id}&status=open`,
      supportToken,
    );
    assert.ok(byCustomer.json().items.some((item: { id: string }) => item.id === onBehalf.json().id));
    const ownRefund = await resolve(supportToken, onBehalf.json().id, 'refund');
    assert.equal(ownRefund.statusCode, 403, 'who opened it for the payer cannot also refund it');
    assert.equal(ownRefund.json().error_code, 'OWN_REQUEST');
    assert.equal((await resolve(supportToken, onBehalf.json().id, 'reject')).statusCode, 200);
    assert.equal(
      (await get('/api/v1/transaction/dispute/01890000-0000-7000-8000-000000000000', supportToken))
        .statusCode,
      404,
    );
  });

  test('a teller cash deposit is reversed from the wallet back to the till', async () => {
    const before = await balanceOf(t, carolWallet.id);
    const cash = await deposit(t, carolWallet.id, 7_500);
    const request = (await reverse(makerToken, cash.id, 'Counterfeit notes')).json();
    const approved = await approve(checkerToken, request.id);
    assert.equal(approved.json().status, 'approved', approved.body);
    assert.equal(approved.json().result.source_wallet_id, carolWallet.id);
    assert.equal(approved.json().result.destination_wallet_id, null);
    assert.deepEqual(await balanceOf(t, carolWallet.id), before);
    assert.equal((await transaction(cash.id)).status, 'reversed');
  });

  test('two disputes racing on one payment: exactly one opens and holds', async () => {
    const paid = await pay(alice, bobWallet, 4_000);
    const bobBefore = await balanceOf(t, bobWallet.id);
    const results = await Promise.all([
      openDispute(alice.token, paid.id, 'duplicate'),
      openDispute(supportToken, paid.id, 'duplicate'),
    ]);
    assert.deepEqual(results.map((response) => response.statusCode).sort(), [201, 409]);
    assert.equal((await balanceOf(t, bobWallet.id)).available, bobBefore.available - 4_000);
  });

  test('the ledger still balances', async () => {
    await t.application.ledger.rollUp();
    const verification = await t.application.ledger.verify();
    assert.ok(verification.ok, JSON.stringify(verification));
  });
});
