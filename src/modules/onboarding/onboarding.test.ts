/** `/api/v1/onboarding`: the happy path, an error, and another customer's item. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, type TestCustomer } from '../../../test/helpers/money.ts';
import { eventsOf } from '../../platform/outbox.ts';

describe('onboarding module', () => {
  let t: TestContext;
  let alice: TestCustomer;
  let bob: TestCustomer;
  before(async () => {
    t = await startTestApp();
    alice = await createCustomer(t, 'Alice', '+254711000201');
    bob = await createCustomer(t, 'Bob', '+254711000202');
  });
  after(async () => t.close());

  const add = (token: string, payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/api/v1/onboarding/item/add', headers: bearer(token), payload });

  test('a customer creates an item and reads it back; the event is in the outbox', async () => {
    const created = await add(alice.token, { reference: 'first', amount_minor: 1500, currency: 'KES' });
    assert.equal(created.statusCode, 201, created.body);
    const item = created.json();
    assert.equal(item.customer_id, alice.id);
    const read = await t.app.inject({
      method: 'GET',
      url: `/api/v1/onboarding/item/${item.id}`,
      headers: bearer(alice.token),
    });
    assert.equal(read.statusCode, 200);
    assert.deepEqual(read.json(), item);
    const events = await eventsOf(t.deps.database.db, 'onboarding_item', item.id);
    assert.deepEqual(
      events.map((event) => [event.topic, (event.payload as { amount_minor: string }).amount_minor]),
      [['onboarding.item_created', '1500']],
    );
  });

  test('a second item with the same reference answers 409 ONBOARDING_REFERENCE_TAKEN; bad input 422', async () => {
    assert.equal(
      (await add(alice.token, { reference: 'dup', amount_minor: 1, currency: 'KES' })).statusCode,
      201,
    );
    const again = await add(alice.token, { reference: 'dup', amount_minor: 2, currency: 'KES' });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error_code, 'ONBOARDING_REFERENCE_TAKEN');
    const bad = await add(alice.token, { reference: 'x', amount_minor: 0, currency: 'KES' });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().error_code, 'VALIDATION_ERROR');
  });

  test("another customer's item answers 404, and a customer cannot create one for someone else", async () => {
    const created = await add(alice.token, { reference: 'private', amount_minor: 10, currency: 'KES' });
    const theirs = await t.app.inject({
      method: 'GET',
      url: `/api/v1/onboarding/item/${created.json().id}`,
      headers: bearer(bob.token),
    });
    assert.equal(theirs.statusCode, 404);
    const forAlice = await add(bob.token, {
      customer_id: alice.id,
      reference: 'sneaky',
      amount_minor: 10,
      currency: 'KES',
    });
    assert.equal(forAlice.statusCode, 404);
  });

  test('staff with the permission create an item for a customer', async () => {
    const created = await add(t.adminToken, {
      customer_id: bob.id,
      reference: 'by-staff',
      amount_minor: 99,
      currency: 'KES',
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().customer_id, bob.id);
  });
});
