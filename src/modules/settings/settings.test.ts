/** `/api/v1/admin/config` and `/api/v1/app/config`: typed, validated, versioned, audited runtime settings. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  bearer,
  LogCapture,
  sharedServices,
  startTestApp,
  type TestContext,
} from '../../../test/helpers/app.ts';
import { buildApp } from '../../app.ts';
import { closeDependencies, openDependencies } from '../../platform/dependencies.ts';

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

  if (sharedServices)
    test('a change on one node reaches another node at once through the shared store', async () => {
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
