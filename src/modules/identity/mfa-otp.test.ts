/**
 * SMS and email codes as staff second factors (RELIABILITY 18 on the login path): enrolment proves the destination,
 * login offers the factor, `/auth/mfa/send` delivers a code through the outbox (sealed), and `/auth/mfa/verify`
 * accepts it once — under 50 parallel submits too — with 5 tries per MFA token, a resend voiding the old code,
 * cooldown and hourly cap (429 + Retry-After), expiry, and binding to the MFA token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, desc, eq, sql } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer } from '../../../test/helpers/money.ts';
import { type Envelope, openEnvelope } from '../../platform/crypto.ts';
import { outboxEvents } from '../../platform/platform.tables.ts';
import { DEFAULT_OTP_POLICY, type OtpPolicy } from './identity.mfa-otp.ts';

const PASSWORD = 'juniper saddle comet 62';
const ERROR_KEYS = ['details', 'error_code', 'message', 'request_id', 'status_code'];
const TTL_SECONDS = 240;

type Injected = Awaited<ReturnType<TestContext['app']['inject']>>;

function assertError(response: Injected, status: number, code: string) {
  assert.equal(response.statusCode, status, response.body);
  const body = response.json();
  assert.deepEqual(Object.keys(body).sort(), ERROR_KEYS);
  assert.equal(body.error_code, code);
  return body;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SMS and email codes as second factors', () => {
  let t: TestContext;
  let counter = 0;
  before(async () => {
    t = await startTestApp({ LOGIN_MAX_FAILURES: '100' });
    const ttl = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/admin/config/auth.otp_ttl_seconds',
      headers: bearer(t.adminToken),
      payload: { value: TTL_SECONDS },
    });
    assert.equal(ttl.statusCode, 200, ttl.body);
  });
  after(async () => t.close());

  /** Swaps the code policy for one test (the default policy waits 60 s between codes). */
  async function withPolicy(change: Partial<OtpPolicy>, work: () => Promise<void>) {
    const otp = t.application.identity.mfa!.otp;
    const original = otp.policy;
    otp.policy = async () => ({ ...(await original()), ...change });
    try {
      await work();
    } finally {
      otp.policy = original;
    }
  }

  interface Staff {
    id: string;
    username: string;
    phone: string;
    token: string;
  }

  async function createStaff(withPhone = true): Promise<Staff> {
    counter += 1;
    const username = `otp.staff${counter}`;
    const phone = `+2547110${String(counter).padStart(5, '0')}`;
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      headers: bearer(t.adminToken),
      payload: {
        username,
        email: `${username}@bank.test`,
        full_name: `OTP Staff ${counter}`,
        password: PASSWORD,
        ...(withPhone ? { phone } : {}),
        roles: [],
        must_change_password: false,
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const session = await passwordLogin(username);
    assert.equal(session.statusCode, 200, session.body);
    return { id: created.json().id, username, phone, token: session.json().access_token };
  }

  const passwordLogin = (username: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password: PASSWORD } });
  const post = (url: string, token: string, payload?: object) =>
    t.app.inject({ method: 'POST', url, headers: bearer(token), ...(payload ? { payload } : {}) });
  const send = (mfa_token: string, factor = 'sms_otp') =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/send', payload: { mfa_token, factor } });
  const verify = (mfa_token: string, code: string, factor = 'sms_otp') =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/verify', payload: { mfa_token, factor, code } });

  async function latestEvent(userId: string, purpose: string) {
    const rows = await t.deps.database.db
      .select()
      .from(outboxEvents)
      .where(and(eq(outboxEvents.topic, 'otp.requested'), eq(outboxEvents.aggregateId, userId)))
      .orderBy(desc(outboxEvents.id));
    const event = rows.find((row) => row.payload.purpose === purpose);
    assert.ok(event, `an otp.requested event for ${purpose}`);
    return event;
  }

  /** The code of the user's latest message for `purpose`, unsealed as the notification worker would. */
  async function latestCode(userId: string, purpose: string): Promise<string> {
    const event = await latestEvent(userId, purpose);
    return openEnvelope(
      t.deps.keys,
      JSON.parse(String(event.payload.code_sealed)) as Envelope,
      `otp:${String(event.payload.challenge_id)}`,
    ).toString();
  }

  const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

  async function enable(staff: Staff, channel: 'sms' | 'email') {
    const factor = `${channel}_otp`;
    const enrolled = await post(`/api/v1/2fa/${channel}/enrol`, staff.token);
    assert.equal(enrolled.statusCode, 202, enrolled.body);
    const code = await latestCode(staff.id, `mfa_enrol:${factor}`);
    const confirmed = await post(`/api/v1/2fa/${channel}/confirm`, staff.token, { code });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    return confirmed.json();
  }

  async function mfaToken(staff: Staff): Promise<{ mfa_token: string; factors: string[] }> {
    const response = await passwordLogin(staff.username);
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().mfa_required, true);
    return response.json();
  }

  test('SMS enrolment proves the phone once; the destination is stored sealed and shown masked', async () => {
    const staff = await createStaff();
    const enrolled = await post('/api/v1/2fa/sms/enrol', staff.token);
    assert.equal(enrolled.statusCode, 202, enrolled.body);
    const body = enrolled.json();
    assert.deepEqual(Object.keys(body).sort(), ['channel', 'destination', 'expires_at', 'factor']);
    assert.equal(body.channel, 'sms');
    assert.ok(!body.destination.includes(staff.phone.slice(4, 10)), 'the number is masked');
    assert.ok(body.destination.startsWith('+254'));

    const event = await latestEvent(staff.id, 'mfa_enrol:sms_otp');
    assert.equal(event.aggregateType, 'user');
    assert.deepEqual(Object.keys(event.payload).sort(), [
      'challenge_id',
      'channel',
      'code_sealed',
      'expires_at',
      'phone',
      'purpose',
      'user_id',
    ]);
    assert.equal(event.payload.phone, staff.phone);
    const code = await latestCode(staff.id, 'mfa_enrol:sms_otp');
    assert.match(code, /^\d{6}$/);
    assert.ok(!JSON.stringify(event.payload).includes(code), 'the code is sealed in the outbox');
    const stored = (await t.deps.database.db.execute(
      sql`select secret_sealed, status from mfa_factors where principal_id = ${staff.id}`,
    )) as unknown as { rows: { secret_sealed: string; status: string }[] };
    assert.equal(stored.rows[0]!.status, 'pending');
    assert.ok(!stored.rows[0]!.secret_sealed.includes(staff.phone), 'the phone is sealed at rest');

    assert.ok(
      (await passwordLogin(staff.username)).json().access_token,
      'a pending factor does not gate login',
    );
    assertError(
      await post('/api/v1/2fa/sms/confirm', staff.token, { code: wrong(code) }),
      401,
      'OTP_INVALID',
    );
    const confirmed = await post('/api/v1/2fa/sms/confirm', staff.token, { code });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    assert.deepEqual([confirmed.json().enabled, confirmed.json().pending], [true, false]);
    assertError(await post('/api/v1/2fa/sms/enrol', staff.token), 409, 'MFA_ALREADY_ENABLED');

    const factors = await t.app.inject({
      method: 'GET',
      url: '/api/v1/2fa/factors',
      headers: bearer(staff.token),
    });
    assert.equal(factors.statusCode, 200, factors.body);
    const sms = factors.json().items.find((item: { factor: string }) => item.factor === 'sms_otp');
    assert.deepEqual([sms.enabled, sms.destination], [true, body.destination]);
    const audit = await t.app.inject({
      method: 'GET',
      url: `/api/v1/core/audit?action=mfa.sms_otp_enabled&entity_id=${staff.id}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(audit.json().items.length, 1);
  });

  test('SMS needs a phone on the account; customers cannot enrol staff factors', async () => {
    const staff = await createStaff(false);
    assertError(await post('/api/v1/2fa/sms/enrol', staff.token), 409, 'PHONE_REQUIRED');
    const customer = await createCustomer(t, 'Otp', '+254799000123');
    assertError(await post('/api/v1/2fa/sms/enrol', customer.token), 403, 'FORBIDDEN');
  });

  test('five wrong enrolment codes void the code: even the right one is then refused', async () => {
    const staff = await createStaff();
    await post('/api/v1/2fa/email/enrol', staff.token);
    const code = await latestCode(staff.id, 'mfa_enrol:email_otp');
    for (let attempt = 0; attempt < 5; attempt += 1)
      assertError(
        await post('/api/v1/2fa/email/confirm', staff.token, { code: wrong(code) }),
        401,
        'OTP_INVALID',
      );
    assertError(await post('/api/v1/2fa/email/confirm', staff.token, { code }), 423, 'OTP_LOCKED');
  });

  test('login offers the factor; a sent code logs in once; the MFA token is spent', async () => {
    const staff = await createStaff();
    await enable(staff, 'sms');
    const challenge = await mfaToken(staff);
    assert.deepEqual(challenge.factors, ['sms_otp']);
    assertError(await verify(challenge.mfa_token, '123456'), 401, 'INVALID_MFA_CODE');

    const sent = await send(challenge.mfa_token);
    assert.equal(sent.statusCode, 202, sent.body);
    assert.deepEqual(Object.keys(sent.json()).sort(), [
      'channel',
      'destination',
      'expires_at',
      'expires_in',
      'factor',
    ]);
    assert.ok(sent.json().expires_in <= TTL_SECONDS && sent.json().expires_in > TTL_SECONDS - 10);
    const code = await latestCode(staff.id, 'mfa:sms_otp');
    const ok = await verify(challenge.mfa_token, code);
    assert.equal(ok.statusCode, 200, ok.body);
    assert.ok(ok.json().access_token);
    assertError(await verify(challenge.mfa_token, code), 401, 'INVALID_TOKEN');
    assertError(await send(challenge.mfa_token), 401, 'INVALID_TOKEN');
  });

  test('50 parallel submits of the right code: exactly one logs in', async () => {
    const staff = await createStaff();
    await enable(staff, 'sms');
    const challenge = await mfaToken(staff);
    assert.equal((await send(challenge.mfa_token)).statusCode, 202);
    const code = await latestCode(staff.id, 'mfa:sms_otp');
    const results = await Promise.all(Array.from({ length: 50 }, () => verify(challenge.mfa_token, code)));
    const statuses = results.map((response) => response.statusCode);
    assert.equal(statuses.filter((status) => status === 200).length, 1, `statuses: ${statuses.join(',')}`);
    assert.equal(statuses.filter((status) => status === 401).length, 49);
  });

  test('five wrong codes spend the token: the right code is refused after them', async () => {
    const staff = await createStaff();
    await enable(staff, 'sms');
    const challenge = await mfaToken(staff);
    await send(challenge.mfa_token);
    const code = await latestCode(staff.id, 'mfa:sms_otp');
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const refused = assertError(await verify(challenge.mfa_token, wrong(code)), 401, 'INVALID_MFA_CODE');
      assert.equal(refused.details.tries_left, 4 - attempt);
    }
    assertError(await verify(challenge.mfa_token, code), 401, 'INVALID_TOKEN');
    assertError(await send(challenge.mfa_token), 401, 'INVALID_TOKEN');
  });

  test('a resend voids the old code', async () => {
    const staff = await createStaff();
    await enable(staff, 'sms');
    await withPolicy({ resendCooldownMs: 0 }, async () => {
      const challenge = await mfaToken(staff);
      await send(challenge.mfa_token);
      const first = await latestCode(staff.id, 'mfa:sms_otp');
      const firstEvent = await latestEvent(staff.id, 'mfa:sms_otp');
      assert.equal((await send(challenge.mfa_token)).statusCode, 202);
      const secondEvent = await latestEvent(staff.id, 'mfa:sms_otp');
      assert.notEqual(secondEvent.payload.challenge_id, firstEvent.payload.challenge_id);
      const second = await latestCode(staff.id, 'mfa:sms_otp');
      if (first !== second) assertError(await verify(challenge.mfa_token, first), 401, 'INVALID_MFA_CODE');
      assert.equal((await verify(challenge.mfa_token, second)).statusCode, 200);
    });
  });

  test('resends wait for the cooldown and stop at the hourly cap (429 with Retry-After)', async () => {
    const staff = await createStaff();
    await enable(staff, 'sms');
    const challenge = await mfaToken(staff);
    assert.equal((await send(challenge.mfa_token)).statusCode, 202);
    const cooling = await send(challenge.mfa_token);
    const body = assertError(cooling, 429, 'OTP_COOLDOWN');
    const retryAfter = Number(cooling.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
    assert.equal(body.details.retry_after_seconds, retryAfter);

    await withPolicy({ resendCooldownMs: 0 }, async () => {
      // One code went out above; four more reach the hourly cap of five.
      for (let index = 0; index < DEFAULT_OTP_POLICY.hourlyCap - 1; index += 1)
        assert.equal((await send(challenge.mfa_token)).statusCode, 202);
      const capped = await send(challenge.mfa_token);
      assertError(capped, 429, 'OTP_RATE_LIMITED');
      assert.ok(Number(capped.headers['retry-after']) > 60);
    });
  });

  test('a code expires', async () => {
    const staff = await createStaff();
    await enable(staff, 'sms');
    await withPolicy({ ttlMs: 300 }, async () => {
      const challenge = await mfaToken(staff);
      await send(challenge.mfa_token);
      const code = await latestCode(staff.id, 'mfa:sms_otp');
      await sleep(450);
      assertError(await verify(challenge.mfa_token, code), 401, 'INVALID_MFA_CODE');
    });
  });

  test('a code is bound to its MFA token, and only offered factors are accepted', async () => {
    const staff = await createStaff();
    await enable(staff, 'sms');
    const first = await mfaToken(staff);
    const second = await mfaToken(staff);
    await send(first.mfa_token);
    const code = await latestCode(staff.id, 'mfa:sms_otp');
    assertError(await verify(second.mfa_token, code), 401, 'INVALID_MFA_CODE');
    assertError(await send(second.mfa_token, 'email_otp'), 422, 'MFA_FACTOR_UNAVAILABLE');
    assertError(await verify(first.mfa_token, code, 'email_otp'), 401, 'INVALID_MFA_CODE');
    assert.equal((await verify(first.mfa_token, code)).statusCode, 200);
  });

  test('email codes work the same way; both factors are offered side by side', async () => {
    const staff = await createStaff();
    await enable(staff, 'sms');
    const emailStatus = await enable(staff, 'email');
    assert.match(emailStatus.destination, /^o•••@bank\.test$/);
    const challenge = await mfaToken(staff);
    assert.deepEqual(challenge.factors, ['sms_otp', 'email_otp']);
    const sent = await send(challenge.mfa_token, 'email_otp');
    assert.equal(sent.statusCode, 202, sent.body);
    assert.equal(sent.json().channel, 'email');
    const event = await latestEvent(staff.id, 'mfa:email_otp');
    assert.equal(event.payload.channel, 'email');
    assert.equal(event.payload.email, `${staff.username}@bank.test`);
    const code = await latestCode(staff.id, 'mfa:email_otp');
    assert.equal((await verify(challenge.mfa_token, code, 'email_otp')).statusCode, 200);
  });

  test('disabling needs the password and leaves the other factors alone', async () => {
    const staff = await createStaff();
    await enable(staff, 'sms');
    const enrol = await post('/api/v1/2fa/totp/enrol', staff.token);
    const totp = new TOTP({ secret: Secret.fromBase32(enrol.json().secret), digits: 6, period: 30 });
    assert.equal(
      (await post('/api/v1/2fa/totp/confirm', staff.token, { code: totp.generate() })).statusCode,
      200,
    );
    assert.deepEqual((await mfaToken(staff)).factors, ['totp', 'recovery_code', 'sms_otp']);

    assert.equal(
      (await post('/api/v1/2fa/totp/disable', staff.token, { password: PASSWORD })).statusCode,
      204,
    );
    assert.deepEqual((await mfaToken(staff)).factors, ['sms_otp'], 'turning TOTP off keeps SMS');
    assertError(
      await post('/api/v1/2fa/sms/disable', staff.token, { password: 'not the password' }),
      401,
      'INVALID_CREDENTIALS',
    );
    assert.equal(
      (await post('/api/v1/2fa/sms/disable', staff.token, { password: PASSWORD })).statusCode,
      204,
    );
    assertError(
      await post('/api/v1/2fa/sms/disable', staff.token, { password: PASSWORD }),
      409,
      'MFA_NOT_ENABLED',
    );
    assert.ok((await passwordLogin(staff.username)).json().access_token, 'login is one step again');
  });

  test('bad input is refused with the standard body', async () => {
    assertError(await send('not-a-token'), 401, 'INVALID_TOKEN');
    assertError(
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/mfa/send',
        payload: { mfa_token: 'x', factor: 'carrier_pigeon' },
      }),
      422,
      'VALIDATION_ERROR',
    );
    const staff = await createStaff();
    assertError(
      await post('/api/v1/2fa/sms/confirm', staff.token, { code: '12345' }),
      422,
      'VALIDATION_ERROR',
    );
    assertError(
      await post('/api/v1/2fa/sms/confirm', staff.token, { code: '123456' }),
      409,
      'MFA_NOT_ENROLLED',
    );
  });
});
