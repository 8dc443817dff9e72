/**
 * Delivery against the local provider fakes over real HTTP and SMTP: SMS through Twilio with fail-over to Africa's
 * Talking, retries with backoff, dead-lettering and non-retryable refusals; signed Twilio status callbacks and
 * Africa's Talking delivery reports delivered at least once (RELIABILITY.md property 9); push through FCM with an
 * unregistered token forgotten; a password-reset email through SMTP whose link works; and the outbox turning
 * completed transfers into alerts exactly once.
 *
 * The app listens on a real port, PUBLIC_BASE_URL points at it, and the fakes post their callbacks there, so the
 * Twilio signature is checked over the URL the fake actually posted to. Every run prints the seed of the shuffled
 * delivery reports (NOTIFY_TEST_SEED=<seed> repeats a run).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { type FakeAfricasTalking, startFakeAfricasTalking } from '../../../test/fakes/africastalking.ts';
import { type FakeFcm, startFakeFcm } from '../../../test/fakes/fcm.ts';
import { type FakeSmtp, startFakeSmtp } from '../../../test/fakes/smtp.ts';
import { type FakeTwilio, startFakeTwilio } from '../../../test/fakes/twilio.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  createCustomer,
  deposit,
  idempotent,
  openWallet,
  TEST_PIN,
  type TestCustomer,
} from '../../../test/helpers/money.ts';
import type { SmsProvider } from '../../integrations/ports.ts';
import { twilioSignature } from '../../integrations/twilio/twilio.signature.ts';
import { outboxEvents } from '../../platform/platform.tables.ts';
import { registeredDevices } from '../identity/identity.tables.ts';
import { notificationsModule } from './index.ts';
import type { NotificationsConfig } from './notifications.config.ts';
import { NotificationDelivery } from './notifications.delivery.ts';
import { notificationDeliveryReports, notifications } from './notifications.tables.ts';
import { channelsFromConfig } from './providers.ts';

const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'delivery-test-twilio-auth-token';
const FROM = '+15005550006';
const AT_USERNAME = 'sandbox';
const AT_API_KEY = 'atsk_delivery_test_key';
const AT_SECRET = 'at-callback-secret-7f3c9a';
const FIREBASE_PROJECT = 'codeforge-test';
const ERROR_KEYS = ['details', 'error_code', 'message', 'request_id', 'status_code'];

type Injected = Awaited<ReturnType<TestContext['app']['inject']>>;

function assertError(response: Injected, status: number, code: string) {
  assert.equal(response.statusCode, status, response.body);
  const body = response.json();
  assert.deepEqual(Object.keys(body).sort(), ERROR_KEYS);
  assert.equal(body.error_code, code);
  return body;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** mulberry32: a small seeded PRNG, so a shuffled run can be repeated from its seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

interface Queued {
  id: string;
  channel: string;
  status: string;
  address: string | null;
  error_code: string | null;
}

interface View {
  id: string;
  status: string;
  provider: string | null;
  provider_message_id: string | null;
  provider_status: string | null;
  segments: number | null;
  attempts: number;
  next_attempt_at: string | null;
  error_code: string | null;
  error: string | null;
  sent_at: string | null;
  delivered_at: string | null;
  failed_at: string | null;
  body: string;
  address: string | null;
}

describe('notification delivery through the provider fakes', () => {
  let t: TestContext;
  let twilio: FakeTwilio;
  let at: FakeAfricasTalking;
  let smtp: FakeSmtp;
  let fcm: FakeFcm;
  let base: string;
  let ann: TestCustomer;

  before(async () => {
    [twilio, at, smtp, fcm] = await Promise.all([
      startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN }),
      startFakeAfricasTalking({ username: AT_USERNAME, apiKey: AT_API_KEY }),
      startFakeSmtp(),
      startFakeFcm({ projectId: FIREBASE_PROJECT }),
    ]);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    t = await startTestApp({
      PUBLIC_BASE_URL: base,
      SMS_PROVIDERS: 'twilio,africastalking',
      TWILIO_BASE_URL: twilio.url,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_FROM_NUMBER: FROM,
      AFRICASTALKING_BASE_URL: at.url,
      AFRICASTALKING_USERNAME: AT_USERNAME,
      AFRICASTALKING_API_KEY: AT_API_KEY,
      AFRICASTALKING_CALLBACK_SECRET: AT_SECRET,
      EMAIL_PROVIDER: 'smtp',
      SMTP_SERVER: smtp.host,
      SMTP_PORT: String(smtp.port),
      SMTP_FROM: 'no-reply@bank.test',
      FIREBASE_PROJECT_ID: FIREBASE_PROJECT,
      FIREBASE_CREDENTIALS: JSON.stringify(fcm.serviceAccount),
      FCM_BASE_URL: fcm.url,
      NOTIFY_MAX_ATTEMPTS: '2',
      NOTIFY_RETRY_BASE_SECONDS: '5',
    });
    await t.deps.jobs.start();
    await t.app.listen({ port, host: '127.0.0.1' });
    ann = await createCustomer(t, 'Ann', '+254711300001');
  });
  after(async () => {
    await t?.close();
    await Promise.all([twilio?.close(), at?.close(), smtp?.close(), fcm?.close()]);
  });

  const db = () => t.deps.database.db;
  const deliver = (id: string) => t.application.notifications.delivery.deliver(id);

  async function send(payload: Record<string, unknown>): Promise<Queued[]> {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/notify/notification/send',
      headers: bearer(t.adminToken),
      payload,
    });
    assert.equal(response.statusCode, 202, response.body);
    return response.json().notifications as Queued[];
  }

  async function sms(customer: TestCustomer, message: string): Promise<string> {
    const [queued] = await send({
      recipient_type: 'customer',
      recipient_id: customer.id,
      template: 'notification.message',
      channels: ['sms'],
      variables: { message },
    });
    assert.equal(queued!.status, 'queued');
    return queued!.id;
  }

  async function view(id: string): Promise<View> {
    const response = await t.app.inject({
      method: 'GET',
      url: `/api/v1/notify/notification/${id}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(response.statusCode, 200, response.body);
    return response.json() as View;
  }

  async function reportsOf(providerMessageId: string) {
    return db()
      .select()
      .from(notificationDeliveryReports)
      .where(eq(notificationDeliveryReports.providerMessageId, providerMessageId));
  }

  async function jobsFor(id: string): Promise<number> {
    const result = (await db().execute(
      sql`select count(*)::int as n from pgboss.job where name = 'notify.deliver' and data->>'id' = ${id}`,
    )) as unknown as { rows: { n: number }[] };
    return result.rows[0]!.n;
  }

  async function drainOutbox(): Promise<void> {
    for (let round = 0; round < 20; round += 1)
      if ((await t.application.notifications.dispatcher.dispatchBatch()) === 0) return;
    assert.fail('the outbox did not drain');
  }

  describe('SMS', () => {
    test('Twilio sends the exact body to the number; the row is sent with the sid and segments', async () => {
      const message = 'Your new card is ready for pickup at the Moi Avenue branch.';
      const id = await sms(ann, message);
      const requestsBefore = twilio.requests.length;
      assert.equal(await deliver(id), 'sent');
      assert.equal(twilio.requests.length, requestsBefore + 1);
      const request = twilio.requests.at(-1)!;
      assert.equal(request.path, `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
      assert.deepEqual(request.form, {
        To: ann.phone,
        From: FROM,
        Body: message,
        StatusCallback: `${base}/api/v1/notify/callback/twilio`,
      });
      const accepted = twilio.messages.at(-1)!;
      const row = await view(id);
      assert.equal(row.status, 'sent');
      assert.equal(row.provider, 'twilio');
      assert.equal(row.provider_message_id, accepted.sid);
      assert.equal(row.provider_status, 'queued');
      assert.equal(row.segments, 1);
      assert.equal(row.attempts, 1);
      assert.ok(row.sent_at);
      assert.equal(row.next_attempt_at, null);
      assert.equal(await deliver(id), 'skipped', 'a sent message is not sent again');
      assert.equal(twilio.requests.length, requestsBefore + 1);

      const long = await sms(ann, `${'Statement ready. '.repeat(12)}End.`);
      assert.equal(await deliver(long), 'sent');
      assert.equal((await view(long)).segments, twilio.messages.at(-1)!.numSegments);
      assert.equal(twilio.messages.at(-1)!.numSegments, 2);
    });

    test('the signed status callback moves it to delivered once; a repeat is a duplicate; a forgery is 403', async () => {
      const id = await sms(ann, 'Callback check.');
      assert.equal(await deliver(id), 'sent');
      const message = twilio.messages.at(-1)!;
      assert.equal(message.statusCallback, `${base}/api/v1/notify/callback/twilio`);

      assert.equal(await twilio.sendStatusCallback(message, 'sent'), 200);
      let row = await view(id);
      assert.equal(row.status, 'sent');
      assert.equal(row.provider_status, 'sent');

      assert.equal(await twilio.sendStatusCallback(message, 'delivered'), 200);
      row = await view(id);
      assert.equal(row.status, 'delivered');
      assert.equal(row.provider_status, 'delivered');
      assert.ok(row.delivered_at);

      // Twilio delivers callbacks at least once: the same one again changes nothing.
      assert.equal(await twilio.sendStatusCallback(message, 'delivered'), 200);
      const params = {
        MessageSid: message.sid,
        SmsSid: message.sid,
        MessageStatus: 'delivered',
        SmsStatus: 'delivered',
        AccountSid: ACCOUNT_SID,
        From: FROM,
        To: message.to,
        ApiVersion: '2010-04-01',
      };
      const url = `${base}/api/v1/notify/callback/twilio`;
      const again = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilioSignature(AUTH_TOKEN, url, params),
        },
        body: new URLSearchParams(params).toString(),
      });
      assert.equal(again.status, 200);
      assert.deepEqual(await again.json(), { status: 'duplicate' });
      assert.deepEqual(await view(id), row, 'no change');
      assert.deepEqual((await reportsOf(message.sid)).map((report) => report.providerStatus).sort(), [
        'delivered',
        'sent',
      ]);
      // A late "undelivered" never undoes a final status.
      assert.equal(await twilio.sendStatusCallback(message, 'undelivered'), 200);
      assert.equal((await view(id)).status, 'delivered');

      const other = await sms(ann, 'Forgery check.');
      assert.equal(await deliver(other), 'sent');
      const target = twilio.messages.at(-1)!;
      const sentView = await view(other);
      assert.equal(
        await twilio.sendStatusCallback(target, 'undelivered', { signature: `${'A'.repeat(27)}=` }),
        403,
      );
      assert.equal(await twilio.sendStatusCallback(target, 'delivered', { signature: null }), 403);
      // Signed with another token (a caller who guessed the format but not the secret).
      const forgedParams = { MessageSid: target.sid, MessageStatus: 'delivered' };
      const forged = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilioSignature('not-the-token', url, forgedParams),
        },
        body: new URLSearchParams(forgedParams).toString(),
      });
      assert.equal(forged.status, 403);
      assert.deepEqual(await view(other), sentView, 'no change');
      assert.equal((await reportsOf(target.sid)).length, 0, 'nothing recorded');
    });

    test('reports that arrive before the sid is recorded count, whatever their order', async () => {
      const twilioClient = channelsFromConfig(
        t.application.system.context(notificationsModule).config as NotificationsConfig,
      ).sms.find((provider) => provider.name === 'twilio')!;
      // Twilio calls back (delivered, then a late "sent") before the worker has recorded the sid.
      const fast: SmsProvider = {
        name: 'twilio',
        async send(message) {
          const result = await twilioClient.send(message);
          const accepted = twilio.messages.at(-1)!;
          assert.equal(await twilio.sendStatusCallback(accepted, 'delivered'), 200);
          assert.equal(await twilio.sendStatusCallback(accepted, 'sent'), 200);
          return result;
        },
      };
      const delivery = new NotificationDelivery(
        t.deps,
        t.application.notifications.templates,
        { sms: [fast], email: null, push: null },
        null,
        t.application.notifications.delivery.settings,
      );
      const id = await sms(ann, 'Early report check.');
      assert.equal(await delivery.deliver(id), 'sent');
      const sid = twilio.messages.at(-1)!.sid;
      const row = await view(id);
      assert.equal(row.provider_message_id, sid);
      assert.equal(row.status, 'delivered');
      assert.ok(row.delivered_at);
      const reports = await reportsOf(sid);
      assert.equal(reports.length, 2);
      assert.ok(reports.every((report) => report.notificationId === id));
    });

    test('a delivery held by a live lease is left alone; one whose worker died is swept and taken over', async () => {
      const id = await sms(ann, 'Lease check.');
      await db()
        .update(notifications)
        .set({ status: 'sending', attempts: 1, leaseUntil: new Date(Date.now() + 60_000) })
        .where(eq(notifications.id, id));
      const sentBefore = twilio.messages.length;
      await assert.rejects(deliver(id), /being delivered by another worker/);
      assert.equal(twilio.messages.length, sentBefore);
      assert.equal(await jobsFor(id), 1);
      await t.application.notifications.delivery.sweep();
      assert.equal(await jobsFor(id), 1, 'a live lease is not swept');

      await db()
        .update(notifications)
        .set({ leaseUntil: new Date(Date.now() - 1_000) })
        .where(eq(notifications.id, id));
      assert.ok((await t.application.notifications.delivery.sweep()) >= 1);
      assert.equal(await jobsFor(id), 2, 'the sweep queued it again');
      assert.equal(await deliver(id), 'sent');
      const row = await view(id);
      assert.equal(row.status, 'sent');
      assert.equal(row.attempts, 2);
      assert.equal(twilio.messages.at(-1)!.body, 'Lease check.');
    });

    test("fail-over: Twilio answers 500, Africa's Talking sends it within the same attempt", async () => {
      const id = await sms(ann, 'Fail-over check.');
      twilio.failNext(1, { status: 500, code: 20500, message: 'Internal Server Error' });
      assert.equal(await deliver(id), 'sent');
      const accepted = at.messages.at(-1)!;
      assert.equal(accepted.to, ann.phone);
      assert.equal(accepted.message, 'Fail-over check.');
      assert.equal(at.requests.at(-1)!.form.username, AT_USERNAME);
      const row = await view(id);
      assert.equal(row.status, 'sent');
      assert.equal(row.provider, 'africastalking');
      assert.equal(row.provider_message_id, accepted.messageId);
      assert.equal(row.segments, 1);
      assert.equal(row.attempts, 1);
    });

    test('both providers failing retryably: queued again with backoff, then dead; the retry route revives it', async () => {
      const id = await sms(ann, 'Retry check.');
      assert.equal(await jobsFor(id), 1);
      twilio.failNext(2, { status: 503, code: 20503, message: 'Service Unavailable' });
      at.failNext(2, { httpStatus: 500 });

      const before = Date.now();
      assert.equal(await deliver(id), 'retry');
      let row = await view(id);
      assert.equal(row.status, 'queued');
      assert.equal(row.attempts, 1);
      assert.equal(row.error_code, 'HTTP_500');
      assert.match(row.error!, /twilio: 20503/);
      assert.match(row.error!, /africastalking: HTTP_500/);
      const wait = Date.parse(row.next_attempt_at!) - before;
      // NOTIFY_RETRY_BASE_SECONDS=5: the first retry waits 2.5–5 s (jitter).
      assert.ok(wait >= 2_400 && wait <= 5_100, `next attempt in ${wait} ms`);
      assert.equal(await jobsFor(id), 2, 'a delayed job for the next attempt');

      assert.equal(await deliver(id), 'dead');
      row = await view(id);
      assert.equal(row.status, 'dead');
      assert.equal(row.attempts, 2);
      assert.ok(row.failed_at);
      assert.equal(row.next_attempt_at, null);
      assert.equal(await deliver(id), 'skipped');
      assert.equal(await jobsFor(id), 2, 'no job after the last attempt');

      const retried = await t.app.inject({
        method: 'POST',
        url: `/api/v1/notify/notification/${id}/retry`,
        headers: bearer(t.adminToken),
      });
      assert.equal(retried.statusCode, 200, retried.body);
      assert.equal(retried.json().status, 'queued');
      assert.equal(retried.json().attempts, 0);
      assert.equal(retried.json().error_code, null);
      assert.equal(retried.json().failed_at, null);
      assert.equal(await jobsFor(id), 3);
      assert.equal(await deliver(id), 'sent');
      assert.equal((await view(id)).provider, 'twilio');
      assertError(
        await t.app.inject({
          method: 'POST',
          url: `/api/v1/notify/notification/${id}/retry`,
          headers: bearer(t.adminToken),
        }),
        409,
        'CONFLICT',
      );
      assertError(
        await t.app.inject({
          method: 'POST',
          url: `/api/v1/notify/notification/${id}/retry`,
          headers: bearer(ann.token),
        }),
        403,
        'FORBIDDEN',
      );
    });

    test('refusals that cannot change (Twilio 21211, AT 403 InvalidPhoneNumber) fail at once', async () => {
      const id = await sms(ann, 'Bad number check.');
      twilio.failNext(1, {
        status: 400,
        code: 21211,
        message: "The 'To' number is not a valid phone number.",
      });
      at.failNext(1, { recipientStatusCode: 403, status: 'InvalidPhoneNumber' });
      assert.equal(await deliver(id), 'failed');
      const row = await view(id);
      assert.equal(row.status, 'failed');
      assert.equal(row.attempts, 1);
      assert.equal(row.error_code, '403 InvalidPhoneNumber');
      assert.match(row.error!, /21211/);
      assert.ok(row.failed_at);
      assert.equal(row.next_attempt_at, null);
      assert.equal(await jobsFor(id), 1, 'no retry was scheduled');
    });

    test("Africa's Talking reports: a wrong secret is 404; reports 1–5× shuffled record each event once", async () => {
      const seed = Number(process.env.NOTIFY_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
      console.log(`delivery reports shuffle seed: NOTIFY_TEST_SEED=${seed}`);
      const random = seededRandom(seed);
      const ids: string[] = [];
      for (let index = 0; index < 3; index += 1) {
        const id = await sms(ann, `Report check ${index}.`);
        twilio.failNext(1, { status: 500, code: 20500, message: 'Internal Server Error' });
        assert.equal(await deliver(id), 'sent');
        ids.push(id);
      }
      const messages = at.messages.slice(-3);
      const report = (secret: string) => `${base}/api/v1/notify/callback/africastalking/${secret}`;

      assert.equal(
        await at.sendDeliveryReport(report('not-the-secret'), messages[0]!, { status: 'Success' }),
        404,
      );
      assert.equal((await view(ids[0]!)).status, 'sent');
      assert.equal((await reportsOf(messages[0]!.messageId)).length, 0);

      const statuses = ['Sent', 'Buffered', 'Success'];
      const posts: { message: (typeof messages)[number]; status: string }[] = [];
      for (const message of messages)
        for (const status of statuses) {
          const times = 1 + Math.floor(random() * 5);
          for (let copy = 0; copy < times; copy += 1) posts.push({ message, status });
        }
      for (let index = posts.length - 1; index > 0; index -= 1) {
        const other = Math.floor(random() * (index + 1));
        [posts[index], posts[other]] = [posts[other]!, posts[index]!];
      }
      const answers = await Promise.all(
        posts.map((post) => at.sendDeliveryReport(report(AT_SECRET), post.message, { status: post.status })),
      );
      assert.ok(
        answers.every((status) => status === 200),
        `seed ${seed}: ${answers.join(',')}`,
      );
      for (const [index, message] of messages.entries()) {
        const rows = await reportsOf(message.messageId);
        assert.deepEqual(
          rows.map((row) => row.providerStatus).sort(),
          ['Buffered', 'Sent', 'Success'],
          `seed ${seed}: one report row per event`,
        );
        assert.ok(rows.every((row) => row.notificationId === ids[index]));
        const row = await view(ids[index]!);
        assert.equal(row.status, 'delivered', `seed ${seed}`);
        assert.ok(row.delivered_at);
      }
      // A late failure report never undoes the delivery.
      assert.equal(await at.sendDeliveryReport(report(AT_SECRET), messages[0]!, { status: 'Failed' }), 200);
      assert.equal((await view(ids[0]!)).status, 'delivered');
    });
  });

  describe('push', () => {
    let fran: TestCustomer;
    const pushToken = 'fcm-token-fran-phone-0001';

    before(async () => {
      fran = await createCustomer(t, 'Fran', '+254711300002');
      const { publicKey } = generateKeyPairSync('ed25519');
      const registered = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/device/register',
        headers: bearer(fran.token),
        payload: {
          device_id: 'fran-phone',
          name: 'Fran’s phone',
          platform: 'android',
          public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          push_token: pushToken,
        },
      });
      assert.equal(registered.statusCode, 201, registered.body);
    });

    const push = async (message: string) => {
      const [queued] = await send({
        recipient_type: 'customer',
        recipient_id: fran.id,
        template: 'notification.message',
        channels: ['push'],
        variables: { title: 'Card', message },
      });
      return queued!;
    };

    test('a push goes to the device token through FCM with the notification id in its data', async () => {
      const queued = await push('Your card was shipped.');
      assert.equal(queued.status, 'queued');
      const [device] = await db()
        .select()
        .from(registeredDevices)
        .where(eq(registeredDevices.principalId, fran.id));
      assert.equal(queued.address, device!.id);
      assert.equal(await deliver(queued.id), 'sent');
      const record = fcm.sends.at(-1)!;
      assert.equal(record.status, 200);
      assert.equal(record.path, `/v1/projects/${FIREBASE_PROJECT}/messages:send`);
      const message = (record.body as { message: Record<string, unknown> }).message;
      assert.equal(message.token, pushToken);
      assert.deepEqual(message.notification, {
        title: 'Message from CodeForge',
        body: 'Card: Your card was shipped.',
      });
      assert.deepEqual(message.data, { kind: 'message', notification_id: queued.id });
      const row = await view(queued.id);
      assert.equal(row.status, 'sent');
      assert.equal(row.provider, 'fcm');
      assert.equal(row.provider_message_id, (record.response as { name: string }).name);
    });

    test('an unregistered token fails the push at once and is forgotten', async () => {
      fcm.unregister(pushToken);
      const queued = await push('Second message.');
      assert.equal(await deliver(queued.id), 'failed');
      assert.equal(fcm.sends.at(-1)!.status, 404);
      const row = await view(queued.id);
      assert.equal(row.status, 'failed');
      assert.equal(row.error_code, 'UNREGISTERED');
      assert.equal(row.attempts, 1);
      const [device] = await db()
        .select({ pushToken: registeredDevices.pushToken })
        .from(registeredDevices)
        .where(eq(registeredDevices.principalId, fran.id));
      assert.equal(device!.pushToken, null);
      // With no token left, push has no address any more.
      const next = await push('Third message.');
      assert.equal(next.status, 'suppressed');
      assert.equal(next.error_code, 'NO_ADDRESS');
    });
  });

  describe('email (SMTP)', () => {
    test('a password reset email carries a working link; the stored copy masks it', async () => {
      const email = 'grace.staff@bank.test';
      const password = 'lantern orchard mosaic 71';
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        headers: bearer(t.adminToken),
        payload: { username: 'grace.staff', email, full_name: 'Grace Staff', password, roles: [] },
      });
      assert.equal(created.statusCode, 201, created.body);
      const userId = created.json().id as string;
      const forgot = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/password/forgot',
        payload: { username: 'grace.staff' },
      });
      assert.equal(forgot.statusCode, 202, forgot.body);

      await drainOutbox();
      const rows = await db()
        .select()
        .from(notifications)
        .where(and(eq(notifications.recipientId, userId), eq(notifications.templateCode, 'password.reset')));
      assert.equal(rows.length, 1);
      const queued = rows[0]!;
      assert.equal(queued.channel, 'email');
      assert.equal(queued.status, 'queued');
      assert.equal(queued.address, email);
      assert.equal(queued.recipientType, 'user');
      assert.match(queued.body, /••••••/);
      assert.ok(queued.secretsSealed);

      assert.equal(await deliver(queued.id), 'sent');
      const mail = smtp.messages.at(-1)!;
      assert.deepEqual(mail.envelopeTo, [email]);
      assert.equal(mail.subject, 'Reset your CodeForge staff password');
      const fromText = /reset-password\?token=([A-Za-z0-9_-]{20,})/.exec(mail.text ?? '');
      const fromHtml = /href="[^"]*reset-password\?token=([A-Za-z0-9_-]{20,})"/.exec(mail.html ?? '');
      assert.ok(fromText, mail.text);
      assert.ok(fromHtml, mail.html);
      const token = fromText[1]!;
      assert.equal(fromHtml[1], token);
      assert.match(mail.text!, /Hello Grace Staff/);

      const [stored] = await db().select().from(notifications).where(eq(notifications.id, queued.id));
      assert.equal(stored!.status, 'sent');
      assert.equal(stored!.provider, 'smtp');
      assert.equal(stored!.secretsSealed, null, 'the sealed secrets are dropped once the message went out');
      for (const text of [stored!.body, JSON.stringify(stored!.variables)])
        assert.ok(!text.includes(token), 'the token is never stored in clear');
      assert.ok(!(await view(queued.id)).body.includes(token));
      assert.ok(!t.logs.text.includes(token), 'nor logged');

      const reset = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/password/reset',
        payload: { token, new_password: 'granite pelican velvet 38' },
      });
      assert.equal(reset.statusCode, 204, reset.body);
      const login = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'grace.staff', password: 'granite pelican velvet 38' },
      });
      assert.equal(login.statusCode, 200, login.body);
    });

    test('a staff message by email has the text and the escaped HTML part', async () => {
      const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(t.adminToken) });
      const [queued] = await send({
        recipient_type: 'user',
        recipient_id: me.json().id,
        template: 'notification.message',
        channels: ['email'],
        variables: { title: 'Rota', message: 'Shifts <changed> & updated' },
      });
      assert.equal(queued!.address, 'admin@bank.test');
      assert.equal(await deliver(queued!.id), 'sent');
      const mail = smtp.messages.at(-1)!;
      assert.deepEqual(mail.envelopeTo, ['admin@bank.test']);
      assert.equal(mail.subject, 'Rota');
      assert.equal(
        mail.text?.trim(),
        'Rota\n\nShifts <changed> & updated\n\nThe CodeForge team'.replace(/\n/g, '\r\n'),
      );
      assert.match(mail.html ?? '', /Shifts &lt;changed&gt; &amp; updated/);
    });
  });

  describe('outbox: completed transfers', () => {
    let payer: TestCustomer;
    let payee: TestCustomer;
    let payerWallet: { id: string; wallet_number: string };
    let payeeWallet: { id: string; wallet_number: string };

    before(async () => {
      payer = await createCustomer(t, 'Hana', '+254711300003');
      payee = await createCustomer(t, 'Ivan', '+254711300004');
      payerWallet = await openWallet(t, payer.id);
      payeeWallet = await openWallet(t, payee.id);
      await deposit(t, payerWallet.id, 1_000_000);
      await drainOutbox();
    });

    const transfer = (from: TestCustomer, to: string, amount: number) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/wallet/transaction/transfer',
        headers: idempotent(from.token),
        payload: { to_wallet_number: to, amount, currency: 'KES', pin: TEST_PIN },
      });

    async function alertsOf(transactionId: string) {
      return db()
        .select()
        .from(notifications)
        .where(sql`${notifications.data}->>'transaction_id' = ${transactionId}`);
    }

    async function notificationCount(): Promise<number> {
      const [row] = await db().select({ n: sql<number>`count(*)::int` }).from(notifications);
      return row!.n;
    }

    test('payer and payee are told once each, with formatted amounts', async () => {
      const response = await transfer(payer, payeeWallet.wallet_number, 100_000);
      assert.equal(response.statusCode, 201, response.body);
      const done = response.json();
      assert.equal(done.status, 'completed');
      await drainOutbox();

      const alerts = await alertsOf(done.id);
      assert.deepEqual(
        alerts.map((alert) => `${alert.templateCode}:${alert.channel}:${alert.recipientId}`).sort(),
        [
          `transfer.received:in_app:${payee.id}`,
          `transfer.received:sms:${payee.id}`,
          `transfer.sent:in_app:${payer.id}`,
          `transfer.sent:sms:${payer.id}`,
        ],
      );
      assert.ok(alerts.every((alert) => alert.status === 'queued'));
      const sentSms = alerts.find(
        (alert) => alert.templateCode === 'transfer.sent' && alert.channel === 'sms',
      )!;
      assert.deepEqual(sentSms.variables, {
        amount: 'KES 1,000.00',
        counterparty: 'Ivan Test',
        fee: 'KES 11.50',
        reference: done.reference,
      });
      assert.equal(
        sentSms.body,
        `CodeForge: You sent KES 1,000.00 to Ivan Test. Fee KES 11.50. Ref ${done.reference}.`,
      );
      assert.equal(sentSms.address, payer.phone);
      const received = alerts.find(
        (alert) => alert.templateCode === 'transfer.received' && alert.channel === 'sms',
      )!;
      assert.deepEqual(received.variables, {
        amount: 'KES 1,000.00',
        counterparty: 'Hana Test',
        reference: done.reference,
      });
      assert.equal(received.address, payee.phone);
      for (const alert of alerts) assert.equal(await jobsFor(alert.id), 1);

      assert.equal(await deliver(sentSms.id), 'sent');
      assert.equal(twilio.messages.at(-1)!.to, payer.phone);
      assert.equal(twilio.messages.at(-1)!.body, sentSms.body);

      // Dispatching again, even the same event again (a worker that died before marking it), queues nothing.
      const count = await notificationCount();
      assert.equal(await t.application.notifications.dispatcher.dispatchBatch(), 0);
      const [event] = await db()
        .select()
        .from(outboxEvents)
        .where(
          and(
            eq(outboxEvents.topic, 'transaction.completed'),
            sql`${outboxEvents.payload}->>'transaction_id' = ${done.id}`,
          ),
        );
      assert.ok(event);
      await db().update(outboxEvents).set({ dispatchedAt: null }).where(eq(outboxEvents.id, event.id));
      await drainOutbox();
      assert.equal(await notificationCount(), count);
      for (const alert of alerts) assert.equal(await jobsFor(alert.id), 1);
    });

    test('a transfer refused for insufficient balance emits no event and queues nothing', async () => {
      const [events] = await db()
        .select({ n: sql<number>`count(*)::int` })
        .from(outboxEvents)
        .where(eq(outboxEvents.topic, 'transaction.completed'));
      const count = await notificationCount();
      const response = await transfer(payee, payerWallet.wallet_number, 5_000_000);
      assertError(response, 422, 'INSUFFICIENT_BALANCE');
      await drainOutbox();
      const [after] = await db()
        .select({ n: sql<number>`count(*)::int` })
        .from(outboxEvents)
        .where(eq(outboxEvents.topic, 'transaction.completed'));
      assert.equal(after!.n, events!.n);
      assert.equal(await notificationCount(), count);
    });
  });
});
