/** The phone-ownership client against the fake provider: the wire format, the API key, and each kind of failure. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type FakePhoneOwnership, startFakePhoneOwnership } from '../../../test/fakes/phone-ownership.ts';
import { PhoneOwnershipClient, PhoneOwnershipError } from './phone-ownership.client.ts';

const KEY = 'test-key-0123456789';
const MSISDN = '+254712345678';

describe('phone-ownership client', () => {
  let fake: FakePhoneOwnership;
  let client: PhoneOwnershipClient;

  before(async () => {
    fake = await startFakePhoneOwnership({ apiKey: KEY });
    client = new PhoneOwnershipClient({ baseUrl: `${fake.url}/`, apiKey: KEY, timeoutMs: 2000 });
  });
  after(() => fake.close());

  test('answers the owner match and the SIM and handset change times', async () => {
    const simSwapAt = new Date('2026-11-30T08:00:00.000Z');
    fake.setSubscriber(MSISDN, { firstName: 'Amina', lastName: 'Otieno', simSwapAt });
    const answer = await client.check({ msisdn: MSISDN, firstName: 'AMINA', lastName: 'otieno' });
    assert.deepEqual(answer, { ownerMatch: true, simSwapAt, deviceChangeAt: null });
    const request = fake.requests.at(-1)!;
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/v1/phone/ownership');
    assert.equal(request.headers['x-api-key'], KEY);
    assert.match(String(request.headers['content-type']), /^application\/json/);
    assert.deepEqual(request.body, { msisdn: MSISDN, first_name: 'AMINA', last_name: 'otieno' });
  });

  test('a subscriber without a name on file: owner_match null', async () => {
    fake.setSubscriber('+254712345679', { firstName: null, lastName: null });
    const answer = await client.check({ msisdn: '+254712345679', firstName: 'A', lastName: 'B' });
    assert.equal(answer.ownerMatch, null);
  });

  test('an unknown number, a wrong key, an outage and a timeout are told apart', async () => {
    const failure = async (run: () => Promise<unknown>) => {
      const error = await run().then(
        () => assert.fail('expected a PhoneOwnershipError'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof PhoneOwnershipError, String(error));
      return error;
    };
    const unknown = await failure(() =>
      client.check({ msisdn: '+254700000001', firstName: 'A', lastName: 'B' }),
    );
    assert.equal(unknown.kind, 'unknown_number');
    assert.equal(unknown.code, 'UNKNOWN_MSISDN');

    const wrongKey = new PhoneOwnershipClient({ baseUrl: fake.url, apiKey: 'wrong' });
    const refused = await failure(() => wrongKey.check({ msisdn: MSISDN, firstName: 'A', lastName: 'B' }));
    assert.equal(refused.kind, 'rejected');
    assert.equal(refused.httpStatus, 401);

    fake.failNext(1, 503);
    const down = await failure(() => client.check({ msisdn: MSISDN, firstName: 'A', lastName: 'B' }));
    assert.equal(down.kind, 'unavailable');

    const hanging = new PhoneOwnershipClient({
      baseUrl: 'http://127.0.0.1:9',
      apiKey: KEY,
      timeoutMs: 200,
      fetch: (_input, init) =>
        new Promise((_resolve, reject) =>
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
        ),
    });
    const timeout = await failure(() => hanging.check({ msisdn: MSISDN, firstName: 'A', lastName: 'B' }));
    assert.equal(timeout.kind, 'unavailable');
    assert.equal(timeout.code, 'TIMEOUT');
  });
});
