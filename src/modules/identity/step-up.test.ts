/** Step-up policy: with `auth.staff_mfa_required`, staff without a second factor can only enrol one. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { ADMIN_PASSWORD, bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { stepUpFor } from './identity.service.ts';

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

describe('step-up policy per role (auth.mfa_policy)', () => {
  let t: TestContext;
  const password = 'amber window falcon 3';
  before(async () => {
    t = await startTestApp();
    for (const [username, role] of [
      ['opsuser', 'operations'],
      ['auditor1', 'auditor'],
    ] as const) {
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/user/user/add',
        headers: bearer(t.adminToken),
        payload: {
          username,
          email: `${username}@bank.test`,
          full_name: username,
          password,
          roles: [role],
          must_change_password: false,
        },
      });
      assert.equal(created.statusCode, 201, created.body);
    }
    const policy = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/admin/config/auth.mfa_policy',
      headers: bearer(t.adminToken),
      payload: { value: { operations: { required: true, factors: ['totp', 'recovery_code'] } } },
    });
    assert.equal(policy.statusCode, 200, policy.body);
  });
  after(async () => t.close());

  const signIn = (username: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });

  test('the rule combines roles: required by any, a factor must be allowed by every list', () => {
    const policy = {
      operations: { required: true, factors: ['totp', 'recovery_code'] },
      support_agent: { required: false, factors: ['totp', 'sms_otp'] },
    };
    assert.deepEqual(
      stepUpFor(['operations', 'support_agent'], ['totp', 'recovery_code', 'sms_otp'], policy, false),
      {
        required: true,
        offered: ['totp'],
      },
    );
    assert.deepEqual(stepUpFor(['auditor'], ['security_questions'], policy, false), {
      required: false,
      offered: ['security_questions'],
    });
    assert.deepEqual(stepUpFor(['operations'], ['security_questions'], policy, false), {
      required: true,
      offered: [],
    });
    assert.equal(
      stepUpFor(['auditor'], [], policy, true).required,
      true,
      'auth.staff_mfa_required still applies',
    );
  });

  test('a role that requires TOTP reaches only enrolment until TOTP is on; then login asks for TOTP only', async () => {
    const first = await signIn('opsuser');
    assert.equal(first.statusCode, 200, first.body);
    const token = first.json().access_token as string;
    const blocked = await t.app.inject({
      method: 'GET',
      url: '/api/v1/core/category',
      headers: bearer(token),
    });
    assert.equal(blocked.statusCode, 403);
    assert.equal(blocked.json().error_code, 'MFA_ENROLLMENT_REQUIRED');
    const enrol = await t.app.inject({
      method: 'POST',
      url: '/api/v1/2fa/totp/enrol',
      headers: bearer(token),
    });
    assert.equal(enrol.statusCode, 200, enrol.body);
    const totp = new TOTP({ secret: Secret.fromBase32(enrol.json().secret), digits: 6, period: 30 });
    const confirmed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/2fa/totp/confirm',
      headers: bearer(token),
      payload: { code: totp.generate() },
    });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    const again = await signIn('opsuser');
    assert.equal(again.json().mfa_required, true);
    assert.deepEqual([...again.json().factors].sort(), ['recovery_code', 'totp']);
  });

  test('a role without a rule signs in as before', async () => {
    const login = await signIn('auditor1');
    assert.equal(login.statusCode, 200);
    assert.ok(login.json().access_token, 'no second factor asked');
    const open = await t.app.inject({
      method: 'GET',
      url: '/api/v1/core/category',
      headers: bearer(login.json().access_token),
    });
    assert.notEqual(open.json().error_code, 'MFA_ENROLLMENT_REQUIRED');
  });
});
