/** TOTP enrolment, MFA at login, recovery codes, replay and brute-force limits (RELIABILITY 18's TOTP side). */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import { ADMIN_PASSWORD, bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';

const codeAt = (secret: string, offsetSteps = 0) =>
  new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({
    timestamp: Date.now() + offsetSteps * 30_000,
  });

describe('multi-factor authentication', () => {
  let t: TestContext;
  let secret: string;
  let recovery: string[];
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  const post = (url: string, payload?: object, token = t.adminToken) =>
    t.app.inject({ method: 'POST', url, headers: bearer(token), ...(payload ? { payload } : {}) });
  const passwordLogin = () =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: ADMIN_PASSWORD },
    });
  const verify = (mfa_token: string, factor: string, code: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/verify', payload: { mfa_token, factor, code } });

  test('enrolment gives a secret, an otpauth URI and a QR code; the secret is stored sealed', async () => {
    const enrolled = await post('/api/v1/2fa/totp/enrol');
    assert.equal(enrolled.statusCode, 200, enrolled.body);
    const body = enrolled.json();
    secret = body.secret;
    assert.match(body.otpauth_uri, /^otpauth:\/\/totp\/CodeForge%20Suite:admin%40bank\.test\?.*secret=/);
    assert.match(body.qr_png, /^data:image\/png;base64,/);
    const stored = (await t.deps.database.db.execute(
      sql`select secret_sealed from mfa_factors`,
    )) as unknown as {
      rows: { secret_sealed: string }[];
    };
    assert.ok(!stored.rows[0]!.secret_sealed.includes(secret), 'the TOTP secret is not stored in clear');
    const pending = await t.app.inject({
      method: 'GET',
      url: '/api/v1/2fa/totp/status',
      headers: bearer(t.adminToken),
    });
    assert.deepEqual([pending.json().enabled, pending.json().pending], [false, true]);
    assert.equal(
      (await passwordLogin()).json().mfa_required,
      undefined,
      'a pending factor does not gate login',
    );
  });

  test('confirmation needs a right code and returns 10 recovery codes once', async () => {
    const wrong = await post('/api/v1/2fa/totp/confirm', { code: codeAt(secret, 5) });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().error_code, 'INVALID_MFA_CODE');
    const confirmed = await post('/api/v1/2fa/totp/confirm', { code: codeAt(secret) });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    recovery = confirmed.json().recovery_codes;
    assert.equal(recovery.length, 10);
    assert.equal(new Set(recovery).size, 10);
    const again = await post('/api/v1/2fa/totp/enrol');
    assert.equal(again.statusCode, 409);
  });

  test('login now asks for the second factor; a code is accepted once, and 5 wrong tries spend the token', async () => {
    const first = await passwordLogin();
    assert.equal(first.statusCode, 200);
    const challenge = first.json();
    assert.equal(challenge.mfa_required, true);
    assert.deepEqual(challenge.factors, ['totp', 'recovery_code']);
    assert.equal(challenge.access_token, undefined);

    const asAccess = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: bearer(challenge.mfa_token),
    });
    assert.equal(asAccess.statusCode, 401, 'an MFA token is not an access token');

    // The code used at confirmation (same time step) is refused as a replay; the next step's code works.
    const replay = await verify(challenge.mfa_token, 'totp', codeAt(secret));
    assert.equal(replay.statusCode, 401);
    const ok = await verify(challenge.mfa_token, 'totp', codeAt(secret, 1));
    assert.equal(ok.statusCode, 200, ok.body);
    assert.ok(ok.json().access_token);
    const spent = await verify(challenge.mfa_token, 'recovery_code', recovery[0]!);
    assert.equal(spent.statusCode, 401, 'an MFA token logs in once');

    const second = (await passwordLogin()).json();
    for (let index = 0; index < 5; index += 1) {
      const response = await verify(second.mfa_token, 'totp', '000000');
      assert.equal(response.statusCode, 401);
    }
    const sixth = await verify(second.mfa_token, 'recovery_code', recovery[1]!);
    assert.equal(sixth.statusCode, 401, 'the right code after 5 wrong tries is refused');
    assert.equal(sixth.json().error_code, 'INVALID_TOKEN');
  });

  test('a recovery code works once, in any format; parallel use of one code logs in once', async () => {
    const challenge = (await passwordLogin()).json();
    const formatted = ` ${recovery[2]!.toUpperCase()} `;
    const ok = await verify(challenge.mfa_token, 'recovery_code', formatted.trim());
    assert.equal(ok.statusCode, 200, ok.body);
    const again = (await passwordLogin()).json();
    assert.equal((await verify(again.mfa_token, 'recovery_code', recovery[2]!)).statusCode, 401);

    const racers = await Promise.all(Array.from({ length: 5 }, () => passwordLogin()));
    const results = await Promise.all(
      racers.map((response) => verify(response.json().mfa_token, 'recovery_code', recovery[3]!)),
    );
    assert.equal(results.filter((response) => response.statusCode === 200).length, 1);
    const status = await t.app.inject({
      method: 'GET',
      url: '/api/v1/2fa/totp/status',
      headers: bearer(t.adminToken),
    });
    // Two codes spent; the ones offered on a spent or exhausted MFA token were never consumed.
    assert.equal(status.json().recovery_codes_remaining, 8);
  });

  test('password logins that never finish the second factor still count towards the lock', async () => {
    const locked = await startTestApp({ LOGIN_MAX_FAILURES: '3' });
    try {
      const enrol = await locked.app.inject({
        method: 'POST',
        url: '/api/v1/2fa/totp/enrol',
        headers: bearer(locked.adminToken),
      });
      const secretB = enrol.json().secret as string;
      await locked.app.inject({
        method: 'POST',
        url: '/api/v1/2fa/totp/confirm',
        headers: bearer(locked.adminToken),
        payload: { code: codeAt(secretB) },
      });
      const statuses: number[] = [];
      for (let index = 0; index < 4; index += 1) {
        const response = await locked.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { username: 'admin', password: ADMIN_PASSWORD },
        });
        statuses.push(response.statusCode);
      }
      assert.deepEqual(
        statuses,
        [200, 200, 200, 423],
        'three unfinished MFA logins lock like three failures',
      );
    } finally {
      await locked.close();
    }
  });

  test('disabling needs the password; afterwards login is one step again', async () => {
    const refused = await post('/api/v1/2fa/totp/disable', { password: 'not my password' });
    assert.equal(refused.statusCode, 401);
    const disabled = await post('/api/v1/2fa/totp/disable', { password: ADMIN_PASSWORD });
    assert.equal(disabled.statusCode, 204);
    const login = (await passwordLogin()).json();
    assert.ok(login.access_token);
    const audit = await t.app.inject({
      method: 'GET',
      url: '/api/v1/core/audit?action=mfa.disabled',
      headers: bearer(t.adminToken),
    });
    assert.equal(audit.json().items.length, 1);
  });
});
