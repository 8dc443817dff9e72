/**
 * Didit v3: the webhook signatures (the INTEGRATIONS.md test vector, canonical JSON as Python writes it, the
 * timestamp window, rotation) and the client against the local fake (wire format, API key, idempotent sessions,
 * the decision, error bodies, 429 Retry-After, outages).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { FakeDidit } from '../../../test/fakes/didit.ts';
import { DependencyUnavailableError } from '../../platform/errors.ts';
import { DiditClient, DiditError } from './didit.client.ts';
import {
  canonicalJson,
  parseDiditJson,
  signatureV2,
  signDiditWebhook,
  simpleSignedText,
  verifyDiditWebhook,
} from './didit.signature.ts';

const VECTOR_RAW =
  '{"created_at":1700000000,"decision":{"id_verifications":[{"first_name":"José","status":"Approved"}],' +
  '"liveness_checks":[{"score":95.0,"status":"Approved"}]},"session_id":"11111111-2222-3333-4444-555555555555",' +
  '"status":"Approved","timestamp":1700000000,"vendor_data":"user-123","webhook_type":"status.updated"}';
const VECTOR_V2 = 'e86e2226355b819c6eddfd42bb50322aea10778d74a7115652aae7ab558c7ad8';

describe('webhook signatures', () => {
  test('the INTEGRATIONS.md test vector: X-Signature-V2 over canonical JSON with 95.0 sent', () => {
    assert.equal(signatureV2('test_secret', parseDiditJson(VECTOR_RAW)), VECTOR_V2);
    const verified = verifyDiditWebhook({
      headers: { 'x-timestamp': '1700000000', 'x-signature-v2': VECTOR_V2 },
      rawBody: VECTOR_RAW,
      secrets: ['test_secret'],
      nowSeconds: 1_700_000_100,
    });
    assert.ok(verified.ok);
    assert.equal(verified.scheme, 'v2');
    assert.equal(verified.decisionTrusted, true);
  });

  test('canonical JSON is what Python json.dumps(sort_keys, compact, ensure_ascii=False) writes', () => {
    // Expected strings computed with CPython 3 (whole floats made ints first).
    assert.equal(canonicalJson({ b: 1, a: [3, { d: 1, c: 2 }] }), '{"a":[3,{"c":2,"d":1}],"b":1}');
    assert.equal(
      canonicalJson(parseDiditJson('{"x":95.0,"y":-0.0,"z":1e20}')),
      '{"x":95,"y":0,"z":100000000000000000000}',
    );
    assert.equal(canonicalJson([1e-5, 1.5e-7, 0.0001, 123456.5, 0.1]), '[1e-05,1.5e-07,0.0001,123456.5,0.1]');
    assert.equal(
      canonicalJson(parseDiditJson('[1e21, 12345678901234567890]')),
      '[1000000000000000000000,12345678901234567890]',
    );
    assert.equal(
      canonicalJson({ name: 'José 日本 \u2028', q: 'a"b\\c\n' }),
      '{"name":"José 日本 \u2028","q":"a\\"b\\\\c\\n"}',
    );
    // Code-point order: U+FF5E sorts before U+1F600 (UTF-16 code units would put the emoji's surrogate first).
    assert.equal(canonicalJson({ '😀': 1, '～': 2 }), '{"～":2,"😀":1}');
    assert.equal(canonicalJson({ t: true, f: false, n: null }), '{"f":false,"n":null,"t":true}');
  });

  test('V1 signs the raw bytes and Simple the four fields; the signer and the verifier agree', () => {
    const body = JSON.parse(VECTOR_RAW) as Record<string, unknown>;
    assert.equal(
      simpleSignedText(body),
      '1700000000:11111111-2222-3333-4444-555555555555:Approved:status.updated',
    );
    const headers = signDiditWebhook({ secret: 's', body, rawBody: VECTOR_RAW });
    assert.equal(headers['x-signature'], createHmac('sha256', 's').update(VECTOR_RAW).digest('hex'));
    assert.equal(
      headers['x-signature-simple'],
      createHmac('sha256', 's').update(simpleSignedText(body)).digest('hex'),
    );
    for (const only of ['x-signature', 'x-signature-simple'] as const) {
      const verified = verifyDiditWebhook({
        headers: { 'x-timestamp': headers['x-timestamp'], [only]: headers[only] },
        rawBody: VECTOR_RAW,
        secrets: ['s'],
        nowSeconds: 1_700_000_000,
      });
      assert.ok(verified.ok, only);
      assert.equal(verified.scheme, only === 'x-signature' ? 'v1' : 'simple');
      // Simple does not cover the decision: it is never to be trusted from the body.
      assert.equal(verified.decisionTrusted, only === 'x-signature');
    }
  });

  test('refused: stale or missing timestamps (±301 s, header or signed body), wrong secrets, a tampered decision', () => {
    const now = 1_700_000_000;
    const body = { session_id: 'abc', status: 'Approved', webhook_type: 'status.updated', timestamp: now };
    const raw = JSON.stringify(body);
    const headers = signDiditWebhook({ secret: 'k', body, rawBody: raw });
    const check = (h: Record<string, string>, at = now, r = raw) =>
      verifyDiditWebhook({ headers: h, rawBody: r, secrets: ['k'], nowSeconds: at });
    assert.deepEqual(check(headers, now + 300).ok, true);
    assert.deepEqual(check(headers, now + 301), { ok: false, reason: 'stale_timestamp' });
    assert.deepEqual(check(headers, now - 301), { ok: false, reason: 'stale_timestamp' });
    // A fresh header on an old signed body is still stale (V2 signs the body's timestamp).
    assert.deepEqual(check({ ...headers, 'x-timestamp': String(now + 400) }, now + 400), {
      ok: false,
      reason: 'stale_timestamp',
    });
    const { 'x-timestamp': _, ...noTimestamp } = headers;
    assert.deepEqual(check(noTimestamp), { ok: false, reason: 'missing_timestamp' });
    assert.deepEqual(verifyDiditWebhook({ headers, rawBody: raw, secrets: ['other'], nowSeconds: now }), {
      ok: false,
      reason: 'bad_signature',
    });
    const tampered = JSON.stringify({ ...body, decision: { status: 'Approved' } });
    const onlyStrong = {
      'x-timestamp': headers['x-timestamp']!,
      'x-signature-v2': headers['x-signature-v2']!,
    };
    assert.deepEqual(check(onlyStrong, now, tampered), { ok: false, reason: 'bad_signature' });
    assert.deepEqual(check({ ...headers, 'x-signature-v2': 'zz' }, now, '[1]'), {
      ok: false,
      reason: 'malformed_body',
    });
  });

  test('rotation: either configured secret verifies either the current or the -Previous headers', () => {
    const now = 1_700_000_000;
    const body = { session_id: 'abc', status: 'Declined', webhook_type: 'status.updated', timestamp: now };
    const raw = JSON.stringify(body);
    const headers = signDiditWebhook({ secret: 'new', previousSecret: 'old', body, rawBody: raw });
    const strongOnly = (keep: string) => ({ 'x-timestamp': String(now), [keep]: headers[keep]! });
    for (const secrets of [['new'], ['old'], ['new', 'old'], ['old', 'new']])
      assert.ok(verifyDiditWebhook({ headers, rawBody: raw, secrets, nowSeconds: now }).ok, secrets.join());
    assert.ok(
      verifyDiditWebhook({
        headers: strongOnly('x-signature-v2-previous'),
        rawBody: raw,
        secrets: ['old'],
        nowSeconds: now,
      }).ok,
    );
    assert.equal(
      verifyDiditWebhook({
        headers: strongOnly('x-signature-v2-previous'),
        rawBody: raw,
        secrets: ['new'],
        nowSeconds: now,
      }).ok,
      false,
    );
  });
});

describe('Didit client against the fake', () => {
  let fake: FakeDidit;
  let baseUrl: string;
  let close: () => Promise<void>;
  const client = (apiKey = fake.apiKey, workflowId = fake.workflowId) =>
    new DiditClient({ baseUrl, apiKey, workflowId, timeoutMs: 2_000 });

  before(async () => {
    fake = new FakeDidit();
    ({ baseUrl, close } = await fake.start());
  });
  after(() => close());

  test('creates a session with x-api-key and the expected details; the same vendor_data while unfinished is the same session', async () => {
    const first = await client().createSession({
      vendorData: 'reg-1',
      callback: 'https://app.test/return',
      expectedDetails: {
        first_name: 'Amina',
        last_name: 'Otieno',
        date_of_birth: '1990-05-01',
        nationality: '',
      },
    });
    assert.match(first.url, /\/session\//);
    assert.equal(first.status, 'Not Started');
    const request = fake.requests.at(-1)!;
    assert.equal(request.headers['x-api-key'], fake.apiKey);
    assert.deepEqual(request.body, {
      workflow_id: fake.workflowId,
      vendor_data: 'reg-1',
      callback: 'https://app.test/return',
      expected_details: { first_name: 'Amina', last_name: 'Otieno', date_of_birth: '1990-05-01' },
    });
    const again = await client().createSession({ vendorData: 'reg-1' });
    assert.equal(again.sessionId, first.sessionId);
    fake.setStatus(first.sessionId, 'Declined');
    const fresh = await client().createSession({ vendorData: 'reg-1' });
    assert.notEqual(fresh.sessionId, first.sessionId);
  });

  test('retrieves the decision with its per-feature arrays', async () => {
    const session = await client().createSession({
      vendorData: 'reg-2',
      expectedDetails: { first_name: 'Wanjiru' },
    });
    assert.equal((await client().decision(session.sessionId)).id_verifications, null);
    fake.setStatus(session.sessionId, 'Approved');
    const decision = await client().decision(session.sessionId);
    assert.equal(decision.status, 'Approved');
    assert.equal(decision.id_verifications?.[0]?.first_name, 'Wanjiru');
    assert.equal(decision.liveness_checks?.[0]?.status, 'Approved');
  });

  test('refusals: a wrong key (401), no workflow (404 with code), 429 with Retry-After; the key is never in a message', async () => {
    await assert.rejects(client('wrong-key').createSession({ vendorData: 'x' }), (error: unknown) => {
      assert.ok(error instanceof DiditError);
      assert.equal(error.status, 401);
      assert.equal(error.code, 'invalid_api_key');
      assert.doesNotMatch(error.message, /wrong-key/);
      return true;
    });
    await assert.rejects(
      client(fake.apiKey, 'not-a-workflow').createSession({ vendorData: 'x' }),
      (error: unknown) => {
        assert.ok(error instanceof DiditError);
        assert.equal(error.code, 'workflow_not_found');
        return true;
      },
    );
    fake.failNext(1, 429, JSON.stringify({ detail: 'Request was throttled.' }), '17');
    await assert.rejects(client().decision('11111111-2222-3333-4444-555555555555'), (error: unknown) => {
      assert.ok(error instanceof DiditError);
      assert.equal(error.status, 429);
      assert.equal(error.retryAfterSeconds, 17);
      assert.equal(error.detail, 'Request was throttled.');
      return true;
    });
    fake.failNext(1, 400, JSON.stringify({ vendor_data: ['Too long.'] }));
    await assert.rejects(client().createSession({ vendorData: 'x' }), /vendor_data: Too long\./);
  });

  test('a 500 without a body, a timeout and a closed port are Didit being unavailable', async () => {
    fake.failNext(1, 500);
    await assert.rejects(client().createSession({ vendorData: 'y' }), DependencyUnavailableError);
    await assert.rejects(
      new DiditClient({
        baseUrl: 'http://127.0.0.1:9',
        apiKey: 'k',
        workflowId: 'w',
        timeoutMs: 500,
      }).decision('abc'),
      (error: unknown) => error instanceof DependencyUnavailableError && error.dependency === 'didit',
    );
    await client().ping();
  });

  test('the fake signs deliveries the way the verifier checks them (Python-style raw body, 95.0 scores)', async () => {
    const session = await client().createSession({
      vendorData: 'reg-3',
      expectedDetails: { first_name: 'José' },
    });
    fake.setStatus(session.sessionId, 'Approved');
    const delivery = fake.buildDelivery(session.sessionId);
    assert.match(delivery.raw, /"score": 95\.0/);
    assert.match(delivery.raw, /Jos\\u00e9/);
    const verify = (d: typeof delivery, secrets = [fake.webhookSecret]) =>
      verifyDiditWebhook({ headers: d.headers, rawBody: d.raw, secrets });
    const verified = verify(delivery);
    assert.ok(verified.ok);
    assert.equal(verified.scheme, 'v2');
    const reserialised = fake.buildDelivery(session.sessionId, { reserialise: true, signatures: ['v1'] });
    assert.equal(verify(reserialised).ok, false);
    const reserialisedV2 = fake.buildDelivery(session.sessionId, { reserialise: true, signatures: ['v2'] });
    assert.equal(verify(reserialisedV2).ok, true);
    const tampered = verify(fake.buildDelivery(session.sessionId, { tamperDecision: true }));
    assert.ok(tampered.ok);
    assert.equal(tampered.scheme, 'simple');
    assert.equal(tampered.decisionTrusted, false);
    assert.equal(verify(fake.buildDelivery(session.sessionId, { forge: true })).ok, false);
    assert.equal(verify(fake.buildDelivery(session.sessionId, { timestampOffsetSeconds: -301 })).ok, false);
    fake.rotateSecret('rotated-secret');
    const rotated = fake.buildDelivery(session.sessionId, { previousOnly: true });
    assert.ok('x-signature-v2-previous' in rotated.headers && !('x-signature-v2' in rotated.headers));
    assert.equal(verify(rotated, ['didit-test-webhook-secret']).ok, true);
  });
});
