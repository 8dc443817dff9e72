/**
 * The registration journey over HTTP: phone check (eligibility, existing customer, deny list, rate limits, resume),
 * status, and `journey.advance` (out of order 409 with the expected steps, replay of a stored answer).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer } from '../../../test/helpers/money.ts';
import { onboardingModule } from './index.ts';

describe('onboarding journey', () => {
  let t: TestContext;
  const api = () => t.application.system.api(onboardingModule);
  before(async () => {
    t = await startTestApp({ ONBOARDING_CHECKS_PER_PHONE_HOUR: '3', ONBOARDING_CHECKS_PER_DEVICE_HOUR: '4' });
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

  test('per-phone and per-device caps answer 429 with Retry-After', async () => {
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
});
