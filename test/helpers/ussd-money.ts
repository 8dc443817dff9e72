/**
 * Test factories the USSD money tests share (the port's and the journeys' through the gateways): a customer made by
 * staff with the test PIN (no app sign-in: USSD signs in with the PIN itself), and an active merchant filed by one
 * staff member and approved by another, as the merchant registry's maker-checker wants.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { bearer, type TestContext } from './app.ts';
import { staffToken } from './loans.ts';
import { TEST_PIN } from './money.ts';

export async function customerWithPin(
  t: TestContext,
  first: string,
  last: string,
  phone: string,
): Promise<{ id: string; phone: string }> {
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/v1/customer/customer/add',
    headers: bearer(t.adminToken),
    payload: { first_name: first, last_name: last, phone },
  });
  assert.equal(created.statusCode, 201, created.body);
  const id = created.json().id as string;
  const pin = await t.app.inject({
    method: 'POST',
    url: '/api/v1/customer/credentials/pin',
    headers: bearer(t.adminToken),
    payload: { customer_id: id, pin: TEST_PIN },
  });
  assert.equal(pin.statusCode, 204, pin.body);
  return { id, phone };
}

/** MAMA MBOGA STORES (KES, 1 % fee), owned by `ownerCustomerId` when given; its till is the merchant number. */
export async function approvedMerchant(
  t: TestContext,
  options: { ownerCustomerId?: string } = {},
): Promise<{ id: string; merchant_number: string }> {
  const suffix = randomUUID().slice(0, 8);
  const maker = await staffToken(t, `ussd_maker_${suffix}`, ['operations']);
  const checker = await staffToken(t, `ussd_checker_${suffix}`, ['operations']);
  const filed = await t.app.inject({
    method: 'POST',
    url: '/api/v1/merchant/merchant/add',
    headers: bearer(maker),
    payload: {
      name: 'MAMA MBOGA STORES',
      mcc: '5411',
      city: 'NAIROBI',
      country: 'KE',
      currency: 'KES',
      fee_bps: 100,
      ...(options.ownerCustomerId ? { owner_customer_id: options.ownerCustomerId } : {}),
    },
  });
  assert.equal(filed.statusCode, 202, filed.body);
  const approved = await t.app.inject({
    method: 'POST',
    url: '/api/v1/policy/approval/approve',
    headers: bearer(checker),
    payload: { request_id: filed.json().id },
  });
  assert.equal(approved.statusCode, 200, approved.body);
  return approved.json().result as { id: string; merchant_number: string };
}
