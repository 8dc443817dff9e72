/**
 * The registration journey over HTTP: phone check (eligibility, existing customer, deny list, rate limits, resume),
 * status, and `journey.advance` (out of order 409 with the expected steps, replay of a stored answer).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { and, desc, eq } from 'drizzle-orm';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer } from '../../../test/helpers/money.ts';
import { digitsStandAlone } from '../../../test/helpers/secrets.ts';
import { systemContext } from '../../platform/audit.ts';
import { type Envelope, keyedHash, openEnvelope } from '../../platform/crypto.ts';
import { outboxEvents } from '../../platform/platform.tables.ts';
import { onboardingModule } from './index.ts';

describe('onboarding journey', () => {
  let t: TestContext;
  const api = () => t.application.system.api(onboardingModule);
  before(async () => {
    t = await startTestApp({
      ONBOARDING_CHECKS_PER_PHONE_HOUR: '3',
      ONBOARDING_CHECKS_PER_DEVICE_HOUR: '4',
      ONBOARDING_CHECKS_PER_IP_HOUR: '20',
    });
  });
  after(async () => t.close());

  const check = (payload: Record<string, unknown>, ip = '10.0.0.1') =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/phone/check',
      payload: { app_version: '1.4.0', language: 'en', ...payload },
      remoteAddress: ip,
    });
  const status = (token: string, device?: string) =>
    t.app.inject({
      method: 'GET',
      url: '/api/v1/mobile/register/status',
      headers: { 'x-registration-token': token, ...(device ? { 'x-device-id': device } : {}) },
    });

  test('an eligible number gets a token and the identity step; the status resumes from it', async () => {
    const answer = await check({ phone: '0711 000 401', device_id: 'device-401' });
    assert.equal(answer.statusCode, 200, answer.body);
    const body = answer.json();
    assert.equal(body.next_step, 'identity');
    assert.deepEqual(body.expected_steps, ['identity_cbs', 'identity_didit']);
    assert.match(body.registration_token, /^reg_/);
    const read = await status(body.registration_token, 'device-401');
    assert.equal(read.statusCode, 200, read.body);
    assert.equal(read.json().state, 'phone_checked');
    assert.equal(read.json().phone, '+254711****01');
    assert.equal((await status(body.registration_token, 'another-device')).statusCode, 401);
    assert.equal((await status('reg_nothing')).json().error_code, 'REGISTRATION_TOKEN_INVALID');

    // The same device checking again resumes the same registration with a fresh token; the old one stops working.
    const again = await check({ phone: '+254711000401', device_id: 'device-401' });
    assert.equal(again.statusCode, 200, again.body);
    assert.notEqual(again.json().registration_token, body.registration_token);
    assert.equal((await status(body.registration_token)).statusCode, 401);
    assert.equal((await status(again.json().registration_token)).json().state, 'phone_checked');
  });

  test('an existing customer gets the same shape pointing to sign-in', async () => {
    await createCustomer(t, 'Existing', '+254711000402');
    const answer = await check({ phone: '+254711000402', device_id: 'device-402' });
    assert.equal(answer.statusCode, 200, answer.body);
    assert.deepEqual(Object.keys(answer.json()).sort(), [
      'expected_steps',
      'expires_at',
      'next_step',
      'registration_token',
    ]);
    assert.equal(answer.json().next_step, 'sign_in');
    assert.deepEqual(answer.json().expected_steps, ['sign_in', 'pin_reset']);
  });

  test('ineligible numbers: another country, a landline, a bad number', async () => {
    const foreign = await check({ phone: '+447911123456', device_id: 'device-403' });
    assert.equal(foreign.statusCode, 422, foreign.body);
    assert.equal(foreign.json().error_code, 'REGISTRATION_NOT_ELIGIBLE');
    const landline = await check({ phone: '+254202222222', device_id: 'device-403' });
    assert.equal(landline.json().error_code, 'REGISTRATION_NOT_ELIGIBLE', landline.body);
    const bad = await check({ phone: '12', device_id: 'device-403' });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().error_code, 'VALIDATION_ERROR');
  });

  test('per-phone, per-device and per-address caps answer 429 with Retry-After', async () => {
    for (let index = 0; index < 3; index += 1)
      assert.equal(
        (await check({ phone: '+254711000404', device_id: `device-404-${index}` })).statusCode,
        200,
      );
    const capped = await check({ phone: '+254711000404', device_id: 'device-404-x' });
    assert.equal(capped.statusCode, 429, capped.body);
    assert.equal(capped.json().error_code, 'REGISTRATION_RATE_LIMITED');
    assert.ok(Number(capped.headers['retry-after']) > 0);
    for (let index = 0; index < 4; index += 1)
      await check({ phone: `+25471100041${index}`, device_id: 'device-405' });
    const device = await check({ phone: '+254711000419', device_id: 'device-405' });
    assert.equal(device.json().error_code, 'REGISTRATION_RATE_LIMITED', device.body);
    for (let index = 0; index < 20; index += 1)
      await check(
        { phone: `+2547110005${String(index).padStart(2, '0')}`, device_id: `ip-${index}` },
        '10.9.9.9',
      );
    const address = await check({ phone: '+254711000599', device_id: 'ip-x' }, '10.9.9.9');
    assert.equal(address.json().error_code, 'REGISTRATION_RATE_LIMITED', address.body);
    assert.equal(address.json().details.limit, 'ip');
  });

  test('advance: a step out of order is 409 with the expected steps; a stored answer is replayed', async () => {
    const started = (await check({ phone: '+254711000406', device_id: 'device-406' })).json();
    const row = await api().journey.byToken(started.registration_token);
    await assert.rejects(api().journey.advanceNow(row.id, 'pin_set'), (error: Error & { code?: string }) => {
      assert.equal((error as unknown as { errorCode: string }).errorCode, 'REGISTRATION_STEP_OUT_OF_ORDER');
      assert.deepEqual((error as unknown as { details: unknown }).details, {
        state: 'phone_checked',
        step: 'pin_set',
        expected_steps: ['identity_cbs', 'identity_didit'],
      });
      return true;
    });
    const hash = api().journey.requestHash('identity_cbs', { national_id: '12345678' });
    const first = await api().journey.advanceNow(
      row.id,
      'identity_cbs',
      { path: 'cbs' },
      {
        requestHash: hash,
        answer: (r: { state: string }) => ({ state: r.state }),
      },
    );
    assert.deepEqual(
      [first.replayed, first.answer, first.registration.version],
      [false, { state: 'identity_verified' }, 2],
    );
    const replay = await api().journey.advanceNow(
      row.id,
      'identity_cbs',
      { path: 'didit' },
      { requestHash: hash },
    );
    assert.deepEqual([replay.replayed, replay.answer, replay.registration.path], [true, first.answer, 'cbs']);
  });

  const step = (token: string, url: string, payload: Record<string, unknown> = {}, key?: string) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/mobile/register/${url}`,
      headers: { 'x-registration-token': token, ...(key ? { 'idempotency-key': key } : {}) },
      payload,
    });

  async function codeFor(registrationId: string, challengeId: string): Promise<string> {
    const rows = await t.deps.database.db
      .select()
      .from(outboxEvents)
      .where(and(eq(outboxEvents.topic, 'otp.requested'), eq(outboxEvents.aggregateId, registrationId)))
      .orderBy(desc(outboxEvents.id));
    const event = rows.find((row) => row.payload.challenge_id === challengeId);
    assert.ok(event, 'the otp.requested event');
    return openEnvelope(
      t.deps.keys,
      JSON.parse(String(event.payload.code_sealed)) as Envelope,
      `otp:${challengeId}`,
    ).toString();
  }

  /** A registration past the identity step (the identity areas have their own tests). */
  async function verifiedIdentity(phone: string, device: string) {
    const started = (await check({ phone, device_id: device }, `10.1.${phone.slice(-2)}.1`)).json();
    const row = await api().journey.byToken(started.registration_token);
    await api().journey.advanceNow(row.id, 'identity_cbs', { path: 'cbs' });
    return { token: started.registration_token as string, id: row.id };
  }

  test('contacts, terms and PIN over HTTP, each step replayed and refused out of order', async () => {
    const { token, id } = await verifiedIdentity('+254711000407', 'device-407');
    const early = await step(token, 'terms/accept', {
      terms_hash: 'a'.repeat(64),
      privacy_hash: 'b'.repeat(64),
    });
    assert.equal(early.statusCode, 409, early.body);
    assert.deepEqual(early.json().details, {
      state: 'identity_verified',
      step: 'terms_accept',
      expected_steps: ['phone_otp_send', 'phone_otp_verify'],
    });

    // Phone OTP: the same send (same key) is the same challenge; a new key voids it for a new code.
    const sent = await step(token, 'phone/otp/send', {}, 'send-1');
    assert.equal(sent.statusCode, 200, sent.body);
    assert.equal(sent.json().sent_to, '+254711****07');
    assert.deepEqual((await step(token, 'phone/otp/send', {}, 'send-1')).json(), sent.json());
    const first = sent.json().challenge_id;
    const firstCode = await codeFor(id, first);
    const wrong = await step(token, 'phone/otp/verify', {
      challenge_id: first,
      code: firstCode === '000000' ? '111111' : '000000',
    });
    assert.equal(wrong.json().error_code, 'OTP_INVALID', wrong.body);
    const verify = { challenge_id: first, code: firstCode };
    const verified = await step(token, 'phone/otp/verify', verify);
    assert.equal(verified.statusCode, 200, verified.body);
    assert.deepEqual(verified.json(), {
      state: 'phone_verified',
      expected_steps: ['email_otp_send', 'email_otp_verify', 'email_skip'],
    });
    assert.deepEqual((await step(token, 'phone/otp/verify', verify)).json(), verified.json(), 'replayed');

    // Email: required here (ONBOARDING_EMAIL_OPTIONAL is false), so it cannot be skipped.
    assert.equal((await step(token, 'email/skip')).json().error_code, 'REGISTRATION_EMAIL_REQUIRED');
    const mail = await step(token, 'email/otp/send', { email: 'Amina@Example.org' });
    assert.equal(mail.statusCode, 200, mail.body);
    assert.equal(mail.json().sent_to, 'a***@example.org');
    const mailCode = await codeFor(id, mail.json().challenge_id);
    const mailed = await step(token, 'email/otp/verify', {
      challenge_id: mail.json().challenge_id,
      code: mailCode,
    });
    assert.equal(mailed.json().state, 'email_verified', mailed.body);

    // Terms: the current versions' hashes; an outdated one is refused.
    const documents = await t.app.inject({
      method: 'GET',
      url: '/api/v1/mobile/register/documents?language=sw',
    });
    assert.equal(documents.statusCode, 200, documents.body);
    const { terms, privacy } = documents.json();
    assert.deepEqual([terms.version, terms.language, privacy.kind], ['1', 'en', 'privacy']);
    const stale = await step(token, 'terms/accept', {
      terms_hash: 'c'.repeat(64),
      privacy_hash: privacy.content_hash,
    });
    assert.equal(stale.json().error_code, 'REGISTRATION_DOCUMENT_OUTDATED', stale.body);
    const accepted = await step(token, 'terms/accept', {
      terms_hash: terms.content_hash,
      privacy_hash: privacy.content_hash,
    });
    assert.equal(accepted.json().state, 'terms_accepted', accepted.body);

    // PIN: weak ones refused as everywhere; the hash is customers' keyed hash for the chosen customer id.
    assert.equal((await step(token, 'pin', { pin: '1234' })).json().error_code, 'WEAK_PIN');
    assert.equal((await step(token, 'pin', { pin: '12a4' })).json().error_code, 'PIN_POLICY');
    const pinned = await step(token, 'pin', { pin: '4739' });
    // No device key sent: only the device id is recorded, and activation registers no device.
    assert.deepEqual(pinned.json(), {
      state: 'credentials_set',
      expected_steps: ['complete'],
      device_bound: false,
    });
    assert.deepEqual((await step(token, 'pin', { pin: '4739' })).json(), pinned.json(), 'replayed');
    assert.equal((await step(token, 'pin', { pin: '5739' })).statusCode, 409);
    const row = (await api().journey.byId(id))!;
    assert.equal(row.pinHash, keyedHash(t.config.HMAC_PEPPER, `pin:${row.pinCustomerId}`, '4739'));
    assert.ok(row.deviceBoundAt && row.consentAt && row.phoneVerifiedAt && row.emailVerifiedAt);
    assert.equal(row.consentIp, '127.0.0.1');
    assert.equal(row.termsVersionHash, terms.content_hash);
    assert.equal(api().journey.open(id, 'email', row.emailSealed), 'amina@example.org');

    const status = (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/mobile/register/status',
        headers: { 'x-registration-token': token },
      })
    ).json();
    assert.deepEqual(
      [
        status.state,
        status.phone_verified,
        status.email_verified,
        status.terms_accepted,
        status.credentials_set,
        status.device_bound,
      ],
      ['credentials_set', true, true, true, true, false],
    );

    // Every step is in the audit log with the phone masked and no PII.
    const audit = await t.app.inject({
      method: 'GET',
      url: `/api/v1/core/audit?entity_type=registration&entity_id=${id}`,
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    const entries = audit.json().items as { action: string; after: unknown }[];
    assert.ok(entries.some((entry) => entry.action === 'onboarding.pin_set'));
    const text = JSON.stringify(entries);
    // The PIN as a token of its own: its digits can turn up inside an id or a time by chance (a CI run of 2026-12-07).
    assert.equal(digitsStandAlone(text, '4739').found, false, 'the PIN is not audited');
    for (const secret of ['amina@example.org', '+254711000407', row.pinHash!])
      assert.ok(!text.includes(secret), `${secret} is audited`);
  });

  test('parallel repeats of a send or a verify get one answer; a resend within the cooldown is refused', async () => {
    const { token, id } = await verifiedIdentity('+254711000408', 'device-408');
    const sends = await Promise.all([1, 2, 3].map(() => step(token, 'phone/otp/send', {}, 'same-key')));
    for (const answer of sends) assert.deepEqual(answer.json(), sends[0]!.json(), answer.body);
    const old = sends[0]!.json().challenge_id;
    const oldCode = await codeFor(id, old);
    const resent = await step(token, 'phone/otp/send', {}, 'another-key');
    assert.equal(resent.statusCode, 429, 'the resend cooldown applies');
    assert.equal(resent.json().error_code, 'OTP_COOLDOWN');
    const verify = { challenge_id: old, code: oldCode };
    const verifies = await Promise.all([1, 2, 3].map(() => step(token, 'phone/otp/verify', verify)));
    for (const answer of verifies) {
      assert.equal(answer.statusCode, 200, answer.body);
      assert.deepEqual(answer.json(), verifies[0]!.json());
    }
    const row = (await api().journey.byId(id))!;
    assert.equal(row.version, 4, 'identity, one send, one verify');
  });

  test('a verify whose transaction dies after the code was checked succeeds on retry; the code is then spent', async () => {
    const { token, id } = await verifiedIdentity('+254711000420', 'device-420');
    const sent = await step(token, 'phone/otp/send', {}, 'send-crash');
    assert.equal(sent.statusCode, 200, sent.body);
    const verify = {
      challenge_id: sent.json().challenge_id,
      code: await codeFor(id, sent.json().challenge_id),
    };

    // The API dies between the code check and the commit: the step's writes roll back.
    const journey = api().journey;
    const advance = journey.advance;
    journey.advance = async function (this: typeof journey, ...args: Parameters<typeof advance>) {
      await advance.apply(this, args);
      throw new Error('killed before the commit');
    } as typeof advance;
    try {
      await assert.rejects(
        api().contacts.verifyPhoneCode({ token, context: systemContext() }, verify),
        /killed before the commit/,
      );
    } finally {
      journey.advance = advance;
    }
    assert.equal((await api().journey.byId(id))!.phoneVerifiedAt, null, 'rolled back');

    const retried = await step(token, 'phone/otp/verify', verify);
    assert.equal(retried.statusCode, 200, retried.body);
    assert.equal(retried.json().state, 'phone_verified');
    assert.deepEqual((await step(token, 'phone/otp/verify', verify)).json(), retried.json(), 'replayed');
    // Spent once committed: another request with the same code (a new key) verifies nothing.
    const other = await step(token, 'phone/otp/verify', verify, 'another-key');
    assert.equal(other.statusCode, 409, other.body);
    assert.equal(await t.deps.store.get(`otp:consumed:${verify.challenge_id}`), '1');
    const row = (await api().journey.byId(id))!;
    assert.ok(row.phoneVerifiedAt);
    assert.equal(row.version, 4, 'identity, one send, one verify');
  });

  test('a code is sent under the OTP lifetime setting, read before the step opens its transaction', {
    timeout: 30_000,
  }, async () => {
    // Once the settings cache (5 s) lapsed, the send reads the setting from the database. Read inside the step's
    // transaction (on another connection) it waited forever on the embedded database, which has one connection.
    const { token } = await verifiedIdentity('+254711000419', 'device-419');
    await t.application.settings.update('auth.otp_ttl_seconds', 540, undefined, systemContext());
    await setTimeout(5_100);
    try {
      const sentAt = Date.now();
      const sent = await step(token, 'phone/otp/send', {}, 'send-ttl');
      assert.equal(sent.statusCode, 200, sent.body);
      const lifetime = Date.parse(sent.json().expires_at) - sentAt;
      assert.ok(lifetime > 530_000 && lifetime <= 541_000, `lifetime ${lifetime} ms`);
    } finally {
      await t.application.settings.reset('auth.otp_ttl_seconds', systemContext());
    }
  });
});
