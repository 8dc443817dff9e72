/** `/api/v1/admin/config` and `/api/v1/app/config`: typed, validated, versioned, audited runtime settings. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import { bearer, LogCapture, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { needsSharedServices } from '../../../test/helpers/databases.ts';
import { buildApp } from '../../app.ts';
import { closeDependencies, openDependencies } from '../../platform/dependencies.ts';
import { FEATURE_ROUTES } from './settings.features.ts';
import { settingsRoutes } from './settings.routes.ts';

describe('settings', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  const patch = (key: string, payload: Record<string, unknown>) =>
    t.app.inject({
      method: 'PATCH',
      url: `/api/v1/admin/config/${key}`,
      headers: bearer(t.adminToken),
      payload,
    });

  test('lists every setting with its schema, default and value', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/api/v1/admin/config',
      headers: bearer(t.adminToken),
    });
    assert.equal(response.statusCode, 200);
    const items = response.json().items as {
      key: string;
      value: unknown;
      default: unknown;
      overridden: boolean;
      schema: object;
    }[];
    const otp = items.find((item) => item.key === 'auth.otp_ttl_seconds');
    assert.deepEqual([otp?.value, otp?.default, otp?.overridden], [300, 300, false]);
    assert.equal((otp!.schema as { maximum: number }).maximum, 600);
  });

  test('a valid change is stored, versioned, audited and visible to clients', async () => {
    const changed = await patch('app.min_version_android', { value: '2.3.0', version: 0 });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.deepEqual(
      [changed.json().value, changed.json().version, changed.json().overridden],
      ['2.3.0', 1, true],
    );
    const client = await t.app.inject({ method: 'GET', url: '/api/v1/app/config' });
    assert.equal(client.statusCode, 200);
    assert.equal(client.json().min_app_versions.android, '2.3.0');
    assert.equal(client.json().features.p2p_transfers, true);
    const audit = await t.app.inject({
      method: 'GET',
      url: '/api/v1/core/audit?entity_type=setting&entity_id=app.min_version_android',
      headers: bearer(t.adminToken),
    });
    const [entry] = audit.json().items;
    assert.deepEqual([entry.action, entry.before, entry.after], ['setting.updated', '1.0.0', '2.3.0']);
  });

  test('app config advertises a feature only when its routes are mounted, whatever its setting says', async () => {
    const client = await t.app.inject({ method: 'GET', url: '/api/v1/app/config' });
    assert.equal(client.statusCode, 200, client.body);
    // Every feature is switched on by default and its module (loans, onboarding) is mounted.
    assert.deepEqual(client.json().features, {
      p2p_transfers: true,
      qr_payments: true,
      bill_payments: true,
      loans: true,
      self_registration: true,
    });
    for (const [name, route] of Object.entries(FEATURE_ROUTES))
      assert.equal(
        t.app.hasRoute(route),
        client.json().features[name],
        `${name}: advertised exactly when ${route.method} ${route.url} exists`,
      );

    // The same settings with an onboarding module mounted (its route stands in for it): self registration is
    // advertised, and switched off it is not.
    const withOnboarding = Fastify().withTypeProvider<TypeBoxTypeProvider>();
    withOnboarding.post(FEATURE_ROUTES.self_registration.url, async () => ({}));
    await withOnboarding.register(settingsRoutes(t.application.settings, 'test'));
    try {
      const config = await withOnboarding.inject({ method: 'GET', url: '/api/v1/app/config' });
      assert.equal(config.statusCode, 200, config.body);
      assert.equal(config.json().features.self_registration, true);
      assert.equal(config.json().features.loans, false);
      assert.equal(config.json().features.p2p_transfers, false, 'no transfer route in this app');
      assert.equal((await patch('features.self_registration', { value: false })).statusCode, 200);
      const off = await withOnboarding.inject({ method: 'GET', url: '/api/v1/app/config' });
      assert.equal(off.json().features.self_registration, false);
    } finally {
      await t.app.inject({
        method: 'DELETE',
        url: '/api/v1/admin/config/features.self_registration',
        headers: bearer(t.adminToken),
      });
      await withOnboarding.close();
    }
  });

  test('invalid values are a 422 and change nothing', async () => {
    for (const [key, value] of [
      ['auth.otp_ttl_seconds', 3600],
      ['auth.otp_ttl_seconds', '300'],
      ['app.supported_languages', ['en', 'de']],
      ['app.supported_languages', []],
      ['features.loans', 'yes'],
      ['app.min_version_ios', 'latest'],
    ] as const) {
      const response = await patch(key, { value });
      assert.equal(response.statusCode, 422, `${key}=${JSON.stringify(value)}`);
      assert.equal(response.json().error_code, 'VALIDATION_ERROR');
    }
    const otp = await t.app.inject({
      method: 'GET',
      url: '/api/v1/admin/config/auth.otp_ttl_seconds',
      headers: bearer(t.adminToken),
    });
    assert.equal(otp.json().value, 300);
  });

  test('a stale version is a 409; an unknown key a 404; reset returns to the default', async () => {
    assert.equal((await patch('features.loans', { value: false, version: 0 })).statusCode, 200);
    const stale = await patch('features.loans', { value: true, version: 0 });
    assert.equal(stale.statusCode, 409);
    assert.deepEqual(stale.json().details, { expected_version: 0, current_version: 1 });
    assert.equal((await patch('no.such.key', { value: 1 })).statusCode, 404);
    const reset = await t.app.inject({
      method: 'DELETE',
      url: '/api/v1/admin/config/features.loans',
      headers: bearer(t.adminToken),
    });
    assert.deepEqual([reset.json().value, reset.json().overridden], [true, false]);
  });

  test('a change on one node reaches another node at once through the shared store', {
    skip: needsSharedServices,
  }, async () => {
    const second = await openDependencies(t.config, { migrate: false, runsWorker: false });
    const other = await buildApp(second, { logStream: new LogCapture() });
    try {
      await other.app.ready();
      const before = await other.settings.get('app.maintenance_mode');
      assert.equal(before, false);
      assert.equal((await patch('app.maintenance_mode', { value: true })).statusCode, 200);
      let seen = false;
      for (let attempt = 0; attempt < 50 && !seen; attempt += 1) {
        seen = (await other.settings.get('app.maintenance_mode')) === true;
        if (!seen) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(seen, 'node B still serves the old value (its cache was not invalidated)');
    } finally {
      await other.app.close();
      await closeDependencies(second);
    }
  });
});
