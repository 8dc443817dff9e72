/** What operators rely on: readiness that names what is down, Prometheus metrics, and logs free of secrets. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { buildApp } from '../../src/app.ts';
import { closeDependencies, openDependencies } from '../../src/platform/dependencies.ts';
import {
  bearer,
  createTestDatabase,
  LogCapture,
  startTestApp,
  type TestContext,
  testConfig,
  withProductionModuleVariables,
} from '../helpers/app.ts';

const CALLBACK_SECRET = 'CANARYcallbackSecret4815';

describe('operations', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp({ AFRICASTALKING_CALLBACK_SECRET: CALLBACK_SECRET });
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

  test('secret path segments and personal query values never reach the logs', async () => {
    const before = t.logs.lines.length;
    const callback = await t.app.inject({
      method: 'POST',
      url: `/api/v1/notify/callback/africastalking/${CALLBACK_SECRET}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'status=Success',
    });
    assert.equal(callback.statusCode, 400, callback.body);
    const search = await t.app.inject({
      method: 'GET',
      url: '/api/v1/customer/customer?phone=%2B254700999111&email=canary.person%40bank.test&national_id=CANARYID99&name=Canaryname&limit=5',
      headers: bearer(t.adminToken),
    });
    assert.equal(search.statusCode, 200, search.body);
    const logs = t.logs.lines.slice(before).join('\n');
    for (const canary of [CALLBACK_SECRET, '254700999111', 'canary.person', 'CANARYID99', 'Canaryname']) {
      assert.ok(!logs.includes(canary), `${canary} leaked into the logs`);
    }
    assert.match(logs, /"url":"\/api\/v1\/notify\/callback\/africastalking\/\[REDACTED\]"/);
    assert.match(
      logs,
      /"url":"\/api\/v1\/customer\/customer\?phone=%5BREDACTED%5D&email=%5BREDACTED%5D&national_id=%5BREDACTED%5D&name=%5BREDACTED%5D&limit=5"/,
    );
  });

  test('a statement timeout logs the statement and its SQLSTATE, never its parameters, and answers 503', async () => {
    const phone = '+254700481516';
    // The insert of this phone number is made to time out: for real on PostgreSQL (a sleep longer than the
    // statement timeout of an app built for this test), raised with the same SQLSTATE on PGlite (no timer there).
    const postgres = t.deps.database.kind === 'postgres';
    await t.deps.database.db.execute(
      sql.raw(`create or replace function canary_timeout() returns trigger language plpgsql as $$
        begin
          if new.phone = '${phone}' then
            ${postgres ? 'perform pg_sleep(10);' : "raise exception 'canceling statement due to statement timeout' using errcode = 'query_canceled';"}
          end if;
          return new;
        end $$`),
    );
    await t.deps.database.db.execute(
      sql.raw(
        'create trigger canary_timeout before insert on customer_phones for each row execute function canary_timeout()',
      ),
    );
    const timed = postgres
      ? await openDependencies(
          { ...t.config, DATABASE_STATEMENT_TIMEOUT_MS: 1000 },
          { migrate: false, runsWorker: false },
        )
      : null;
    const logs = postgres ? new LogCapture() : t.logs;
    const app = timed ? (await buildApp(timed, { logStream: logs })).app : t.app;
    const before = logs.lines.length;
    try {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/customer/customer/add',
        headers: bearer(t.adminToken),
        payload: { first_name: 'Timothy', last_name: 'Timeout', phone },
      });
      assert.equal(response.statusCode, 503, response.body);
      assert.equal(response.json().error_code, 'SERVICE_UNAVAILABLE');
      assert.ok(Number(response.headers['retry-after']) > 0, 'Retry-After is set');
      const written = logs.lines.slice(before).join('\n');
      assert.ok(written.length > 0, 'nothing was logged');
      for (const leak of ['254700481516', 'Timothy', 'Failed query', 'params:', 'insert into']) {
        assert.ok(!written.includes(leak), `${leak} leaked into the logs`);
      }
      const failed = logs.lines
        .slice(before)
        .map(
          (line) =>
            JSON.parse(line) as { level: number; err?: { query?: { statement: string; code: string } } },
        )
        .find((line) => line.err?.query);
      assert.ok(failed, 'the failure is logged');
      assert.equal(failed.level, 50, 'at error level');
      assert.equal(failed.err?.query?.code, '57014');
      assert.match(String(failed.err?.query?.statement), /^insert customer_phones#[0-9a-f]{8}$/);
    } finally {
      if (timed) {
        await app.close();
        await closeDependencies(timed);
      }
      await t.deps.database.db.execute(sql.raw('drop trigger canary_timeout on customer_phones'));
    }
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
    const build = () => buildApp(deps, { logStream: new LogCapture() });
    const { app } = await (production ? withProductionModuleVariables(build) : build());
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
