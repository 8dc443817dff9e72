/** What operators rely on: readiness that names what is down, Prometheus metrics, and logs free of secrets. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { closeDependencies, openDependencies } from '../../src/platform/dependencies.ts';
import {
  bearer,
  createTestDatabase,
  LogCapture,
  startTestApp,
  type TestContext,
  testConfig,
} from '../helpers/app.ts';

describe('operations', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  test('/metrics exposes request latency by route, the database pool and job queue depth', async () => {
    await t.app.inject({ method: 'GET', url: '/api/v1/core/category', headers: bearer(t.adminToken) });
    const response = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /text\/plain/);
    assert.match(
      response.body,
      /http_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/core\/category"/,
    );
    assert.match(response.body, /db_pool_connections\{state="total"\} \d+/);
    assert.match(response.body, /# TYPE job_queue_depth gauge/);
  });

  test('secrets never reach the logs: passwords, tokens, authorization headers, query secrets', async () => {
    const canaryPassword = 'CANARY-pass-4815162342';
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: canaryPassword },
    });
    await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me?token=CANARY-query-token&pin=CANARY-query-pin',
      headers: { authorization: `Bearer ${t.adminToken}`, cookie: 'session=CANARY-cookie' },
    });
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: 'CANARY-refresh-token.x.y' },
    });
    t.app.log.info(
      { password: 'CANARY-direct', nested: { pin: 'CANARY-pin', otp: 'CANARY-otp' } },
      'structured',
    );
    const logs = t.logs.text;
    assert.ok(logs.length > 0, 'nothing was logged');
    for (const canary of [
      'CANARY-pass',
      'CANARY-query-token',
      'CANARY-cookie',
      'CANARY-direct',
      'CANARY-pin',
      'CANARY-otp',
      'CANARY-query-pin',
    ]) {
      assert.ok(!logs.includes(canary), `${canary} leaked into the logs`);
    }
    assert.ok(!logs.includes(t.adminToken), 'an access token leaked into the logs');
    assert.match(logs, /"url":"\/api\/v1\/auth\/me\?token=%5BREDACTED%5D&pin=%5BREDACTED%5D"/);
  });

  test('a CRLF in the URL cannot forge a log line', async () => {
    const before = t.logs.lines.length;
    await t.app.inject({ method: 'GET', url: '/nowhere?x=%0d%0a{"level":60,"msg":"forged"}' });
    for (const line of t.logs.lines.slice(before)) {
      const parsed = JSON.parse(line) as { msg?: string };
      assert.notEqual(parsed.msg, 'forged');
    }
  });
});

describe('readiness when a dependency is down', () => {
  test('Redis unreachable: /health/ready is 503 and names redis; liveness stays 200', async () => {
    const database = await createTestDatabase();
    const deps = await openDependencies(testConfig({ REDIS_URL: 'redis://127.0.0.1:1' }, database?.url), {
      migrate: true,
      runsWorker: false,
    });
    const { app } = await buildApp(deps, { logStream: new LogCapture() });
    try {
      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      assert.equal(ready.statusCode, 503);
      const body = ready.json();
      assert.equal(body.error_code, 'SERVICE_UNAVAILABLE');
      assert.deepEqual(body.details.down, ['redis']);
      assert.equal(body.details.checks.database, 'ok');
      assert.equal((await app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200);
      // Login counts attempts in Redis: without it the answer is a 503, never an unchecked login.
      const login = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'a', password: 'b' },
      });
      assert.equal(login.statusCode, 503, login.body);
    } finally {
      await app.close();
      await closeDependencies(deps);
      await database?.drop();
    }
  });

  test('database gone: /health/ready is 503 naming the database, and requests fail closed with the standard body', async () => {
    const database = await createTestDatabase();
    const deps = await openDependencies(testConfig({}, database?.url), { migrate: true, runsWorker: false });
    const logs = new LogCapture();
    const { app } = await buildApp(deps, { logStream: logs });
    await app.ready();
    await deps.database.close();
    try {
      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      assert.equal(ready.statusCode, 503);
      assert.deepEqual(ready.json().details.down, ['database']);
      const login = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'a', password: 'b' },
      });
      assert.equal(login.statusCode, 503, login.body);
      assert.equal(login.json().error_code, 'SERVICE_UNAVAILABLE');
      assert.ok(Number(login.headers['retry-after']) > 0);
      assert.deepEqual(Object.keys(login.json()).sort(), [
        'details',
        'error_code',
        'message',
        'request_id',
        'status_code',
      ]);
      assert.doesNotMatch(login.body, /pool|pglite|postgres|at \w+ \(/i);
    } finally {
      await app.close();
      await closeDependencies(deps);
      await database?.drop();
    }
  });
});

describe('who may read /metrics', () => {
  const TOKEN = 'metrics-token-0123456789abcdef0123456789';

  /** The app on `config` (built directly, so production mode needs no production secrets here). */
  async function appOn(overrides: Record<string, string>, production: boolean) {
    const database = await createTestDatabase();
    const config = { ...testConfig(overrides, database?.url), PRODUCTION: production };
    const deps = await openDependencies(config, { migrate: true, runsWorker: false });
    const { app } = await buildApp(deps, { logStream: new LogCapture() });
    await app.ready();
    return {
      app,
      close: async () => {
        await app.close();
        await closeDependencies(deps);
        await database?.drop();
      },
    };
  }

  test('with METRICS_TOKEN only that bearer token reads them', async () => {
    const { app, close } = await appOn({ METRICS_TOKEN: TOKEN }, false);
    try {
      for (const authorization of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, TOKEN]) {
        const refused = await app.inject({
          method: 'GET',
          url: '/metrics',
          headers: authorization ? { authorization } : {},
        });
        assert.equal(refused.statusCode, 401, `${authorization}: ${refused.body}`);
        assert.equal(refused.json().error_code, 'UNAUTHORIZED');
        assert.match(String(refused.headers['www-authenticate']), /^Bearer/);
      }
      const read = await app.inject({ method: 'GET', url: '/metrics', headers: bearer(TOKEN) });
      assert.equal(read.statusCode, 200, read.body);
      assert.match(read.body, /db_pool_connections/);
    } finally {
      await close();
    }
  });

  test('in production without a token /metrics is not served; with one it is', async () => {
    const closed = await appOn({}, true);
    try {
      const response = await closed.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(response.statusCode, 404, response.body);
    } finally {
      await closed.close();
    }
    const open = await appOn({ METRICS_TOKEN: TOKEN }, true);
    try {
      const response = await open.app.inject({ method: 'GET', url: '/metrics', headers: bearer(TOKEN) });
      assert.equal(response.statusCode, 200, response.body);
    } finally {
      await open.close();
    }
  });
});
