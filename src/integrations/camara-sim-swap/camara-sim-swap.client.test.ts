/** The CAMARA SIM Swap client against the fake provider: the wire format, the token's life, and each kind of error. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type FakeSimSwap, startFakeSimSwap } from '../../../test/fakes/camara-sim-swap.ts';
import { CamaraSimSwapClient, SIM_SWAP_SCOPE, SimSwapError } from './camara-sim-swap.client.ts';

const ID = 'bank-client';
const SECRET = 's3cret:with/odd chars';
const NUMBER = '+254712345678';
const HOUR = 3_600_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('CAMARA SIM Swap client', () => {
  let fake: FakeSimSwap;
  const clientFor = (overrides: Partial<ConstructorParameters<typeof CamaraSimSwapClient>[0]> = {}) =>
    new CamaraSimSwapClient({
      apiRoot: `${fake.url}/`,
      tokenUrl: fake.tokenUrl,
      clientId: ID,
      clientSecret: SECRET,
      timeoutMs: 2000,
      ...overrides,
    });
  const tokenRequests = () => fake.requests.filter((request) => request.path === '/oauth2/token').length;

  before(async () => {
    fake = await startFakeSimSwap({ clientId: ID, clientSecret: SECRET, monitoredPeriodDays: 120 });
  });
  after(() => fake.close());

  test('retrieve-date: a client-credentials token, then the bearer call with a correlator', async () => {
    const swappedAt = new Date('2026-12-01T08:00:00.000Z');
    fake.setSwap(NUMBER, new Date(Date.now() - 3 * HOUR));
    fake.setSwap('+254712345600', swappedAt);
    const client = clientFor();
    const answer = await client.retrieveDate(NUMBER);
    assert.ok(answer.latestSimChange instanceof Date);
    assert.ok(Math.abs(answer.latestSimChange.getTime() - (Date.now() - 3 * HOUR)) < 60_000);
    assert.equal(answer.monitoredPeriodDays, null);

    const [token, call] = fake.requests.slice(-2);
    assert.equal(token!.method, 'POST');
    assert.equal(token!.path, '/oauth2/token');
    assert.equal(
      token!.headers.authorization,
      `Basic ${Buffer.from(`${ID}:${encodeURIComponent(SECRET)}`).toString('base64')}`,
    );
    assert.match(String(token!.headers['content-type']), /^application\/x-www-form-urlencoded/);
    assert.deepEqual(token!.body, { grant_type: 'client_credentials', scope: SIM_SWAP_SCOPE });

    assert.equal(call!.method, 'POST');
    assert.equal(call!.path, '/sim-swap/v2/retrieve-date');
    assert.match(String(call!.headers.authorization), /^Bearer \S+$/);
    assert.match(String(call!.headers['content-type']), /^application\/json/);
    assert.match(String(call!.headers['x-correlator']), UUID);
    assert.deepEqual(call!.body, { phoneNumber: NUMBER });

    const earlier = await client.retrieveDate('+254712345600');
    assert.deepEqual(earlier, { latestSimChange: swappedAt, monitoredPeriodDays: null });
  });

  test('a swap older than the monitored period: null with monitoredPeriod; no swap at all: null', async () => {
    fake.setSwap('+254712345601', new Date(Date.now() - 200 * 24 * HOUR));
    fake.setSwap('+254712345602', null);
    const client = clientFor();
    assert.deepEqual(await client.retrieveDate('+254712345601'), {
      latestSimChange: null,
      monitoredPeriodDays: 120,
    });
    assert.deepEqual(await client.retrieveDate('+254712345602'), {
      latestSimChange: null,
      monitoredPeriodDays: null,
    });
  });

  test('check: swapped within maxAge hours, with maxAge in the body', async () => {
    fake.setSwap('+254712345603', new Date(Date.now() - 30 * HOUR));
    const client = clientFor();
    assert.equal(await client.check('+254712345603', 48), true);
    assert.deepEqual(fake.requests.at(-1)!.body, { phoneNumber: '+254712345603', maxAge: 48 });
    assert.equal(fake.requests.at(-1)!.path, '/sim-swap/v2/check');
    assert.equal(await client.check('+254712345603', 24), false);
    const local = await client.check('+254712345603', 2401).catch((error: unknown) => error);
    assert.ok(local instanceof SimSwapError);
    assert.equal(local.kind, 'invalid');
    assert.equal(local.code, 'OUT_OF_RANGE');
  });

  test('the token is cached until shortly before it expires, and renewed once on a 401', async () => {
    let clock = Date.now();
    const client = clientFor({ now: () => clock, refreshMarginMs: 60_000 });
    fake.setSwap(NUMBER, null);
    const before = tokenRequests();
    await client.retrieveDate(NUMBER);
    await client.check(NUMBER, 24);
    await Promise.all([client.retrieveDate(NUMBER), client.retrieveDate(NUMBER)]);
    assert.equal(tokenRequests() - before, 1, 'one token for four calls');
    clock += 3600_000 - 61_000;
    await client.retrieveDate(NUMBER);
    assert.equal(tokenRequests() - before, 1, 'still within its life less the margin');
    clock += 2_000;
    await client.retrieveDate(NUMBER);
    assert.equal(tokenRequests() - before, 2, 'renewed a minute before expires_in');
    // The provider stops accepting the token: one 401, a fresh token, the call again.
    fake.revokeTokens();
    const calls = fake.apiCalls().length;
    await client.retrieveDate(NUMBER);
    assert.equal(tokenRequests() - before, 3);
    assert.equal(fake.apiCalls().length - calls, 2);
    // A 401 to the fresh token as well: no loop, an unauthorized error.
    fake.failNext(2, 401, 'UNAUTHENTICATED');
    const refused = await client.retrieveDate(NUMBER).catch((error: unknown) => error);
    assert.ok(refused instanceof SimSwapError);
    assert.equal(refused.kind, 'unauthorized');
    assert.equal(tokenRequests() - before, 4);
  });

  test('each CAMARA error, a refused client, an outage, a timeout and a wrong correlator are told apart', async () => {
    const client = clientFor();
    const failure = async (run: () => Promise<unknown>) => {
      const error = await run().then(
        () => assert.fail('expected a SimSwapError'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof SimSwapError, String(error));
      return { kind: error.kind, code: error.code, status: error.httpStatus, transient: error.transient };
    };
    const ask = () => client.retrieveDate(NUMBER);

    assert.deepEqual(await failure(() => client.retrieveDate('+254799999999')), {
      kind: 'not_applicable',
      code: 'IDENTIFIER_NOT_FOUND',
      status: 404,
      transient: false,
    });
    fake.setNotApplicable('+254712345604');
    assert.deepEqual(await failure(() => client.retrieveDate('+254712345604')), {
      kind: 'not_applicable',
      code: 'SERVICE_NOT_APPLICABLE',
      status: 422,
      transient: false,
    });
    assert.deepEqual(await failure(() => client.retrieveDate('0712345678')), {
      kind: 'invalid',
      code: 'INVALID_ARGUMENT',
      status: 400,
      transient: false,
    });
    const cases: [number, string, string, boolean][] = [
      [400, 'OUT_OF_RANGE', 'invalid', false],
      [422, 'MISSING_IDENTIFIER', 'invalid', false],
      [422, 'UNNECESSARY_IDENTIFIER', 'invalid', false],
      [403, 'PERMISSION_DENIED', 'unauthorized', false],
      [429, 'QUOTA_EXCEEDED', 'rate_limited', true],
      [429, 'TOO_MANY_REQUESTS', 'rate_limited', true],
      [503, 'UNAVAILABLE', 'unavailable', true],
      [500, 'INTERNAL', 'unavailable', true],
    ];
    for (const [status, code, kind, transient] of cases) {
      fake.failNext(1, status, code);
      assert.deepEqual(await failure(ask), { kind, code, status, transient }, `${status} ${code}`);
    }

    const wrongSecret = clientFor({ clientSecret: 'wrong' });
    assert.deepEqual(await failure(() => wrongSecret.retrieveDate(NUMBER)), {
      kind: 'unauthorized',
      code: 'invalid_client',
      status: 401,
      transient: false,
    });

    const down = clientFor({ apiRoot: 'http://127.0.0.1:9', tokenUrl: 'http://127.0.0.1:9/token' });
    assert.equal((await failure(() => down.retrieveDate(NUMBER))).code, 'NETWORK');

    const hanging = clientFor({
      timeoutMs: 200,
      fetch: (_input, init) =>
        new Promise((_resolve, reject) =>
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
        ),
    });
    assert.deepEqual(await failure(() => hanging.retrieveDate(NUMBER)), {
      kind: 'unavailable',
      code: 'TIMEOUT',
      status: undefined,
      transient: true,
    });

    // A proxy answering someone else's request: the correlator does not match.
    const crossed = clientFor({
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (!String(input).includes('/sim-swap/')) return response;
        return new Response(await response.text(), {
          status: response.status,
          headers: { 'content-type': 'application/json', 'x-correlator': 'someone-else' },
        });
      },
    });
    assert.equal((await failure(() => crossed.retrieveDate(NUMBER))).code, 'CORRELATOR');

    const garbled = clientFor({
      fetch: async (input, init) =>
        String(input).includes('/sim-swap/')
          ? new Response('{"latestSimChange": "yesterday"}', { status: 200 })
          : fetch(input, init),
    });
    assert.equal((await failure(() => garbled.retrieveDate(NUMBER))).code, 'MALFORMED');
  });
});
