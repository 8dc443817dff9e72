/**
 * The journey's upkeep and figures: the phone OTP reaching the development message sink, abandoned registrations
 * expired, PII purged after the retention period with the counts kept, the staff funnel, the Prometheus counters,
 * and the phone check refused while self-registration is switched off.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer } from '../../../test/helpers/money.ts';
import { notifications } from '../notifications/notifications.tables.ts';
import { onboardingModule } from './index.ts';
import { registrationSteps, registrations } from './onboarding.tables.ts';

const DAY_MS = 86_400_000;

describe('onboarding housekeeping, funnel and metrics', () => {
  let t: TestContext;
  const api = () => t.application.system.api(onboardingModule);
  before(async () => {
    t = await startTestApp({}, { startJobs: true });
  });
  after(async () => t.close());

  async function start(phone: string, language = 'en') {
    const answer = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/phone/check',
      payload: { phone, device_id: `device-${phone.slice(-3)}`, app_version: '1.0.0', language },
    });
    assert.equal(answer.statusCode, 200, answer.body);
    const token = answer.json().registration_token as string;
    return { token, id: (await api().journey.byToken(token)).id };
  }
  const set = (id: string, values: Partial<typeof registrations.$inferInsert>) =>
    t.deps.database.db.update(registrations).set(values).where(eq(registrations.id, id));

  test("the phone OTP is delivered in the registration's language through notifications to the message sink", async () => {
    const { token, id } = await start('+254711000601', 'sw');
    await api().journey.advanceNow(id, 'identity_cbs', { path: 'cbs' });
    const sent = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/phone/otp/send',
      headers: { 'x-registration-token': token },
      payload: {},
    });
    assert.equal(sent.statusCode, 200, sent.body);
    const runtime = t.application.notifications;
    let rows: (typeof notifications.$inferSelect)[] = [];
    for (let attempt = 0; attempt < 100 && rows.length === 0; attempt += 1) {
      while ((await runtime.dispatcher.dispatchBatch()) > 0) {}
      rows = await t.deps.database.db.select().from(notifications).where(eq(notifications.recipientId, id));
      if (rows.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(rows.length, 1);
    assert.deepEqual([rows[0]!.templateCode, rows[0]!.channel, rows[0]!.language], ['otp.code', 'sms', 'sw']);
    await runtime.delivery.deliver(rows[0]!.id);
    const messages = await t.app.inject({
      method: 'GET',
      url: '/api/v1/dev/messages?to=%2B254711000601',
      headers: bearer(t.adminToken),
    });
    assert.equal(messages.statusCode, 200, messages.body);
    const [message] = messages.json().items;
    assert.match(message.body, /\d{6}/);
    const code = /(\d{6})/.exec(message.body)![1];
    const verified = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/phone/otp/verify',
      headers: { 'x-registration-token': token },
      payload: { challenge_id: sent.json().challenge_id, code },
    });
    assert.equal(verified.json().state, 'phone_verified', verified.body);
  });

  test('abandoned registrations expire; ended ones lose their PII after the retention period, counts stay', async () => {
    const abandoned = await start('+254711000602');
    const reviewed = await start('+254711000603');
    const recent = await start('+254711000604');
    await set(abandoned.id, { expiresAt: new Date(Date.now() - 1000) });
    await set(reviewed.id, { state: 'in_review', expiresAt: new Date(Date.now() - 1000) });
    await createCustomer(t, 'Pointed', '+254711000606');
    const pointer = await start('+254711000606');
    await set(pointer.id, { expiresAt: new Date(Date.now() - 1000) });
    assert.equal((await api().journey.byId(pointer.id))!.state, 'sign_in_required');
    assert.equal(await api().housekeeping.expireAbandoned(), 2);
    assert.equal(await api().housekeeping.expireAbandoned(), 0, 'idempotent');
    assert.equal((await api().journey.byId(abandoned.id))!.state, 'expired');
    assert.equal(
      (await api().journey.byId(reviewed.id))!.state,
      'in_review',
      'staff still owe it a decision',
    );
    const gone = await t.app.inject({
      method: 'GET',
      url: '/api/v1/mobile/register/status',
      headers: { 'x-registration-token': abandoned.token },
    });
    assert.equal(gone.statusCode, 410);
    assert.equal(gone.json().error_code, 'REGISTRATION_EXPIRED');

    // Ended 31 days ago: purged; ended now: kept.
    await set(abandoned.id, {
      declaredSealed: api().journey.seal(abandoned.id, 'declared', { first_name: 'Amina' }),
      updatedAt: new Date(Date.now() - 31 * DAY_MS),
    });
    await set(recent.id, { state: 'declined', outcomeReason: 'document expired' });
    assert.equal(await api().housekeeping.purgeEnded(), 1);
    assert.equal(await api().housekeeping.purgeEnded(), 0, 'idempotent');
    const purged = (await api().journey.byId(abandoned.id))!;
    assert.equal(purged.state, 'purged');
    assert.ok(purged.purgedAt);
    assert.deepEqual(
      [purged.phone, purged.deviceId, purged.declaredSealed, purged.pinHash],
      [null, null, null, null],
    );
    assert.equal(purged.phoneCountry, 'KE');
    assert.ok(purged.stepTimes.phone_check && purged.stepTimes.expire && purged.stepTimes.purge);
    const steps = await t.deps.database.db
      .select()
      .from(registrationSteps)
      .where(eq(registrationSteps.registrationId, abandoned.id));
    assert.equal(steps.length, 0);
    assert.equal((await api().journey.byId(recent.id))!.phone, '+254711000604');
  });

  test('the funnel counts each stage with drop-off and median time; Prometheus has the counters', async () => {
    const funnel = await t.app.inject({
      method: 'GET',
      url: '/api/v1/mobile/register/funnel',
      headers: bearer(t.adminToken),
    });
    assert.equal(funnel.statusCode, 200, funnel.body);
    const body = funnel.json();
    assert.equal(body.started, 4);
    const stage = (name: string) => body.steps.find((row: { step: string }) => row.step === name);
    assert.deepEqual(
      [stage('phone_check').reached, stage('identity_started').reached, stage('phone_verified').reached],
      [4, 1, 1],
    );
    assert.equal(stage('identity_started').drop_off, 3);
    assert.equal(typeof stage('phone_verified').median_seconds, 'number');
    assert.equal(body.by_state.purged, 1);
    const anonymous = await t.app.inject({ method: 'GET', url: '/api/v1/mobile/register/funnel' });
    assert.equal(anonymous.statusCode, 401);

    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(metrics.statusCode, 200);
    assert.match(
      metrics.body,
      /onboarding_steps_total\{step="phone_otp_verify",state="phone_verified"\} \d+/,
    );
    assert.match(metrics.body, /onboarding_registrations_started_total\{outcome="eligible"\} \d+/);
    assert.match(metrics.body, /http_request_duration_seconds/);
  });

  test('switched off, the phone check answers 503 REGISTRATION_UNAVAILABLE', async () => {
    const patch = (value: boolean) =>
      t.app.inject({
        method: 'PATCH',
        url: '/api/v1/admin/config/features.self_registration',
        headers: bearer(t.adminToken),
        payload: { value },
      });
    const off = await patch(false);
    assert.ok(off.statusCode < 300, off.body);
    try {
      const answer = await t.app.inject({
        method: 'POST',
        url: '/api/v1/mobile/register/phone/check',
        payload: { phone: '+254711000605', device_id: 'device-605', app_version: '1.0.0', language: 'en' },
      });
      assert.equal(answer.statusCode, 503, answer.body);
      assert.equal(answer.json().error_code, 'REGISTRATION_UNAVAILABLE');
    } finally {
      await patch(true);
    }
  });
});
