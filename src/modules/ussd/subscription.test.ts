/**
 * `/api/v1/ussd/subscription`: a customer reads and switches their own USSD channel and language; staff with
 * `ussd:manage` do it per customer with a reason (audited) and read it with `ussd:read`; a customer never reaches
 * another's, and staff without the permission are refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { staffToken } from '../../../test/helpers/loans.ts';
import { createCustomer, type TestCustomer } from '../../../test/helpers/money.ts';
import { rawRows } from '../../platform/db.ts';

const URL = '/api/v1/ussd/subscription';

describe('USSD subscription routes', () => {
  let t: TestContext;
  let hawa: TestCustomer;
  let idris: TestCustomer;
  before(async () => {
    t = await startTestApp();
    hawa = await createCustomer(t, 'Hawa', '+254722000001');
    idris = await createCustomer(t, 'Idris', '+254722000002');
  });
  after(async () => t.close());

  const call = (method: 'GET' | 'PUT', url: string, token: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(token), ...(payload ? { payload } : {}) });

  test('a customer reads their channel (on, default language), turns it off and picks French', async () => {
    const initial = await call('GET', URL, hawa.token);
    assert.equal(initial.statusCode, 200, initial.body);
    assert.deepEqual(initial.json(), { enabled: true, language: null });

    const off = await call('PUT', URL, hawa.token, { enabled: false, language: 'fr' });
    assert.equal(off.statusCode, 200, off.body);
    assert.deepEqual(off.json(), { enabled: false, language: 'fr' });
    assert.deepEqual((await call('GET', URL, hawa.token)).json(), { enabled: false, language: 'fr' });

    const languageOnly = await call('PUT', URL, hawa.token, { language: 'sw' });
    assert.deepEqual(
      languageOnly.json(),
      { enabled: false, language: 'sw' },
      'the language alone keeps the switch',
    );
    const back = await call('PUT', URL, hawa.token, { enabled: true, language: null });
    assert.deepEqual(back.json(), { enabled: true, language: null });

    const audits = await rawRows<{ actor_type: string; actor_id: string; after: { enabled: boolean } }>(
      t.deps.database.db,
      sql`select actor_type, actor_id, after from audit_log
          where action = 'ussd.subscription_changed' and entity_id = ${hawa.id} order by seq`,
    );
    assert.deepEqual(
      audits.map((row) => [row.actor_type, row.actor_id, row.after.enabled]),
      [
        ['customer', hawa.id, false],
        ['customer', hawa.id, true],
      ],
      'each switch is audited; the language alone is not a switch',
    );
    assert.equal((await call('GET', URL, idris.token)).json().enabled, true, 'another customer is untouched');
  });

  test('bad input is a 422 with the standard body', async () => {
    for (const payload of [{}, { language: 'de' }, { enabled: 'maybe' }, { enabled: true, extra: 1 }]) {
      const response = await call('PUT', URL, hawa.token, payload);
      assert.equal(response.statusCode, 422, JSON.stringify(payload));
      assert.equal(response.json().error_code, 'VALIDATION_ERROR');
    }
  });

  test('staff with ussd:manage switch a customer off and on with a reason, and read who did it and why', async () => {
    const off = await call('PUT', `${URL}/${idris.id}`, t.adminToken, {
      enabled: false,
      reason: 'lost phone',
    });
    assert.equal(off.statusCode, 200, off.body);
    const view = off.json();
    assert.equal(view.customer_id, idris.id);
    assert.equal(view.enabled, false);
    assert.equal(view.reason, 'lost phone');
    assert.equal(view.changed_by.type, 'user');
    assert.ok(view.updated_at);
    assert.deepEqual((await call('GET', URL, idris.token)).json(), { enabled: false, language: null });
    // Staff switched it off for a reason: the customer cannot switch it back on (the language is still theirs).
    const selfOn = await call('PUT', URL, idris.token, { enabled: true });
    assert.equal(selfOn.statusCode, 409, selfOn.body);
    assert.equal(selfOn.json().error_code, 'USSD_SWITCHED_OFF_BY_STAFF');
    assert.equal((await call('PUT', URL, idris.token, { language: 'fr' })).statusCode, 200);
    assert.equal((await call('PUT', URL, idris.token, { language: null })).statusCode, 200);

    const read = await call('GET', `${URL}/${idris.id}`, t.adminToken);
    assert.equal(read.statusCode, 200, read.body);
    assert.equal(read.json().enabled, false);

    const on = await call('PUT', `${URL}/${idris.id}`, t.adminToken, {
      enabled: true,
      reason: 'phone found',
    });
    assert.equal(on.json().enabled, true);
    const audits = await rawRows<{ actor_type: string; after: { reason: string } }>(
      t.deps.database.db,
      sql`select actor_type, after from audit_log
          where action = 'ussd.subscription_changed' and entity_id = ${idris.id} order by seq`,
    );
    assert.deepEqual(
      audits.map((row) => [row.actor_type, row.after.reason]),
      [
        ['user', 'lost phone'],
        ['user', 'phone found'],
      ],
    );

    const noReason = await call('PUT', `${URL}/${idris.id}`, t.adminToken, { enabled: false });
    assert.equal(noReason.statusCode, 422, 'staff must say why');
  });

  test('an unknown customer is 404 to staff', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    assert.equal((await call('GET', `${URL}/${unknown}`, t.adminToken)).statusCode, 404);
    const put = await call('PUT', `${URL}/${unknown}`, t.adminToken, { enabled: false, reason: 'test' });
    assert.equal(put.statusCode, 404, put.body);
  });

  test('a customer cannot reach another customer, nor the staff routes; staff without ussd:manage are refused', async () => {
    for (const id of [idris.id, hawa.id]) {
      assert.equal((await call('GET', `${URL}/${id}`, hawa.token)).statusCode, 403);
      const put = await call('PUT', `${URL}/${id}`, hawa.token, { enabled: false, reason: 'someone else' });
      assert.equal(put.statusCode, 403);
    }
    assert.equal((await call('GET', URL, idris.token)).json().enabled, true, 'nothing changed');

    const clerk = await staffToken(t, 'opsclerk', ['operations']);
    assert.equal((await call('GET', `${URL}/${idris.id}`, clerk)).statusCode, 403);
    assert.equal(
      (await call('PUT', `${URL}/${idris.id}`, clerk, { enabled: false, reason: 'no right' })).statusCode,
      403,
    );
    // Reading takes ussd:read (the auditor's *:read), switching ussd:manage.
    const auditor = await staffToken(t, 'ussdauditor', ['auditor']);
    const read = await call('GET', `${URL}/${idris.id}`, auditor);
    assert.equal(read.statusCode, 200, read.body);
    assert.equal(read.json().customer_id, idris.id);
    assert.equal(
      (await call('PUT', `${URL}/${idris.id}`, auditor, { enabled: false, reason: 'read only' })).statusCode,
      403,
    );
    // The self routes are the customer's own: staff have no "own" channel.
    assert.equal((await call('GET', URL, t.adminToken)).statusCode, 404);
  });
});
