/** Contact sub-resources and the fields customers may change themselves. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';

describe('customer contacts', () => {
  let t: TestContext;
  let customerId: string;
  let customerToken: string;
  before(async () => {
    t = await startTestApp();
    customerId = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/customer/customer/add',
        headers: bearer(t.adminToken),
        payload: {
          first_name: 'Contact',
          last_name: 'Person',
          phone: '+254760000001',
          email: 'contact@example.com',
        },
      })
    ).json().id;
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/credentials/pin',
      headers: bearer(t.adminToken),
      payload: { customer_id: customerId, pin: '6284' },
    });
    customerToken = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/customer/login',
        payload: { phone: '+254760000001', pin: '6284' },
      })
    ).json().access_token;
  });
  after(async () => t.close());

  const staff = (url: string, payload: object) =>
    t.app.inject({ method: 'POST', url, headers: bearer(t.adminToken), payload });

  test('phones, emails and addresses are added, made primary and removed; the primary phone stays', async () => {
    const added = await staff('/api/v1/customer/phone/add', {
      customer_id: customerId,
      phone: '+254 760 000 002',
    });
    assert.equal(added.statusCode, 200, added.body);
    const second = added.json().phones.find((phone: { phone: string }) => phone.phone === '+254760000002');
    assert.equal(second.primary, false);
    const duplicate = await staff('/api/v1/customer/phone/add', {
      customer_id: customerId,
      phone: '+254760000002',
    });
    assert.equal(duplicate.statusCode, 409);
    const address = await staff('/api/v1/customer/address/add', {
      customer_id: customerId,
      kind: 'home',
      line1: 'Moi Avenue 12',
      city: 'Nairobi',
      country: 'KE',
      primary: true,
    });
    assert.equal(address.json().addresses[0].primary, true);

    const first = added.json().phones.find((phone: { primary: boolean }) => phone.primary);
    const refused = await staff('/api/v1/customer/contact/remove', {
      customer_id: customerId,
      kind: 'phone',
      contact_id: first.id,
    });
    assert.equal(refused.statusCode, 409);
    const switched = await staff('/api/v1/customer/contact/primary', {
      customer_id: customerId,
      kind: 'phone',
      contact_id: second.id,
    });
    assert.deepEqual(
      switched
        .json()
        .phones.map((phone: { phone: string; primary: boolean }) => [phone.phone, phone.primary]),
      [
        ['+254760000001', false],
        ['+254760000002', true],
      ],
    );
    const removed = await staff('/api/v1/customer/contact/remove', {
      customer_id: customerId,
      kind: 'phone',
      contact_id: first.id,
    });
    assert.equal(removed.json().phones.length, 1);
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/customer/login',
      payload: { phone: '+254760000002', pin: '6284' },
    });
    assert.equal(login.statusCode, 200, 'the new primary phone signs in');
  });

  test('customers read their contacts and change only the fields they own', async () => {
    const mine = await t.app.inject({
      method: 'GET',
      url: `/api/v1/customer/customer/${customerId}/contacts`,
      headers: bearer(customerToken),
    });
    assert.equal(mine.statusCode, 200);
    const self = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/customer/me',
      headers: bearer(customerToken),
      payload: { occupation: 'Nurse' },
    });
    assert.equal(self.json().occupation, 'Nurse');
    const name = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/customer/me',
      headers: bearer(customerToken),
      payload: { first_name: 'Someone Else' },
    });
    assert.equal(name.statusCode, 422, 'names change only through staff');
    const add = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/phone/add',
      headers: bearer(customerToken),
      payload: { customer_id: customerId, phone: '+254760000009' },
    });
    assert.equal(add.statusCode, 403);
  });
});
