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

  test('an error about a query parameter names it query.<name>', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/api/v1/core/category?limit=101',
      headers: bearer(t.adminToken),
    });
    assert.equal(response.statusCode, 422);
    const fields = response.json().details.errors.map((error: { field: string }) => error.field);
    assert.deepEqual(fields, ['query.limit']);
  });

  test('an enum error lists the allowed values, once', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/add',
      headers: bearer(t.adminToken),
      payload: { first_name: 'Enum', last_name: 'Case', phone: '+254700111222', gender: 'robot', channel: 3 },
    });
    assert.equal(response.statusCode, 422, response.body);
    const errors = response.json().details.errors as {
      field: string;
      message: string;
      allowed?: unknown[];
    }[];
    assert.deepEqual(
      errors.map((error) => [error.field, error.message, error.allowed]),
      [
        [
          'body.gender',
          'must be one of "female", "male", "other", "undisclosed"',
          ['female', 'male', 'other', 'undisclosed'],
        ],
        [
          'body.channel',
          'must be one of "web", "mobile", "ussd", "agent"',
          ['web', 'mobile', 'ussd', 'agent'],
        ],
      ],
    );
    // A nullable enum lists null too.
    const patched = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/customer/customer/00000000-0000-7000-8000-000000000000',
      headers: bearer(t.adminToken),
      payload: { gender: 'robot' },
    });
    assert.equal(patched.statusCode, 422, patched.body);
    assert.deepEqual(patched.json().details.errors[0].allowed, [
      'female',
      'male',
      'other',
      'undisclosed',
      null,
    ]);
  });

  test('a date of birth in the future or more than 120 years ago is refused', async () => {
    const day = (offsetDays: number, years = 0) => {
      const date = new Date(Date.now() + offsetDays * 86_400_000);
      date.setUTCFullYear(date.getUTCFullYear() - years);
      return date.toISOString().slice(0, 10);
    };
    const add = (dateOfBirth: string, phone: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/customer/customer/add',
        headers: bearer(t.adminToken),
        payload: { first_name: 'Birth', last_name: 'Date', phone, date_of_birth: dateOfBirth },
      });
    for (const [dateOfBirth, message] of [
      [day(2), /future/],
      ['2999-01-01', /future/],
      [day(-2, 120), /120 years/],
      ['1850-06-01', /120 years/],
    ] as const) {
      const refused = await add(dateOfBirth, '+254700333444');
      assert.equal(refused.statusCode, 422, `${dateOfBirth}: ${refused.body}`);
      const [error] = refused.json().details.errors;
      assert.equal(error.field, 'body.date_of_birth');
      assert.match(error.message, message);
    }
    const accepted = await add(day(0, 119), '+254700333445');
    assert.equal(accepted.statusCode, 201, accepted.body);
    const id = accepted.json().id as string;
    const update = (dateOfBirth: string) =>
      t.app.inject({
        method: 'PATCH',
        url: `/api/v1/customer/customer/${id}`,
        headers: bearer(t.adminToken),
        payload: { date_of_birth: dateOfBirth },
      });
    assert.equal((await update(day(3))).statusCode, 422, 'an update is checked too');
    assert.equal((await update('1990-04-12')).statusCode, 200);
  });

  test('a body holding __proto__ is refused naming that key, not as invalid JSON', async () => {
    for (const [payload, field, key] of [
      ['{"username":"admin","password":"x","__proto__":{"admin":true}}', 'body.__proto__', '__proto__'],
      [
        '{"username":"admin","password":"x","extra":{"constructor":{"prototype":{"admin":true}}}}',
        'body.extra.constructor.prototype',
        'constructor.prototype',
      ],
    ]) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'content-type': 'application/json' },
        payload,
      });
      assert.equal(response.statusCode, 400, response.body);
      const body = response.json();
      assertErrorBody(body, 400, 'MALFORMED_REQUEST');
      assert.equal(body.message, `The key "${key}" is not allowed in a request body`);
      assert.equal(body.details.errors[0].field, field);
    }
    const broken = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"__proto__": ',
    });
    assert.equal(broken.statusCode, 400);
    assert.equal(broken.json().message, 'Request body is not valid JSON');
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
