/**
 * The device bound at the PIN step (issue 17: activation creates "credentials and the bound device"): the PIN step
 * takes the device's Ed25519 public key (SPKI PEM), platform, name and push token, checked by identity's rules; the
 * activation — automatic, or a reviewer's approval — registers the device with identity for the new customer in its
 * one transaction, so the app's first push challenge is approved by signing with the private key. Without a key no
 * device is registered and the answers say so; a purge clears the push token and the name with the rest of the PII.
 * The journey runs over HTTP against the Fineract fake (CBS path), codes read from their sealed events.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { FakeFineract } from '../../../test/fakes/fineract.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { type Envelope, openEnvelope } from '../../platform/crypto.ts';
import { rawRows } from '../../platform/db.ts';
import { pushSigningString } from '../identity/index.ts';
import { onboardingModule } from './index.ts';

const PIN = '482913';
const DAY_MS = 86_400_000;

interface Device {
  id: string;
  privateKey: KeyObject;
  publicPem: string;
}

function newDevice(id: string): Device {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { id, privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

describe('onboarding: the device bound at the PIN step is registered for push approvals', () => {
  let t: TestContext;
  let fake: FakeFineract;
  let closeFake: () => Promise<void>;
  const api = () => t.application.system.api(onboardingModule);
  const db = () => t.deps.database.db;

  before(async () => {
    fake = new FakeFineract();
    const started = await fake.start();
    closeFake = started.close;
    t = await startTestApp({
      FINERACT_BASE_URL: started.baseUrl,
      FINERACT_USERNAME: 'mifos',
      FINERACT_PASSWORD: 'password',
      ONBOARDING_EMAIL_OPTIONAL: 'true',
    });
  });
  after(async () => {
    await t.close();
    await closeFake();
  });

  const headers = (token: string) => ({ 'x-registration-token': token });
  const step = (token: string, url: string, payload: Record<string, unknown> = {}) =>
    t.app.inject({ method: 'POST', url: `/api/v1/mobile/register/${url}`, headers: headers(token), payload });
  const status = async (token: string) =>
    (
      await t.app.inject({ method: 'GET', url: '/api/v1/mobile/register/status', headers: headers(token) })
    ).json();

  async function codeFor(registrationId: string, challengeId: string): Promise<string> {
    const rows = await rawRows<{ payload: Record<string, unknown> }>(
      db(),
      sql`select payload from outbox_events where topic = 'otp.requested' and aggregate_id = ${registrationId}`,
    );
    const event = rows.find((row) => row.payload.challenge_id === challengeId);
    assert.ok(event, 'the otp.requested event');
    const sealed = JSON.parse(String(event.payload.code_sealed)) as Envelope;
    return openEnvelope(t.deps.keys, sealed, `otp:${challengeId}`).toString();
  }

  /** A bank client (matched, or with another birth date than declared: review), up to the PIN step. */
  async function beforePin(n: number, device: string, dateOfBirth = '1990-04-07') {
    const phone = `+2547110008${String(n).padStart(2, '0')}`;
    const nationalId = `8000${String(n).padStart(4, '0')}`;
    fake.addClient({
      id: 800 + n,
      firstname: 'Wanjiku',
      lastname: 'Otieno',
      dateOfBirth: '1990-04-07',
      mobileNo: `07110008${String(n).padStart(2, '0')}`,
      externalId: nationalId,
    });
    const checked = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/phone/check',
      payload: { phone, device_id: device, app_version: '2.0.0', language: 'en' },
    });
    assert.equal(checked.statusCode, 200, checked.body);
    const token = checked.json().registration_token as string;
    const lookup = await step(token, 'identity/cbs', {
      lookup: 'national_id',
      national_id: nationalId,
      first_name: 'Wanjiku',
      last_name: 'Otieno',
      date_of_birth: dateOfBirth,
    });
    assert.equal(lookup.statusCode, 200, lookup.body);
    const { id } = await api().journey.byToken(token);
    const sent = await step(token, 'phone/otp/send');
    assert.equal(sent.statusCode, 200, sent.body);
    const challenge = sent.json().challenge_id as string;
    const verified = await step(token, 'phone/otp/verify', {
      challenge_id: challenge,
      code: await codeFor(id, challenge),
    });
    assert.equal(verified.statusCode, 200, verified.body);
    assert.equal((await step(token, 'email/skip')).statusCode, 200);
    const { terms, privacy } = (
      await t.app.inject({ method: 'GET', url: '/api/v1/mobile/register/documents' })
    ).json();
    const accepted = await step(token, 'terms/accept', {
      terms_hash: terms.content_hash,
      privacy_hash: privacy.content_hash,
    });
    assert.equal(accepted.statusCode, 200, accepted.body);
    return { token, id, phone };
  }

  const devices = (access: string) =>
    t.app.inject({ method: 'GET', url: '/api/v1/auth/device', headers: bearer(access) });

  /** A push challenge to the customer's devices, answered by `device` signing with its private key. */
  async function approveWith(access: string, device: Device) {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/push/challenge',
      headers: bearer(access),
      payload: { purpose: 'transaction' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const challengeId = created.json().challenge_id as string;
    const [event] = await rawRows<{ payload: { nonce: string; devices: Record<string, unknown>[] } }>(
      db(),
      sql`select payload from outbox_events where topic = 'push.challenge'
          and payload->>'challenge_id' = ${challengeId}`,
    );
    assert.ok(event, 'the push.challenge event');
    const signature = sign(
      null,
      Buffer.from(pushSigningString(challengeId, 'approve', event.payload.nonce)),
      device.privateKey,
    ).toString('base64');
    const answered = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/push/respond',
      payload: { challenge_id: challengeId, device_id: device.id, decision: 'approve', signature },
    });
    return { answered, pushedTo: event.payload.devices };
  }

  test('a key that identity would refuse is refused at the PIN step (422), and nothing is recorded', async () => {
    const device = newDevice('device-801');
    const { token, id } = await beforePin(1, device.id);
    const refused = async (payload: Record<string, unknown>, code: string) => {
      const answer = await step(token, 'pin', { pin: PIN, ...payload });
      assert.equal(answer.statusCode, 422, answer.body);
      assert.equal(answer.json().error_code, code, answer.body);
    };
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const privatePem = device.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const platform = { device_platform: 'android' };
    await refused({ device_public_key: 'x'.repeat(60), ...platform }, 'INVALID_PUBLIC_KEY');
    await refused({ device_public_key: rsa, ...platform }, 'INVALID_PUBLIC_KEY');
    await refused({ device_public_key: privatePem, ...platform }, 'INVALID_PUBLIC_KEY');
    await refused({ device_public_key: device.publicPem }, 'VALIDATION_ERROR');
    await refused({ push_token: 'fcm-801' }, 'VALIDATION_ERROR');
    const row = (await api().journey.byId(id))!;
    assert.equal(row.state, 'terms_accepted');
    assert.equal(row.pinHash, null);
    assert.equal(row.devicePublicKey, null);

    // A device id the device routes would not accept cannot be registered for push approvals.
    const odd = newDevice('device/802');
    const other = await beforePin(2, odd.id);
    const answer = await step(other.token, 'pin', {
      pin: PIN,
      device_public_key: odd.publicPem,
      ...platform,
    });
    assert.equal(answer.statusCode, 422, answer.body);
    assert.equal(answer.json().error_code, 'VALIDATION_ERROR');
  });

  test('with a key: activation registers the device, which approves a push challenge at once', async () => {
    const device = newDevice('device-803');
    const { token, id } = await beforePin(3, device.id);
    const body = {
      pin: PIN,
      device_public_key: device.publicPem,
      device_platform: 'android',
      device_name: 'Wanjiku’s phone',
      push_token: 'fcm-token-803',
    };
    const pinned = await step(token, 'pin', body);
    assert.equal(pinned.statusCode, 200, pinned.body);
    assert.deepEqual(pinned.json(), {
      state: 'credentials_set',
      expected_steps: ['complete'],
      device_bound: true,
    });
    assert.deepEqual((await step(token, 'pin', body)).json(), pinned.json(), 'replayed');
    assert.equal((await status(token)).device_bound, true);

    const done = await step(token, 'complete');
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().state, 'completed');
    const access = done.json().tokens.access_token as string;
    const listed = await devices(access);
    assert.equal(listed.statusCode, 200, listed.body);
    assert.deepEqual(
      listed.json().items.map((item: Record<string, unknown>) => [item.device_id, item.platform, item.name]),
      [[device.id, 'android', 'Wanjiku’s phone']],
    );

    const { answered, pushedTo } = await approveWith(access, device);
    assert.equal(answered.statusCode, 200, answered.body);
    assert.equal(answered.json().status, 'approved');
    assert.deepEqual(pushedTo, [{ device_id: device.id, platform: 'android', push_token: 'fcm-token-803' }]);
    // Another key for the same device id is not the customer's device.
    const impostor = { ...newDevice(device.id) };
    assert.equal((await approveWith(access, impostor)).answered.statusCode, 401);

    const [customer] = await rawRows<{ channel: string }>(
      db(),
      sql`select channel from customers where id = ${done.json().customer_id}`,
    );
    assert.equal(customer?.channel, 'mobile');
    const [audit] = await rawRows<{ after: Record<string, unknown> }>(
      db(),
      sql`select after from audit_log where action = 'onboarding.activated' and entity_id = ${id}`,
    );
    assert.equal(audit?.after.device_registered, true);

    // The purge keeps the key (it identifies nobody) and clears the push token and the name with the PII.
    assert.equal(await api().housekeeping.purgeEnded(new Date(Date.now() + 400 * DAY_MS)), 1);
    const purged = (await api().journey.byId(id))!;
    assert.ok(purged.purgedAt);
    assert.equal(purged.devicePushToken, null);
    assert.equal(purged.deviceName, null);
    assert.equal(purged.deviceId, null);
    assert.ok(purged.devicePublicKey?.includes('BEGIN PUBLIC KEY'));
    // The customer's device is the customer's now: the purge of the registration leaves it.
    assert.equal((await devices(access)).json().items.length, 1);
  });

  test('a reviewer’s approval registers the device too', async () => {
    const device = newDevice('device-804');
    const { token, phone } = await beforePin(4, device.id, '1991-01-01');
    const pinned = await step(token, 'pin', {
      pin: PIN,
      device_public_key: device.publicPem,
      device_platform: 'ios',
    });
    assert.equal(pinned.json().device_bound, true, pinned.body);
    const done = await step(token, 'complete');
    assert.equal(done.json().state, 'in_review', done.body);
    const { id } = await api().journey.byToken(token);
    const review = (action: string) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/mobile/register/review/${action}`,
        headers: bearer(t.adminToken),
        payload: { registration_id: id },
      });
    assert.equal((await review('claim')).statusCode, 200);
    const approved = await review('approve');
    assert.equal(approved.statusCode, 200, approved.body);
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/customer/login',
      payload: { phone, pin: PIN },
    });
    assert.equal(login.statusCode, 200, login.body);
    const access = login.json().access_token as string;
    const listed = (await devices(access)).json().items;
    assert.deepEqual(
      listed.map((item: Record<string, unknown>) => [item.device_id, item.platform, item.name]),
      [[device.id, 'ios', 'Phone used to register']],
    );
    assert.equal((await approveWith(access, device)).answered.json().status, 'approved');
  });

  test('without a key: no device is registered, and the answers say so', async () => {
    const { token } = await beforePin(5, 'device-805');
    const pinned = await step(token, 'pin', { pin: PIN });
    assert.equal(pinned.json().device_bound, false, pinned.body);
    assert.equal((await status(token)).device_bound, false);
    const done = await step(token, 'complete');
    assert.equal(done.json().state, 'completed', done.body);
    const access = done.json().tokens.access_token as string;
    assert.deepEqual((await devices(access)).json().items, []);
    const challenge = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/push/challenge',
      headers: bearer(access),
      payload: { purpose: 'transaction' },
    });
    assert.equal(challenge.json().error_code, 'NO_DEVICE', challenge.body);
  });
});
