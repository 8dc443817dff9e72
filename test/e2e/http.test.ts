/** The HTTP platform: error body everywhere, strict validation, request ids, security headers, limits. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, startTestApp, type TestContext } from '../helpers/app.ts';

const ERROR_KEYS = ['details', 'error_code', 'message', 'request_id', 'status_code'];

function assertErrorBody(body: Record<string, unknown>, status: number, code: string) {
  assert.deepEqual(Object.keys(body).sort(), ERROR_KEYS);
  assert.equal(body.status_code, status);
  assert.equal(body.error_code, code);
  assert.equal(typeof body.message, 'string');
  assert.equal(typeof body.request_id, 'string');
}

describe('HTTP platform', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  test('unknown route answers 404 NOT_FOUND in the standard body', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/nowhere' });
    assert.equal(response.statusCode, 404);
    assertErrorBody(response.json(), 404, 'NOT_FOUND');
  });

  test('malformed JSON is a 400 without internals', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"username": "admin", ',
    });
    assert.equal(response.statusCode, 400);
    assertErrorBody(response.json(), 400, 'MALFORMED_REQUEST');
    assert.doesNotMatch(response.body, /at .*\.js|SyntaxError|stack/);
  });

  test('unknown body fields are a 422 naming the field, not silently stripped', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: 'x', role: 'super_admin' },
    });
    assert.equal(response.statusCode, 422);
    const body = response.json();
    assertErrorBody(body, 422, 'VALIDATION_ERROR');
    assert.ok(body.details.errors.some((error: { field: string }) => error.field === 'body.role'));
  });

  test('wrong types are a 422, not coerced', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/core/category/add',
      headers: bearer(t.adminToken),
      payload: { entity_type: 'customer', code: 'vip', name: 'VIP', sort_order: '5' },
    });
    assert.equal(response.statusCode, 422);
    const body = response.json();
    assert.ok(body.details.errors.some((error: { field: string }) => error.field === 'body.sort_order'));
  });

  test('a missing required field is a 422 naming it', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin' },
    });
    assert.equal(response.statusCode, 422);
    assert.ok(
      response.json().details.errors.some((error: { field: string }) => error.field === 'body.password'),
    );
  });

  test('query parameters are coerced to their declared types and still bounded', async () => {
    const ok = await t.app.inject({
      method: 'GET',
      url: '/api/v1/core/category?limit=5',
      headers: bearer(t.adminToken),
    });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json().items.length, 5);
    const tooMany = await t.app.inject({
      method: 'GET',
      url: '/api/v1/core/category?limit=101',
      headers: bearer(t.adminToken),
    });
    assert.equal(tooMany.statusCode, 422);
    const badCursor = await t.app.inject({
      method: 'GET',
      url: '/api/v1/core/category?cursor=%%%',
      headers: bearer(t.adminToken),
    });
    assert.equal(badCursor.statusCode, 422);
  });

  test('an incoming X-Request-ID is echoed and used in errors; a hostile one is replaced', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/nowhere',
      headers: { 'x-request-id': 'abc-123.def' },
    });
    assert.equal(response.headers['x-request-id'], 'abc-123.def');
    assert.equal(response.json().request_id, 'abc-123.def');
    const hostile = await t.app.inject({
      method: 'GET',
      url: '/nowhere',
      headers: { 'x-request-id': 'a b\tc' },
    });
    assert.notEqual(hostile.headers['x-request-id'], 'a b\tc');
    assert.match(String(hostile.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  test('tokens are never taken from cookies, so cross-site requests cannot ride on them (no CSRF surface)', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { cookie: `access_token=${t.adminToken}; token=${t.adminToken}` },
    });
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['set-cookie'], undefined);
  });

  test('security headers are set', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/health/live' });
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.equal(response.headers['x-frame-options'], 'SAMEORIGIN');
    assert.match(String(response.headers['content-security-policy']), /default-src 'none'/);
    assert.equal(response.headers['cache-control'], 'no-store');
  });

  test('CORS allows no origin by default', async () => {
    const response = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/auth/login',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(response.headers['access-control-allow-origin'], undefined);
  });

  test('a body over the limit is a 413 in the standard body', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'x'.repeat(2 * 1024 * 1024), password: 'y' },
    });
    assert.equal(response.statusCode, 413);
    assertErrorBody(response.json(), 413, 'PAYLOAD_TOO_LARGE');
  });

  test('openapi.json documents every route with operationId, tags, error responses and security', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    const document = response.json();
    assert.equal(document.openapi, '3.1.0');
    const operations = Object.entries(
      document.paths as Record<string, Record<string, Record<string, unknown>>>,
    ).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
    );
    assert.ok(operations.length > 20);
    const ids = new Set<string>();
    for (const { path, method, operation } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      assert.equal(typeof operation.operationId, 'string', `${where} has no operationId`);
      assert.ok(!ids.has(operation.operationId as string), `${where} repeats an operationId`);
      ids.add(operation.operationId as string);
      assert.ok(Array.isArray(operation.tags) && operation.tags.length > 0, `${where} has no tags`);
      assert.ok(Array.isArray(operation.security), `${where} declares no security`);
      const responses = operation.responses as Record<string, unknown>;
      for (const status of ['401', '422', '500']) assert.ok(responses[status], `${where} lacks ${status}`);
    }
  });
});

describe('HTTP platform with tight limits', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp({ RATE_LIMIT_MAX: '20', CORS_ORIGINS: 'https://app.bank.example' });
  });
  after(async () => t.close());

  test('the rate limit answers 429 with Retry-After in the standard body', async () => {
    let limited: Awaited<ReturnType<typeof t.app.inject>> | undefined;
    for (let index = 0; index < 40 && !limited; index += 1) {
      const response = await t.app.inject({
        method: 'GET',
        url: '/api/v1/app/config',
        remoteAddress: '10.9.9.9',
      });
      if (response.statusCode === 429) limited = response;
    }
    assert.ok(limited, 'never limited');
    assertErrorBody(limited.json(), 429, 'RATE_LIMITED');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    const health = await t.app.inject({ method: 'GET', url: '/health/live', remoteAddress: '10.9.9.9' });
    assert.equal(health.statusCode, 200, 'health checks are never rate limited');
  });

  test('requests without a token are rate limited too (the limit runs before the access check)', async () => {
    const statuses = new Set<number>();
    for (let index = 0; index < 30; index += 1) {
      const response = await t.app.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        remoteAddress: '10.8.8.8',
      });
      statuses.add(response.statusCode);
    }
    assert.deepEqual([...statuses].sort(), [401, 429]);
  });

  test('CORS allows the configured origin only', async () => {
    const allowed = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/auth/login',
      headers: { origin: 'https://app.bank.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.bank.example');
    const denied = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/auth/login',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(denied.headers['access-control-allow-origin'], undefined);
  });
});
