/** Customers as principals: phone + PIN sign-in, PIN lock (RELIABILITY 19), and own-resources-only access (BOLA). */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import type { PinSettings } from './customers.config.ts';
import { customersModule } from './index.ts';

describe('customer sign-in and ownership', () => {
  let t: TestContext;
  /** The customers module's PIN variables, as the app under test parsed them. */
  const pins = () => t.application.system.context(customersModule).config as PinSettings;
  const ids: Record<string, string> = {};

  before(async () => {
    // One window of a day: the velocity tests do not straddle two windows.
    t = await startTestApp({ PIN_MAX_FAILURES: '5', PIN_LOGIN_WINDOW_SECONDS: '86400' });
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
        payload: { customer_id: ids[name], pin: '5827' },
      });
      assert.equal(pin.statusCode, 204, pin.body);
    }
  });
  after(async () => t.close());

  // Each test signs in from its own address, so the per-IP limit of failed sign-ins is one test's own.
  let address = '198.51.100.1';
  const pinLogin = (phone: string, pin: string, options: { ip?: string; device_id?: string } = {}) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/customer/login',
      remoteAddress: options.ip ?? address,
      payload: { phone, pin, ...(options.device_id ? { device_id: options.device_id } : {}) },
    });
  const setPin = (customerId: string, pin: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/credentials/pin',
      headers: bearer(t.adminToken),
      payload: { customer_id: customerId, pin },
    });
  beforeEach(() => {
    address = `198.51.100.${Number(address.split('.')[3]) + 1}`;
  });

  test('guessable PINs are refused when set: runs, repeats, the 100 most common and years (422 WEAK_PIN)', async () => {
    for (const [pin, weakness] of [
      ['1234', 'sequence'],
      ['98765', 'sequence'],
      ['7890', 'sequence'],
      ['0000', 'repeat'],
      ['1212', 'repeat'],
      ['123123', 'repeat'],
      ['2580', 'common'],
      ['1004', 'common'],
      ['5150', 'common'],
      ['1940', 'year'],
      ['1995', 'year'],
      ['2029', 'year'],
    ] as const) {
      const response = await setPin(ids.alice!, pin);
      assert.equal(response.statusCode, 422, pin);
      const body = response.json();
      assert.equal(body.error_code, 'WEAK_PIN', pin);
      assert.equal(body.details.weakness, weakness, pin);
      assert.match(body.message, /^The PIN .+; choose one that is hard to guess$/);
    }
    assert.equal((await setPin(ids.alice!, '12')).statusCode, 422, 'too short');
    for (const pin of ['1939', '2030', '4826', '582731', '13579'])
      assert.equal((await setPin(ids.alice!, pin)).statusCode, 204, pin);
    assert.equal((await setPin(ids.alice!, '5827')).statusCode, 204);
  });

  test('a customer cannot change to a guessable PIN, and the refusal spends no attempt', async () => {
    const token = (await pinLogin('+254711000001', '5827')).json().access_token as string;
    const weak = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/me/pin',
      headers: bearer(token),
      payload: { current_pin: '0246', new_pin: '1987' },
    });
    assert.equal(weak.statusCode, 422);
    assert.equal(weak.json().error_code, 'WEAK_PIN');
    const wrong = await pinLogin('+254711000001', '0246');
    assert.equal(wrong.json().details.attempts_left, 4, 'the weak change counted no wrong PIN');
    assert.equal((await pinLogin('+254711000001', '5827')).statusCode, 200);
  });

  test('a customer without a PIN, an unknown number and a wrong PIN answer alike (F3)', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/add',
      headers: bearer(t.adminToken),
      payload: { first_name: 'Nopin', last_name: 'Test', phone: '+254711000004' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const strip = (body: string) => ({ ...JSON.parse(body), request_id: null });
    const noPin = await pinLogin('+254711000004', '4826');
    const unknown = await pinLogin('+254711999998', '4826');
    const wrongPin = await pinLogin('+254711000003', '4826');
    assert.equal(noPin.statusCode, 401);
    assert.deepEqual(strip(noPin.body), strip(unknown.body), 'no PIN answers like an unknown number');
    assert.deepEqual(strip(noPin.body), strip(wrongPin.body), 'no PIN answers like a wrong PIN');
    assert.equal(noPin.json().error_code, 'INVALID_PIN');
    const statuses = [];
    for (let index = 0; index < 4; index += 1)
      statuses.push((await pinLogin('+254711000004', '4826')).statusCode);
    assert.deepEqual(statuses, [401, 401, 401, 423], 'it locks after as many tries as a customer with a PIN');
    assert.equal((await pinLogin('+254711000003', '5827')).statusCode, 200, 'a right PIN resets the count');
  });

  test('one address spraying PINs over many numbers gets 429 after PIN_LOGIN_MAX_FAILURES_PER_IP (F5)', async () => {
    const max = pins().PIN_LOGIN_MAX_FAILURES_PER_IP;
    const sprayed = await Promise.all(
      Array.from({ length: max + 10 }, (_, index) =>
        pinLogin(`+2547120${String(index).padStart(5, '0')}`, '1397', { ip: '203.0.113.7' }),
      ),
    );
    const statuses = sprayed.map((response) => response.statusCode);
    assert.equal(statuses.filter((status) => status === 401).length, max, 'exactly the limit is checked');
    assert.equal(statuses.filter((status) => status === 429).length, 10);
    const limited = sprayed.find((response) => response.statusCode === 429)!;
    assert.equal(limited.json().error_code, 'RATE_LIMITED');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    const right = await pinLogin('+254711000003', '5827', { ip: '203.0.113.7' });
    assert.equal(right.statusCode, 429, 'even a right PIN waits on that address');
    assert.equal((await pinLogin('+254711000003', '5827', { ip: '203.0.113.8' })).statusCode, 200);
  });

  test('one client rotating IPv6 addresses within its /64 gets 429 after PIN_LOGIN_MAX_FAILURES_PER_IP', async () => {
    // A subscriber holds a whole /64: counting single IPv6 addresses would give it 2^64 fresh limits.
    const max = pins().PIN_LOGIN_MAX_FAILURES_PER_IP;
    const statuses = [];
    for (let index = 0; index < max + 2; index += 1) {
      const response = await pinLogin(`+2547140${String(index).padStart(5, '0')}`, '1397', {
        ip: `2001:db8:14:7:${(index + 1).toString(16)}::${(index * 7 + 3).toString(16)}`,
      });
      statuses.push(response.statusCode);
    }
    assert.deepEqual(statuses, [...Array(max).fill(401), 429, 429]);
    assert.equal(
      (await pinLogin('+254714099999', '1397', { ip: '2001:db8:14:8::1' })).statusCode,
      401,
      'another /64 has its own limit',
    );
  });

  test('an IPv4 client seen as IPv4-mapped IPv6 shares its IPv4 address limit', async () => {
    const max = pins().PIN_LOGIN_MAX_FAILURES_PER_IP;
    const statuses = [];
    for (let index = 0; index < max + 2; index += 1) {
      const response = await pinLogin(`+2547150${String(index).padStart(5, '0')}`, '1397', {
        ip: index % 2 === 0 ? '203.0.113.77' : '::ffff:203.0.113.77',
      });
      statuses.push(response.statusCode);
    }
    assert.deepEqual(statuses, [...Array(max).fill(401), 429, 429]);
  });

  test('right PINs do not use up the limit of an address many customers share', async () => {
    const max = pins().PIN_LOGIN_MAX_FAILURES_PER_IP;
    for (let index = 0; index < max + 5; index += 1)
      assert.equal((await pinLogin('+254711000003', '5827', { ip: '203.0.113.9' })).statusCode, 200);
    assert.equal((await pinLogin('+254711999997', '9731', { ip: '203.0.113.9' })).statusCode, 401);
  });

  test('one device rotating addresses gets 429 after PIN_LOGIN_MAX_FAILURES_PER_DEVICE', async () => {
    const max = pins().PIN_LOGIN_MAX_FAILURES_PER_DEVICE;
    const statuses = [];
    for (let index = 0; index < max + 2; index += 1) {
      const response = await pinLogin(`+2547130${String(index).padStart(5, '0')}`, '1397', {
        ip: `192.0.2.${index + 1}`,
        device_id: 'install-7f3a',
      });
      statuses.push(response.statusCode);
    }
    assert.deepEqual(statuses, [...Array(max).fill(401), 429, 429]);
    const other = await pinLogin('+254713099999', '1397', { ip: '192.0.2.200', device_id: 'install-other' });
    assert.equal(other.statusCode, 401, 'another device on another address is not limited');
  });

  test('a customer signs in with phone and PIN and reads only their own profile', async () => {
    const login = await pinLogin('+254 711 000 001', '5827');
    assert.equal(login.statusCode, 200, login.body);
    const token = login.json().access_token as string;
    assert.equal(decodeJwt(token).chn, 'mobile', 'the PIN sign-in is the app’s: a mobile session');
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      headers: { 'x-channel': 'agent' },
      payload: { refresh_token: login.json().refresh_token },
    });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    assert.equal(
      decodeJwt(refreshed.json().access_token).chn,
      'mobile',
      'a refresh keeps the session’s channel',
    );
    assert.equal(decodeJwt(refreshed.json().refresh_token).chn, 'mobile');
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
    const unknown = await pinLogin('+254711999999', '5827');
    assert.equal(unknown.statusCode, 401);
    const realWrong = await pinLogin('+254711000001', '0246');
    const strip = (body: string) => ({ ...JSON.parse(body), request_id: null });
    assert.deepEqual(
      strip(unknown.body),
      strip(realWrong.body),
      'an unknown number answers exactly like a wrong PIN',
    );
    await pinLogin('+254711000001', '5827');
    const statuses = [];
    for (let index = 0; index < 5; index += 1)
      statuses.push((await pinLogin('+254711999999', '5827')).statusCode);
    assert.deepEqual(
      statuses,
      [401, 401, 401, 423, 423],
      'an unknown number locks after as many tries as a real one',
    );
    const wrong = await pinLogin('+254711000002', '2581');
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().details.attempts_left, 4);
    const token = (await pinLogin('+254711000002', '5827')).json().access_token as string;
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/status',
      headers: bearer(t.adminToken),
      payload: { customer_id: ids.bob, status: 'suspended', reason: 'fraud review' },
    });
    const after = await t.app.inject({ method: 'GET', url: '/api/v1/customer/me', headers: bearer(token) });
    assert.equal(after.statusCode, 401, 'the existing session stops working');
    assert.equal((await pinLogin('+254711000002', '5827')).statusCode, 403);
  });

  test('20 parallel wrong PINs: exactly 5 are checked, then even the right PIN is refused until staff reset it', async () => {
    const responses = await Promise.all(Array.from({ length: 20 }, () => pinLogin('+254711000003', '1357')));
    const counts = responses.reduce<Record<number, number>>((acc, response) => {
      acc[response.statusCode] = (acc[response.statusCode] ?? 0) + 1;
      return acc;
    }, {});
    assert.equal((counts[401] ?? 0) + (counts[423] ?? 0), 20);
    assert.equal(counts[401], 4, 'four wrong answers, the fifth locks');
    const right = await pinLogin('+254711000003', '5827');
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
    const token = (await pinLogin('+254711000001', '5827')).json().access_token as string;
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
      payload: { current_pin: '5827', new_pin: '3971' },
    });
    assert.equal(changed.statusCode, 204);
    assert.equal((await pinLogin('+254711000001', '3971')).statusCode, 200);
  });
});
