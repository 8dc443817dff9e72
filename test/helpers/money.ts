/** Test factories for the money path: customers with a PIN and a session, wallets, teller deposits. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { bearer, type TestContext } from './app.ts';

export const TEST_PIN = '5827';

export interface TestCustomer {
  id: string;
  phone: string;
  token: string;
}

export async function createCustomer(
  t: TestContext,
  firstName: string,
  phone: string,
  pin = TEST_PIN,
): Promise<TestCustomer> {
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/v1/customer/customer/add',
    headers: bearer(t.adminToken),
    payload: { first_name: firstName, last_name: 'Test', phone },
  });
  assert.equal(created.statusCode, 201, created.body);
  const id = created.json().id as string;
  const set = await t.app.inject({
    method: 'POST',
    url: '/api/v1/customer/credentials/pin',
    headers: bearer(t.adminToken),
    payload: { customer_id: id, pin },
  });
  assert.equal(set.statusCode, 204, set.body);
  const login = await t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/customer/login',
    payload: { phone, pin },
  });
  assert.equal(login.statusCode, 200, login.body);
  return { id, phone, token: login.json().access_token as string };
}

export interface TestWallet {
  id: string;
  wallet_number: string;
  currency: string;
}

export async function openWallet(t: TestContext, customerId: string, currency = 'KES'): Promise<TestWallet> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/v1/wallet/wallet/create',
    headers: bearer(t.adminToken),
    payload: { customer_id: customerId, currency },
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json() as TestWallet;
}

/** Cash paid in by the administrator acting as teller. */
export async function deposit(t: TestContext, walletId: string, amount: number, currency = 'KES') {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/v1/wallet/transaction/deposit',
    headers: { ...bearer(t.adminToken), 'idempotency-key': `deposit-${randomUUID()}` },
    payload: { wallet_id: walletId, amount, currency },
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json();
}

export async function balanceOf(
  t: TestContext,
  walletId: string,
): Promise<{ balance: number; available: number }> {
  const response = await t.app.inject({
    method: 'GET',
    url: `/api/v1/wallet/wallet/${walletId}/balance`,
    headers: bearer(t.adminToken),
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json();
}

export function idempotent(token: string, key = `k-${randomUUID()}`) {
  return { ...bearer(token), 'idempotency-key': key };
}
