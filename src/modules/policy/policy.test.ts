/** `/api/v1/policy`: access policies enforced on staff requests, and transaction-control limits. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, deposit, openWallet } from '../../../test/helpers/money.ts';
import { withinWindow } from './policy.access.ts';

describe('policies', () => {
  let t: TestContext;
  let supportToken: string;
  before(async () => {
    t = await startTestApp();
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/user/add',
      headers: bearer(t.adminToken),
      payload: {
        username: 'helpdesk',
        email: 'helpdesk@bank.test',
        full_name: 'Help Desk',
        password: 'amber window falcon 3',
        roles: ['support_agent'],
        must_change_password: false,
      },
    });
    assert.equal(created.statusCode, 201);
    supportToken = (await login(t.app, 'helpdesk', 'amber window falcon 3')).access_token;
  });
  after(async () => t.close());

  const call = (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: object,
    token = t.adminToken,
    ip = '127.0.0.1',
  ) =>
    t.app.inject({ method, url, headers: bearer(token), remoteAddress: ip, ...(payload ? { payload } : {}) });

  test('time windows follow the time zone and may run past midnight', () => {
    const window = { start: '22:00', end: '06:00', timezone: 'Africa/Nairobi', days: [] };
    assert.equal(withinWindow(window, new Date('2026-11-25T20:30:00Z')), true, '23:30 in Nairobi');
    assert.equal(withinWindow(window, new Date('2026-11-25T09:00:00Z')), false, '12:00 in Nairobi');
    const weekdays = { start: '08:00', end: '17:00', timezone: 'Africa/Nairobi', days: [1, 2, 3, 4, 5] };
    assert.equal(withinWindow(weekdays, new Date('2026-11-25T07:00:00Z')), true, 'Wednesday 10:00');
    assert.equal(withinWindow(weekdays, new Date('2026-11-28T07:00:00Z')), false, 'Saturday 10:00');
  });

  test('an IP allowlist for a role refuses its staff elsewhere, and only them', async () => {
    const created = await call('POST', '/api/v1/policy/access/add', {
      name: 'support from the office',
      role_code: 'support_agent',
      ip_allowlist: ['10.20.0.0/16', '192.0.2.7'],
    });
    assert.equal(created.statusCode, 201, created.body);
    const office = await call('GET', '/api/v1/auth/me', undefined, supportToken, '10.20.3.4');
    assert.equal(office.statusCode, 200);
    const mapped = await call('GET', '/api/v1/auth/me', undefined, supportToken, '::ffff:192.0.2.7');
    assert.equal(mapped.statusCode, 200, 'IPv4-mapped IPv6 addresses match their IPv4 entry');
    const cafe = await call('GET', '/api/v1/auth/me', undefined, supportToken, '198.51.100.9');
    assert.equal(cafe.statusCode, 403);
    assert.equal(cafe.json().error_code, 'ACCESS_POLICY');
    const admin = await call('GET', '/api/v1/auth/me', undefined, t.adminToken, '198.51.100.9');
    assert.equal(admin.statusCode, 200, 'other roles are not bound');

    const evaluated = await call('POST', '/api/v1/policy/access/evaluate', {
      roles: ['support_agent'],
      ip: '198.51.100.9',
      channel: 'web',
    });
    assert.deepEqual(evaluated.json(), {
      allowed: false,
      reasons: ['support from the office: address not allowed'],
    });

    const bad = await call('POST', '/api/v1/policy/access/add', {
      name: 'broken',
      ip_allowlist: ['10.0.0.0/99'],
    });
    assert.equal(bad.statusCode, 422);
    const zone = await call('POST', '/api/v1/policy/access/add', {
      name: 'broken zone',
      time_window: { start: '08:00', end: '17:00', timezone: 'Mars/Olympus', days: [] },
    });
    assert.equal(zone.statusCode, 422);
    const empty = await call('POST', '/api/v1/policy/access/add', {
      name: 'never',
      time_window: { start: '08:00', end: '08:00', timezone: 'Africa/Nairobi', days: [] },
    });
    assert.equal(empty.statusCode, 422);

    assert.equal((await call('DELETE', `/api/v1/policy/access/${created.json().id}`)).statusCode, 204);
    const after = await call('GET', '/api/v1/auth/me', undefined, supportToken, '198.51.100.9');
    assert.equal(after.statusCode, 200, 'the policy is gone on this node at once');
  });

  test('channel restrictions use the channel of the staff session; an X-Channel header cannot change it', async () => {
    assert.equal(decodeJwt(supportToken).chn, 'web', 'a staff sign-in opens a web (back-office) session');
    const ussdOnly = await call('POST', '/api/v1/policy/access/add', {
      name: 'support on ussd only',
      role_code: 'support_agent',
      allowed_channels: ['ussd'],
    });
    assert.equal(ussdOnly.statusCode, 201, ussdOnly.body);
    const claimed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { ...bearer(supportToken), 'x-channel': 'ussd' },
    });
    assert.equal(claimed.statusCode, 403, 'claiming the allowed channel in a header does not get in');
    await call('PATCH', `/api/v1/policy/access/${ussdOnly.json().id}`, { active: false });
    const webOnly = await call('POST', '/api/v1/policy/access/add', {
      name: 'support on web only',
      role_code: 'support_agent',
      allowed_channels: ['web'],
    });
    const web = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { ...bearer(supportToken), 'x-channel': 'mobile' },
    });
    assert.equal(web.statusCode, 200, 'the session is on the web whatever the header says');
    await call('PATCH', `/api/v1/policy/access/${webOnly.json().id}`, { active: false });
  });

  test('a customer session keeps its channel’s limits whatever X-Channel says', async () => {
    const payer = await createCustomer(t, 'Chanel', '+254733100001');
    const payee = await createCustomer(t, 'Payee', '+254733100002');
    const source = await openWallet(t, payer.id);
    const destination = await openWallet(t, payee.id);
    await deposit(t, source.id, 50_000);
    assert.equal(decodeJwt(payer.token).chn, 'mobile', 'the PIN sign-in opens a mobile session');
    const tier = (await call('GET', `/api/v1/customer/customer/${payer.id}`)).json().kyc_tier as string;
    const limit = await call('POST', '/api/v1/policy/transaction/add', {
      kyc_tier: tier,
      channel: 'mobile',
      transaction_type: '*',
      period: 'single',
      currency: 'KES',
      max_amount_minor: 1_000,
    });
    assert.equal(limit.statusCode, 201, limit.body);
    try {
      for (const header of [undefined, 'web', 'ussd', 'agent', 'api']) {
        const quote = await t.app.inject({
          method: 'POST',
          url: '/api/v1/wallet/transaction/quote',
          headers: { ...bearer(payer.token), ...(header ? { 'x-channel': header } : {}) },
          payload: { to_wallet_number: destination.wallet_number, amount: 5_000, currency: 'KES' },
        });
        assert.equal(quote.statusCode, 422, `X-Channel ${header}: ${quote.body}`);
        assert.equal(quote.json().error_code, 'LIMIT_EXCEEDED', `X-Channel ${header}`);
      }
    } finally {
      await call('PATCH', `/api/v1/policy/transaction/${limit.json().id}`, { active: false });
    }
  });

  test('transaction limits: CRUD and evaluation per tier, channel, type and period, exact to the minor unit', async () => {
    const single = await call('POST', '/api/v1/policy/transaction/add', {
      kyc_tier: 'trial',
      channel: '*',
      transaction_type: '*',
      period: 'single',
      currency: 'KES',
      max_amount_minor: 7_000_000,
    });
    assert.equal(single.statusCode, 201, single.body);
    assert.equal(single.json().max_amount_minor, 7_000_000);
    await call('POST', '/api/v1/policy/transaction/add', {
      kyc_tier: 'trial',
      channel: 'ussd',
      transaction_type: 'p2p',
      period: 'daily',
      currency: 'KES',
      max_amount_minor: 10_000_000,
      max_count: 5,
    });
    const ask = (amount: number, used: Partial<Record<string, number>> = {}, channel = 'ussd') =>
      call('POST', '/api/v1/policy/transaction/evaluate', {
        kyc_tier: 'trial',
        channel,
        transaction_type: 'p2p',
        currency: 'KES',
        amount,
        used: { daily_amount: 0, daily_count: 0, monthly_amount: 0, monthly_count: 0, ...used },
      });
    assert.deepEqual((await ask(7_000_000)).json(), { allowed: true, violations: [] });
    // What the payment would make (used + amount) must stay a safe integer: amounts above 2^52 - 1 are refused.
    const unsafe = await ask(87_609, { monthly_amount: Number.MAX_SAFE_INTEGER });
    assert.equal(unsafe.statusCode, 422, unsafe.body);
    assert.equal(unsafe.json().error_code, 'VALIDATION_ERROR');
    const overSingle = (await ask(7_000_001)).json();
    assert.equal(overSingle.allowed, false);
    assert.deepEqual(
      overSingle.violations.map((item: { period: string; would_be: number }) => [item.period, item.would_be]),
      [['single', 7_000_001]],
    );
    const overDaily = (await ask(1, { daily_amount: 10_000_000 })).json();
    assert.deepEqual(
      overDaily.violations.map((item: { period: string; kind: string; remaining: number }) => [
        item.period,
        item.kind,
        item.remaining,
      ]),
      [['daily', 'amount', 0]],
    );
    const tooMany = (await ask(100, { daily_count: 5 })).json();
    assert.equal(tooMany.violations[0].kind, 'count');
    assert.equal(
      (await ask(1, { daily_amount: 10_000_000 }, 'mobile')).json().allowed,
      true,
      'the daily cap is USSD-only',
    );
    const lowered = await call('PATCH', `/api/v1/policy/transaction/${single.json().id}`, {
      max_amount_minor: 500,
    });
    assert.equal(lowered.json().max_amount_minor, 500);
    assert.equal((await ask(501, {}, 'web')).json().allowed, false);
    const list = await call('GET', '/api/v1/policy/transaction?kyc_tier=trial&currency=KES');
    assert.equal(list.json().items.length, 2);
    assert.equal((await call('DELETE', `/api/v1/policy/transaction/${single.json().id}`)).statusCode, 204);
    assert.equal((await call('GET', `/api/v1/policy/transaction/${single.json().id}`)).statusCode, 404);
  });
});
