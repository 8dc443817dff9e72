/**
 * Event wiring: the domain events other modules emit become templated messages once the dispatcher runs — a PIN-reset
 * code by SMS (the code works, and is stored masked), a sign-in from a new device, a KYC decision.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { type FakeTwilio, startFakeTwilio } from '../../../test/fakes/twilio.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, deposit, idempotent, openWallet, TEST_PIN } from '../../../test/helpers/money.ts';
import { kycApplications } from '../kyc/kyc.tables.ts';
import { notifications } from './notifications.tables.ts';

const ACCOUNT_SID = 'AC11111111111111111111111111111111';

describe('domain events to messages', () => {
  let t: TestContext;
  let twilio: FakeTwilio;

  before(async () => {
    twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: 'events-token' });
    t = await startTestApp({
      SMS_PROVIDERS: 'twilio',
      TWILIO_BASE_URL: twilio.url,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: 'events-token',
      TWILIO_FROM_NUMBER: '+15005550006',
    });
    await t.deps.jobs.start();
  });
  after(async () => {
    await t?.close();
    await twilio?.close();
  });

  const runtime = () => t.application.notifications;

  /** Dispatches the outbox and delivers what it queued for this customer and template. */
  async function dispatchAndDeliver(customerId: string, template: string) {
    while ((await runtime().dispatcher.dispatchBatch()) > 0) {}
    const rows = await t.deps.database.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.recipientId, customerId), eq(notifications.templateCode, template)));
    for (const row of rows) await runtime().delivery.deliver(row.id);
    return t.deps.database.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.recipientId, customerId), eq(notifications.templateCode, template)));
  }

  test('a PIN-reset code reaches the phone by SMS, works, and is stored masked', async () => {
    const customer = await createCustomer(t, 'Otieno', '+254722000301');
    const asked = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/pin/reset/request',
      payload: { phone: customer.phone },
    });
    assert.equal(asked.statusCode, 202, asked.body);
    const rows = await dispatchAndDeliver(customer.id, 'otp.code');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.channel, 'sms');
    assert.equal(rows[0]!.status, 'sent');
    assert.doesNotMatch(rows[0]!.body, /\d{6}/, 'the stored copy has the code masked');
    const sms = twilio.messages.filter((message) => message.to === customer.phone);
    assert.equal(sms.length, 1);
    const code = /\b(\d{6})\b/.exec(sms[0]!.body)?.[1];
    assert.ok(code, sms[0]!.body);
    const done = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/pin/reset/confirm',
      payload: { phone: customer.phone, challenge_id: asked.json().challenge_id, code, new_pin: '4826' },
    });
    assert.equal(done.statusCode, 204, done.body);
  });

  test('a sign-in from a new device alerts the customer; the same device again does not', async () => {
    const customer = await createCustomer(t, 'Njeri', '+254722000302');
    const signIn = (agent: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/customer/login',
        headers: { 'user-agent': agent },
        payload: { phone: customer.phone, pin: TEST_PIN },
      });
    assert.equal((await signIn('CodeForgeApp/2.1 (Android 14; Tecno Spark 20)')).statusCode, 200);
    let rows = await dispatchAndDeliver(customer.id, 'auth.new_device');
    assert.deepEqual(rows.map((row) => row.channel).sort(), ['in_app', 'sms']);
    assert.match(rows.find((row) => row.channel === 'sms')!.body, /Tecno Spark 20/);
    assert.equal((await signIn('CodeForgeApp/2.1 (Android 14; Tecno Spark 20)')).statusCode, 200);
    rows = await dispatchAndDeliver(customer.id, 'auth.new_device');
    assert.equal(rows.length, 2, 'a known device raises no new alert');
  });

  test('a KYC rejection tells the customer why, in their language', async () => {
    const customer = await createCustomer(t, 'Amani', '+254722000303');
    const preferences = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/notify/preferences',
      headers: bearer(customer.token),
      payload: { language: 'sw' },
    });
    assert.equal(preferences.statusCode, 200, preferences.body);
    const started = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/kyc/initiate',
      headers: bearer(customer.token),
      payload: { customer_id: customer.id, target_tier: 'standard' },
    });
    assert.equal(started.statusCode, 200, started.body);
    const applicationId = started.json().application.id as string;
    // Documents are another module's business: the application is put straight into review.
    await t.deps.database.db
      .update(kycApplications)
      .set({ status: 'submitted' })
      .where(eq(kycApplications.id, applicationId));
    const reviewed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/kyc/review',
      headers: bearer(t.adminToken),
      payload: { application_id: applicationId, decision: 'reject', reason: 'selfie unclear' },
    });
    assert.equal(reviewed.statusCode, 200, reviewed.body);
    const rows = await dispatchAndDeliver(customer.id, 'kyc.rejected');
    const sms = rows.find((row) => row.channel === 'sms');
    assert.ok(sms, JSON.stringify(rows.map((row) => row.channel)));
    assert.equal(sms.language, 'sw');
    assert.match(sms.body, /selfie unclear/);
    assert.match(sms.body, /Amani/);
    const sent = twilio.messages.filter((message) => message.to === customer.phone);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.body, sms.body, 'what was stored is what was sent (no secrets here)');
    const events = (await t.deps.database.db.execute(
      sql`select count(*)::int as n from outbox_events where topic = 'kyc.decided' and dispatched_at is null`,
    )) as unknown as { rows: { n: number }[] };
    assert.equal(events.rows[0]!.n, 0);
  });

  test("money in from a teller is labelled in the customer's language, not in English", async () => {
    const cases = [
      { language: 'sw', phone: '+254722000311', label: 'Kuweka pesa taslimu' },
      { language: 'fr', phone: '+254722000312', label: "Dépôt d'espèces" },
      { language: 'en', phone: '+254722000313', label: 'Cash deposit' },
    ];
    for (const { language, phone, label } of cases) {
      const customer = await createCustomer(t, `Label ${language}`, phone);
      const preferences = await t.app.inject({
        method: 'PUT',
        url: '/api/v1/notify/preferences',
        headers: bearer(customer.token),
        payload: { language },
      });
      assert.equal(preferences.statusCode, 200, preferences.body);
      const wallet = await openWallet(t, customer.id);
      await deposit(t, wallet.id, 25_000);
      const rows = await dispatchAndDeliver(customer.id, 'transfer.received');
      assert.ok(rows.length > 0, `${language}: a received-money message`);
      for (const row of rows) {
        assert.equal(row.language, language);
        assert.ok(row.body.includes(label), `${language} ${row.channel}: ${row.body}`);
        if (language !== 'en') assert.ok(!row.body.includes('Cash deposit'), `${language}: ${row.body}`);
      }
    }
  });

  test('a staff reply in a support conversation reaches the customer in the app, without the reply itself', async () => {
    const customer = await createCustomer(t, 'Zuri', '+254722000321');
    const opened = await t.app.inject({
      method: 'POST',
      url: '/api/v1/support/chat/conversation/add',
      headers: bearer(customer.token),
      payload: { subject: 'Card not arriving', text: 'Where is my card?' },
    });
    assert.equal(opened.statusCode, 201, opened.body);
    const conversationId = opened.json().id as string;
    const post = (token: string, text: string) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/support/chat/conversation/${conversationId}/message`,
        headers: bearer(token),
        payload: { text },
      });
    assert.equal((await post(customer.token, 'Any news?')).statusCode, 201);
    assert.deepEqual(
      await dispatchAndDeliver(customer.id, 'support.reply'),
      [],
      "the customer's own messages raise none",
    );
    assert.equal((await post(t.adminToken, 'It ships on Friday, secret-tracking-881.')).statusCode, 201);
    const rows = await dispatchAndDeliver(customer.id, 'support.reply');
    const inApp = rows.find((row) => row.channel === 'in_app');
    assert.ok(inApp, JSON.stringify(rows.map((row) => `${row.channel}:${row.status}`)));
    assert.match(inApp.body, /Card not arriving/);
    assert.doesNotMatch(inApp.body, /secret-tracking-881/);
    assert.equal(inApp.data.conversation_id, conversationId);
  });

  test('a dispute tells the payer it was opened and how it ended, and the recipient that money is on hold', async () => {
    const payer = await createCustomer(t, 'Baraka', '+254722000304');
    const payee = await createCustomer(t, 'Zawadi', '+254722000305');
    const payerWallet = await openWallet(t, payer.id);
    const payeeWallet = await openWallet(t, payee.id);
    await deposit(t, payerWallet.id, 500_000);
    const paid = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/transfer',
      headers: idempotent(payer.token),
      payload: {
        to_wallet_number: payeeWallet.wallet_number,
        amount: 120_000,
        currency: 'KES',
        pin: TEST_PIN,
      },
    });
    assert.equal(paid.statusCode, 201, paid.body);
    const opened = await t.app.inject({
      method: 'POST',
      url: '/api/v1/transaction/dispute/add',
      headers: bearer(payer.token),
      payload: { transaction_id: paid.json().id, reason: 'not_received', description: 'never arrived' },
    });
    assert.equal(opened.statusCode, 201, opened.body);
    const payerOpened = await dispatchAndDeliver(payer.id, 'dispute.opened');
    assert.deepEqual(payerOpened.map((row) => row.channel).sort(), ['in_app', 'sms']);
    assert.match(payerOpened[0]!.body, /KES 1,200\.00/);
    const payeeOpened = await dispatchAndDeliver(payee.id, 'dispute.opened_recipient');
    assert.deepEqual(payeeOpened.map((row) => row.channel).sort(), ['in_app', 'sms']);
    const resolved = await t.app.inject({
      method: 'POST',
      url: '/api/v1/transaction/dispute/resolve',
      headers: { ...bearer(t.adminToken), 'idempotency-key': `resolve-${payer.id}` },
      payload: { dispute_id: opened.json().id, outcome: 'reject', resolution: 'Goods were delivered' },
    });
    assert.equal(resolved.statusCode, 200, resolved.body);
    const rejected = await dispatchAndDeliver(payer.id, 'dispute.rejected');
    assert.deepEqual(rejected.map((row) => row.channel).sort(), ['in_app', 'sms']);
    assert.ok(rejected.every((row) => row.status === 'sent' || row.status === 'delivered'));
  });
});
