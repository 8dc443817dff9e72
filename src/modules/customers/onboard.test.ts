/**
 * Customers made by self-registration keep the core-banking client id they were found as: shown to staff and in the
 * data export, one customer per bank client (a second link is 409 CUSTOMER_EXISTS inside the caller's transaction,
 * which stays usable), and erased with the rest of the identifiers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { systemContext } from '../../platform/audit.ts';
import { inTransaction, rawRows } from '../../platform/db.ts';
import { AppError } from '../../platform/errors.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { createOnboardedCustomer, type OnboardedCustomer } from './index.ts';

describe('customers: the CBS client link', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t?.close());

  const onboarded = (phone: string, cbsClientId: string | null): OnboardedCustomer => ({
    id: uuidv7(),
    first_name: 'Wanjiku',
    last_name: 'Otieno',
    phone,
    phone_verified_at: new Date(),
    kyc_tier: 'standard',
    pin_hash: 'not-a-real-hash',
    cbs_client_id: cbsClientId,
  });

  const create = (input: OnboardedCustomer) =>
    inTransaction(t.deps.database.db, (tx) => createOnboardedCustomer(tx, t.deps, input, systemContext()));

  const staffGet = (path: string) =>
    t.app.inject({ method: 'GET', url: `/api/v1/customer/customer/${path}`, headers: bearer(t.adminToken) });

  test('the staff view and the data export show the link; a customer without one shows null', async () => {
    const linked = await create(onboarded('+254711009001', '9001'));
    const view = await staffGet(linked.id);
    assert.equal(view.statusCode, 200, view.body);
    assert.equal(view.json().cbs_client_id, '9001');
    const exported = await staffGet(`${linked.id}/export`);
    assert.equal(exported.statusCode, 200, exported.body);
    assert.equal(exported.json().customer.cbs_client_id, '9001');
    const [audit] = await rawRows<{ after: { cbs_client_id: string | null } }>(
      t.deps.database.db,
      sql`select after from audit_log where entity_id = ${linked.id} and action = 'customer.created'`,
    );
    assert.equal(audit?.after.cbs_client_id, '9001');
    const plain = await create(onboarded('+254711009002', null));
    assert.equal((await staffGet(plain.id)).json().cbs_client_id, null);
  });

  test('one bank client is one customer: a second link is 409 and the caller’s transaction goes on', async () => {
    await create(onboarded('+254711009003', '9003'));
    const phone = '+254711009004';
    const outcome = await inTransaction(t.deps.database.db, async (tx) => {
      const refused = await createOnboardedCustomer(
        tx,
        t.deps,
        onboarded(phone, '9003'),
        systemContext(),
      ).then(
        () => null,
        (error: unknown) => error,
      );
      // The savepoint kept the transaction usable: the caller can still record its decision on it.
      const [row] = await rawRows<{ n: number }>(
        tx,
        sql`select count(*)::int as n from customer_phones where phone = ${phone}`,
      );
      return { refused, count: row?.n };
    });
    assert.ok(outcome.refused instanceof AppError);
    assert.equal(outcome.refused.errorCode, 'CUSTOMER_EXISTS');
    assert.equal(outcome.refused.statusCode, 409);
    assert.deepEqual(outcome.refused.details, { field: 'CBS client id' });
    assert.equal(outcome.count, 0);
    // Customers without a link are not one another's duplicates.
    await create(onboarded('+254711009005', null));
    await create(onboarded('+254711009006', null));
  });

  test('erasure forgets the link, and the bank client may be linked again', async () => {
    const first = await create(onboarded('+254711009007', '9007'));
    const erased = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/erase',
      headers: bearer(t.adminToken),
      payload: { customer_id: first.id, reason: 'data subject request' },
    });
    assert.equal(erased.statusCode, 200, erased.body);
    assert.equal(erased.json().cbs_client_id, null);
    const again = await create(onboarded('+254711009008', '9007'));
    assert.equal((await staffGet(again.id)).json().cbs_client_id, '9007');
  });
});
