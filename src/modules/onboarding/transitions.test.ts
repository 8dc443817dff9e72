/**
 * The exhaustive transitions test on the real database: every state × step pair through `journey.advance`. A pair
 * the table allows moves the registration to the table's state (version bumped, step time recorded); every other
 * pair answers 409 REGISTRATION_STEP_OUT_OF_ORDER with the state's expected steps and changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import type { AppError } from '../../platform/error-catalogue.ts';
import { onboardingModule } from './index.ts';
import { expectedSteps, STATES, STEPS, TRANSITIONS } from './onboarding.machine.ts';
import { registrations } from './onboarding.tables.ts';

describe('onboarding transitions, exhaustively', () => {
  let t: TestContext;
  const api = () => t.application.system.api(onboardingModule);
  before(async () => {
    t = await startTestApp({ ONBOARDING_EMAIL_OPTIONAL: 'true' });
  });
  after(async () => t.close());

  test('every state × step pair: allowed → the next state, others → 409 with the expected steps', async () => {
    const started = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/phone/check',
      payload: { phone: '+254711000501', device_id: 'device-501', app_version: '1.0.0', language: 'en' },
    });
    assert.equal(started.statusCode, 200, started.body);
    const { id } = await api().journey.byToken(started.json().registration_token);
    const db = t.deps.database.db;
    let allowed = 0;
    let refused = 0;
    for (const state of STATES)
      for (const step of STEPS) {
        await db
          .update(registrations)
          .set({ state, stepTimes: {}, purgedAt: null, expiresAt: new Date(Date.now() + 60_000) })
          .where(eq(registrations.id, id));
        const before = (await api().journey.byId(id))!;
        const target = TRANSITIONS[state][step];
        if (target) {
          const done = await api().journey.advanceNow(id, step);
          assert.equal(done.registration.state, target, `${state} × ${step}`);
          assert.equal(done.registration.version, before.version + 1, `${state} × ${step}: version`);
          assert.ok(done.registration.stepTimes[step], `${state} × ${step}: step time`);
          if (target === 'info_requested')
            assert.ok(
              done.registration.expiresAt.getTime() > Date.now() + 71 * 3_600_000,
              'a reopened step renews',
            );
          allowed += 1;
        } else {
          await assert.rejects(
            api().journey.advanceNow(id, step),
            (error: AppError) => {
              assert.equal(error.statusCode, 409, `${state} × ${step}`);
              assert.equal(error.errorCode, 'REGISTRATION_STEP_OUT_OF_ORDER');
              assert.deepEqual(error.details, { state, step, expected_steps: expectedSteps(state) });
              return true;
            },
            `${state} × ${step} must be refused`,
          );
          const after = (await api().journey.byId(id))!;
          assert.deepEqual(
            [after.state, after.version],
            [state, before.version],
            `${state} × ${step}: unchanged`,
          );
          refused += 1;
        }
      }
    assert.equal(allowed + refused, STATES.length * STEPS.length);
    assert.equal(
      allowed,
      Object.values(TRANSITIONS).reduce((sum, row) => sum + Object.keys(row).length, 0),
    );
  });

  test('over HTTP, a customer step out of order is 409 naming the steps expected now', async () => {
    const started = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/phone/check',
      payload: { phone: '+254711000502', device_id: 'device-502', app_version: '1.0.0', language: 'en' },
    });
    const token = started.json().registration_token;
    for (const url of ['phone/otp/send', 'email/skip', 'pin']) {
      const answer = await t.app.inject({
        method: 'POST',
        url: `/api/v1/mobile/register/${url}`,
        headers: { 'x-registration-token': token },
        payload: url === 'pin' ? { pin: '4739' } : {},
      });
      assert.equal(answer.statusCode, 409, `${url}: ${answer.body}`);
      assert.deepEqual(answer.json().details.expected_steps, ['identity_cbs', 'identity_didit']);
    }
  });

  test('with the email optional it is skipped; skip and terms sent again answer the same and change nothing', async () => {
    const started = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/phone/check',
      payload: { phone: '+254711000503', device_id: 'device-503', app_version: '1.0.0', language: 'en' },
    });
    const token = started.json().registration_token;
    const { id } = await api().journey.byToken(token);
    await api().journey.advanceNow(id, 'identity_cbs', { path: 'cbs' });
    await api().journey.advanceNow(id, 'phone_otp_verify', { phoneVerifiedAt: new Date() });
    const post = (url: string, payload: Record<string, unknown> = {}) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/mobile/register/${url}`,
        headers: { 'x-registration-token': token },
        payload,
      });
    const skipped = await post('email/skip');
    assert.equal(skipped.statusCode, 200, skipped.body);
    assert.deepEqual(skipped.json(), { state: 'email_verified', expected_steps: ['terms_accept'] });
    const documents = (
      await t.app.inject({ method: 'GET', url: '/api/v1/mobile/register/documents' })
    ).json();
    const hashes = { terms_hash: documents.terms.content_hash, privacy_hash: documents.privacy.content_hash };
    const accepted = await post('terms/accept', hashes);
    assert.equal(accepted.json().state, 'terms_accepted', accepted.body);
    const version = (await api().journey.byId(id))!.version;
    assert.deepEqual((await post('email/skip')).json(), skipped.json());
    assert.deepEqual((await post('terms/accept', hashes)).json(), accepted.json());
    const row = (await api().journey.byId(id))!;
    assert.deepEqual([row.version, row.emailSkipped, row.emailVerifiedAt], [version, true, null]);
    const status = await t.app.inject({
      method: 'GET',
      url: '/api/v1/mobile/register/status',
      headers: { 'x-registration-token': token },
    });
    assert.deepEqual(
      [status.json().email_optional, status.json().email_skipped, status.json().terms_accepted],
      [true, true, true],
    );
  });
});
