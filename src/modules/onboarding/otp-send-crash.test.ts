/**
 * A code send cut between issuing the code (Redis) and committing the step (PostgreSQL): the delivery event rolled
 * back with the step, so nobody received that code, yet its resend cooldown runs. The retry of the same send (same
 * registration, step, body and Idempotency-Key) must get its answer at once — a code delivered, the undelivered one
 * voided — not 429 OTP_COOLDOWN for a minute; any other request still waits the cooldown out, and a refused send
 * asked again with the same key does not skip it. The cut is simulated as journey.test.ts does for a verify: the
 * step's transaction fails after `advance`, so everything it wrote rolls back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, asc, eq } from 'drizzle-orm';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { systemContext } from '../../platform/audit.ts';
import { type Envelope, openEnvelope } from '../../platform/crypto.ts';
import { outboxEvents } from '../../platform/platform.tables.ts';
import { onboardingModule } from './index.ts';

describe('onboarding: a code send killed before its step committed', () => {
  let t: TestContext;
  const api = () => t.application.system.api(onboardingModule);
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  const step = (token: string, url: string, payload: Record<string, unknown> = {}, key?: string) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/mobile/register/${url}`,
      headers: { 'x-registration-token': token, ...(key ? { 'idempotency-key': key } : {}) },
      payload,
    });

  async function sentCodes(registrationId: string) {
    const rows = await t.deps.database.db
      .select()
      .from(outboxEvents)
      .where(and(eq(outboxEvents.topic, 'otp.requested'), eq(outboxEvents.aggregateId, registrationId)))
      .orderBy(asc(outboxEvents.id));
    return rows.map((row) => ({
      challengeId: String(row.payload.challenge_id),
      code: openEnvelope(
        t.deps.keys,
        JSON.parse(String(row.payload.code_sealed)) as Envelope,
        `otp:${row.payload.challenge_id}`,
      ).toString(),
      to: row.payload.phone ?? row.payload.email,
    }));
  }

  /** A registration past the identity step (the identity areas have their own tests). */
  async function verifiedIdentity(phone: string, device: string) {
    const checked = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/phone/check',
      payload: { phone, device_id: device, app_version: '1.4.0', language: 'en' },
      remoteAddress: `10.2.${phone.slice(-2)}.1`,
    });
    assert.equal(checked.statusCode, 200, checked.body);
    const row = await api().journey.byToken(checked.json().registration_token);
    await api().journey.advanceNow(row.id, 'identity_cbs', { path: 'cbs' });
    return { token: checked.json().registration_token as string, id: row.id };
  }

  /** Runs `send` with the step's transaction failing after the code was issued; answers the lost challenge id. */
  async function cutAfterIssue(send: () => Promise<unknown>): Promise<string> {
    const journey = api().journey;
    const advance = journey.advance;
    let lost: string | undefined;
    journey.advance = async function (this: typeof journey, ...args: Parameters<typeof advance>) {
      const done = await advance.apply(this, args);
      lost = (done.answer as { challenge_id?: string }).challenge_id;
      throw new Error('killed before the commit');
    } as typeof advance;
    try {
      await assert.rejects(send(), /killed before the commit/);
    } finally {
      journey.advance = advance;
    }
    assert.ok(lost, 'a code was issued before the cut');
    return lost;
  }

  test('the retry of the same phone send answers at once with a delivered code; the lost one is void', async () => {
    const { token, id } = await verifiedIdentity('+254711000931', 'device-931');
    const request = { token, idempotencyKey: 'send-931', context: systemContext() };
    const lost = await cutAfterIssue(() => api().contacts.sendPhoneCode(request));
    assert.deepEqual(await sentCodes(id), [], 'the delivery rolled back with the step');
    assert.equal((await api().journey.byId(id))!.stepTimes.phone_otp_send, undefined);

    const retried = await step(token, 'phone/otp/send', {}, 'send-931');
    assert.equal(retried.statusCode, 200, `no cooldown for the same send: ${retried.body}`);
    const challenge = retried.json().challenge_id as string;
    assert.notEqual(challenge, lost);
    const codes = await sentCodes(id);
    assert.deepEqual(
      codes.map((sent) => [sent.challengeId, sent.to]),
      [[challenge, '+254711000931']],
      'one code delivered, the retry’s',
    );
    assert.deepEqual(
      (await step(token, 'phone/otp/send', {}, 'send-931')).json(),
      retried.json(),
      'replayed',
    );

    // Still one live code: the issued-but-undelivered one was voided by the retry's.
    assert.equal(await t.deps.store.get(`otp:challenge:${lost}`), null);
    const wrongChallenge = await step(token, 'phone/otp/verify', {
      challenge_id: lost,
      code: codes[0]!.code,
    });
    assert.equal(wrongChallenge.json().error_code, 'OTP_INVALID', wrongChallenge.body);

    // Another request is a resend: the cooldown still applies to it, and asking again with its key still waits.
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const resend = await step(token, 'phone/otp/send', {}, 'send-931-b');
      assert.equal(resend.statusCode, 429, resend.body);
      assert.equal(resend.json().error_code, 'OTP_COOLDOWN');
    }
    const verified = await step(token, 'phone/otp/verify', { challenge_id: challenge, code: codes[0]!.code });
    assert.equal(verified.statusCode, 200, verified.body);
    assert.equal(verified.json().state, 'phone_verified');
  });

  test('the same holds for the email send', async () => {
    const { token, id } = await verifiedIdentity('+254711000932', 'device-932');
    const sent = await step(token, 'phone/otp/send', {}, 'phone-932');
    const [phoneCode] = await sentCodes(id);
    const verified = await step(token, 'phone/otp/verify', {
      challenge_id: sent.json().challenge_id,
      code: phoneCode!.code,
    });
    assert.equal(verified.statusCode, 200, verified.body);

    const email = { email: 'amina.932@example.org' };
    const request = { token, idempotencyKey: 'mail-932', context: systemContext() };
    await cutAfterIssue(() => api().contacts.sendEmailCode(request, email));
    const retried = await step(token, 'email/otp/send', email, 'mail-932');
    assert.equal(retried.statusCode, 200, retried.body);
    const mailed = (await sentCodes(id)).filter((code) => code.to === email.email);
    assert.deepEqual(
      mailed.map((code) => code.challengeId),
      [retried.json().challenge_id],
    );
    const done = await step(token, 'email/otp/verify', {
      challenge_id: retried.json().challenge_id,
      code: mailed[0]!.code,
    });
    assert.equal(done.json().state, 'email_verified', done.body);
  });
});
