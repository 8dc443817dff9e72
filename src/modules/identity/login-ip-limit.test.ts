/**
 * The staff sign-in's per-address limit counts an IPv6 client by its /64 (as the customer PIN sign-in does): one
 * subscriber holds a whole /64, so counting single addresses let it rotate and never reach the limit.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';

describe('staff sign-in per-address limit', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp({ RATE_LIMIT_MAX: '100000' });
  });
  after(async () => t?.close());

  const attempt = (remoteAddress: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress,
      payload: { username: 'nobody-here', password: 'not the password at all 7' },
    });

  test('addresses of one IPv6 /64 share one count; another /64 has its own', async () => {
    // 200 failed sign-ins from 2001:db8:7:1::1 (counted directly: 200 argon2 checks would only add time).
    for (let i = 0; i < 200; i += 1)
      await t.deps.store.increment('login:ip:2001:db8:7:1::/64', 15 * 60 * 1000);
    const sameNetwork = await attempt('2001:db8:7:1:abcd:ef01:2345:6789');
    assert.equal(sameNetwork.statusCode, 429, sameNetwork.body);
    assert.equal(sameNetwork.json().error_code, 'RATE_LIMITED');
    const otherNetwork = await attempt('2001:db8:7:2::1');
    assert.equal(otherNetwork.statusCode, 401, otherNetwork.body);
  });
});
