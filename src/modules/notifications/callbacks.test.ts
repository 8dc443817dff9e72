/**
 * Email through the SendGrid fake and its signed Event Webhook (RELIABILITY.md property 22): a valid batch moves the
 * message forward once; a tampered, re-serialised, unsigned or stale (±301 s) batch is a 403 that changes nothing.
 * Also: with no SMS provider configured, the SMS callbacks refuse everything.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import {
  type FakeSendGrid,
  type SendGridWebhookEvent,
  startFakeSendGrid,
} from '../../../test/fakes/sendgrid.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import type { EmailProvider } from '../../integrations/ports.ts';
import { NotificationDelivery } from './notifications.delivery.ts';
import { notificationDeliveryReports } from './notifications.tables.ts';

const API_KEY = 'SG.callbacks-test.key';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface View {
  status: string;
  provider: string | null;
  provider_message_id: string | null;
  provider_status: string | null;
  error_code: string | null;
  delivered_at: string | null;
  failed_at: string | null;
  attempts: number;
}

describe('SendGrid delivery and its signed event webhook', () => {
  let t: TestContext;
  let sendgrid: FakeSendGrid;
  let webhook: string;
  let adminId: string;

  before(async () => {
    sendgrid = await startFakeSendGrid({ apiKey: API_KEY });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    webhook = `${base}/api/v1/notify/callback/sendgrid`;
    t = await startTestApp({
      PUBLIC_BASE_URL: base,
      EMAIL_PROVIDER: 'sendgrid',
      SENDGRID_BASE_URL: sendgrid.url,
      SENDGRID_API_KEY: API_KEY,
      SENDGRID_WEBHOOK_PUBLIC_KEY: sendgrid.publicKeyBase64,
      SMTP_FROM: 'no-reply@bank.test',
      SMTP_FROM_NAME: 'CodeForge Bank',
      NOTIFY_MAX_ATTEMPTS: '3',
    });
    await t.deps.jobs.start();
    await t.app.listen({ port, host: '127.0.0.1' });
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(t.adminToken) });
    adminId = me.json().id;
  });
  after(async () => {
    await t?.close();
    await sendgrid?.close();
  });

  const deliver = (id: string) => t.application.notifications.delivery.deliver(id);

  async function email(title: string, message: string): Promise<string> {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/notify/notification/send',
      headers: bearer(t.adminToken),
      payload: {
        recipient_type: 'user',
        recipient_id: adminId,
        template: 'notification.message',
        channels: ['email'],
        variables: { title, message },
      },
    });
    assert.equal(response.statusCode, 202, response.body);
    const [queued] = response.json().notifications;
    assert.equal(queued.status, 'queued');
    assert.equal(queued.address, 'admin@bank.test');
    return queued.id as string;
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

  const reportsOf = (messageId: string) =>
    t.deps.database.db
      .select()
      .from(notificationDeliveryReports)
      .where(eq(notificationDeliveryReports.providerMessageId, messageId));

  function event(messageId: string, kind: string): SendGridWebhookEvent {
    return {
      email: 'admin@bank.test',
      timestamp: Math.floor(Date.now() / 1000),
      event: kind,
      sg_event_id: randomBytes(16).toString('base64url'),
      sg_message_id: `${messageId}.recvd-5f8d9c-1-6491A3C1-3.0`,
    };
  }

  async function post(body: string, headers: Record<string, string>) {
    const response = await fetch(webhook, { method: 'POST', headers, body });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  test('an email goes out through SendGrid with text first and escaped HTML; the row keeps X-Message-Id', async () => {
    const id = await email('Audit', 'Q3 audit <starts> Monday & runs a week');
    assert.equal(await deliver(id), 'sent');
    const accepted = sendgrid.messages.at(-1)!;
    assert.deepEqual(accepted.to, [{ email: 'admin@bank.test' }]);
    assert.deepEqual(accepted.from, { email: 'no-reply@bank.test', name: 'CodeForge Bank' });
    assert.equal(accepted.subject, 'Audit');
    assert.equal(accepted.text, 'Audit\n\nQ3 audit <starts> Monday & runs a week\n\nThe CodeForge team');
    assert.equal(
      accepted.html,
      '<p><strong>Audit</strong></p><p>Q3 audit &lt;starts&gt; Monday &amp; runs a week</p><p>The CodeForge team</p>',
    );
    const row = await view(id);
    assert.equal(row.status, 'sent');
    assert.equal(row.provider, 'sendgrid');
    assert.equal(row.provider_message_id, accepted.messageId);
    assert.equal(row.provider_status, '202');
  });

  test('signed events move the message forward once; a replay is a duplicate', async () => {
    const id = await email('Events', 'Tracking check');
    assert.equal(await deliver(id), 'sent');
    const messageId = sendgrid.messages.at(-1)!.messageId;

    assert.equal(await sendgrid.postEvents(webhook, [event(messageId, 'processed')]), 200);
    let row = await view(id);
    assert.equal(row.status, 'sent');
    assert.equal(row.provider_status, 'processed');

    const delivered = sendgrid.signEvents([event(messageId, 'delivered')]);
    const first = await post(delivered.body, delivered.headers);
    assert.deepEqual(first, { status: 200, body: { status: 'recorded' } });
    row = await view(id);
    assert.equal(row.status, 'delivered');
    assert.ok(row.delivered_at);
    const again = await post(delivered.body, delivered.headers);
    assert.deepEqual(again, { status: 200, body: { status: 'duplicate' } });
    assert.deepEqual(await view(id), row);
    assert.equal((await reportsOf(messageId)).length, 2);
  });

  test('a bounce fails the message with its reason', async () => {
    const id = await email('Bounce', 'Bounce check');
    assert.equal(await deliver(id), 'sent');
    const messageId = sendgrid.messages.at(-1)!.messageId;
    assert.equal(await sendgrid.postEvents(webhook, [event(messageId, 'bounce')]), 200);
    const row = await view(id);
    assert.equal(row.status, 'failed');
    assert.equal(row.error_code, 'bounce');
    assert.ok(row.failed_at);
  });

  test('tampered, re-serialised, unsigned and stale (±301 s) batches are 403 and change nothing', async () => {
    const id = await email('Forgery', 'Forgery check');
    assert.equal(await deliver(id), 'sent');
    const messageId = sendgrid.messages.at(-1)!.messageId;
    const before = await view(id);

    // Signed as "bounce", then changed to claim delivery on the way.
    assert.equal(await sendgrid.postEvents(webhook, [event(messageId, 'bounce')], { tamper: true }), 403);
    for (const offset of [301, -301])
      assert.equal(
        await sendgrid.postEvents(webhook, [event(messageId, 'delivered')], {
          timestampOffsetSeconds: offset,
        }),
        403,
        `timestamp ${offset} s`,
      );
    const signed = sendgrid.signEvents([event(messageId, 'delivered')]);
    const reserialised = JSON.stringify(JSON.parse(signed.body));
    assert.equal((await post(reserialised, signed.headers)).status, 403, 're-serialised body');
    const unsigned = { ...signed.headers };
    delete unsigned['X-Twilio-Email-Event-Webhook-Signature'];
    assert.equal((await post(signed.body, unsigned)).status, 403, 'no signature');
    const other = await startFakeSendGrid({ apiKey: API_KEY });
    try {
      const foreign = other.signEvents([event(messageId, 'delivered')]);
      assert.equal((await post(foreign.body, foreign.headers)).status, 403, 'another key');
    } finally {
      await other.close();
    }

    assert.deepEqual(await view(id), before);
    assert.equal((await reportsOf(messageId)).length, 0, 'nothing recorded');
    // The genuine batch still goes through afterwards.
    assert.equal((await post(signed.body, signed.headers)).status, 200);
    assert.equal((await view(id)).status, 'delivered');
  });

  test('SendGrid 503 is retried later; 400 fails at once', async () => {
    const retried = await email('Retry', 'Retry check');
    sendgrid.failNext(1, { status: 503, message: 'Service Unavailable' });
    assert.equal(await deliver(retried), 'retry');
    let row = await view(retried);
    assert.equal(row.status, 'queued');
    assert.equal(row.attempts, 1);
    assert.equal(await deliver(retried), 'sent');
    assert.equal((await view(retried)).attempts, 2);

    const refused = await email('Refused', 'Refusal check');
    sendgrid.failNext(1, { status: 400, message: 'Bad Request' });
    assert.equal(await deliver(refused), 'failed');
    row = await view(refused);
    assert.equal(row.status, 'failed');
    assert.equal(row.attempts, 1);
  });

  test('a provider answer without a message id is recorded as none, for every message', async () => {
    // As the SendGrid client reports a 2xx whose X-Message-Id header went missing.
    const blank: EmailProvider = {
      name: 'sendgrid',
      send: async () => ({ provider: 'sendgrid', providerMessageId: '', providerStatus: '202' }),
    };
    const delivery = new NotificationDelivery(
      t.deps,
      t.application.notifications.templates,
      { sms: [], email: blank, push: null },
      null,
      t.application.notifications.delivery.settings,
    );
    for (const title of ['No id 1', 'No id 2']) {
      const id = await email(title, 'Missing id check');
      assert.equal(await delivery.deliver(id), 'sent');
      const row = await view(id);
      assert.equal(row.status, 'sent');
      assert.equal(row.provider_message_id, null);
    }
  });

  test('with no SMS provider configured the SMS callbacks refuse everything', async () => {
    const twilio = await t.app.inject({
      method: 'POST',
      url: '/api/v1/notify/callback/twilio',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': `${'A'.repeat(27)}=`,
      },
      payload: 'MessageSid=SM1&MessageStatus=delivered',
    });
    assert.equal(twilio.statusCode, 403, twilio.body);
    const at = await t.app.inject({
      method: 'POST',
      url: '/api/v1/notify/callback/africastalking/anything',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'id=ATXid_1&status=Success',
    });
    assert.equal(at.statusCode, 404, at.body);
  });
});
