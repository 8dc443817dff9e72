/**
 * Money alerts say what really happened to the one reading them: a bill payment paid the biller for an account; in a
 * reversal the recipient is told the money was taken back; a dispute refund or release reaches the recipient whose
 * money was held; and a channel without a provider fails with a reason that names it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  createCustomer,
  deposit,
  idempotent,
  openWallet,
  TEST_PIN,
  type TestCustomer,
  type TestWallet,
} from '../../../test/helpers/money.ts';
import { notifications } from './notifications.tables.ts';

const PASSWORD = 'correct horse battery staple 42';

describe('money alerts name what happened', () => {
  let t: TestContext;
  let checkerToken: string;
  let payer: TestCustomer;
  let payee: TestCustomer;
  let payerWallet: TestWallet;
  let payeeWallet: TestWallet;

  before(async () => {
    t = await startTestApp({}, { startJobs: true });
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/user/add',
      headers: bearer(t.adminToken),
      payload: {
        username: 'alerts_checker',
        email: 'alerts_checker@bank.test',
        full_name: 'Alerts Checker',
        password: PASSWORD,
        roles: ['operations'],
        must_change_password: false,
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    checkerToken = (await login(t.app, 'alerts_checker', PASSWORD)).access_token;
    payer = await createCustomer(t, 'Baraka', '+254755000001');
    payee = await createCustomer(t, 'Zawadi', '+254755000002');
    payerWallet = await openWallet(t, payer.id);
    payeeWallet = await openWallet(t, payee.id);
    await deposit(t, payerWallet.id, 1_000_000);
  });
  after(async () => t.close());

  /** Runs the outbox and returns what it queued for the customer with the template, one row per channel. */
  async function queued(customerId: string, template: string) {
    while ((await t.application.notifications.dispatcher.dispatchBatch()) > 0) {}
    return t.deps.database.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.recipientId, customerId), eq(notifications.templateCode, template)));
  }

  const post = (url: string, token: string, payload: object) =>
    t.app.inject({ method: 'POST', url, headers: idempotent(token), payload });

  async function transfer(amount: number) {
    const paid = await post('/api/v1/wallet/transaction/transfer', payer.token, {
      to_wallet_number: payeeWallet.wallet_number,
      amount,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(paid.statusCode, 201, paid.body);
    return paid.json() as { id: string; reference: string };
  }

  test('a bill payment says it paid the biller for the account, not that money went to "the recipient"', async () => {
    const paid = await post('/api/v1/wallet/transaction/bill', payer.token, {
      biller_code: 'KPLC_POSTPAID',
      reference: '987654321',
      amount: 25_000,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(paid.statusCode, 201, paid.body);
    const rows = await queued(payer.id, 'bill.paid');
    // No registered device, so no push: the SMS and the inbox.
    assert.deepEqual(rows.map((row) => row.channel).sort(), ['in_app', 'sms']);
    for (const row of rows) {
      assert.ok(row.body.includes('Kenya Power postpaid bill'), row.body);
      assert.ok(row.body.includes('987654321'), row.body);
      assert.ok(row.body.includes(paid.json().reference), row.body);
      assert.ok(!/recipient|sent/i.test(row.body), row.body);
    }
    assert.match(rows.find((row) => row.channel === 'sms')!.body, /^CodeForge: You paid KES 250\.00 to /);
    const sent = (await queued(payer.id, 'transfer.sent')).filter((row) =>
      row.body.includes(paid.json().reference),
    );
    assert.deepEqual(sent, [], 'no "You sent … to the recipient" for a bill');
  });

  test('a reversal tells the recipient the money was taken back, and the payer that it came back', async () => {
    const paid = await transfer(40_000);
    const filed = await post('/api/v1/transaction/transaction/reverse', t.adminToken, {
      transaction_id: paid.id,
      reason: 'Sent to the wrong wallet',
    });
    assert.equal(filed.statusCode, 202, filed.body);
    const approved = await post('/api/v1/policy/approval/approve', checkerToken, {
      request_id: filed.json().id,
    });
    assert.equal(approved.statusCode, 200, approved.body);
    assert.equal(approved.json().status, 'approved', approved.body);

    const taken = await queued(payee.id, 'transaction.reversed_debit');
    assert.deepEqual(taken.map((row) => row.channel).sort(), ['in_app', 'sms']);
    for (const row of taken) {
      assert.ok(row.body.includes(paid.reference), row.body);
      assert.match(
        row.body,
        /that you received was reversed\. The money has been taken back from your account\./,
      );
    }
    const back = (await queued(payer.id, 'transaction.reversed')).filter((row) =>
      row.body.includes(paid.reference),
    );
    assert.deepEqual(back.map((row) => row.channel).sort(), ['in_app', 'sms']);
    assert.ok(back.every((row) => row.body.includes('back in the account it came from')));
    const misleading = (await queued(payee.id, 'transaction.reversed')).filter((row) =>
      row.body.includes(paid.reference),
    );
    assert.deepEqual(misleading, [], 'the recipient is not told "the money is back"');
  });

  test('a dispute refund that takes the held amount tells the recipient; a rejection tells them the hold is gone', async () => {
    const refunded = await transfer(30_000);
    const opened = await post('/api/v1/transaction/dispute/add', payer.token, {
      transaction_id: refunded.id,
      reason: 'not_received',
    });
    assert.equal(opened.statusCode, 201, opened.body);
    assert.equal(opened.json().held_amount, 30_000);
    const resolved = await post('/api/v1/transaction/dispute/resolve', checkerToken, {
      dispute_id: opened.json().id,
      outcome: 'refund',
      resolution: 'Recipient confirmed the mistake',
    });
    assert.equal(resolved.statusCode, 200, resolved.body);
    assert.equal(resolved.json().hold_status, 'captured');
    const told = await queued(payee.id, 'dispute.refunded_recipient');
    assert.deepEqual(told.map((row) => row.channel).sort(), ['in_app', 'sms']);
    for (const row of told) {
      assert.ok(row.body.includes(refunded.reference), row.body);
      assert.ok(row.body.includes('KES 300.00'), row.body);
      assert.match(row.body, /taken from your account and returned to the payer/);
    }

    const rejected = await transfer(20_000);
    const second = await post('/api/v1/transaction/dispute/add', payer.token, {
      transaction_id: rejected.id,
      reason: 'not_received',
    });
    assert.equal(second.statusCode, 201, second.body);
    const closed = await post('/api/v1/transaction/dispute/resolve', checkerToken, {
      dispute_id: second.json().id,
      outcome: 'reject',
      resolution: 'Goods were delivered',
    });
    assert.equal(closed.statusCode, 200, closed.body);
    const released = await queued(payee.id, 'dispute.released_recipient');
    assert.deepEqual(released.map((row) => row.channel).sort(), ['in_app', 'sms']);
    assert.ok(
      released.every((row) => row.body.includes('KES 200.00') && row.body.includes(rejected.reference)),
    );
    assert.deepEqual(
      (await queued(payee.id, 'dispute.refunded_recipient')).length,
      2,
      'the rejection raised no refund message',
    );
  });
});

describe('a channel without a provider', () => {
  test('an SMS with no provider (and no development sink) fails with "No SMS provider is configured"', async () => {
    const t = await startTestApp({ DEV_MESSAGE_SINK: 'false', SMS_PROVIDERS: '' }, { startJobs: true });
    try {
      const customer = await createCustomer(t, 'Otieno', '+254755000009');
      const sent = await t.app.inject({
        method: 'POST',
        url: '/api/v1/notify/notification/send',
        headers: bearer(t.adminToken),
        payload: {
          recipient_type: 'customer',
          recipient_id: customer.id,
          template: 'notification.message',
          channels: ['sms'],
          variables: { message: 'Your card is ready.' },
        },
      });
      assert.equal(sent.statusCode, 202, sent.body);
      const id = sent.json().notifications[0].id as string;
      assert.equal(await t.application.notifications.delivery.deliver(id), 'failed');
      const view = await t.app.inject({
        method: 'GET',
        url: `/api/v1/notify/notification/${id}`,
        headers: bearer(t.adminToken),
      });
      assert.equal(view.statusCode, 200, view.body);
      assert.equal(view.json().channel, 'sms');
      assert.equal(view.json().status, 'failed');
      assert.equal(view.json().error_code, 'CHANNEL_NOT_CONFIGURED');
      assert.equal(view.json().error, 'No SMS provider is configured');
    } finally {
      await t.close();
    }
  });
});
