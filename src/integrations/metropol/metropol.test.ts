/**
 * The Metropol client against a local fake speaking Metropol's wire format: the signature headers exactly as
 * specified (the fake refuses a wrong hash), both reports, `has_error` answers, timeouts and unreachable bureaus.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { FakeMetropol, type RecordedMetropolRequest } from '../../../test/fakes/metropol.ts';
import { DependencyUnavailableError } from '../../platform/errors.ts';
import { isTimeout } from '../http.ts';
import {
  MetropolClient,
  type MetropolClientOptions,
  MetropolError,
  metropolHash,
  metropolTimestamp,
} from './metropol.client.ts';

let fake: FakeMetropol;
let baseUrl: string;
let close: () => Promise<void>;

function client(overrides: Partial<MetropolClientOptions> = {}): MetropolClient {
  return new MetropolClient({
    baseUrl,
    publicKey: fake.publicKey,
    privateKey: fake.privateKey,
    timeoutMs: 2_000,
    ...overrides,
  });
}

function lastRequest(): RecordedMetropolRequest {
  const request = fake.requests.at(-1);
  assert.ok(request, 'the fake received no request');
  return request;
}

function isUnavailable(error: unknown): boolean {
  assert.ok(error instanceof DependencyUnavailableError, `expected unavailability, got ${String(error)}`);
  assert.equal(error.dependency, 'metropol');
  return true;
}

before(async () => {
  fake = new FakeMetropol();
  ({ baseUrl, close } = await fake.start());
});

after(() => close());

beforeEach(() => {
  fake.requests.length = 0;
  fake.setPerson('880000088', { score: 567, delinquencyCode: '002', delinquencySummary: 'Not delinquent' });
  fake.setPerson('12345678', {
    score: 410,
    delinquencyCode: '004',
    delinquencySummary: 'Current delinquency True',
  });
  fake.setPerson('99999999', { error: { code: '103', description: 'Identity number is invalid' } });
  fake.setPerson('55555555', { score: 700, delayMs: 1_500 });
});

describe('signing', () => {
  test('the timestamp is yyyyMMddHHmmss in UTC plus six zero-padded microsecond digits', () => {
    // 2026-01-02T03:04:05.000007Z
    const micros = BigInt(Date.UTC(2026, 0, 2, 3, 4, 5)) * 1000n + 7n;
    assert.equal(metropolTimestamp(micros), '20260102030405000007');
    const late = BigInt(Date.UTC(2026, 11, 31, 23, 59, 59)) * 1000n + 999_999n;
    assert.equal(metropolTimestamp(late), '20261231235959999999');
  });

  test('the hash is sha256 hex of private key + body + public key + timestamp', () => {
    const expected = createHash('sha256').update('priv{"a":1}pub20260102030405000007').digest('hex');
    assert.equal(metropolHash('priv', '{"a":1}', 'pub', '20260102030405000007'), expected);
  });

  test('the consumer score request carries the three headers over the exact body sent', async () => {
    const micros = BigInt(Date.now()) * 1000n + 42n;
    const score = await client({ clock: () => micros }).consumerScore('880000088', '001');
    assert.deepEqual(score, { identityNumber: '880000088', identityType: '001', creditScore: 567 });
    const request = lastRequest();
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/v2_1/score/consumer');
    assert.equal(request.signed, true);
    assert.equal(request.raw, '{"report_type":3,"identity_number":"880000088","identity_type":"001"}');
    const timestamp = metropolTimestamp(micros);
    assert.equal(request.headers['x-metropol-rest-api-key'], fake.publicKey);
    assert.equal(request.headers['x-metropol-rest-api-timestamp'], timestamp);
    assert.match(timestamp, /^\d{17}042$/);
    assert.equal(
      request.headers['x-metropol-rest-api-hash'],
      createHash('sha256')
        .update(`${fake.privateKey}${request.raw}${fake.publicKey}${timestamp}`)
        .digest('hex'),
    );
    assert.equal(request.headers['content-type'], 'application/json');
  });

  test('a wrong private key is refused by the bureau (has_error, 401), and the key is never in the message', async () => {
    const wrong = client({ privateKey: 'not-the-private-key' });
    await assert.rejects(wrong.consumerScore('880000088', '001'), (error: unknown) => {
      assert.ok(error instanceof MetropolError);
      assert.equal(error.status, 401);
      assert.equal(error.apiCode, '401');
      assert.ok(!error.message.includes('not-the-private-key'));
      return true;
    });
    assert.equal(lastRequest().signed, false);
  });

  test('a wrong public key or a stale timestamp is refused too', async () => {
    await assert.rejects(client({ publicKey: 'other' }).consumerScore('880000088', '001'), MetropolError);
    const hourAgo = BigInt(Date.now() - 3_600_000) * 1000n;
    await assert.rejects(client({ clock: () => hourAgo }).consumerScore('880000088', '001'), MetropolError);
  });
});

describe('reports', () => {
  test('delinquency status sends report_type 2 with the loan amount and reads the code', async () => {
    const status = await client().delinquencyStatus('12345678', '001', 50_000);
    assert.equal(status.delinquencyCode, '004');
    assert.equal(status.delinquencySummary, 'Current delinquency True');
    assert.ok(status.trxId);
    const request = lastRequest();
    assert.equal(request.path, '/v2_1/deliquency/status');
    assert.equal(
      request.raw,
      '{"report_type":2,"identity_number":"12345678","identity_type":"001","loan_amount":50000}',
    );
    assert.equal(request.signed, true);
  });

  test('has_error answers become MetropolError with the api_code and its description', async () => {
    await assert.rejects(client().consumerScore('99999999', '001'), (error: unknown) => {
      assert.ok(error instanceof MetropolError);
      assert.equal(error.status, 200);
      assert.equal(error.apiCode, '103');
      assert.equal(error.description, 'Identity number is invalid');
      return true;
    });
    await assert.rejects(client().delinquencyStatus('00000001', '001', 1000), (error: unknown) => {
      assert.ok(error instanceof MetropolError);
      assert.equal(error.apiCode, '404');
      return true;
    });
  });

  test('a fractional or negative loan amount is refused before anything is sent', async () => {
    await assert.rejects(client().delinquencyStatus('880000088', '001', 10.5), RangeError);
    await assert.rejects(client().delinquencyStatus('880000088', '001', -1), RangeError);
    assert.equal(fake.requests.length, 0);
  });
});

describe('unavailability', () => {
  test('a slow bureau times out as unavailability whose cause is the timeout', async () => {
    const started = Date.now();
    await assert.rejects(client({ timeoutMs: 200 }).consumerScore('55555555', '001'), (error: unknown) => {
      isUnavailable(error);
      assert.ok(isTimeout((error as Error).cause), 'the cause is a timeout');
      return true;
    });
    assert.ok(Date.now() - started < 1_400, 'gave up at the timeout, not when the bureau answered');
  });

  test('a refused connection is unavailability; ping fails then and succeeds on a live bureau', async () => {
    const dead = client({ baseUrl: 'http://127.0.0.1:9/v2_1', timeoutMs: 500 });
    await assert.rejects(dead.consumerScore('880000088', '001'), isUnavailable);
    await assert.rejects(dead.ping(), isUnavailable);
    await client().ping();
  });

  test('a 5xx or a body that is not Metropol’s is unavailability', async () => {
    const answers = [
      new Response('<html>502</html>', { status: 502 }),
      new Response('not json', { status: 200 }),
      new Response(JSON.stringify({ has_error: false, credit_score: 'high' }), { status: 200 }),
    ];
    const fetchStub: typeof fetch = async () => answers.shift() ?? new Response('', { status: 500 });
    for (let i = 0; i < 3; i += 1)
      await assert.rejects(client({ fetch: fetchStub }).consumerScore('880000088', '001'), isUnavailable);
  });
});
