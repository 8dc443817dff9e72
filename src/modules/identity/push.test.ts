/**
 * Push approval: customers register devices (Ed25519 public key as PEM or JWK, push token), a challenge goes to them
 * through the outbox, the device answers with a signed request, the waiting client polls, and an approval is
 * consumed once. Forged, replayed, foreign-device and late answers are refused; other customers see nothing.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { and, desc, eq, sql } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, TEST_PIN, type TestCustomer } from '../../../test/helpers/money.ts';
import { outboxEvents } from '../../platform/platform.tables.ts';
import { type PushDecision, pushSigningString } from './identity.push.ts';
import { pushChallenges } from './identity.tables.ts';

const ERROR_KEYS = ['details', 'error_code', 'message', 'request_id', 'status_code'];
type Injected = Awaited<ReturnType<TestContext['app']['inject']>>;

function assertError(response: Injected, status: number, code: string) {
  assert.equal(response.statusCode, status, response.body);
  const body = response.json();
  assert.deepEqual(Object.keys(body).sort(), ERROR_KEYS);
  assert.equal(body.error_code, code);
  return body;
}

interface Device {
  device_id: string;
  privateKey: KeyObject;
  publicPem: string;
}

function newDevice(device_id: string): Device {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { device_id, privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

function signAnswer(device: Device, challengeId: string, decision: PushDecision, nonce: string) {
  return sign(null, Buffer.from(pushSigningString(challengeId, decision, nonce)), device.privateKey).toString(
    'base64url',
  );
}

describe('push approval', () => {
  let t: TestContext;
  let alice: TestCustomer;
  let bob: TestCustomer;
  let phone: Device;
  let tablet: Device;
  let bobPhone: Device;

  before(async () => {
    t = await startTestApp();
    alice = await createCustomer(t, 'Alice', '+254733100001');
    bob = await createCustomer(t, 'Bob', '+254733100002');
    phone = newDevice('alice-phone');
    tablet = newDevice('alice-tablet');
    bobPhone = newDevice('bob-phone');
  });
  after(async () => t.close());

  const register = (token: string, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/device/register', headers: bearer(token), payload });
  const challenge = (token: string, payload: object = { purpose: 'transaction' }) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/push/challenge', headers: bearer(token), payload });
  const poll = (token: string, id: string) =>
    t.app.inject({ method: 'GET', url: `/api/v1/auth/push/challenge/${id}`, headers: bearer(token) });
  const respond = (payload: object) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/push/respond', payload });

  async function nonceOf(challengeId: string): Promise<string> {
    const rows = await t.deps.database.db
      .select()
      .from(outboxEvents)
      .where(eq(outboxEvents.topic, 'push.challenge'))
      .orderBy(desc(outboxEvents.id))
      .limit(50);
    const event = rows.find((row) => row.payload.challenge_id === challengeId);
    assert.ok(event, 'a push.challenge event');
    return String(event.payload.nonce);
  }

  async function answer(device: Device, challengeId: string, decision: PushDecision) {
    const nonce = await nonceOf(challengeId);
    return respond({
      challenge_id: challengeId,
      device_id: device.device_id,
      decision,
      signature: signAnswer(device, challengeId, decision, nonce),
    });
  }

  test('devices register with a PEM or a JWK key; listing shows only your own', async () => {
    const first = await register(alice.token, {
      device_id: phone.device_id,
      name: 'Alice’s phone',
      platform: 'android',
      public_key: phone.publicPem,
      push_token: 'fcm-token-alice-phone',
    });
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(first.json().device_id, phone.device_id);
    assert.match(first.json().key_fingerprint, /^[A-Za-z0-9_-]{43}$/);

    const jwk = { ...tablet.privateKey.export({ format: 'jwk' }) } as Record<string, unknown>;
    delete jwk.d;
    const second = await register(alice.token, {
      device_id: tablet.device_id,
      name: 'Alice’s tablet',
      platform: 'ios',
      public_key: jwk,
      push_token: 'apns-token-alice-tablet',
    });
    assert.equal(second.statusCode, 201, second.body);
    const bobs = await register(bob.token, {
      device_id: bobPhone.device_id,
      name: 'Bob’s phone',
      platform: 'android',
      public_key: bobPhone.publicPem,
      push_token: 'fcm-token-bob',
    });
    assert.equal(bobs.statusCode, 201);

    const listed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/device',
      headers: bearer(alice.token),
    });
    assert.deepEqual(
      listed.json().items.map((item: { device_id: string }) => item.device_id),
      [phone.device_id, tablet.device_id],
    );
    assertError(
      await t.app.inject({
        method: 'DELETE',
        url: `/api/v1/auth/device/${phone.device_id}`,
        headers: bearer(bob.token),
      }),
      404,
      'NOT_FOUND',
    );
  });

  test('keys that are not Ed25519 public keys are refused', async () => {
    const base = { device_id: 'bad-key', name: 'Bad', platform: 'web', push_token: 'wp-token' };
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    assertError(await register(alice.token, { ...base, public_key: rsa }), 422, 'INVALID_PUBLIC_KEY');
    assertError(
      await register(alice.token, {
        ...base,
        public_key: '-----BEGIN PUBLIC KEY-----\nnot a key at all\n-----END',
      }),
      422,
      'INVALID_PUBLIC_KEY',
    );
    const privatePem = phone.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assertError(await register(alice.token, { ...base, public_key: privatePem }), 422, 'INVALID_PUBLIC_KEY');
    const privateJwk = phone.privateKey.export({ format: 'jwk' });
    assertError(await register(alice.token, { ...base, public_key: privateJwk }), 422, 'VALIDATION_ERROR');
    const ed448 = generateKeyPairSync('ed448').publicKey.export({ type: 'spki', format: 'pem' });
    assertError(await register(alice.token, { ...base, public_key: ed448 }), 422, 'INVALID_PUBLIC_KEY');
    assertError(
      await register(alice.token, { ...base, public_key: { kty: 'OKP', crv: 'X25519', x: 'A'.repeat(43) } }),
      422,
      'VALIDATION_ERROR',
    );
    const listed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/device',
      headers: bearer(alice.token),
    });
    assert.equal(listed.json().items.length, 2, 'nothing was registered');
  });

  test('a challenge goes to the devices through the outbox; a signed approval is seen by the poller', async () => {
    const created = await challenge(alice.token, {
      purpose: 'transaction',
      details: { amount: 150000, currency: 'KES', payee: 'Bob' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const body = created.json();
    assert.equal(body.status, 'pending');
    assert.equal(body.devices, 2);
    assert.match(body.challenge_id, /^[A-Za-z0-9_-]{24}$/);

    const [event] = await t.deps.database.db
      .select()
      .from(outboxEvents)
      .where(and(eq(outboxEvents.topic, 'push.challenge'), eq(outboxEvents.aggregateId, alice.id)))
      .orderBy(desc(outboxEvents.id))
      .limit(1);
    assert.ok(event);
    assert.equal(event.aggregateType, 'customer');
    assert.deepEqual(
      (event.payload.devices as { push_token: string }[]).map((device) => device.push_token).sort(),
      ['apns-token-alice-tablet', 'fcm-token-alice-phone'],
    );
    assert.deepEqual(event.payload.details, { amount: 150000, currency: 'KES', payee: 'Bob' });

    assert.equal((await poll(alice.token, body.challenge_id)).json().status, 'pending');
    assertError(await poll(bob.token, body.challenge_id), 404, 'NOT_FOUND');

    const approved = await answer(tablet, body.challenge_id, 'approve');
    assert.equal(approved.statusCode, 200, approved.body);
    assert.deepEqual(approved.json(), { challenge_id: body.challenge_id, status: 'approved' });
    const polled = (await poll(alice.token, body.challenge_id)).json();
    assert.equal(polled.status, 'approved');
    assert.ok(polled.responded_at);
    assertError(await answer(phone, body.challenge_id, 'deny'), 409, 'PUSH_CHALLENGE_CLOSED');

    const push = t.application.identity.push;
    const ref = { type: 'customer' as const, id: alice.id };
    assert.equal(await push.consumeApproval(ref, body.challenge_id, 'login'), false, 'purpose must match');
    assert.equal(
      await push.consumeApproval({ type: 'customer', id: bob.id }, body.challenge_id, 'transaction'),
      false,
    );
    assert.equal(await push.consumeApproval(ref, body.challenge_id, 'transaction'), true);
    assert.equal(await push.consumeApproval(ref, body.challenge_id, 'transaction'), false, 'consumed once');

    const audit = await t.app.inject({
      method: 'GET',
      url: `/api/v1/core/audit?action=auth.push_approved&entity_id=${alice.id}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(audit.json().items.length, 1);
  });

  test('a denial is final and cannot be consumed', async () => {
    const created = (await challenge(alice.token, { purpose: 'login' })).json();
    assert.equal((await answer(phone, created.challenge_id, 'deny')).json().status, 'denied');
    assert.equal((await poll(alice.token, created.challenge_id)).json().status, 'denied');
    assertError(await answer(phone, created.challenge_id, 'approve'), 409, 'PUSH_CHALLENGE_CLOSED');
    assert.equal(
      await t.application.identity.push.consumeApproval(
        { type: 'customer', id: alice.id },
        created.challenge_id,
        'login',
      ),
      false,
    );
  });

  test('forged answers are refused: wrong key, other decision, wrong nonce, another customer’s device', async () => {
    const created = (await challenge(alice.token)).json();
    const id = created.challenge_id as string;
    const nonce = await nonceOf(id);
    const attempts = [
      // Signed by Bob's key, claiming Alice's phone.
      {
        device_id: phone.device_id,
        decision: 'approve',
        signature: signAnswer(bobPhone, id, 'approve', nonce),
      },
      // A signature for "deny" sent as "approve".
      { device_id: phone.device_id, decision: 'approve', signature: signAnswer(phone, id, 'deny', nonce) },
      // The wrong nonce.
      {
        device_id: phone.device_id,
        decision: 'approve',
        signature: signAnswer(phone, id, 'approve', 'x'.repeat(22)),
      },
      // Bob's own device, correctly signed, on Alice's challenge.
      {
        device_id: bobPhone.device_id,
        decision: 'approve',
        signature: signAnswer(bobPhone, id, 'approve', nonce),
      },
    ];
    for (const attempt of attempts)
      assertError(await respond({ challenge_id: id, ...attempt }), 401, 'INVALID_SIGNATURE');
    assert.equal((await poll(alice.token, id)).json().status, 'pending');
    assert.equal((await answer(phone, id, 'approve')).statusCode, 200, 'the fifth check, correctly signed');
  });

  test('five bad signatures close the challenge', async () => {
    const created = (await challenge(alice.token)).json();
    const id = created.challenge_id as string;
    const nonce = await nonceOf(id);
    const forged = signAnswer(bobPhone, id, 'approve', nonce);
    for (let attempt = 0; attempt < 5; attempt += 1)
      assertError(
        await respond({
          challenge_id: id,
          device_id: phone.device_id,
          decision: 'approve',
          signature: forged,
        }),
        401,
        'INVALID_SIGNATURE',
      );
    assertError(await answer(phone, id, 'approve'), 423, 'PUSH_CHALLENGE_LOCKED');
    assert.equal((await poll(alice.token, id)).json().status, 'expired');
  });

  test('an expired challenge cannot be answered', async () => {
    const created = (await challenge(alice.token)).json();
    await t.deps.database.db
      .update(pushChallenges)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(pushChallenges.id, created.challenge_id));
    assert.equal((await poll(alice.token, created.challenge_id)).json().status, 'expired');
    assertError(await answer(phone, created.challenge_id, 'approve'), 409, 'PUSH_CHALLENGE_CLOSED');
  });

  test('approve and deny racing: exactly one answer wins', async () => {
    const created = (await challenge(alice.token)).json();
    const id = created.challenge_id as string;
    const nonce = await nonceOf(id);
    const results = await Promise.all([
      respond({
        challenge_id: id,
        device_id: phone.device_id,
        decision: 'approve',
        signature: signAnswer(phone, id, 'approve', nonce),
      }),
      respond({
        challenge_id: id,
        device_id: tablet.device_id,
        decision: 'deny',
        signature: signAnswer(tablet, id, 'deny', nonce),
      }),
      respond({
        challenge_id: id,
        device_id: phone.device_id,
        decision: 'approve',
        signature: signAnswer(phone, id, 'approve', nonce),
      }),
    ]);
    const statuses = results.map((response) => response.statusCode).sort();
    assert.deepEqual(statuses, [200, 409, 409]);
    const winner = results.find((response) => response.statusCode === 200)!.json().status;
    assert.equal((await poll(alice.token, id)).json().status, winner);
  });

  test('a challenge for one device; a revoked device answers nothing; no device, no challenge', async () => {
    const targeted = (
      await challenge(alice.token, { purpose: 'transaction', device_id: tablet.device_id })
    ).json();
    assert.equal(targeted.devices, 1);
    assertError(await answer(phone, targeted.challenge_id, 'approve'), 401, 'INVALID_SIGNATURE');
    assert.equal((await answer(tablet, targeted.challenge_id, 'approve')).statusCode, 200);

    const pending = (await challenge(alice.token)).json();
    const revoked = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/auth/device/${phone.device_id}`,
      headers: bearer(alice.token),
    });
    assert.equal(revoked.statusCode, 204);
    assertError(await answer(phone, pending.challenge_id, 'approve'), 401, 'INVALID_SIGNATURE');
    assertError(
      await challenge(alice.token, { purpose: 'login', device_id: phone.device_id }),
      409,
      'NO_DEVICE',
    );

    const carol = await createCustomer(t, 'Carol', '+254733100003');
    assertError(await challenge(carol.token), 409, 'NO_DEVICE');
  });

  test('re-registering a device replaces its key; at most 10 active devices', async () => {
    const dave = await createCustomer(t, 'Dave', '+254733100004');
    const old = newDevice('dave-0');
    const replacement = newDevice('dave-0');
    const base = { name: 'Dave device', platform: 'android', push_token: 'fcm-dave' };
    assert.equal(
      (await register(dave.token, { ...base, device_id: 'dave-0', public_key: old.publicPem })).statusCode,
      201,
    );
    const again = await register(dave.token, {
      ...base,
      device_id: 'dave-0',
      public_key: replacement.publicPem,
    });
    assert.equal(again.statusCode, 201, again.body);
    const created = (await challenge(dave.token)).json();
    assert.equal(created.devices, 1);
    assertError(await answer(old, created.challenge_id, 'approve'), 401, 'INVALID_SIGNATURE');
    assert.equal((await answer(replacement, created.challenge_id, 'approve')).statusCode, 200);

    for (let index = 1; index < 10; index += 1) {
      const device = newDevice(`dave-${index}`);
      const response = await register(dave.token, {
        ...base,
        device_id: device.device_id,
        public_key: device.publicPem,
      });
      assert.equal(response.statusCode, 201, response.body);
    }
    const eleventh = newDevice('dave-10');
    assertError(
      await register(dave.token, { ...base, device_id: eleventh.device_id, public_key: eleventh.publicPem }),
      409,
      'DEVICE_LIMIT',
    );
    const replaced = await register(dave.token, {
      ...base,
      device_id: 'dave-3',
      public_key: eleventh.publicPem,
    });
    assert.equal(replaced.statusCode, 201, 're-registering a device is not a new one');
  });

  test('bad input is refused with the standard body', async () => {
    assertError(await challenge(alice.token, { purpose: 'payment' }), 422, 'VALIDATION_ERROR');
    assertError(
      await challenge(alice.token, { purpose: 'transaction', details: { 'Bad Key': 1 } }),
      422,
      'VALIDATION_ERROR',
    );
    assertError(await poll(alice.token, 'not-a-challenge'), 422, 'VALIDATION_ERROR');
    assertError(await poll(alice.token, 'A'.repeat(24)), 404, 'NOT_FOUND');
    assertError(
      await respond({
        challenge_id: 'A'.repeat(24),
        device_id: 'x',
        decision: 'approve',
        signature: 'A'.repeat(86),
      }),
      404,
      'NOT_FOUND',
    );
    assertError(
      await respond({
        challenge_id: 'A'.repeat(24),
        device_id: 'x',
        decision: 'maybe',
        signature: 'A'.repeat(86),
      }),
      422,
      'VALIDATION_ERROR',
    );
    assertError(
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/push/challenge',
        payload: { purpose: 'login' },
      }),
      401,
      'UNAUTHORIZED',
    );
  });

  test('push-approved customer sign-in: the app polls until the device approves; a denial ends it', async () => {
    const dora = await createCustomer(t, 'Dora', '+254733100009');
    const doraPhone = newDevice('dora-phone');
    const registered = await register(dora.token, {
      device_id: doraPhone.device_id,
      name: 'Dora’s phone',
      platform: 'android',
      public_key: doraPhone.publicPem,
      push_token: 'fcm-token-dora',
    });
    assert.equal(registered.statusCode, 201, registered.body);
    const eve = await createCustomer(t, 'Eve', '+254733100010');
    const on = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/admin/config/auth.customer_push_login',
      headers: bearer(t.adminToken),
      payload: { value: true },
    });
    assert.equal(on.statusCode, 200, on.body);
    const signIn = (phone: string) =>
      t.app.inject({ method: 'POST', url: '/api/v1/auth/customer/login', payload: { phone, pin: TEST_PIN } });
    const pollLogin = (mfaToken: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/customer/login/push',
        payload: { mfa_token: mfaToken },
      });

    const started = await signIn(dora.phone);
    assert.equal(started.statusCode, 200, started.body);
    assert.equal(started.json().mfa_required, true);
    assert.equal(started.json().access_token, undefined, 'no tokens before the device approves');
    const { mfa_token, push_challenge_id } = started.json();
    const waiting = await pollLogin(mfa_token);
    assert.equal(waiting.statusCode, 202, waiting.body);
    assert.equal(waiting.json().status, 'pending');
    assert.equal((await answer(doraPhone, push_challenge_id, 'approve')).statusCode, 200);
    const approved = await pollLogin(mfa_token);
    assert.equal(approved.statusCode, 200, approved.body);
    assert.ok(approved.json().access_token);
    const again = await pollLogin(mfa_token);
    assert.equal(again.statusCode, 401, 'an approval opens one session');

    const second = (await signIn(dora.phone)).json();
    assert.equal((await answer(doraPhone, second.push_challenge_id, 'deny')).statusCode, 200);
    const denied = await pollLogin(second.mfa_token);
    assert.equal(denied.statusCode, 401);
    assert.equal(denied.json().error_code, 'PUSH_NOT_APPROVED');

    const withoutDevice = await signIn(eve.phone);
    assert.ok(withoutDevice.json().access_token, 'no registered device: the PIN alone signs in');
    const forged = await pollLogin('not-a-token-at-all-but-long-enough');
    assert.equal(forged.statusCode, 401);
    await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/admin/config/auth.customer_push_login',
      headers: bearer(t.adminToken),
      payload: { value: false },
    });
  });
});
