/** Customers as principals: phone + PIN sign-in, PIN lock (RELIABILITY 19), and own-resources-only access (BOLA). */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';

describe('customer sign-in and ownership', () => {
  let t: TestContext;
  const ids: Record<string, string> = {};

  before(async () => {
    t = await startTestApp({ PIN_MAX_FAILURES: '5' });
    for (const [name, phone] of [
      ['alice', '+254711000001'],
      ['bob', '+254711000002'],
      ['carol', '+254711000003'],
    ] as const) {
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/customer/customer/add',
        headers: bearer(t.adminToken),
        payload: { first_name: name, last_name: 'Test', phone },
      });
      assert.equal(created.statusCode, 201, created.body);
      ids[name] = created.json().id;
      const pin = await t.app.inject({
        method: 'POST',
        url: '/api/v1/customer/credentials/pin',
        headers: bearer(t.adminToken),
        payload: { customer_id: ids[name], pin: '2580' },
      });
      assert.equal(pin.statusCode, 204, pin.body);
    }
  });
  after(async () => t.close());

  const pinLogin = (phone: string, pin: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/customer/login', payload: { phone, pin } });

  test('weak PINs are refused when set', async () => {
    for (const pin of ['1234', '0000', '98765', '12']) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/customer/credentials/pin',
        headers: bearer(t.adminToken),
        payload: { customer_id: ids.alice, pin },
      });
      assert.equal(response.statusCode, 422, pin);
    }
  });

  test('a customer signs in with phone and PIN and reads only their own profile', async () => {
    const login = await pinLogin('+254 711 000 001', '2580');
    assert.equal(login.statusCode, 200, login.body);
    const token = login.json().access_token as string;
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/customer/me', headers: bearer(token) });
    assert.equal(me.json().id, ids.alice);
    const own = await t.app.inject({
      method: 'GET',
      url: `/api/v1/customer/customer/${ids.alice}`,
      headers: bearer(token),
    });
    assert.equal(own.statusCode, 200);
    const other = await t.app.inject({
      method: 'GET',
      url: `/api/v1/customer/customer/${ids.bob}`,
      headers: bearer(token),
    });
    assert.equal(other.statusCode, 404, 'another customer answers 404, not 403');
    const missing = await t.app.inject({
      method: 'GET',
      url: '/api/v1/customer/customer/01a20000-0000-7000-8000-000000000000',
      headers: bearer(token),
    });
    assert.deepEqual(other.json().error_code, missing.json().error_code);
    for (const [method, url] of [
      ['GET', '/api/v1/customer/customer'],
      ['GET', '/api/v1/core/audit'],
      ['GET', '/api/v1/user/user'],
      ['POST', '/api/v1/customer/customer/add'],
    ] as const) {
      const response = await t.app.inject({
        method,
        url,
        headers: bearer(token),
        payload: method === 'POST' ? {} : undefined,
      });
      assert.equal(response.statusCode, 403, `${method} ${url}`);
    }
    const totp = await t.app.inject({
      method: 'POST',
      url: '/api/v1/2fa/totp/enrol',
      headers: bearer(token),
    });
    assert.equal(totp.statusCode, 403, 'staff second factors are not for customers');
    const pii = await t.app.inject({
      method: 'GET',
      url: `/api/v1/customer/customer/${ids.alice}?include_pii=true`,
      headers: bearer(token),
    });
    assert.equal(pii.statusCode, 200);
  });

  test('unknown phones and wrong PINs answer 401; a suspended customer is refused at once', async () => {
    const unknown = await pinLogin('+254711999999', '2580');
    assert.equal(unknown.statusCode, 401);
    const realWrong = await pinLogin('+254711000001', '0246');
    const strip = (body: string) => ({ ...JSON.parse(body), request_id: null });
    assert.deepEqual(
      strip(unknown.body),
      strip(realWrong.body),
      'an unknown number answers exactly like a wrong PIN',
    );
    await pinLogin('+254711000001', '2580');
    const statuses = [];
    for (let index = 0; index < 5; index += 1)
      statuses.push((await pinLogin('+254711999999', '2580')).statusCode);
    assert.deepEqual(
      statuses,
      [401, 401, 401, 423, 423],
      'an unknown number locks after as many tries as a real one',
    );
    const wrong = await pinLogin('+254711000002', '2581');
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().details.attempts_left, 4);
    const token = (await pinLogin('+254711000002', '2580')).json().access_token as string;
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/status',
      headers: bearer(t.adminToken),
      payload: { customer_id: ids.bob, status: 'suspended', reason: 'fraud review' },
    });
    const after = await t.app.inject({ method: 'GET', url: '/api/v1/customer/me', headers: bearer(token) });
    assert.equal(after.statusCode, 401, 'the existing session stops working');
    assert.equal((await pinLogin('+254711000002', '2580')).statusCode, 403);
  });

  test('20 parallel wrong PINs: exactly 5 are checked, then even the right PIN is refused until staff reset it', async () => {
    const responses = await Promise.all(Array.from({ length: 20 }, () => pinLogin('+254711000003', '1357')));
    const counts = responses.reduce<Record<number, number>>((acc, response) => {
      acc[response.statusCode] = (acc[response.statusCode] ?? 0) + 1;
      return acc;
    }, {});
    assert.equal((counts[401] ?? 0) + (counts[423] ?? 0), 20);
    assert.equal(counts[401], 4, 'four wrong answers, the fifth locks');
    const right = await pinLogin('+254711000003', '2580');
    assert.equal(right.statusCode, 423);
    assert.equal(right.json().error_code, 'PIN_LOCKED');
    assert.doesNotMatch(t.logs.text, /"pin":"(1357|2580)"/);
    const reset = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/credentials/pin',
      headers: bearer(t.adminToken),
      payload: { customer_id: ids.carol, pin: '4826' },
    });
    assert.equal(reset.statusCode, 204);
    assert.equal((await pinLogin('+254711000003', '4826')).statusCode, 200);
  });

  test('a customer changes their own PIN with the current one', async () => {
    const token = (await pinLogin('+254711000001', '2580')).json().access_token as string;
    const wrongCurrent = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/me/pin',
      headers: bearer(token),
      payload: { current_pin: '9999', new_pin: '3971' },
    });
    assert.equal(wrongCurrent.statusCode, 401);
    const changed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/me/pin',
      headers: bearer(token),
      payload: { current_pin: '2580', new_pin: '3971' },
    });
    assert.equal(changed.statusCode, 204);
    assert.equal((await pinLogin('+254711000001', '3971')).statusCode, 200);
  });
});
