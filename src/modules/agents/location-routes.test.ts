/**
 * The geo area over HTTP: operator check-in and check-out (one open shift, the location check each records, a
 * refusal kept), the scope rule (another agent's store is a 404; staff and customers are refused), and the staff's
 * alerts (filters, pages, acknowledge) and an agent's location checks.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { agentNetwork } from '../../../test/helpers/agents.ts';
import {
  agentsApi,
  fix,
  type GeoAgent,
  geoAgent,
  north,
  SHOP,
  tellerScope,
} from '../../../test/helpers/agents-geo.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { staffToken } from '../../../test/helpers/loans.ts';
import { createCustomer } from '../../../test/helpers/money.ts';
import { agentStores } from './agents.tables.ts';

let t: TestContext;

before(async () => {
  t = await startTestApp();
});
after(async () => t?.close());

const post = (url: string, token: string, payload?: object) =>
  t.app.inject({ method: 'POST', url, headers: bearer(token), ...(payload && { payload }) });
const get = (url: string, token: string) => t.app.inject({ method: 'GET', url, headers: bearer(token) });

function expectError(
  response: { statusCode: number; body: string; json(): { error_code: string } },
  status: number,
  code: string,
) {
  assert.equal(response.statusCode, status, response.body);
  assert.equal(response.json().error_code, code, response.body);
}

describe('check-in and check-out', () => {
  let shop: GeoAgent;
  before(async () => {
    shop = await geoAgent(t);
  });

  test('a teller checks in once, checks out once, each with a recorded check', async () => {
    const teller = shop.stores[0].tellerToken;
    const opened = await post('/api/v1/agent/operator/check-in', teller, { location: fix() });
    assert.equal(opened.statusCode, 201, opened.body);
    const body = opened.json();
    assert.equal(body.shift.store_id, shop.stores[0].id);
    assert.equal(body.shift.operator_id, shop.stores[0].tellerId);
    assert.equal(body.shift.check_out_at, null);
    assert.equal(body.check.decision, 'allowed');
    assert.equal(body.check.outcome, 'inside');
    assert.equal(body.shift.check_in_check_id, body.check.id);

    const again = await post('/api/v1/agent/operator/check-in', teller, { location: fix() });
    expectError(again, 409, 'AGENT_ALREADY_CHECKED_IN');
    assert.equal(again.json().details.shift_id, body.shift.id);

    const closed = await post('/api/v1/agent/operator/check-out', teller, {
      location: fix(north(SHOP, 100)),
    });
    assert.equal(closed.statusCode, 200, closed.body);
    assert.equal(closed.json().shift.id, body.shift.id);
    assert.ok(closed.json().shift.check_out_at);
    assert.equal(closed.json().shift.check_out_check_id, closed.json().check.id);

    expectError(
      await post('/api/v1/agent/operator/check-out', teller, { location: fix() }),
      409,
      'AGENT_NOT_CHECKED_IN',
    );

    const checks = await get(`/api/v1/agent/agent/${shop.id}/location-checks`, t.adminToken);
    assert.equal(checks.statusCode, 200, checks.body);
    const actions = checks.json().items.map((item: { action: string }) => item.action);
    assert.deepEqual(actions, ['check_out', 'check_in']);
  });

  test('outside the fence the check-in is refused, the refusal recorded and no shift opened', async () => {
    const teller = shop.stores[1].tellerToken;
    const refused = await post('/api/v1/agent/operator/check-in', teller, {
      location: fix(north(SHOP, 2000)),
    });
    expectError(refused, 403, 'GEOFENCE_VIOLATION');
    assert.equal(refused.json().details.outcome, 'outside');
    const stale = await post('/api/v1/agent/operator/check-in', teller, {
      location: fix(SHOP, { ageMs: 150_000 }),
    });
    expectError(stale, 403, 'GEOFENCE_VIOLATION');
    assert.equal(stale.json().details.outcome, 'stale');
    const page = (
      await get(`/api/v1/agent/agent/${shop.id}/location-checks?outcome=outside`, t.adminToken)
    ).json();
    assert.ok(
      page.items.some(
        (item: { id: string; decision: string }) =>
          item.id === refused.json().details.check_id && item.decision === 'refused',
      ),
    );
    expectError(
      await post('/api/v1/agent/operator/check-out', teller, { location: fix() }),
      409,
      'AGENT_NOT_CHECKED_IN',
    );
  });

  test('an agent admin names the store; another agent’s store is a 404; a check-out elsewhere is refused', async () => {
    const missing = await post('/api/v1/agent/operator/check-in', shop.adminToken, { location: fix() });
    expectError(missing, 404, 'AGENT_STORE_NOT_FOUND');
    const other = await geoAgent(t);
    expectError(
      await post('/api/v1/agent/operator/check-in', shop.adminToken, {
        store_id: other.stores[0].id,
        location: fix(),
      }),
      404,
      'AGENT_STORE_NOT_FOUND',
    );
    expectError(
      await post('/api/v1/agent/operator/check-in', other.stores[0].tellerToken, {
        store_id: shop.stores[0].id,
        location: fix(),
      }),
      404,
      'AGENT_STORE_NOT_FOUND',
    );
    const opened = await post('/api/v1/agent/operator/check-in', shop.adminToken, {
      store_id: shop.stores[1].id,
      location: fix(),
    });
    assert.equal(opened.statusCode, 201, opened.body);
    expectError(
      await post('/api/v1/agent/operator/check-out', shop.adminToken, {
        store_id: shop.stores[0].id,
        location: fix(),
      }),
      409,
      'AGENT_NOT_CHECKED_IN',
    );
    const closed = await post('/api/v1/agent/operator/check-out', shop.adminToken, {
      store_id: shop.stores[1].id,
      location: fix(),
    });
    assert.equal(closed.statusCode, 200, closed.body);
  });

  test('an agent admin cannot check in at a suspended store (AGENT_NOT_ACTIVE), and nothing is recorded', async () => {
    const suspended = await geoAgent(t);
    const storeId = suspended.stores[1].id;
    await t.deps.database.db
      .update(agentStores)
      .set({ status: 'suspended' })
      .where(eq(agentStores.id, storeId));
    const refused = await post('/api/v1/agent/operator/check-in', suspended.adminToken, {
      store_id: storeId,
      location: fix(),
    });
    expectError(refused, 403, 'AGENT_NOT_ACTIVE');
    const checks = await get(`/api/v1/agent/agent/${suspended.id}/location-checks`, t.adminToken);
    assert.equal(checks.json().items.length, 0);
  });

  test('staff (even with every permission) and customers cannot check in', async () => {
    const staff = await post('/api/v1/agent/operator/check-in', t.adminToken, {
      store_id: shop.stores[0].id,
      location: fix(),
    });
    assert.equal(staff.statusCode, 403, staff.body);
    const customer = await createCustomer(t, 'Geo', `+2547${String(Date.now()).slice(-8)}`);
    const refused = await post('/api/v1/agent/operator/check-in', customer.token, {
      store_id: shop.stores[0].id,
      location: fix(),
    });
    assert.equal(refused.statusCode, 403, refused.body);
  });

  test('a malformed location is a 422, never a 500', async () => {
    const teller = shop.stores[0].tellerToken;
    for (const location of [
      { ...fix(), lat: 91 },
      { ...fix(), lon: -180.5 },
      { ...fix(), accuracy_m: -1 },
      { ...fix(), fix_at: 'yesterday' },
      { lat: SHOP.lat, lon: SHOP.lon },
    ]) {
      const response = await post('/api/v1/agent/operator/check-in', teller, { location });
      assert.equal(response.statusCode, 422, `${JSON.stringify(location)} ${response.body}`);
    }
  });
});

describe('staff: alerts and location checks', () => {
  test('alerts by agent, kind and status, page by page; acknowledging is kept and idempotent', async () => {
    const shop = await geoAgent(t, { policy: 'flag' });
    const api = agentsApi(t);
    // Two tellers with a mock-location flag: a spoofing alert each; three violations: a geofence_repeated alert.
    for (const index of [0, 1] as const)
      await api.geo.check({
        scope: tellerScope(shop, index),
        storeId: shop.stores[index].id,
        action: 'cash_in',
        location: fix(SHOP, { mock_location: true }),
      });
    for (let i = 0; i < 3; i += 1)
      await api.geo.check({
        scope: tellerScope(shop),
        storeId: shop.stores[0].id,
        action: 'cash_out',
        location: fix(SHOP, { ageMs: 400_000 }),
      });

    const all = await get(`/api/v1/agent/alerts?agent_id=${shop.id}`, t.adminToken);
    assert.equal(all.statusCode, 200, all.body);
    assert.deepEqual(
      all.json().items.map((item: { kind: string }) => item.kind),
      ['geofence_repeated', 'spoofing', 'spoofing'],
    );
    const first = await get(`/api/v1/agent/alerts?agent_id=${shop.id}&kind=spoofing&limit=1`, t.adminToken);
    assert.equal(first.json().items.length, 1);
    assert.ok(first.json().next_cursor);
    const second = await get(
      `/api/v1/agent/alerts?agent_id=${shop.id}&kind=spoofing&limit=1&cursor=${first.json().next_cursor}`,
      t.adminToken,
    );
    assert.equal(second.json().items.length, 1);
    assert.notEqual(second.json().items[0].id, first.json().items[0].id);
    assert.deepEqual(second.json().items[0].details.signals, ['mock_location']);

    const alertId = first.json().items[0].id as string;
    const acknowledged = await post(`/api/v1/agent/alerts/${alertId}/acknowledge`, t.adminToken);
    assert.equal(acknowledged.statusCode, 200, acknowledged.body);
    assert.equal(acknowledged.json().status, 'acknowledged');
    assert.ok(acknowledged.json().acknowledged_by);
    const twice = await post(`/api/v1/agent/alerts/${alertId}/acknowledge`, t.adminToken);
    assert.deepEqual(twice.json(), acknowledged.json());
    const open = await get(`/api/v1/agent/alerts?agent_id=${shop.id}&status=open`, t.adminToken);
    assert.equal(open.json().items.length, 2);
    assert.ok(open.json().items.every((item: { id: string }) => item.id !== alertId));

    expectError(
      await post(`/api/v1/agent/alerts/${randomUUID()}/acknowledge`, t.adminToken),
      404,
      'AGENT_ALERT_NOT_FOUND',
    );
    expectError(await get(`/api/v1/agent/alerts?cursor=not-a-cursor`, t.adminToken), 422, 'VALIDATION_ERROR');
  });

  test('an agent’s location checks: signals shown, pages, an unknown agent is a 404', async () => {
    const shop = await geoAgent(t, { policy: 'flag' });
    const api = agentsApi(t);
    const scope = tellerScope(shop);
    await api.geo.check({ scope, storeId: shop.stores[0].id, action: 'cash_in', location: fix() });
    await api.geo.check({
      scope,
      storeId: shop.stores[0].id,
      action: 'cash_in',
      location: fix(SHOP, { accuracy_m: 900 }),
    });
    const page = await get(`/api/v1/agent/agent/${shop.id}/location-checks?limit=1`, t.adminToken);
    assert.equal(page.statusCode, 200, page.body);
    const [latest] = page.json().items;
    assert.deepEqual(latest.signals, ['implausible_accuracy']);
    assert.equal(latest.accuracy_m, 900);
    assert.equal(latest.decision, 'allowed');
    const rest = await get(
      `/api/v1/agent/agent/${shop.id}/location-checks?limit=1&cursor=${page.json().next_cursor}`,
      t.adminToken,
    );
    assert.equal(rest.json().items.length, 1);
    assert.equal(rest.json().next_cursor, null);
    assert.deepEqual(rest.json().items[0].signals, []);
    expectError(
      await get(`/api/v1/agent/agent/${randomUUID()}/location-checks`, t.adminToken),
      404,
      'AGENT_NOT_FOUND',
    );
  });

  test('operators and staff without agent permissions cannot read alerts', async () => {
    const shop = await geoAgent(t);
    assert.equal((await get('/api/v1/agent/alerts', shop.adminToken)).statusCode, 403);
    assert.equal(
      (await get(`/api/v1/agent/agent/${shop.id}/location-checks`, shop.stores[0].tellerToken)).statusCode,
      403,
    );
    const operations = await staffToken(t, `geo-ops-${Date.now()}`, ['operations']);
    assert.equal((await get('/api/v1/agent/alerts', operations)).statusCode, 403);
    assert.equal(
      (await post(`/api/v1/agent/alerts/${randomUUID()}/acknowledge`, operations)).statusCode,
      403,
    );
  });
});

describe('with the network’s fixture (a teller signed in on a bound device) and its geofence editing', () => {
  test('check-in at Nairobi, the fence moved across the antimeridian by staff, check-out there', async () => {
    const { stores, tellers } = await agentNetwork(t);
    const store = stores[0]!;
    const teller = tellers[0]!;
    const nairobi = { lat: -1.2864, lon: 36.8172 };
    const opened = await post('/api/v1/agent/operator/check-in', teller.token, { location: fix(nairobi) });
    assert.equal(opened.statusCode, 201, opened.body);
    assert.equal(opened.json().shift.store_id, store.id);

    const put = (geofence: object) =>
      t.app.inject({
        method: 'PUT',
        url: `/api/v1/agent/store/${store.id}/geofence`,
        headers: bearer(t.adminToken),
        payload: geofence,
      });
    const seam = await put({
      type: 'polygon',
      vertices: [
        { lat: -16.001, lon: 179.999 },
        { lat: -16.001, lon: -179.999 },
        { lat: -15.999, lon: -179.999 },
        { lat: -15.999, lon: 179.999 },
      ],
    });
    assert.equal(seam.statusCode, 200, seam.body);
    const left = await post('/api/v1/agent/operator/check-out', teller.token, { location: fix(nairobi) });
    expectError(left, 403, 'GEOFENCE_VIOLATION');
    const closed = await post('/api/v1/agent/operator/check-out', teller.token, {
      location: fix({ lat: -16, lon: -180 }),
    });
    assert.equal(closed.statusCode, 200, closed.body);
    assert.equal(closed.json().check.outcome, 'inside');
  });
});
