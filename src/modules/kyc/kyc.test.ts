/** KYC tiers: seeded requirements, limits and features; starting an upgrade with its checklist; ownership. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';

describe('KYC tiers', () => {
  let t: TestContext;
  let customerId: string;
  let otherId: string;
  let customerToken: string;

  before(async () => {
    t = await startTestApp();
    const add = async (phone: string) => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/customer/customer/add',
        headers: bearer(t.adminToken),
        payload: { first_name: 'Kyc', last_name: 'Person', phone },
      });
      assert.equal(response.statusCode, 201, response.body);
      return response.json().id as string;
    };
    customerId = await add('+254720000001');
    otherId = await add('+254720000002');
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/credentials/pin',
      headers: bearer(t.adminToken),
      payload: { customer_id: customerId, pin: '8642' },
    });
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/customer/login',
      payload: { phone: '+254720000001', pin: '8642' },
    });
    customerToken = login.json().access_token;
  });
  after(async () => t.close());

  test('four tiers are seeded in order with requirements, balance caps, limits and features', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/api/v1/customer/kyc/tier',
      headers: bearer(customerToken),
    });
    assert.equal(response.statusCode, 200);
    const tiers = response.json().items as {
      code: string;
      required_documents: string[];
      max_balance: Record<string, number>;
      limits: { currency: string; transaction_type: string; period: string; max_amount_minor: number }[];
    }[];
    assert.deepEqual(
      tiers.map((tier) => tier.code),
      ['basic', 'standard', 'premium', 'business'],
    );
    const [basic, standard] = tiers;
    assert.deepEqual(basic!.required_documents, []);
    assert.deepEqual(standard!.required_documents, ['national_id', 'selfie']);
    assert.equal(basic!.max_balance.KES, 10_000_000);
    const single = basic!.limits.find((limit) => limit.currency === 'KES' && limit.period === 'single');
    assert.equal(single?.max_amount_minor, 7_000_000);
    assert.ok(
      standard!.limits.some((limit) => limit.transaction_type === 'receive' && limit.period === 'monthly'),
    );
  });

  test('features are queryable per tier and channel; USSD keeps to the basic set', async () => {
    const query = async (tier: string, channel: string) =>
      (
        await t.app.inject({
          method: 'GET',
          url: `/api/v1/customer/kyc/features?tier=${tier}&channel=${channel}`,
          headers: bearer(customerToken),
        })
      ).json().features as string[];
    assert.ok((await query('premium', 'mobile')).includes('international_transfer'));
    assert.ok(!(await query('premium', 'ussd')).includes('international_transfer'));
    assert.ok(!(await query('basic', 'mobile')).includes('loans'));
  });

  test('a customer starts their own upgrade and gets the checklist; not someone else’s', async () => {
    const started = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/kyc/initiate',
      headers: bearer(customerToken),
      payload: { customer_id: customerId, target_tier: 'standard' },
    });
    assert.equal(started.statusCode, 200, started.body);
    const body = started.json();
    assert.deepEqual(
      [body.application.status, body.application.from_tier, body.application.target_tier],
      ['initiated', 'basic', 'standard'],
    );
    assert.deepEqual(
      body.checklist.map(
        (item: { kind: string; code: string; satisfied: boolean }) =>
          `${item.kind}:${item.code}:${item.satisfied}`,
      ),
      [
        'document:national_id:false',
        'document:selfie:false',
        'verification:phone:false',
        'verification:id_document:false',
      ],
    );
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/kyc/initiate',
      headers: bearer(customerToken),
      payload: { customer_id: customerId, target_tier: 'standard' },
    });
    assert.equal(
      again.json().application.id,
      body.application.id,
      'the open application is returned, not duplicated',
    );
    const otherTarget = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/kyc/initiate',
      headers: bearer(customerToken),
      payload: { customer_id: customerId, target_tier: 'premium' },
    });
    assert.equal(otherTarget.statusCode, 409);
    const someoneElse = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/kyc/initiate',
      headers: bearer(customerToken),
      payload: { customer_id: otherId, target_tier: 'standard' },
    });
    assert.equal(someoneElse.statusCode, 404);
    const downgrade = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/kyc/initiate',
      headers: bearer(t.adminToken),
      payload: { customer_id: otherId, target_tier: 'basic' },
    });
    assert.equal(downgrade.statusCode, 409);
    const list = await t.app.inject({
      method: 'GET',
      url: `/api/v1/customer/kyc/application?customer_id=${customerId}`,
      headers: bearer(customerToken),
    });
    assert.equal(list.json().items.length, 1);
  });

  test('staff with policy:manage change a tier; the change is audited', async () => {
    const changed = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/customer/kyc/tier/standard',
      headers: bearer(t.adminToken),
      payload: { max_balance: { KES: 60_000_000, USD: 600_000 }, validity_days: 365 },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal(changed.json().max_balance.KES, 60_000_000);
    const refused = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/customer/kyc/tier/standard',
      headers: bearer(customerToken),
      payload: { validity_days: 1 },
    });
    assert.equal(refused.statusCode, 403);
  });
});
