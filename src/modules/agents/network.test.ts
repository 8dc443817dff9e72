/** The agent network through the API (staff back office): onboarding with maker-checker, stores, operators. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type AgentNetworkFixture,
  activeCustomer,
  agentNetwork,
  agentOfficerToken,
  checkerToken,
  createAgent,
  createStore,
  deviceKeys,
  randomPhone,
} from '../../../test/helpers/agents.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer } from '../../../test/helpers/money.ts';
import { queryAuditLog } from '../../platform/audit.ts';
import { inTransaction } from '../../platform/db.ts';

describe('agent network (staff)', () => {
  let t: TestContext;
  let net: AgentNetworkFixture;
  let officer: string;

  const post = (url: string, token: string, payload?: object) =>
    t.app.inject({ method: 'POST', url, headers: bearer(token), ...(payload ? { payload } : {}) });
  const get = (url: string, token = t.adminToken) =>
    t.app.inject({ method: 'GET', url, headers: bearer(token) });

  function agentBody(ownerId: string, overrides: Record<string, unknown> = {}) {
    return {
      kind: 'agent',
      business_name: 'Corner Shop',
      registration_number: `REG-${Math.random().toString(36).slice(2)}`,
      business_tier: 'standard',
      owner_customer_id: ownerId,
      phone: randomPhone(),
      currency: 'KES',
      ...overrides,
    };
  }

  before(async () => {
    t = await startTestApp();
    net = await agentNetwork(t, {
      stores: [
        { lat: -1.2864, lon: 36.8172 },
        { lat: -1.3, lon: 36.8, radius_m: 250 },
      ],
    });
    officer = await agentOfficerToken(t);
  });
  after(() => t.close());

  test('the fixture gives an active agent with two stores and a signed-in teller at each', async () => {
    assert.equal(net.agent.status, 'active');
    assert.equal(net.stores.length, 2);
    assert.match(net.agent.agent_number, /^A\d{7}$/);
    assert.match(String(net.stores[0]!.store_number), /^S\d{7}$/);
    const me = await get('/api/v1/agent/me', net.tellers[1]!.token);
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json().store.id, net.stores[1]!.id);
    assert.equal(me.json().agent.id, net.agent.id);
    assert.equal(me.json().role, 'teller');
    assert.deepEqual(me.json().permissions.sort(), ['agent_op:read', 'agent_op:transact']);
  });

  test('creating an agent opens guarded float and commission payable accounts; it stays pending', async () => {
    const owner = await activeCustomer(t);
    const created = await post('/api/v1/agent/agent/add', officer, agentBody(owner.id));
    assert.equal(created.statusCode, 201, created.body);
    const agent = created.json();
    assert.equal(agent.status, 'pending');
    const ledger = t.application.ledger;
    const [float, commission] = await ledger
      .accounts([agent.float_account_id, agent.commission_account_id])
      .then((rows) =>
        [agent.float_account_id, agent.commission_account_id].map((id) => rows.find((row) => row.id === id)!),
      );
    assert.equal(float!.kind, 'liability');
    assert.equal(float!.debitsMustNotExceedCredits, true);
    assert.equal(float!.deferred, false);
    assert.equal(commission!.kind, 'liability');
    assert.equal(commission!.debitsMustNotExceedCredits, true);
    assert.equal(commission!.deferred, true);
    // A pending agent's operators could not work: the agent is not operational.
    const again = await post('/api/v1/agent/agent/add', officer, {
      ...agentBody(owner.id),
      registration_number: agent.registration_number,
    });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error_code, 'AGENT_REGISTRATION_EXISTS');
  });

  test('activation is maker-checker: the maker cannot approve, a second officer can', async () => {
    const agent = await createAgent(t, { activate: false, staffToken: officer });
    const requested = await post(`/api/v1/agent/agent/${agent.id}/activate`, officer);
    assert.equal(requested.statusCode, 202, requested.body);
    assert.equal(requested.json().action, 'agent.activate');
    const twice = await post(`/api/v1/agent/agent/${agent.id}/activate`, officer);
    assert.equal(twice.statusCode, 409);
    assert.equal(twice.json().error_code, 'APPROVAL_ALREADY_PENDING');
    const own = await post('/api/v1/policy/approval/approve', officer, { request_id: requested.json().id });
    assert.equal(own.statusCode, 403, own.body);
    assert.equal(own.json().error_code, 'OWN_REQUEST');
    assert.equal((await get(`/api/v1/agent/agent/${agent.id}`)).json().status, 'pending');
    const approved = await post('/api/v1/policy/approval/approve', await checkerToken(t), {
      request_id: requested.json().id,
    });
    assert.equal(approved.statusCode, 200, approved.body);
    const read = (await get(`/api/v1/agent/agent/${agent.id}`)).json();
    assert.equal(read.status, 'active');
    assert.ok(read.approved_by);
    const already = await post(`/api/v1/agent/agent/${agent.id}/activate`, officer);
    assert.equal(already.statusCode, 409);
    assert.equal(already.json().error_code, 'AGENT_STATUS_CONFLICT');
  });

  test('the owner must be an active customer; a parent must be a super-agent', async () => {
    const pending = await createCustomer(t, 'Pending', randomPhone());
    const refused = await post('/api/v1/agent/agent/add', officer, agentBody(pending.id));
    assert.equal(refused.statusCode, 422);
    assert.equal(refused.json().error_code, 'AGENT_OWNER_NOT_ELIGIBLE');
    const unknown = await post('/api/v1/agent/agent/add', officer, agentBody(crypto.randomUUID()));
    assert.equal(unknown.json().error_code, 'AGENT_OWNER_NOT_ELIGIBLE');
    const owner = await activeCustomer(t);
    const badParent = await post(
      '/api/v1/agent/agent/add',
      officer,
      agentBody(owner.id, { parent_id: net.agent.id }),
    );
    assert.equal(badParent.statusCode, 422);
    assert.equal(badParent.json().error_code, 'AGENT_PARENT_INVALID');
    const superAgent = await createAgent(t, { kind: 'super_agent' });
    const child = await createAgent(t, { parentId: superAgent.id });
    assert.equal(child.parent_id, superAgent.id);
    const children = await get(`/api/v1/agent/agent/list?parent_id=${superAgent.id}`);
    assert.deepEqual(
      children.json().items.map((item: { id: string }) => item.id),
      [child.id],
    );
    const superWithParent = await post(
      '/api/v1/agent/agent/add',
      officer,
      agentBody(owner.id, { kind: 'super_agent', parent_id: superAgent.id }),
    );
    assert.equal(superWithParent.json().error_code, 'AGENT_PARENT_INVALID');
  });

  test('bad input is a 4xx naming the field, never a 500', async () => {
    const owner = await activeCustomer(t);
    const cases: [string, object, number, string][] = [
      [
        '/api/v1/agent/agent/add',
        agentBody(owner.id, { currency: 'XYZ' }),
        422,
        'AGENT_CURRENCY_UNSUPPORTED',
      ],
      ['/api/v1/agent/agent/add', agentBody(owner.id, { kind: 'shop' }), 422, 'VALIDATION_ERROR'],
      ['/api/v1/agent/agent/add', agentBody(owner.id, { phone: '12' }), 422, 'VALIDATION_ERROR'],
      [
        '/api/v1/agent/agent/add',
        agentBody(owner.id, { limits: { single_minor: '-5' } }),
        422,
        'VALIDATION_ERROR',
      ],
    ];
    const store = (geofence: object, lat = -1.2, lon = 36.8) => ({
      name: 'Kiosk',
      address: 'Road 1',
      lat,
      lon,
      geofence,
    });
    const circle = (lat: number, lon: number, radius_m: number) => ({
      type: 'circle',
      center: { lat, lon },
      radius_m,
    });
    const storeUrl = `/api/v1/agent/agent/${net.agent.id}/store`;
    const vertices = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        lat: Math.sin((2 * Math.PI * i) / n) / 100,
        lon: Math.cos((2 * Math.PI * i) / n) / 100,
      }));
    cases.push(
      [storeUrl, store(circle(-1.2, 36.8, 100), 91), 422, 'VALIDATION_ERROR'],
      [storeUrl, store(circle(-1.2, 36.8, 100), -1.2, 181), 422, 'VALIDATION_ERROR'],
      [storeUrl, store(circle(-1.2, 36.8, 0)), 422, 'VALIDATION_ERROR'],
      [storeUrl, store(circle(-1.2, 36.8, 50_001)), 422, 'VALIDATION_ERROR'],
      [storeUrl, store(circle(-95, 36.8, 100)), 422, 'VALIDATION_ERROR'],
      [storeUrl, store({ type: 'polygon', vertices: vertices(2) }), 422, 'VALIDATION_ERROR'],
      [storeUrl, store({ type: 'polygon', vertices: vertices(51) }), 422, 'VALIDATION_ERROR'],
      [storeUrl, store({ type: 'hexagon' }), 422, 'VALIDATION_ERROR'],
    );
    for (const [url, payload, status, code] of cases) {
      const response = await post(url, officer, payload);
      assert.equal(response.statusCode, status, `${url} ${JSON.stringify(payload)}: ${response.body}`);
      assert.equal(response.json().error_code, code, response.body);
    }
    const polygon = await post(storeUrl, officer, store({ type: 'polygon', vertices: vertices(50) }));
    assert.equal(polygon.statusCode, 201, polygon.body);
    const edge = await post(storeUrl, officer, store(circle(90, 180, 50_000), 90, -180));
    assert.equal(edge.statusCode, 201, edge.body);
    const unknownAgent = await post(
      `/api/v1/agent/agent/${crypto.randomUUID()}/store`,
      officer,
      store(circle(1, 1, 10)),
    );
    assert.equal(unknownAgent.statusCode, 404);
    assert.equal(unknownAgent.json().error_code, 'AGENT_NOT_FOUND');
  });

  test('update, list with filters and cursor pagination', async () => {
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/agent/agent/${net.agent.id}`,
      headers: bearer(officer),
      payload: { email: 'shop@example.com', geofence_policy: 'flag', limits: { single_minor: '500000' } },
    });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(patched.json().geofence_policy, 'flag');
    assert.deepEqual(patched.json().limits, { single_minor: '500000' });
    const empty = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/agent/agent/${net.agent.id}`,
      headers: bearer(officer),
      payload: {},
    });
    assert.equal(empty.statusCode, 422);
    for (let i = 0; i < 3; i += 1) await createAgent(t, { kind: 'super_agent', activate: false });
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const page = await get(
        `/api/v1/agent/agent/list?kind=super_agent&status=pending&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.equal(page.statusCode, 200, page.body);
      for (const item of page.json().items) {
        assert.equal(item.kind, 'super_agent');
        assert.equal(item.status, 'pending');
        seen.add(item.id);
      }
      cursor = page.json().next_cursor;
    } while (cursor);
    assert.ok(seen.size >= 3);
    const badCursor = await get('/api/v1/agent/agent/list?cursor=nonsense');
    assert.equal(badCursor.statusCode, 422);
    const stores = await get(`/api/v1/agent/agent/${net.agent.id}/store/list`);
    assert.ok(stores.json().items.length >= 2);
    const operators = await get(
      `/api/v1/agent/agent/${net.agent.id}/operator/list?store_id=${net.stores[0]!.id}`,
    );
    assert.deepEqual(
      operators.json().items.map((item: { id: string }) => item.id),
      [net.tellers[0]!.id],
    );
  });

  test('store update, geofence edit, suspend and close (zero float); audit kept', async () => {
    const store = await createStore(t, net.agent.id, { lat: 0.5, lon: 35.2 });
    const updated = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/agent/store/${store.id}`,
      headers: bearer(officer),
      payload: { name: 'Renamed Kiosk', opening_hours: { '6': [['09:00', '13:00']] } },
    });
    assert.equal(updated.statusCode, 200, updated.body);
    assert.equal(updated.json().name, 'Renamed Kiosk');
    const fence = {
      type: 'polygon',
      vertices: [
        { lat: 0.5, lon: 35.2 },
        { lat: 0.51, lon: 35.2 },
        { lat: 0.51, lon: 35.21 },
      ],
    };
    const set = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/agent/store/${store.id}/geofence`,
      headers: bearer(officer),
      payload: fence,
    });
    assert.equal(set.statusCode, 200, set.body);
    assert.deepEqual(set.json().geofence, fence);
    const badFence = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/agent/store/${store.id}/geofence`,
      headers: bearer(officer),
      payload: { type: 'circle', center: { lat: 0, lon: 0 }, radius_m: -1 },
    });
    assert.equal(badFence.statusCode, 422);
    const suspended = await post(`/api/v1/agent/store/${store.id}/suspend`, officer, {
      reason: 'inspection',
    });
    assert.equal(suspended.json().status, 'suspended');
    const twice = await post(`/api/v1/agent/store/${store.id}/suspend`, officer, { reason: 'inspection' });
    assert.equal(twice.json().error_code, 'AGENT_STATUS_CONFLICT');
    const closed = await post(`/api/v1/agent/store/${store.id}/close`, officer, { reason: 'moved away' });
    assert.equal(closed.statusCode, 200, closed.body);
    assert.equal(closed.json().status, 'closed');
    const audit = await queryAuditLog(t.deps.database.db, {
      entityType: 'agent_store',
      entityId: store.id,
      limit: 20,
    });
    const actions = audit.map((row) => row.action);
    for (const action of [
      'agent.store_created',
      'agent.store_geofence_set',
      'agent.store_suspended',
      'agent.store_closed',
    ])
      assert.ok(actions.includes(action), `${action} in ${actions.join(', ')}`);
  });

  test('agent suspend, reactivate and close; close refuses while float is held', async () => {
    const other = await agentNetwork(t);
    const suspended = await post(`/api/v1/agent/agent/${other.agent.id}/suspend`, officer, {
      reason: 'audit',
    });
    assert.equal(suspended.statusCode, 200, suspended.body);
    assert.equal(suspended.json().status_reason, 'audit');
    const reactivated = await post(`/api/v1/agent/agent/${other.agent.id}/reactivate`, officer, {
      reason: 'cleared',
    });
    assert.equal(reactivated.json().status, 'active');
    // Float on a store blocks closure: credit the store's float directly on the ledger (a top-up's effect).
    const ledger = t.application.ledger;
    await inTransaction(t.deps.database.db, async (tx) => {
      const pool = await ledger.houseAccount('agent_float_pool:KES', undefined, tx);
      await ledger.post(tx, {
        key: `test-float-${other.stores[0]!.id}`,
        code: 'float_topup',
        legs: [{ debit: pool, credit: other.stores[0]!.float_account_id, amount: 1000n, code: 'principal' }],
      });
    });
    const refused = await post(`/api/v1/agent/agent/${other.agent.id}/close`, officer, {
      reason: 'retiring',
    });
    assert.equal(refused.statusCode, 409, refused.body);
    assert.equal(refused.json().error_code, 'AGENT_FLOAT_NOT_ZERO');
    const empty = await agentNetwork(t);
    const closed = await post(`/api/v1/agent/agent/${empty.agent.id}/close`, officer, { reason: 'retiring' });
    assert.equal(closed.statusCode, 200, closed.body);
    assert.equal(closed.json().status, 'closed');
    const store = await get(`/api/v1/agent/store/${empty.stores[0]!.id}`);
    assert.equal(store.json().status, 'closed');
    const teller = await get(`/api/v1/agent/operator/${empty.tellers[0]!.id}`);
    assert.equal(teller.json().status, 'closed');
  });

  test('operators: a teller needs a store of its agent and a 6-digit PIN; phones are unique; devices bind and revoke', async () => {
    const add = (payload: object) => post('/api/v1/agent/operator/add', officer, payload);
    const base = { agent_id: net.agent.id, full_name: 'New Teller', phone: randomPhone() };
    const noStore = await add({ ...base, role: 'teller', pin: '135790' });
    assert.equal(noStore.json().error_code, 'AGENT_OPERATOR_INVALID');
    const badPin = await add({ ...base, role: 'teller', store_id: net.stores[0]!.id, pin: '12' });
    assert.equal(badPin.statusCode, 422);
    for (const weak of ['123456', '111111', '121212']) {
      const refused = await add({ ...base, role: 'teller', store_id: net.stores[0]!.id, pin: weak });
      assert.equal(refused.statusCode, 422, weak);
      assert.equal(refused.json().error_code, 'AGENT_OPERATOR_INVALID', refused.body);
    }
    const other = await agentNetwork(t);
    const foreignStore = await add({ ...base, role: 'teller', store_id: other.stores[0]!.id, pin: '135790' });
    assert.equal(foreignStore.statusCode, 404);
    assert.equal(foreignStore.json().error_code, 'AGENT_STORE_NOT_FOUND');
    const taken = await add({
      ...base,
      phone: net.tellers[0]!.phone,
      role: 'teller',
      store_id: net.stores[0]!.id,
      pin: '135790',
    });
    assert.equal(taken.statusCode, 409);
    assert.equal(taken.json().error_code, 'AGENT_OPERATOR_PHONE_EXISTS');
    const weakAdmin = await add({ ...base, role: 'agent_admin', password: 'password' });
    assert.equal(weakAdmin.json().error_code, 'AGENT_OPERATOR_INVALID');
    const admin = await add({ ...base, role: 'agent_admin', password: 'violet canyon ledger 93' });
    assert.equal(admin.statusCode, 201, admin.body);
    assert.equal(admin.json().store_id, null);

    const keys = deviceKeys();
    const bind = (payload: object) =>
      post(`/api/v1/agent/operator/${net.tellers[0]!.id}/device`, officer, payload);
    const rsa = await bind({ device_id: keys.deviceId, public_key: Buffer.alloc(48, 7).toString('base64') });
    assert.equal(rsa.statusCode, 422);
    assert.equal(rsa.json().error_code, 'AGENT_DEVICE_INVALID');
    const bound = await bind({ device_id: keys.deviceId, public_key: keys.publicKey });
    assert.equal(bound.statusCode, 200, bound.body);
    assert.ok(
      bound.json().devices.some((device: { device_id: string }) => device.device_id === keys.deviceId),
    );
    const revoked = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/agent/operator/${net.tellers[0]!.id}/device/${keys.deviceId}`,
      headers: bearer(officer),
    });
    assert.equal(revoked.statusCode, 200, revoked.body);
    assert.ok(
      !revoked.json().devices.some((device: { device_id: string }) => device.device_id === keys.deviceId),
    );
    const again = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/agent/operator/${net.tellers[0]!.id}/device/${keys.deviceId}`,
      headers: bearer(officer),
    });
    assert.equal(again.statusCode, 404);
    assert.equal(again.json().error_code, 'AGENT_DEVICE_NOT_FOUND');
  });

  test('staff without agent permissions, customers and operators are refused the back office', async () => {
    const customer = await activeCustomer(t);
    for (const token of [customer.token, net.tellers[0]!.token]) {
      const response = await get('/api/v1/agent/agent/list', token);
      assert.equal(response.statusCode, 403, response.body);
    }
  });
});
