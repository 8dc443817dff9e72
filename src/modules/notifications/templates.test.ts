/**
 * Notification templates (seed, versions, validation, retirement), staff sends (variables checked before anything
 * is queued, idempotency, secrets refused), preferences (language, time zone, marketing consent, quiet hours) and
 * the in-app inbox, against the real PostgreSQL and pg-boss and a fake Twilio for the SMS that get delivered.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { globSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { type FakeTwilio, startFakeTwilio } from '../../../test/fakes/twilio.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, type TestCustomer } from '../../../test/helpers/money.ts';
import { SEED_DIR } from '../identity/index.ts';
import { notifications, notificationTemplates } from './notifications.tables.ts';

const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'templates-test-auth-token';
const ERROR_KEYS = ['details', 'error_code', 'message', 'request_id', 'status_code'];

type Injected = Awaited<ReturnType<TestContext['app']['inject']>>;

function assertError(response: Injected, status: number, code: string) {
  assert.equal(response.statusCode, status, response.body);
  const body = response.json();
  assert.deepEqual(Object.keys(body).sort(), ERROR_KEYS);
  assert.equal(body.error_code, code);
  return body;
}

/** The `{field, message}` list of a 422 (validation details). */
function fieldsOf(response: Injected): { field: string; message: string }[] {
  const details = response.json().details;
  return (Array.isArray(details) ? details : (details?.errors ?? [])) as { field: string; message: string }[];
}

interface Queued {
  id: string;
  channel: string;
  status: string;
  address: string | null;
  error_code: string | null;
}

describe('notification templates, staff sends, preferences and the inbox', () => {
  let t: TestContext;
  let twilio: FakeTwilio;
  let ann: TestCustomer;
  let ben: TestCustomer;

  before(async () => {
    twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    t = await startTestApp({
      SMS_PROVIDERS: 'twilio',
      TWILIO_BASE_URL: twilio.url,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_FROM_NUMBER: '+15005550006',
    });
    await t.deps.jobs.start();
    ann = await createCustomer(t, 'Ann', '+254711200001');
    ben = await createCustomer(t, 'Ben', '+254711200002');
  });
  after(async () => {
    await t?.close();
    await twilio?.close();
  });

  const db = () => t.deps.database.db;
  const admin = () => bearer(t.adminToken);

  async function notificationCount(): Promise<number> {
    const [row] = await db().select({ n: sql<number>`count(*)::int` }).from(notifications);
    return row!.n;
  }

  /** Delivery jobs waiting in pg-boss for one notification. */
  async function jobsFor(id: string): Promise<{ start_after: Date }[]> {
    const result = (await db().execute(
      sql`select start_after from pgboss.job where name = 'notify.deliver' and data->>'id' = ${id}`,
    )) as unknown as { rows: { start_after: Date }[] };
    return result.rows;
  }

  async function deliverJobCount(): Promise<number> {
    const result = (await db().execute(
      sql`select count(*)::int as n from pgboss.job where name = 'notify.deliver'`,
    )) as unknown as { rows: { n: number }[] };
    return result.rows[0]!.n;
  }

  const send = (payload: Record<string, unknown>, headers: Record<string, string> = admin()) =>
    t.app.inject({ method: 'POST', url: '/api/v1/notify/notification/send', headers, payload });

  async function sent(payload: Record<string, unknown>): Promise<Queued[]> {
    const response = await send(payload);
    assert.equal(response.statusCode, 202, response.body);
    return response.json().notifications as Queued[];
  }

  async function row(id: string) {
    const [found] = await db().select().from(notifications).where(eq(notifications.id, id)).limit(1);
    assert.ok(found, `notification ${id}`);
    return found;
  }

  const template = (payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/api/v1/notify/template/add', headers: admin(), payload });

  describe('templates', () => {
    test('the seed is loaded: every template of every seed file; transfer.sent has sms, push and in_app in en, fr and sw', async () => {
      // The platform's seed plus the modules' own (src/modules/<m>/seed/template_seed.json), once per code,
      // channel and language.
      const seeded = new Set<string>();
      const root = join(import.meta.dirname, '..', '..', '..');
      const files = [
        'seed/template_seed.json',
        ...globSync('src/modules/*/seed/template_seed.json', { cwd: root }),
      ];
      for (const file of files) {
        const entries = JSON.parse(readFileSync(join(root, file), 'utf8')) as {
          code: string;
          channel: string;
          language: string;
        }[];
        for (const entry of entries) seeded.add(`${entry.code}/${entry.channel}/${entry.language}`);
      }
      assert.ok(seeded.size >= 150, `found the seed files (${seeded.size} templates)`);
      const [count] = await db().select({ n: sql<number>`count(*)::int` }).from(notificationTemplates);
      assert.equal(count!.n, seeded.size);
      const listed = await t.app.inject({
        method: 'GET',
        url: '/api/v1/notify/template?code=transfer.sent&limit=100',
        headers: admin(),
      });
      assert.equal(listed.statusCode, 200, listed.body);
      const items = listed.json().items as { channel: string; language: string; version: number }[];
      assert.deepEqual(items.map((item) => `${item.channel}/${item.language}`).sort(), [
        'in_app/en',
        'in_app/fr',
        'in_app/sw',
        'push/en',
        'push/fr',
        'push/sw',
        'sms/en',
        'sms/fr',
        'sms/sw',
      ]);
      assert.ok(items.every((item) => item.version === 1));
      // Seeding again adds nothing (staff edits survive a restart).
      assert.equal(await t.application.notifications.templates.seed(SEED_DIR), 0);
    });

    test('create is version 1; the same code, channel and language again is a 409', async () => {
      const body = {
        code: 'test.notice',
        channel: 'sms',
        language: 'en',
        category: 'transactional',
        subject: null,
        body: 'Notice v1: {{text}}',
        html_body: null,
        variables: ['text'],
        secret_variables: [],
      };
      const created = await template(body);
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.json().version, 1);
      assert.equal(created.json().active, true);
      assertError(await template({ ...body, body: 'Another {{text}}' }), 409, 'CONFLICT');
    });

    test('an undeclared placeholder, an unused variable and an SMS subject are 422 with the field', async () => {
      const base = {
        code: 'test.invalid',
        channel: 'sms',
        language: 'en',
        category: 'transactional',
        subject: null,
        html_body: null,
        secret_variables: [],
      };
      const undeclared = await template({ ...base, body: 'Hello {{name}}', variables: [] });
      assertError(undeclared, 422, 'VALIDATION_ERROR');
      assert.ok(
        fieldsOf(undeclared).some(
          (problem) => problem.field === 'body.variables' && problem.message.includes('{{name}}'),
        ),
        undeclared.body,
      );
      const unused = await template({ ...base, body: 'Hello {{name}}', variables: ['name', 'extra'] });
      assertError(unused, 422, 'VALIDATION_ERROR');
      assert.ok(
        fieldsOf(unused).some(
          (problem) => problem.field === 'body.variables' && problem.message.includes('"extra"'),
        ),
        unused.body,
      );
      const subject = await template({ ...base, subject: 'Hi', body: 'Hello {{name}}', variables: ['name'] });
      assertError(subject, 422, 'VALIDATION_ERROR');
      assert.ok(
        fieldsOf(subject).some((problem) => problem.field === 'body.subject'),
        subject.body,
      );
      const [count] = await db()
        .select({ n: sql<number>`count(*)::int` })
        .from(notificationTemplates)
        .where(eq(notificationTemplates.code, 'test.invalid'));
      assert.equal(count!.n, 0, 'nothing was stored');
    });

    test('PUT makes version 2 active and keeps version 1; a queued message still names and sends version 1', async () => {
      const [v1] = await db()
        .select()
        .from(notificationTemplates)
        .where(eq(notificationTemplates.code, 'test.notice'));
      assert.ok(v1);
      const [queued] = await sent({
        recipient_type: 'customer',
        recipient_id: ann.id,
        template: 'test.notice',
        variables: { text: 'first' },
      });
      assert.equal(queued!.status, 'queued');
      assert.equal((await row(queued!.id)).templateId, v1.id);

      const updated = await t.app.inject({
        method: 'PUT',
        url: `/api/v1/notify/template/${v1.id}`,
        headers: admin(),
        payload: { body: 'Notice v2: {{text}}' },
      });
      assert.equal(updated.statusCode, 200, updated.body);
      const v2 = updated.json();
      assert.equal(v2.version, 2);
      assert.equal(v2.active, true);
      assert.notEqual(v2.id, v1.id);

      const active = await t.app.inject({
        method: 'GET',
        url: '/api/v1/notify/template?code=test.notice',
        headers: admin(),
      });
      assert.deepEqual(
        active.json().items.map((item: { version: number }) => item.version),
        [2],
      );
      const all = await t.app.inject({
        method: 'GET',
        url: '/api/v1/notify/template?code=test.notice&include_retired=true',
        headers: admin(),
      });
      assert.deepEqual(
        all
          .json()
          .items.map((item: { version: number; active: boolean }) => `${item.version}:${item.active}`)
          .sort(),
        ['1:false', '2:true'],
      );
      // Editing a version that is no longer the latest is refused.
      assertError(
        await t.app.inject({
          method: 'PUT',
          url: `/api/v1/notify/template/${v1.id}`,
          headers: admin(),
          payload: { body: 'Stale edit {{text}}' },
        }),
        409,
        'CONFLICT',
      );

      // The message queued before the edit is delivered from the text it was rendered from.
      assert.equal(await t.application.notifications.delivery.deliver(queued!.id), 'sent');
      const first = twilio.messages.find((message) => message.body.startsWith('Notice'));
      assert.equal(first?.body, 'Notice v1: first');
      const view = await t.app.inject({
        method: 'GET',
        url: `/api/v1/notify/notification/${queued!.id}`,
        headers: admin(),
      });
      assert.equal(view.json().template_id, v1.id);
      assert.equal(view.json().body, 'Notice v1: first');

      // A new message uses version 2.
      const [later] = await sent({
        recipient_type: 'customer',
        recipient_id: ann.id,
        template: 'test.notice',
        variables: { text: 'second' },
      });
      assert.equal((await row(later!.id)).templateId, v2.id);
      assert.equal(await t.application.notifications.delivery.deliver(later!.id), 'sent');
      assert.equal(twilio.messages.at(-1)?.body, 'Notice v2: second');
    });

    test('DELETE retires the active version: the code can no longer be sent', async () => {
      const [v2] = await db()
        .select()
        .from(notificationTemplates)
        .where(and(eq(notificationTemplates.code, 'test.notice'), eq(notificationTemplates.active, true)));
      assert.ok(v2);
      const retired = await t.app.inject({
        method: 'DELETE',
        url: `/api/v1/notify/template/${v2.id}`,
        headers: admin(),
      });
      assert.equal(retired.statusCode, 200, retired.body);
      assert.equal(retired.json().active, false);
      assertError(
        await t.app.inject({ method: 'DELETE', url: `/api/v1/notify/template/${v2.id}`, headers: admin() }),
        404,
        'NOT_FOUND',
      );
      const listed = await t.app.inject({
        method: 'GET',
        url: '/api/v1/notify/template?code=test.notice',
        headers: admin(),
      });
      assert.equal(listed.json().items.length, 0);
      assertError(
        await send({
          recipient_type: 'customer',
          recipient_id: ann.id,
          template: 'test.notice',
          variables: { text: 'x' },
        }),
        404,
        'NOT_FOUND',
      );
    });

    test('a customer gets 403 on every template route', async () => {
      const customer = bearer(ann.token);
      const [seeded] = await db().select().from(notificationTemplates).limit(1);
      const attempts = [
        { method: 'GET' as const, url: '/api/v1/notify/template' },
        { method: 'GET' as const, url: `/api/v1/notify/template/${seeded!.id}` },
        {
          method: 'POST' as const,
          url: '/api/v1/notify/template/add',
          payload: {
            code: 'test.customer',
            channel: 'sms',
            language: 'en',
            category: 'transactional',
            subject: null,
            body: 'x',
            html_body: null,
            variables: [],
            secret_variables: [],
          },
        },
        { method: 'PUT' as const, url: `/api/v1/notify/template/${seeded!.id}`, payload: { body: 'x' } },
        { method: 'DELETE' as const, url: `/api/v1/notify/template/${seeded!.id}` },
      ];
      for (const attempt of attempts)
        assertError(await t.app.inject({ ...attempt, headers: customer }), 403, 'FORBIDDEN');
      const [still] = await db()
        .select()
        .from(notificationTemplates)
        .where(eq(notificationTemplates.id, seeded!.id));
      assert.equal(still!.active, true);
    });
  });

  describe('staff sends', () => {
    test('202 with one row per channel; unusable channels come back suppressed', async () => {
      const queued = await sent({
        recipient_type: 'customer',
        recipient_id: ann.id,
        template: 'notification.message',
        variables: { title: 'Branch hours', message: 'We open at 9 on Monday.' },
      });
      assert.deepEqual(
        queued.map((item) => `${item.channel}:${item.status}:${item.error_code ?? ''}`).sort(),
        ['email:suppressed:NO_ADDRESS', 'in_app:queued:', 'push:suppressed:NO_ADDRESS', 'sms:queued:'],
      );
      const sms = queued.find((item) => item.channel === 'sms')!;
      assert.equal(sms.address, ann.phone);
      assert.equal((await jobsFor(sms.id)).length, 1, 'the SMS has its delivery job');
      const email = queued.find((item) => item.channel === 'email')!;
      assert.equal((await jobsFor(email.id)).length, 0, 'a suppressed row has no job');
      // Each channel was rendered from its own template: the SMS is just the message.
      assert.equal((await row(sms.id)).body, 'We open at 9 on Monday.');
      const inApp = await row(queued.find((item) => item.channel === 'in_app')!.id);
      assert.equal(inApp.subject, 'Message from CodeForge');
      assert.equal(inApp.body, 'Branch hours: We open at 9 on Monday.');
    });

    test('a closed customer is reached on no channel, the inbox included', async () => {
      const gone = await createCustomer(t, 'Gone', '+254711200009');
      const closed = await t.app.inject({
        method: 'POST',
        url: '/api/v1/customer/customer/status',
        headers: bearer(t.adminToken),
        payload: { customer_id: gone.id, status: 'closed', reason: 'customer asked to close' },
      });
      assert.equal(closed.statusCode, 200, closed.body);
      const queued = await sent({
        recipient_type: 'customer',
        recipient_id: gone.id,
        template: 'notification.message',
        variables: { title: 'Hello', message: 'Anyone there?' },
      });
      assert.deepEqual(
        queued.map((item) => `${item.channel}:${item.status}:${item.error_code ?? ''}`).sort(),
        [
          'email:suppressed:RECIPIENT_CLOSED',
          'in_app:suppressed:RECIPIENT_CLOSED',
          'push:suppressed:RECIPIENT_CLOSED',
          'sms:suppressed:RECIPIENT_CLOSED',
        ],
      );
      for (const item of queued) assert.equal((await jobsFor(item.id)).length, 0, 'nothing is delivered');
    });

    test('the alias /api/v1/notify/send queues the same way', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/notify/send',
        headers: admin(),
        payload: {
          recipient_type: 'customer',
          recipient_id: ben.id,
          template: 'notification.message',
          channels: ['sms', 'in_app'],
          variables: { title: 'Hello', message: 'Welcome, Ben.' },
        },
      });
      assert.equal(response.statusCode, 202, response.body);
      const queued = response.json().notifications as Queued[];
      assert.deepEqual(queued.map((item) => `${item.channel}:${item.status}`).sort(), [
        'in_app:queued',
        'sms:queued',
      ]);
    });

    test('a missing or an undeclared variable is a 422 and nothing is inserted', async () => {
      const before = await notificationCount();
      const jobsBefore = await deliverJobCount();
      const missing = await send({
        recipient_type: 'customer',
        recipient_id: ann.id,
        template: 'notification.message',
        variables: { title: 'No message' },
      });
      assertError(missing, 422, 'VALIDATION_ERROR');
      assert.deepEqual(fieldsOf(missing), [
        { field: 'variables.message', message: 'is required by the template' },
      ]);
      const extra = await send({
        recipient_type: 'customer',
        recipient_id: ann.id,
        template: 'notification.message',
        variables: { title: 'T', message: 'M', surprise: 'x' },
      });
      assertError(extra, 422, 'VALIDATION_ERROR');
      assert.deepEqual(fieldsOf(extra), [
        { field: 'variables.surprise', message: 'is not declared by the template' },
      ]);
      // The SMS of notification.message has no title: sent on SMS alone, a title is undeclared.
      const smsTitle = await send({
        recipient_type: 'customer',
        recipient_id: ann.id,
        template: 'notification.message',
        channels: ['sms'],
        variables: { title: 'T', message: 'M' },
      });
      assertError(smsTitle, 422, 'VALIDATION_ERROR');
      assert.equal(await notificationCount(), before);
      assert.equal(await deliverJobCount(), jobsBefore);
    });

    test('an unknown recipient is a 404; a template with secrets is a 422; a customer is refused', async () => {
      const before = await notificationCount();
      assertError(
        await send({
          recipient_type: 'customer',
          recipient_id: randomUUID(),
          template: 'notification.message',
          variables: { title: 'T', message: 'M' },
        }),
        404,
        'NOT_FOUND',
      );
      assertError(
        await send({
          recipient_type: 'user',
          recipient_id: randomUUID(),
          template: 'notification.message',
          variables: { title: 'T', message: 'M' },
        }),
        404,
        'NOT_FOUND',
      );
      const secret = await send({
        recipient_type: 'customer',
        recipient_id: ann.id,
        template: 'otp.code',
        variables: { minutes: '5' },
      });
      assertError(secret, 422, 'VALIDATION_ERROR');
      assert.ok(fieldsOf(secret).some((problem) => problem.field === 'body.template'));
      assertError(
        await send(
          {
            recipient_type: 'customer',
            recipient_id: ann.id,
            template: 'notification.message',
            variables: { title: 'T', message: 'M' },
          },
          bearer(ann.token),
        ),
        403,
        'FORBIDDEN',
      );
      assert.equal(await notificationCount(), before);
    });

    test('with an Idempotency-Key a retry answers the same ids and queues nothing more', async () => {
      const headers = { ...admin(), 'idempotency-key': `notify-${randomUUID()}` };
      const payload = {
        recipient_type: 'customer',
        recipient_id: ben.id,
        template: 'notification.message',
        channels: ['sms', 'in_app'],
        variables: { title: 'Once', message: 'Only once.' },
      };
      const first = await send(payload, headers);
      assert.equal(first.statusCode, 202, first.body);
      const rows = await notificationCount();
      const jobs = await deliverJobCount();
      const again = await send(payload, headers);
      assert.equal(again.statusCode, 202, again.body);
      assert.equal(again.body, first.body);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(await notificationCount(), rows);
      assert.equal(await deliverJobCount(), jobs);
      // The same key with another body is refused, and queues nothing either.
      const other = await send({ ...payload, variables: { title: 'Once', message: 'Twice?' } }, headers);
      assertError(other, 422, 'IDEMPOTENCY_KEY_REUSED');
      assert.equal(await notificationCount(), rows);
    });

    test('staff see messages with their status', async () => {
      const listed = await t.app.inject({
        method: 'GET',
        url: `/api/v1/notify/notification?recipient_id=${ben.id}&channel=sms`,
        headers: admin(),
      });
      assert.equal(listed.statusCode, 200, listed.body);
      const items = listed.json().items as { recipient_id: string; channel: string; status: string }[];
      assert.ok(items.length >= 2);
      assert.ok(items.every((item) => item.recipient_id === ben.id && item.channel === 'sms'));
      assertError(
        await t.app.inject({ method: 'GET', url: '/api/v1/notify/notification', headers: bearer(ben.token) }),
        403,
        'FORBIDDEN',
      );
    });
  });

  describe('preferences', () => {
    let cy: TestCustomer;
    before(async () => {
      cy = await createCustomer(t, 'Cy', '+254711200003');
    });

    const preferences = (token: string) =>
      t.app.inject({ method: 'GET', url: '/api/v1/notify/preferences', headers: bearer(token) });
    const setPreferences = (token: string, payload: Record<string, unknown>) =>
      t.app.inject({ method: 'PUT', url: '/api/v1/notify/preferences', headers: bearer(token), payload });

    test('defaults: English, Nairobi, no quiet hours, no marketing', async () => {
      const response = await preferences(cy.token);
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), {
        language: 'en',
        time_zone: 'Africa/Nairobi',
        quiet_hours: null,
        marketing_channels: [],
      });
    });

    test('language sw: messages are rendered from the Swahili templates', async () => {
      const updated = await setPreferences(cy.token, { language: 'sw' });
      assert.equal(updated.statusCode, 200, updated.body);
      assert.equal(updated.json().language, 'sw');
      assert.equal((await preferences(cy.token)).json().language, 'sw');
      const queued = await sent({
        recipient_type: 'customer',
        recipient_id: cy.id,
        template: 'notification.message',
        channels: ['sms', 'in_app'],
        variables: { title: 'Taarifa', message: 'Karibu CodeForge.' },
      });
      const [swSms] = await db()
        .select()
        .from(notificationTemplates)
        .where(
          and(
            eq(notificationTemplates.code, 'notification.message'),
            eq(notificationTemplates.channel, 'sms'),
            eq(notificationTemplates.language, 'sw'),
          ),
        );
      const sms = await row(queued.find((item) => item.channel === 'sms')!.id);
      assert.equal(sms.language, 'sw');
      assert.equal(sms.templateId, swSms!.id);
      const inApp = await row(queued.find((item) => item.channel === 'in_app')!.id);
      assert.equal(inApp.language, 'sw');
      assert.equal(inApp.subject, 'Ujumbe kutoka CodeForge');
      assert.equal(await t.application.notifications.delivery.deliver(sms.id), 'sent');
      const delivered = twilio.messages.at(-1)!;
      assert.equal(delivered.to, cy.phone);
      assert.equal(delivered.body, 'Karibu CodeForge.');
    });

    test('an unknown time zone is a 422 on the field and changes nothing', async () => {
      const response = await setPreferences(cy.token, { time_zone: 'Mars/Olympus_Mons' });
      assertError(response, 422, 'VALIDATION_ERROR');
      assert.ok(
        fieldsOf(response).some((problem) => problem.field === 'body.time_zone'),
        response.body,
      );
      assert.equal((await preferences(cy.token)).json().time_zone, 'Africa/Nairobi');
      assertError(
        await setPreferences(cy.token, { quiet_hours: { start: '22:00', end: '22:00' } }),
        422,
        'VALIDATION_ERROR',
      );
    });

    test('marketing without consent is suppressed OPTED_OUT with no job; with consent it is queued', async () => {
      const promo = {
        recipient_type: 'customer',
        recipient_id: cy.id,
        template: 'promo.offer',
        channels: ['sms'],
        variables: { title: 'Ofa', message: 'Tuma pesa bure wiki hii.' },
      };
      const [refused] = await sent(promo);
      assert.equal(refused!.status, 'suppressed');
      assert.equal(refused!.error_code, 'OPTED_OUT');
      assert.equal((await jobsFor(refused!.id)).length, 0);
      assert.equal(await t.application.notifications.delivery.deliver(refused!.id), 'skipped');

      const consent = await setPreferences(cy.token, { marketing_channels: ['sms'] });
      assert.equal(consent.statusCode, 200, consent.body);
      assert.deepEqual(consent.json().marketing_channels, ['sms']);
      const [queued] = await sent(promo);
      assert.equal(queued!.status, 'queued');
      assert.equal((await jobsFor(queued!.id)).length, 1);
      assert.equal(await t.application.notifications.delivery.deliver(queued!.id), 'sent');
      assert.equal(
        twilio.messages.at(-1)!.body,
        'CodeForge: Ofa. Tuma pesa bure wiki hii. Jibu STOP kujiondoa.',
      );
    });

    test('quiet hours covering now hold marketing until their end (time zone UTC)', async () => {
      const now = new Date();
      const minute = now.getUTCHours() * 60 + now.getUTCMinutes();
      const clock = (value: number) => {
        const wrapped = ((value % 1440) + 1440) % 1440;
        return `${String(Math.floor(wrapped / 60)).padStart(2, '0')}:${String(wrapped % 60).padStart(2, '0')}`;
      };
      const endMinute = (minute + 90) % 1440;
      const updated = await setPreferences(cy.token, {
        time_zone: 'UTC',
        quiet_hours: { start: clock(minute - 60), end: clock(endMinute) },
      });
      assert.equal(updated.statusCode, 200, updated.body);
      const [held] = await sent({
        recipient_type: 'customer',
        recipient_id: cy.id,
        template: 'promo.offer',
        channels: ['sms'],
        variables: { title: 'Ofa', message: 'Baadaye.' },
      });
      assert.equal(held!.status, 'queued');
      const stored = await row(held!.id);
      const at = stored.nextAttemptAt!;
      assert.equal(at.getUTCHours() * 60 + at.getUTCMinutes(), endMinute, at.toISOString());
      assert.equal(at.getUTCSeconds(), 0);
      const wait = at.getTime() - Date.now();
      assert.ok(wait > 88 * 60_000 && wait <= 91 * 60_000, `waits ${wait} ms`);
      const [job] = await jobsFor(held!.id);
      assert.ok(job, 'a delivery job');
      assert.equal(new Date(job.start_after).getTime(), at.getTime(), 'the job starts at the end too');

      // Transactional messages ignore quiet hours.
      const [urgent] = await sent({
        recipient_type: 'customer',
        recipient_id: cy.id,
        template: 'notification.message',
        channels: ['sms'],
        variables: { message: 'Sasa hivi.' },
      });
      const immediate = await row(urgent!.id);
      assert.ok(immediate.nextAttemptAt!.getTime() <= Date.now());
    });
  });

  describe('in-app inbox', () => {
    let dee: TestCustomer;
    let eve: TestCustomer;
    before(async () => {
      dee = await createCustomer(t, 'Dee', '+254711200004');
      eve = await createCustomer(t, 'Eve', '+254711200005');
    });

    const inbox = (token: string, query = '') =>
      t.app.inject({ method: 'GET', url: `/api/v1/notify/inbox${query}`, headers: bearer(token) });

    async function inApp(customer: TestCustomer, message: string): Promise<string> {
      const [queued] = await sent({
        recipient_type: 'customer',
        recipient_id: customer.id,
        template: 'notification.message',
        channels: ['in_app'],
        variables: { title: 'Inbox', message },
      });
      assert.equal(queued!.status, 'queued');
      return queued!.id;
    }

    test('an in-app message appears once delivered, unread; only its owner can read it', async () => {
      const id = await inApp(dee, 'First message.');
      const early = await inbox(dee.token);
      assert.equal(early.statusCode, 200, early.body);
      assert.deepEqual(early.json(), { items: [], unread: 0, next_cursor: null }, 'not before delivery');

      assert.equal(await t.application.notifications.delivery.deliver(id), 'delivered');
      assert.equal((await row(id)).status, 'delivered');
      assert.equal(await t.application.notifications.delivery.deliver(id), 'skipped', 'delivered once');

      const listed = await inbox(dee.token);
      assert.equal(listed.json().unread, 1);
      const [item] = listed.json().items;
      assert.equal(item.id, id);
      assert.equal(item.title, 'Message from CodeForge');
      assert.equal(item.body, 'Inbox: First message.');
      assert.equal(item.read, false);
      assert.deepEqual(item.data, { kind: 'message' });
      assert.deepEqual((await inbox(eve.token)).json().items, [], 'not in another inbox');

      assertError(
        await t.app.inject({
          method: 'POST',
          url: `/api/v1/notify/inbox/${id}/read`,
          headers: bearer(eve.token),
        }),
        404,
        'NOT_FOUND',
      );
      assert.equal((await row(id)).readAt, null);
      const read = await t.app.inject({
        method: 'POST',
        url: `/api/v1/notify/inbox/${id}/read`,
        headers: bearer(dee.token),
      });
      assert.equal(read.statusCode, 200, read.body);
      assert.equal(read.json().read, true);
      assert.equal((await inbox(dee.token)).json().unread, 0);
      assert.deepEqual((await inbox(dee.token, '?unread=true')).json().items, []);
    });

    test('read-all marks every delivered message of mine and no one else’s', async () => {
      const mine = [await inApp(dee, 'Second.'), await inApp(dee, 'Third.')];
      const theirs = await inApp(eve, 'For Eve.');
      for (const id of [...mine, theirs])
        assert.equal(await t.application.notifications.delivery.deliver(id), 'delivered');
      assert.equal((await inbox(dee.token)).json().unread, 2);
      const marked = await t.app.inject({
        method: 'POST',
        url: '/api/v1/notify/inbox/read-all',
        headers: bearer(dee.token),
      });
      assert.equal(marked.statusCode, 200, marked.body);
      assert.deepEqual(marked.json(), { marked: 2 });
      const after = (await inbox(dee.token)).json();
      assert.equal(after.unread, 0);
      assert.equal(after.items.length, 3);
      assert.equal((await inbox(eve.token)).json().unread, 1);
    });
  });
});
