/** Step-up policy: with `auth.staff_mfa_required`, staff without a second factor can only enrol one. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { ADMIN_PASSWORD, bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';

describe('staff MFA required', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp();
    const on = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/admin/config/auth.staff_mfa_required',
      headers: bearer(t.adminToken),
      payload: { value: true },
    });
    assert.equal(on.statusCode, 200);
  });
  after(async () => t.close());

  test('until a factor is enrolled only enrolment, me and logout are open; then login asks for it', async () => {
    const blocked = await t.app.inject({
      method: 'GET',
      url: '/api/v1/core/category',
      headers: bearer(t.adminToken),
    });
    assert.equal(blocked.statusCode, 403);
    assert.equal(blocked.json().error_code, 'MFA_ENROLLMENT_REQUIRED');
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(t.adminToken) }))
        .statusCode,
      200,
    );

    const enrol = await t.app.inject({
      method: 'POST',
      url: '/api/v1/2fa/totp/enrol',
      headers: bearer(t.adminToken),
    });
    assert.equal(enrol.statusCode, 200);
    const totp = new TOTP({ secret: Secret.fromBase32(enrol.json().secret), digits: 6, period: 30 });
    const confirmed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/2fa/totp/confirm',
      headers: bearer(t.adminToken),
      payload: { code: totp.generate() },
    });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    const open = await t.app.inject({
      method: 'GET',
      url: '/api/v1/core/category',
      headers: bearer(t.adminToken),
    });
    assert.equal(open.statusCode, 200, 'enrolled: the restriction lifts at once');

    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: ADMIN_PASSWORD },
    });
    assert.equal(login.json().mfa_required, true);
  });
});
