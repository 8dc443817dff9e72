/**
 * The development message sink: with no SMS or email provider, the quick start can still finish every flow that
 * sends a code or a link. End to end with the real worker (outbox dispatcher + delivery jobs): a payment of
 * KES 100,000 asks for an SMS code, an email MFA code and a password-reset link — each read from
 * `GET /api/v1/dev/messages` and used to complete the flow. Plus: who may read them, the log line, the ring of the
 * last N per recipient, across two Redis connections, and no sink (no route) when it is off.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, deposit, idempotent, openWallet, TEST_PIN } from '../../../test/helpers/money.ts';
import { MemoryStore, RedisStore } from '../../platform/cache.ts';
import { type DevMessage, DevMessageSink } from './dev-sink.ts';
import { notifications } from './notifications.tables.ts';

const PASSWORD = 'juniper saddle comet 62';
const NEW_PASSWORD = 'lantern meadow quartz 81';
const quiet = { info: () => {} } as unknown as DevMessageSink['log'];

describe('development message sink, end to end through the worker', () => {
  let t: TestContext;
  let counter = 0;

  before(async () => {
    t = await startTestApp({ LOGIN_MAX_FAILURES: '100' });
    // The worker, as `npm start` runs it in-process on the embedded database: jobs consumed, outbox dispatched.
    await t.deps.jobs.start();
    await t.deps.jobs.work();
    t.application.notifications.dispatcher.start(50);
  });
  after(async () => {
    await t?.application.notifications.dispatcher.stop();
    await t?.close();
  });

  const messages = (query: string, token = t.adminToken) =>
    t.app.inject({ method: 'GET', url: `/api/v1/dev/messages?${query}`, headers: bearer(token) });

  /** Polls the sink until a message to `to` matching `pattern` arrives; returns the match. */
  async function waitForMessage(to: string, pattern: RegExp, channel: 'sms' | 'email') {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const response = await messages(`to=${encodeURIComponent(to)}&channel=${channel}`);
      assert.equal(response.statusCode, 200, response.body);
      for (const message of response.json().items as DevMessage[]) {
        const match = pattern.exec(message.body);
        if (match) return { message, match };
      }
      if (Date.now() > deadline) assert.fail(`no ${channel} message to ${to} matching ${pattern}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function createStaff(roles: string[] = []) {
    counter += 1;
    const username = `sink.staff${counter}`;
    const email = `Sink.Staff${counter}@Bank.test`;
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      headers: bearer(t.adminToken),
      payload: {
        username,
        email,
        full_name: `Sink Staff ${counter}`,
        password: PASSWORD,
        roles,
        must_change_password: false,
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    return { id: created.json().id as string, username, email };
  }

  const login = (username: string, password = PASSWORD) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });

  test('a payment of KES 100,000 asks for an SMS code; the code is read from the sink and completes it', async () => {
    const payer = await createCustomer(t, 'Wanjiku', '+254711000801');
    const payee = await createCustomer(t, 'Kamau', '+254711000802');
    // A payment this large needs the standard tier (basic caps a wallet at KES 100,000); the KYC journey that
    // grants it is e2e/kyc-upgrade's subject, so the tier is set directly here.
    await t.deps.database.db.execute(
      sql`update customers set kyc_tier = 'standard' where id in (${payer.id}, ${payee.id})`,
    );
    const payerWallet = await openWallet(t, payer.id);
    const payeeWallet = await openWallet(t, payee.id);
    await deposit(t, payerWallet.id, 12_000_000);
    const body = {
      to_wallet_number: payeeWallet.wallet_number,
      amount: 10_000_000,
      currency: 'KES',
      pin: TEST_PIN,
    };
    const transfer = (payload: object) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/wallet/transaction/transfer',
        headers: idempotent(payer.token),
        payload,
      });
    const first = await transfer(body);
    assert.equal(first.statusCode, 428, first.body);
    assert.equal(first.json().error_code, 'OTP_REQUIRED');
    // The number in another form finds the same messages.
    const { message, match } = await waitForMessage('+254 711 000 801', /\b(\d{6})\b/, 'sms');
    assert.equal(message.to, payer.phone);
    const paid = await transfer({
      ...body,
      otp: { challenge_id: first.json().details.challenge_id, code: match[1] },
    });
    assert.equal(paid.statusCode, 201, paid.body);
    // The notification row says where it went: the sink, not a provider.
    const [row] = await t.deps.database.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.providerMessageId, message.id), eq(notifications.provider, 'dev_sink')));
    assert.equal(row?.status, 'sent');
    assert.doesNotMatch(row!.body, new RegExp(match[1]!), 'the stored copy stays masked');
    // And the log says so at info, so a terminal user sees it without the route.
    assert.ok(
      t.logs.lines.some((line) => {
        const entry = JSON.parse(line) as { level: number; dev_message?: { id: string; body: string } };
        return (
          entry.level === 30 &&
          entry.dev_message?.id === message.id &&
          entry.dev_message.body.includes(match[1]!)
        );
      }),
      'an info line with the message',
    );
  });

  test('email MFA: the enrolment code and the login code are read from the sink and complete sign-in', async () => {
    const staff = await createStaff();
    const session = await login(staff.username);
    assert.equal(session.statusCode, 200, session.body);
    const token = session.json().access_token as string;
    const enrolled = await t.app.inject({
      method: 'POST',
      url: '/api/v1/2fa/email/enrol',
      headers: bearer(token),
    });
    assert.equal(enrolled.statusCode, 202, enrolled.body);
    const enrolCode = await waitForMessage(staff.email, /\b(\d{6})\b/, 'email');
    assert.equal(enrolCode.message.to, staff.email.toLowerCase());
    const confirmed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/2fa/email/confirm',
      headers: bearer(token),
      payload: { code: enrolCode.match[1] },
    });
    assert.equal(confirmed.statusCode, 200, confirmed.body);

    const challenge = await login(staff.username);
    assert.equal(challenge.json().mfa_required, true, challenge.body);
    const mfaToken = challenge.json().mfa_token as string;
    const sent = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/send',
      payload: { mfa_token: mfaToken, factor: 'email_otp' },
    });
    assert.equal(sent.statusCode, 202, sent.body);
    let code = '';
    for (const deadline = Date.now() + 30_000; !code; ) {
      const { match } = await waitForMessage(staff.email, /\b(\d{6})\b/, 'email');
      if (match[1] !== enrolCode.match[1]) code = match[1]!;
      else if (Date.now() > deadline) assert.fail('no login code after the enrolment code');
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const verified = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/verify',
      payload: { mfa_token: mfaToken, factor: 'email_otp', code },
    });
    assert.equal(verified.statusCode, 200, verified.body);
    assert.ok(verified.json().access_token);
  });

  test('password reset: the link is read from the sink and its token sets the new password', async () => {
    const staff = await createStaff();
    const asked = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password/forgot',
      payload: { email: staff.email },
      remoteAddress: '10.77.0.1',
    });
    assert.equal(asked.statusCode, 202, asked.body);
    const { match } = await waitForMessage(staff.email, /reset-password\?token=([A-Za-z0-9_.~%-]+)/, 'email');
    const reset = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password/reset',
      payload: { token: decodeURIComponent(match[1]!), new_password: NEW_PASSWORD },
      remoteAddress: '10.77.0.2',
    });
    assert.equal(reset.statusCode, 204, reset.body);
    assert.equal((await login(staff.username, PASSWORD)).statusCode, 401);
    assert.equal((await login(staff.username, NEW_PASSWORD)).statusCode, 200);
  });

  test('only staff holding dev:message_read see the messages; bad filters are a 4xx', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/dev/messages' })).statusCode, 401);
    const clerk = await createStaff();
    const clerkSession = await login(clerk.username);
    assert.equal((await messages('', clerkSession.json().access_token)).statusCode, 403);
    const customer = await createCustomer(t, 'Achieng', '+254711000803');
    assert.equal((await messages('', customer.token)).statusCode, 403);
    const all = await messages('limit=200');
    assert.equal(all.statusCode, 200, all.body);
    const ids = (all.json().items as DevMessage[]).map((item) => item.id);
    assert.deepEqual(ids, [...ids].sort().reverse(), 'newest first');
    for (const query of ['limit=0', 'limit=201', 'channel=push', 'to=x', 'unknown=1']) {
      const refused = await messages(query);
      assert.ok(refused.statusCode >= 400 && refused.statusCode < 500, `${query}: ${refused.statusCode}`);
      assert.ok(refused.json().error_code, refused.body);
    }
  });
});

describe('development message sink storage', () => {
  test('keeps the last N per recipient, newest first, whatever form the address was written in', async () => {
    const store = new MemoryStore();
    const sink = new DevMessageSink(store, { perRecipient: 3, log: quiet });
    for (let index = 1; index <= 5; index += 1)
      await sink.sms.send({ to: '+254722000900', body: `sms ${index}` });
    await sink.email.send({ to: 'Someone@Bank.test', subject: 'Hello', text: 'email 1' });
    const kept = await sink.list({ to: '+254 722 000 900', limit: 50 });
    assert.deepEqual(
      kept.map((message) => message.body),
      ['sms 5', 'sms 4', 'sms 3'],
    );
    const email = await sink.list({ to: 'someone@bank.TEST', limit: 50 });
    assert.deepEqual(
      email.map((message) => [message.channel, message.to, message.subject, message.body]),
      [['email', 'someone@bank.test', 'Hello', 'email 1']],
    );
    const recent = await sink.list({ limit: 2 });
    assert.deepEqual(
      recent.map((message) => message.body),
      ['email 1', 'sms 5'],
    );
    assert.deepEqual(await sink.list({ channel: 'email', limit: 10 }), email);
    await store.close();
  });

  test('with DEV_MESSAGE_SINK=false there is no sink and no route; a missing SMS provider fails as before', async () => {
    const t = await startTestApp({ DEV_MESSAGE_SINK: 'false' });
    try {
      assert.equal(t.application.notifications.devSink, null);
      const response = await t.app.inject({
        method: 'GET',
        url: '/api/v1/dev/messages',
        headers: bearer(t.adminToken),
      });
      assert.equal(response.statusCode, 404, response.body);
      await t.deps.jobs.start();
      const customer = await createCustomer(t, 'Otieno', '+254722000910');
      const asked = await t.app.inject({
        method: 'POST',
        url: '/api/v1/customer/pin/reset/request',
        payload: { phone: customer.phone },
      });
      assert.equal(asked.statusCode, 202, asked.body);
      const runtime = t.application.notifications;
      while ((await runtime.dispatcher.dispatchBatch()) > 0) {}
      const rows = await t.deps.database.db
        .select()
        .from(notifications)
        .where(and(eq(notifications.recipientId, customer.id), eq(notifications.channel, 'sms')));
      assert.equal(rows.length, 1);
      assert.equal(await runtime.delivery.deliver(rows[0]!.id), 'failed');
      const [after] = await t.deps.database.db
        .select()
        .from(notifications)
        .where(eq(notifications.id, rows[0]!.id));
      assert.equal(after?.errorCode, 'CHANNEL_NOT_CONFIGURED');
    } finally {
      await t.close();
    }
  });

  test('a message kept by one node (the worker) is read on another through Redis', {
    skip: process.env.REDIS_URL ? false : 'needs REDIS_URL',
  }, async () => {
    const prefix = `cft:sink:${randomBytes(4).toString('hex')}:`;
    const workerStore = new RedisStore(process.env.REDIS_URL!, prefix);
    const apiStore = new RedisStore(process.env.REDIS_URL!, prefix);
    try {
      const worker = new DevMessageSink(workerStore, { perRecipient: 5, log: quiet });
      const api = new DevMessageSink(apiStore, { perRecipient: 5, log: quiet });
      await worker.sms.send({ to: '+254733000777', body: 'Your code is 123456' });
      const seen = await api.list({ to: '+254733000777', limit: 5 });
      assert.deepEqual(
        seen.map((message) => message.body),
        ['Your code is 123456'],
      );
    } finally {
      const keys = await workerStore.client.keys(`${prefix}*`);
      if (keys.length > 0) await workerStore.client.del(...keys);
      await workerStore.close();
      await apiStore.close();
    }
  });
});
