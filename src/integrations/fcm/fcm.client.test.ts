/**
 * The FCM client against a local fake of Google's token endpoint and FCM HTTP v1: the JWT bearer grant as Google
 * checks it, the token cache (reuse, one request in flight, expiry by the injected clock, refetch on 401), the send
 * body, and the mapping of FCM's error codes.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { type FakeFcm, startFakeFcm } from '../../../test/fakes/fcm.ts';
import { ProviderError, type PushMessage } from '../ports.ts';
import { FCM_SCOPE, FcmPushClient, type FcmPushClientOptions, loadServiceAccount } from './fcm.client.ts';

const PROJECT_ID = 'codeforge-bank-test';
const DEVICE = 'eKx1-3fQ:APA91bHUn2cWQ7p0zV9_device-token-0001';

const alert: PushMessage = {
  token: DEVICE,
  title: 'Debit alert',
  body: 'KES 500.00 paid to Mama Mboga',
  data: { txnId: '123', kind: 'debit' },
};

function isProviderError(expected: {
  code: string;
  retryable: boolean;
  httpStatus?: number;
  addressGone?: boolean;
  retryAfterSeconds?: number;
}) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ProviderError, `expected a ProviderError, got ${String(error)}`);
    assert.equal(error.provider, 'fcm');
    assert.equal(error.code, expected.code, error.message);
    assert.equal(error.retryable, expected.retryable, `retryable for ${error.code}`);
    if (expected.httpStatus !== undefined) assert.equal(error.httpStatus, expected.httpStatus);
    assert.equal(error.addressGone, expected.addressGone ?? false, `addressGone for ${error.code}`);
    if ('retryAfterSeconds' in expected) assert.equal(error.retryAfterSeconds, expected.retryAfterSeconds);
    return true;
  };
}

describe('FcmPushClient', () => {
  let fake: FakeFcm;
  /** Both the client and the fake read this clock, so moving it moves time for both. */
  let clockOffsetMs = 0;
  const now = () => Date.now() + clockOffsetMs;

  function client(overrides: Partial<FcmPushClientOptions> = {}): FcmPushClient {
    return new FcmPushClient({
      projectId: PROJECT_ID,
      serviceAccount: fake.serviceAccount,
      baseUrl: fake.url,
      timeoutMs: 2_000,
      now,
      ...overrides,
    });
  }

  const grantedTokens = () => fake.tokenRequests.filter((request) => request.status === 200).length;

  before(async () => {
    fake = await startFakeFcm({ projectId: PROJECT_ID, now });
  });

  beforeEach(() => {
    clockOffsetMs = 0;
    fake.tokenRequests.length = 0;
    fake.sends.length = 0;
  });

  after(() => fake.close());

  test('obtains a token by the JWT bearer grant and sends the documented body', async () => {
    const result = await client().send(alert);

    assert.equal(fake.tokenRequests.length, 1);
    const [grant] = fake.tokenRequests;
    assert.ok(grant);
    assert.equal(grant.status, 200, grant.error);
    assert.equal(grant.contentType, 'application/x-www-form-urlencoded');
    assert.equal(grant.grantType, 'urn:ietf:params:oauth:grant-type:jwt-bearer');
    assert.deepEqual(grant.header, { alg: 'RS256', typ: 'JWT', kid: fake.serviceAccount.private_key_id });
    const claims = decodeJwt(grant.assertion ?? '');
    assert.deepEqual(Object.keys(claims).sort(), ['aud', 'exp', 'iat', 'iss', 'scope']);
    assert.equal(claims.iss, fake.serviceAccount.client_email);
    assert.equal(claims.scope, FCM_SCOPE);
    assert.equal(claims.aud, fake.tokenUri);
    assert.equal(typeof claims.iat, 'number');
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 3600);
    assert.ok(Math.abs((claims.iat ?? 0) - Date.now() / 1000) < 5);

    assert.equal(fake.sends.length, 1);
    const [send] = fake.sends;
    assert.ok(send);
    assert.equal(send.path, `/v1/projects/${PROJECT_ID}/messages:send`);
    assert.equal(send.accessToken, grant.accessToken);
    assert.equal(send.headers.authorization, `Bearer ${grant.accessToken}`);
    assert.match(send.headers['content-type'] ?? '', /^application\/json/);
    assert.deepEqual(send.body, {
      message: {
        token: DEVICE,
        notification: { title: 'Debit alert', body: 'KES 500.00 paid to Mama Mboga' },
        data: { txnId: '123', kind: 'debit' },
        android: { priority: 'HIGH' },
        apns: { headers: { 'apns-priority': '10' } },
      },
    });
    assert.equal(send.status, 200);
    assert.deepEqual(result, {
      provider: 'fcm',
      providerMessageId: (send.response as { name: string }).name,
      providerStatus: '200',
    });
    assert.match(result.providerMessageId, new RegExp(`^projects/${PROJECT_ID}/messages/0:\\d+%[0-9a-f]+$`));
  });

  test('a message without data sends no data field', async () => {
    await client().send({ token: DEVICE, title: 'Hello', body: 'World' });
    const body = fake.sends[0]?.body as { message: Record<string, unknown> };
    assert.equal('data' in body.message, false);
  });

  test('reuses the token: 5 sends, 1 token request', async () => {
    const fcm = client();
    for (let index = 0; index < 5; index += 1) await fcm.send(alert);
    assert.equal(fake.tokenRequests.length, 1);
    assert.equal(fake.sends.length, 5);
    assert.equal(new Set(fake.sends.map((send) => send.accessToken)).size, 1);
  });

  test('20 concurrent sends on a cold cache share 1 token request', async () => {
    const fcm = client();
    const results = await Promise.all(Array.from({ length: 20 }, () => fcm.send(alert)));
    assert.equal(fake.tokenRequests.length, 1);
    assert.equal(results.length, 20);
    assert.equal(new Set(results.map((result) => result.providerMessageId)).size, 20);
    assert.ok(fake.sends.every((send) => send.status === 200));
  });

  test('fetches a new token once the cached one is within 60 s of expiring', async () => {
    const fcm = client();
    await fcm.send(alert);
    assert.equal(fake.tokenRequests.length, 1);

    clockOffsetMs = (3599 - 60 - 2) * 1000;
    await fcm.send(alert);
    assert.equal(fake.tokenRequests.length, 1, 'still fresh 2 s before the refresh point');

    clockOffsetMs = (3599 - 60 + 1) * 1000;
    await fcm.send(alert);
    assert.equal(fake.tokenRequests.length, 2, 'refetched 59 s before expiry');
    const second = decodeJwt(fake.tokenRequests[1]?.assertion ?? '');
    const first = decodeJwt(fake.tokenRequests[0]?.assertion ?? '');
    assert.ok((second.iat ?? 0) - (first.iat ?? 0) >= 3539, 'the new assertion uses the injected clock');
    assert.notEqual(fake.sends[2]?.accessToken, fake.sends[0]?.accessToken);
  });

  test('a 401 drops the token, fetches one more and sends again', async () => {
    const fcm = client();
    await fcm.send(alert);
    fake.expireTokens();

    const result = await fcm.send(alert);
    assert.match(result.providerMessageId, /^projects\//);
    assert.equal(fake.tokenRequests.length, 2);
    assert.deepEqual(
      fake.sends.map((send) => send.status),
      [200, 401, 200],
    );
    assert.notEqual(fake.sends[2]?.accessToken, fake.sends[1]?.accessToken);
  });

  test('concurrent sends hitting 401 together share the one refetch', async () => {
    const fcm = client();
    await fcm.send(alert);
    fake.expireTokens();
    await Promise.all(Array.from({ length: 5 }, () => fcm.send(alert)));
    assert.equal(fake.tokenRequests.length, 2);
  });

  test('a second 401 is not retried again', async () => {
    const fcm = client();
    await fcm.send(alert);
    fake.failNext(2, { status: 401 });
    await assert.rejects(
      fcm.send(alert),
      isProviderError({ code: 'UNAUTHENTICATED', retryable: false, httpStatus: 401 }),
    );
    assert.equal(fake.tokenRequests.length, 2);
    assert.equal(fake.sends.length, 3);
  });

  test('UNREGISTERED means the address is gone', async () => {
    const dead = 'dead-device:APA91bDEAD0000';
    fake.unregister(dead);
    await assert.rejects(
      client().send({ ...alert, token: dead }),
      isProviderError({ code: 'UNREGISTERED', retryable: false, httpStatus: 404, addressGone: true }),
    );
  });

  test('INVALID_ARGUMENT about the registration token means the address is gone', async () => {
    await assert.rejects(
      client().send({ ...alert, token: 'bad tok' }),
      isProviderError({ code: 'INVALID_ARGUMENT', retryable: false, httpStatus: 400, addressGone: true }),
    );
  });

  test('INVALID_ARGUMENT about something else keeps the address', async () => {
    fake.failNext(1, {
      status: 400,
      errorCode: 'INVALID_ARGUMENT',
      message: "Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration)",
    });
    await assert.rejects(
      client().send(alert),
      isProviderError({ code: 'INVALID_ARGUMENT', retryable: false, addressGone: false }),
    );
  });

  test('QUOTA_EXCEEDED is retryable and carries Retry-After', async () => {
    fake.failNext(1, { status: 429, errorCode: 'QUOTA_EXCEEDED', retryAfter: 30 });
    await assert.rejects(
      client().send(alert),
      isProviderError({ code: 'QUOTA_EXCEEDED', retryable: true, httpStatus: 429, retryAfterSeconds: 30 }),
    );
  });

  test('UNAVAILABLE and INTERNAL are retryable', async () => {
    fake.failNext(1, { status: 503, errorCode: 'UNAVAILABLE', retryAfter: 5 });
    fake.failNext(1, { status: 500, errorCode: 'INTERNAL' });
    const fcm = client();
    await assert.rejects(
      fcm.send(alert),
      isProviderError({ code: 'UNAVAILABLE', retryable: true, httpStatus: 503, retryAfterSeconds: 5 }),
    );
    await assert.rejects(
      fcm.send(alert),
      isProviderError({ code: 'INTERNAL', retryable: true, httpStatus: 500, retryAfterSeconds: undefined }),
    );
  });

  test('SENDER_ID_MISMATCH and THIRD_PARTY_AUTH_ERROR are permanent; the latter keeps the token', async () => {
    const fcm = client();
    fake.failNext(1, { status: 403, errorCode: 'SENDER_ID_MISMATCH' });
    await assert.rejects(
      fcm.send(alert),
      isProviderError({ code: 'SENDER_ID_MISMATCH', retryable: false, httpStatus: 403 }),
    );
    fake.failNext(1, { status: 401, errorCode: 'THIRD_PARTY_AUTH_ERROR' });
    await assert.rejects(
      fcm.send(alert),
      isProviderError({ code: 'THIRD_PARTY_AUTH_ERROR', retryable: false, httpStatus: 401 }),
    );
    assert.equal(fake.tokenRequests.length, 1);
    assert.equal(fake.sends.length, 2);
  });

  test('a payload over 4096 bytes is refused locally, without any request', async () => {
    await assert.rejects(
      client().send({ ...alert, body: 'x'.repeat(4096) }),
      isProviderError({ code: 'INVALID_ARGUMENT', retryable: false }),
    );
    await assert.rejects(
      client().send({ ...alert, data: { blob: 'é'.repeat(2100) } }),
      isProviderError({ code: 'INVALID_ARGUMENT', retryable: false }),
    );
    assert.equal(fake.tokenRequests.length, 0);
    assert.equal(fake.sends.length, 0);
    await client().send({ ...alert, data: undefined, body: 'x'.repeat(3900) });
    assert.equal(fake.sends[0]?.status, 200);
  });

  test('non-string data is refused locally', async () => {
    const data = { amount: 500 } as unknown as Record<string, string>;
    await assert.rejects(
      client().send({ ...alert, data }),
      isProviderError({ code: 'INVALID_ARGUMENT', retryable: false }),
    );
    assert.equal(fake.sends.length, 0);
  });

  test('the fake refuses an assertion signed with another key, and the refusal is permanent', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    await assert.rejects(
      client({ serviceAccount: { ...fake.serviceAccount, private_key: stranger } }).send(alert),
      isProviderError({ code: 'OAUTH invalid_grant', retryable: false, httpStatus: 400 }),
    );
    await assert.rejects(
      client({ serviceAccount: { ...fake.serviceAccount, private_key_id: 'another-kid' } }).send(alert),
      isProviderError({ code: 'OAUTH invalid_grant', retryable: false }),
    );
    await assert.rejects(
      client({
        serviceAccount: { ...fake.serviceAccount, client_email: 'x@other.iam.gserviceaccount.com' },
      }).send(alert),
      isProviderError({ code: 'OAUTH invalid_grant', retryable: false }),
    );
    assert.equal(grantedTokens(), 0);
    assert.equal(fake.sends.length, 0);
  });

  test('a failed token request is not cached: the next send asks again', async () => {
    const tokenCalls: string[] = [];
    const counting: typeof fetch = (input, init) => {
      if (String(input).endsWith('/nowhere')) tokenCalls.push(String(input));
      return fetch(input, init);
    };
    const fcm = client({
      serviceAccount: { ...fake.serviceAccount, token_uri: `${fake.url}/nowhere` },
      fetch: counting,
    });
    await assert.rejects(fcm.send(alert), isProviderError({ code: 'OAUTH HTTP 404', retryable: false }));
    await assert.rejects(fcm.send(alert), isProviderError({ code: 'OAUTH HTTP 404', retryable: false }));
    assert.equal(tokenCalls.length, 2);
    assert.equal(fake.sends.length, 0);
  });

  test('another project is refused permanently', async () => {
    await assert.rejects(
      client({ projectId: 'someone-else' }).send(alert),
      isProviderError({ code: 'PERMISSION_DENIED', retryable: false, httpStatus: 403 }),
    );
  });

  test('an unreachable FCM is a retryable network failure', async () => {
    const gone = await startFakeFcm({ projectId: PROJECT_ID });
    await gone.close();
    await assert.rejects(
      client({ baseUrl: gone.url }).send(alert),
      isProviderError({ code: 'NETWORK', retryable: true }),
    );
  });

  test('loadServiceAccount reads the JSON text or a path to the file', async () => {
    const json = JSON.stringify(fake.serviceAccount, null, 2);
    const dir = await mkdtemp(join(tmpdir(), 'fcm-sa-'));
    try {
      const path = join(dir, 'service-account.json');
      await writeFile(path, json);
      const fromFile = loadServiceAccount(path);
      const fromText = loadServiceAccount(json);
      const expected = {
        client_email: fake.serviceAccount.client_email,
        private_key: fake.serviceAccount.private_key,
        private_key_id: fake.serviceAccount.private_key_id,
        token_uri: fake.tokenUri,
        project_id: PROJECT_ID,
      };
      assert.deepEqual(fromFile, expected);
      assert.deepEqual(fromText, expected);
      await client({ serviceAccount: fromFile }).send(alert);
      await client({ serviceAccount: fromText }).send(alert);
      assert.equal(grantedTokens(), 2);

      assert.throws(() => loadServiceAccount(join(dir, 'missing.json')), /cannot be read/);
      assert.throws(
        () => loadServiceAccount(JSON.stringify({ client_email: 'a@b', private_key: 'k' })),
        /lacks private_key_id/,
      );
      const broken = `${json.slice(0, -3)}`;
      assert.throws(
        () => loadServiceAccount(broken),
        (error: unknown) =>
          error instanceof Error &&
          /not valid JSON/.test(error.message) &&
          !error.message.includes('PRIVATE KEY'),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a service account whose key is not an RSA PEM is refused at construction', () => {
    assert.throws(
      () => client({ serviceAccount: { ...fake.serviceAccount, private_key: 'not a key' } }),
      /not a readable PEM private key/,
    );
  });
});
