/**
 * The location guard on a real database: inside, outside, on the edge with the reported accuracy (and its cap), a
 * stale fix, the flag policy, an antimeridian store, the spoofing signals and their one alert per operator, repeated
 * violations, linking the transaction, the violation rate and the scope rule (another store's id is a 404).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import {
  agentsApi,
  fix,
  type GeoAgent,
  geoAgent,
  north,
  SHOP,
  tellerScope,
} from '../../../test/helpers/agents-geo.ts';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { AppError } from '../../platform/errors.ts';
import { DEFAULT_GEO_SETTINGS } from './agents.location.config.ts';
import { evaluateLocation } from './agents.location.ts';
import { agentAlerts, agentLocationChecks } from './agents.tables.ts';
import type { AgentsApi } from './index.ts';

let t: TestContext;
let api: AgentsApi;

before(async () => {
  t = await startTestApp();
  api = agentsApi(t);
});
after(async () => t?.close());

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => assert.fail('expected GEOFENCE_VIOLATION'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof AppError, String(error));
  assert.equal(error.errorCode, 'GEOFENCE_VIOLATION');
  assert.equal(error.statusCode, 403);
  return error;
}

async function checkRow(id: string) {
  const [row] = await t.deps.database.db
    .select()
    .from(agentLocationChecks)
    .where(eq(agentLocationChecks.id, id));
  assert.ok(row, `check ${id} recorded`);
  return row;
}

async function alertsOf(operatorId: string, kind: 'spoofing' | 'geofence_repeated') {
  return t.deps.database.db
    .select()
    .from(agentAlerts)
    .where(and(eq(agentAlerts.operatorId, operatorId), eq(agentAlerts.kind, kind)));
}

describe('evaluateLocation (pure)', () => {
  const fence = { type: 'circle' as const, center: SHOP, radius_m: 100 };
  const now = new Date('2026-12-07T10:00:00Z');
  const at = (point: { lat: number; lon: number }, accuracy_m: number, secondsAgo = 5) => ({
    ...point,
    accuracy_m,
    fix_at: new Date(now.getTime() - secondsAgo * 1000).toISOString(),
  });
  const evaluate = (
    location: ReturnType<typeof at>,
    previous = null as null | Parameters<typeof evaluateLocation>[0]['previous'],
  ) => evaluateLocation({ fence, location, now, previous, settings: DEFAULT_GEO_SETTINGS });

  test('accuracy is the benefit of the doubt, capped at 100 m; 120 s is the oldest fix; 30 s ahead the latest', () => {
    assert.equal(evaluate(at(north(SHOP, 130), 31)).outcome, 'inside');
    assert.equal(evaluate(at(north(SHOP, 130), 29)).outcome, 'outside');
    assert.equal(evaluate(at(north(SHOP, 250), 140)).outcome, 'outside', 'capped at 100 m');
    assert.equal(evaluate(at(north(SHOP, 199), 140)).outcome, 'inside');
    assert.equal(evaluate(at(SHOP, 8, 119)).outcome, 'inside');
    assert.equal(evaluate(at(SHOP, 8, 121)).outcome, 'stale');
    assert.equal(evaluate(at(SHOP, 8, -25)).outcome, 'inside');
    assert.equal(evaluate(at(SHOP, 8, -31)).outcome, 'stale');
  });

  test('spoofing signals: implausible accuracy, impossible speed, the mock-location flag', () => {
    assert.deepEqual(evaluate(at(SHOP, 0.5)).signals, ['implausible_accuracy']);
    assert.deepEqual(evaluate(at(SHOP, 501)).signals, ['implausible_accuracy']);
    assert.deepEqual(evaluate(at(SHOP, 1)).signals, []);
    const previous = { ...north(SHOP, -2000), accuracyM: 10, fixAt: new Date(now.getTime() - 65_000) };
    // 2 km − 20 m of accuracy in 60 s is 119 km/h; in 30 s, 238 km/h.
    assert.deepEqual(evaluate(at(SHOP, 10, 5), previous).signals, []);
    assert.deepEqual(
      evaluate(at(SHOP, 10, 35), { ...previous, fixAt: new Date(now.getTime() - 65_000) }).signals,
      ['impossible_speed'],
    );
    const mock = evaluateLocation({
      fence,
      location: { ...at(SHOP, 5), mock_location: true },
      now,
      previous: null,
      settings: DEFAULT_GEO_SETTINGS,
    });
    assert.deepEqual(mock.signals, ['mock_location']);
  });
});

describe('LocationGuard.check', () => {
  let shop: GeoAgent;
  before(async () => {
    shop = await geoAgent(t);
  });

  test('inside: allowed and recorded', async () => {
    const result = await api.geo.check({
      scope: tellerScope(shop),
      storeId: shop.stores[0].id,
      action: 'cash_in',
      location: fix(),
    });
    assert.equal(result.decision, 'allowed');
    const row = await checkRow(result.checkId);
    assert.equal(row.outcome, 'inside');
    assert.equal(row.decision, 'allowed');
    assert.equal(row.action, 'cash_in');
    assert.equal(row.storeId, shop.stores[0].id);
    assert.ok(Math.abs(row.distanceM + 150) < 0.01);
    assert.deepEqual(row.signals, []);
  });

  test('on the edge: the reported accuracy decides, and a refusal is kept', async () => {
    const scope = tellerScope(shop);
    const storeId = shop.stores[0].id;
    const edge = north(SHOP, 170); // 20 m beyond the 150 m fence
    const allowed = await api.geo.check({
      scope,
      storeId,
      action: 'cash_in',
      location: fix(edge, { accuracy_m: 25 }),
    });
    assert.equal(allowed.decision, 'allowed');
    const error = await refusal(
      api.geo.check({ scope, storeId, action: 'cash_in', location: fix(edge, { accuracy_m: 15 }) }),
    );
    const details = error.details as { outcome: string; distance_m: number; check_id: string };
    assert.equal(details.outcome, 'outside');
    assert.ok(Math.abs(details.distance_m - 20) < 0.2, String(details.distance_m));
    assert.match(error.message, /outside the store’s area/);
    const row = await checkRow(details.check_id);
    assert.equal(row.decision, 'refused');
    assert.equal(row.outcome, 'outside');
  });

  test('a stale fix is refused with its own message', async () => {
    const error = await refusal(
      api.geo.check({
        scope: tellerScope(shop, 1),
        storeId: shop.stores[1].id,
        action: 'cash_out',
        location: fix(SHOP, { ageMs: 180_000 }),
      }),
    );
    assert.equal((error.details as { outcome: string }).outcome, 'stale');
    assert.match(error.message, /too old/);
  });

  test('the flag policy allows outside and stale fixes and flags them', async () => {
    const flagging = await geoAgent(t, { policy: 'flag' });
    const scope = tellerScope(flagging);
    const far = await api.geo.check({
      scope,
      storeId: flagging.stores[0].id,
      action: 'cash_in',
      location: fix(north(SHOP, 5000)),
    });
    assert.equal(far.decision, 'flagged');
    assert.equal((await checkRow(far.checkId)).outcome, 'outside');
    const old = await api.geo.check({
      scope,
      storeId: flagging.stores[0].id,
      action: 'cash_in',
      location: fix(SHOP, { ageMs: 600_000 }),
    });
    assert.equal(old.decision, 'flagged');
    assert.equal((await checkRow(old.checkId)).outcome, 'stale');
  });

  test('a store whose polygon spans the antimeridian', async () => {
    const seam = await geoAgent(t, {
      fence: {
        type: 'polygon',
        vertices: [
          { lat: -16.001, lon: 179.999 },
          { lat: -16.001, lon: -179.999 },
          { lat: -15.999, lon: -179.999 },
          { lat: -15.999, lon: 179.999 },
        ],
      },
    });
    const scope = tellerScope(seam);
    const storeId = seam.stores[0].id;
    for (const lon of [179.9995, 180, -180, -179.9995]) {
      const result = await api.geo.check({
        scope,
        storeId,
        action: 'cash_in',
        location: fix({ lat: -16, lon }),
      });
      assert.equal(result.decision, 'allowed', `lon ${lon}`);
    }
    await refusal(
      api.geo.check({ scope, storeId, action: 'cash_in', location: fix({ lat: -16, lon: 179.99 }) }),
    );
    await refusal(api.geo.check({ scope, storeId, action: 'cash_in', location: fix({ lat: -16, lon: 0 }) }));
  });

  test('another store’s id (or another agent’s) is a 404, and nothing is recorded', async () => {
    const other = await geoAgent(t);
    for (const storeId of [shop.stores[1].id, other.stores[0].id]) {
      const error = await api.geo
        .check({ scope: tellerScope(shop), storeId, action: 'cash_in', location: fix() })
        .then(
          () => assert.fail('expected a 404'),
          (caught: unknown) => caught as AppError,
        );
      assert.equal(error.statusCode, 404);
      assert.equal(error.errorCode, 'AGENT_STORE_NOT_FOUND');
    }
    const rows = await t.deps.database.db
      .select()
      .from(agentLocationChecks)
      .where(eq(agentLocationChecks.agentId, other.id));
    assert.equal(rows.length, 0);
  });
});

describe('spoofing and repeated violations', () => {
  test('each signal is kept on its check; one spoofing alert per operator per hour', async () => {
    const shop = await geoAgent(t, { policy: 'flag' });
    const scope = tellerScope(shop);
    const storeId = shop.stores[0].id;
    const mock = await api.geo.check({
      scope,
      storeId,
      action: 'cash_in',
      location: fix(SHOP, { mock_location: true }),
    });
    assert.deepEqual((await checkRow(mock.checkId)).signals, ['mock_location']);
    const precise = await api.geo.check({
      scope,
      storeId,
      action: 'cash_in',
      location: fix(SHOP, { accuracy_m: 0.2 }),
    });
    assert.deepEqual((await checkRow(precise.checkId)).signals, ['implausible_accuracy']);
    // 50 km at once after the last fix.
    const jump = await api.geo.check({
      scope,
      storeId,
      action: 'cash_in',
      location: fix(north(SHOP, 50_000)),
    });
    assert.deepEqual((await checkRow(jump.checkId)).signals, ['impossible_speed']);
    const alerts = await alertsOf(scope.operatorId, 'spoofing');
    assert.equal(alerts.length, 1, 'one alert for three spoofing checks within the hour');
    assert.equal(alerts[0]!.agentId, shop.id);
    assert.equal(alerts[0]!.storeId, storeId);
    assert.deepEqual(alerts[0]!.details.signals, ['mock_location']);
    assert.equal(alerts[0]!.details.check_id, mock.checkId);
    // The other teller's signal is an alert of their own.
    await api.geo.check({
      scope: tellerScope(shop, 1),
      storeId: shop.stores[1].id,
      action: 'check_in',
      location: fix(SHOP, { mock_location: true }),
    });
    assert.equal((await alertsOf(shop.stores[1].tellerId, 'spoofing')).length, 1);
  });

  test('three violations within the hour raise one geofence_repeated alert', async () => {
    const shop = await geoAgent(t);
    const scope = tellerScope(shop);
    const storeId = shop.stores[0].id;
    const away = north(SHOP, 400);
    await refusal(api.geo.check({ scope, storeId, action: 'cash_in', location: fix(away) }));
    await api.geo.check({ scope, storeId, action: 'cash_in', location: fix(SHOP, { ageMs: 5_000 }) });
    await refusal(
      api.geo.check({ scope, storeId, action: 'cash_in', location: fix(SHOP, { ageMs: 300_000 }) }),
    );
    assert.equal((await alertsOf(scope.operatorId, 'geofence_repeated')).length, 0, 'two violations');
    await refusal(api.geo.check({ scope, storeId, action: 'cash_out', location: fix(away) }));
    const alerts = await alertsOf(scope.operatorId, 'geofence_repeated');
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.details.violations, 3);
    assert.equal(alerts[0]!.details.action, 'cash_out');
    await refusal(api.geo.check({ scope, storeId, action: 'cash_out', location: fix(away) }));
    assert.equal(
      (await alertsOf(scope.operatorId, 'geofence_repeated')).length,
      1,
      'still one within the hour',
    );
  });

  test('concurrent checks of one operator still raise one alert', async () => {
    const shop = await geoAgent(t, { policy: 'flag' });
    const scope = tellerScope(shop);
    const storeId = shop.stores[0].id;
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        api.geo.check({
          scope,
          storeId,
          action: 'cash_in',
          location: fix(north(SHOP, 1000), { mock_location: true }),
        }),
      ),
    );
    assert.ok(results.every((result) => result.decision === 'flagged'));
    assert.equal((await alertsOf(scope.operatorId, 'spoofing')).length, 1);
    assert.equal((await alertsOf(scope.operatorId, 'geofence_repeated')).length, 1);
  });
});

describe('linking and the violation rate', () => {
  test('linkTransaction sets the transaction once', async () => {
    const shop = await geoAgent(t);
    const { checkId } = await api.geo.check({
      scope: tellerScope(shop),
      storeId: shop.stores[0].id,
      action: 'cash_in',
      location: fix(),
    });
    const first = randomUUID();
    await api.geo.linkTransaction(t.deps.database.db, checkId, first);
    await api.geo.linkTransaction(t.deps.database.db, checkId, randomUUID());
    assert.equal((await checkRow(checkId)).transactionId, first);
  });

  test('violationRate counts an agent’s checks in [from, to)', async () => {
    const shop = await geoAgent(t, { policy: 'flag' });
    const from = new Date(Date.now() - 1000);
    const empty = await api.geo.violationRate(shop.id, from, new Date(Date.now() + 60_000));
    assert.deepEqual(empty, { checks: 0, violations: 0, rate: 0 });
    const storeId = shop.stores[0].id;
    for (const location of [fix(), fix(), fix(north(SHOP, 1000)), fix(SHOP, { ageMs: 200_000 })])
      await api.geo.check({ scope: tellerScope(shop), storeId, action: 'cash_in', location });
    const to = new Date(Date.now() + 60_000);
    assert.deepEqual(await api.geo.violationRate(shop.id, from, to), { checks: 4, violations: 2, rate: 0.5 });
    assert.deepEqual(await api.geo.violationRate(shop.id, to, new Date(to.getTime() + 1000)), {
      checks: 0,
      violations: 0,
      rate: 0,
    });
  });
});
