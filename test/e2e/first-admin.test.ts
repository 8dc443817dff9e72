/** The first administrator on an empty database: a generated password, usable only to set a new one. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { closeDependencies, openDependencies } from '../../src/platform/dependencies.ts';
import { seedAll, seedFirstAdmin } from '../../src/seed.ts';
import { bearer, createTestDatabase, LogCapture, login, testConfig } from '../helpers/app.ts';

describe('first administrator', () => {
  const cleanup: (() => Promise<void>)[] = [];
  let app: Awaited<ReturnType<typeof buildApp>>['app'];
  let generated: string;

  before(async () => {
    const database = await createTestDatabase();
    const deps = await openDependencies(testConfig({ ADMIN_PASSWORD: undefined }, database?.url), {
      migrate: true,
      runsWorker: false,
    });
    await seedAll(deps);
    const application = await buildApp(deps, { logStream: new LogCapture() });
    app = application.app;
    const first = await seedFirstAdmin(deps, application.identity);
    assert.equal(first.created, true);
    assert.ok(first.generatedPassword && first.generatedPassword.length >= 20);
    generated = first.generatedPassword;
    const again = await seedFirstAdmin(deps, application.identity);
    assert.deepEqual(
      [again.created, again.generatedPassword],
      [false, null],
      'a second start creates no second admin',
    );
    cleanup.push(async () => {
      await app.close();
      await closeDependencies(deps);
      await database?.drop();
    });
  });
  after(async () => {
    for (const step of cleanup) await step();
  });

  test('the generated password only opens the password change; afterwards everything works', async () => {
    const first = await login(app, 'admin', generated);
    const blocked = await app.inject({
      method: 'GET',
      url: '/api/v1/core/category',
      headers: bearer(first.access_token),
    });
    assert.equal(blocked.statusCode, 403);
    assert.equal(blocked.json().error_code, 'PASSWORD_CHANGE_REQUIRED');
    const me = await app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: bearer(first.access_token),
    });
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().user.must_change_password, true);

    const changed = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/password/change',
      headers: bearer(first.access_token),
      payload: { current_password: generated, new_password: 'a brand new operator passphrase' },
    });
    assert.equal(changed.statusCode, 204, changed.body);
    const stale = await app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: bearer(first.access_token),
    });
    assert.equal(stale.statusCode, 401, 'the password change ended the session');

    const second = await login(app, 'admin@bank.test', 'a brand new operator passphrase');
    const open = await app.inject({
      method: 'GET',
      url: '/api/v1/core/category',
      headers: bearer(second.access_token),
    });
    assert.equal(open.statusCode, 200);
  });
});
