/** `/api/v1/customer`: creation, masking, encrypted PII with blind-index search, status, export and erasure. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';

describe('customers', () => {
  let t: TestContext;
  let agentToken: string;
  let customerId: string;
  before(async () => {
    t = await startTestApp();
    const agent = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/user/add',
      headers: bearer(t.adminToken),
      payload: {
        username: 'fieldagent',
        email: 'fieldagent@bank.test',
        full_name: 'Field Agent',
        password: 'coral harbour pine 6',
        roles: ['field_agent'],
        must_change_password: false,
      },
    });
    assert.equal(agent.statusCode, 201);
    agentToken = (await login(t.app, 'fieldagent', 'coral harbour pine 6')).access_token;
  });
  after(async () => t.close());

  const add = (payload: object, token = t.adminToken, url = '/api/v1/customer/customer/add') =>
    t.app.inject({ method: 'POST', url, headers: bearer(token), payload });
  const get = (id: string, query = '', token = t.adminToken) =>
    t.app.inject({ method: 'GET', url: `/api/v1/customer/customer/${id}${query}`, headers: bearer(token) });

  test('a customer is created with a normalised phone, masked PII and a customer number', async () => {
    const created = await add(
      {
        first_name: 'Amina',
        last_name: 'Otieno',
        phone: '+254 712 345 678',
        email: 'Amina.Otieno@Example.com',
        date_of_birth: '1990-04-12',
        national_id: '12-345-678',
        national_id_type: 'national_id',
        gender: 'female',
        nationality: 'KE',
        channel: 'agent',
      },
      agentToken,
    );
    assert.equal(created.statusCode, 201, created.body);
    const customer = created.json();
    customerId = customer.id;
    assert.match(customer.customer_number, /^CF\d{10}$/);
    assert.equal(customer.phone, '+254712345678');
    assert.equal(customer.email, 'amina.otieno@example.com');
    assert.equal(customer.national_id, '****5678');
    assert.equal(customer.date_of_birth, '****-**-**');
    assert.deepEqual([customer.status, customer.kyc_tier, customer.channel], ['pending', 'basic', 'agent']);
    assert.equal(customer.registered_by.type, 'user');
    assert.doesNotMatch(created.body, /"12345678"|1990-04-12/);

    const raw = (await t.deps.database.db.execute(
      sql`select national_id_sealed, date_of_birth_sealed, national_id_index from customers where id = ${customerId}`,
    )) as unknown as { rows: Record<string, string>[] };
    const stored = JSON.stringify(raw.rows[0]);
    assert.doesNotMatch(stored, /12345678|1990-04-12/, 'PII is encrypted at rest');
    assert.match(stored, /national_id_index":"[0-9a-f]{64}"/);
  });

  test('the alias route works; duplicates and bad phones are refused', async () => {
    const alias = await add(
      { first_name: 'Baraka', last_name: 'Mwangi', phone: '+255754123456' },
      t.adminToken,
      '/api/v1/customer/add',
    );
    assert.equal(alias.statusCode, 201, alias.body);
    const samePhone = await add({ first_name: 'X', last_name: 'Y', phone: '+254712345678' });
    assert.equal(samePhone.statusCode, 409);
    assert.equal(samePhone.json().details.field, 'phone');
    const sameId = await add({
      first_name: 'X',
      last_name: 'Y',
      phone: '+254722000111',
      national_id: '12345678',
      national_id_type: 'national_id',
    });
    assert.equal(sameId.statusCode, 409, 'the blind index finds the same ID written differently');
    for (const phone of ['0712345678', '+1234', '+254 000 000 000', 'not a phone']) {
      const bad = await add({ first_name: 'X', last_name: 'Y', phone });
      assert.equal(bad.statusCode, 422, phone);
    }
    const idWithoutType = await add({
      first_name: 'X',
      last_name: 'Y',
      phone: '+254733000222',
      national_id: '99887766',
    });
    assert.equal(idWithoutType.statusCode, 422);
  });

  test('PII in clear needs customer:pii_read and is audited; others get 403', async () => {
    const masked = await get(customerId);
    assert.equal(masked.json().national_id, '****5678');
    const clear = await get(customerId, '?include_pii=true');
    assert.equal(clear.statusCode, 200);
    assert.deepEqual([clear.json().national_id, clear.json().date_of_birth], ['12345678', '1990-04-12']);
    const refused = await get(customerId, '?include_pii=true', agentToken);
    assert.equal(refused.statusCode, 403);
    const audit = await t.app.inject({
      method: 'GET',
      url: `/api/v1/core/audit?action=customer.pii_viewed&entity_id=${customerId}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(audit.json().items.length, 1);
  });

  test('search by phone in any format, email, name, national ID and customer number', async () => {
    const search = async (query: string) =>
      (
        await t.app.inject({
          method: 'GET',
          url: `/api/v1/customer/customer?${query}`,
          headers: bearer(t.adminToken),
        })
      ).json().items as { id: string }[];
    const number = (await get(customerId)).json().customer_number;
    for (const query of [
      'phone=%2B254712345678',
      'phone=%2B254%20712%20345%20678',
      'email=AMINA.OTIENO%40example.com',
      'name=otie',
      'national_id=12%20345%20678',
      'national_id=12345678&national_id_type=national_id',
      `customer_number=${number}`,
    ]) {
      const found = await search(query);
      assert.deepEqual(
        found.map((item) => item.id),
        [customerId],
        query,
      );
    }
    assert.equal((await search('national_id=12345678&national_id_type=passport')).length, 0);
    assert.equal((await search('name=%25')).length, 0);
  });

  test('profile changes and status changes are audited; unknown customers are 404', async () => {
    const changed = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/customer/customer/${customerId}`,
      headers: bearer(t.adminToken),
      payload: { occupation: 'Teacher', middle_name: 'W' },
    });
    assert.deepEqual([changed.json().occupation, changed.json().middle_name], ['Teacher', 'W']);
    const activated = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/status',
      headers: bearer(t.adminToken),
      payload: { customer_id: customerId, status: 'active', reason: 'KYC basic complete' },
    });
    assert.equal(activated.json().status, 'active');
    assert.equal((await get('01a20000-0000-7000-8000-000000000000')).statusCode, 404);
    const agentUpdate = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/customer/customer/${customerId}`,
      headers: bearer(agentToken),
      payload: { occupation: 'Pilot' },
    });
    assert.equal(agentUpdate.statusCode, 403, 'field agents register customers but do not edit them');
  });

  test('export gives everything in clear as an attachment; erasure anonymises and keeps the record', async () => {
    const exported = await t.app.inject({
      method: 'GET',
      url: `/api/v1/customer/customer/${customerId}/export`,
      headers: bearer(t.adminToken),
    });
    assert.equal(exported.statusCode, 200);
    assert.match(String(exported.headers['content-disposition']), /attachment/);
    const body = exported.json();
    assert.equal(body.customer.national_id, '12345678');
    assert.equal(body.phones[0].phone, '+254712345678');
    assert.ok(body.audit.some((entry: { action: string }) => entry.action === 'customer.created'));

    const erased = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/erase',
      headers: bearer(t.adminToken),
      payload: { customer_id: customerId, reason: 'data subject request' },
    });
    assert.equal(erased.statusCode, 200, erased.body);
    const after = erased.json();
    assert.deepEqual(
      [after.first_name, after.last_name, after.phone, after.email, after.national_id, after.status],
      ['Erased', 'Customer', null, null, null, 'closed'],
    );
    assert.equal(after.customer_number, body.customer.customer_number, 'the record and its number stay');
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/erase',
      headers: bearer(t.adminToken),
      payload: { customer_id: customerId, reason: 'twice' },
    });
    assert.equal(again.statusCode, 409);
    const leftovers = (await t.deps.database.db.execute(
      sql`select count(*)::int as n from audit_log where coalesce(after::text, '') || coalesce(before::text, '') ~* '(amina|otieno|254712345678)'`,
    )) as unknown as { rows: { n: number }[] };
    assert.equal(
      leftovers.rows[0]!.n,
      0,
      'the append-only audit log holds no personal data that erasure would miss',
    );
    const reuse = await add({ first_name: 'New', last_name: 'Owner', phone: '+254712345678' });
    assert.equal(reuse.statusCode, 201, 'the erased phone number can belong to someone else');
  });
});
