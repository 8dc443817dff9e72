/**
 * Every route declares its access; anonymous callers get 401 on every protected operation and a signed-in user
 * without the permission gets 403, for every operation of the OpenAPI document (new routes are covered automatically).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RouteOptions } from 'fastify';
import { documentRoute } from '../../src/app.ts';
import { bearer, login, startTestApp, type TestContext } from '../helpers/app.ts';

interface Operation {
  method: string;
  path: string;
  url: string;
  security: unknown[];
  description: string;
}

function operationsOf(document: {
  paths: Record<string, Record<string, { security?: unknown[]; description?: string }>>;
}) {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      operations.push({
        method: method.toUpperCase(),
        path,
        url: path.replace(/\{[^}]+\}/g, '01a20000-0000-7000-8000-000000000000'),
        security: operation.security ?? [],
        description: operation.description ?? '',
      });
    }
  }
  return operations;
}

test('a route that declares no access cannot be registered', () => {
  const route = { method: 'GET', url: '/api/v1/undeclared', handler: async () => null } as RouteOptions;
  assert.throws(() => documentRoute(route), /declares no access/);
  const declared = { ...route, config: { access: { permission: 'core:audit_read' } } } as RouteOptions;
  documentRoute(declared);
  assert.deepEqual((declared.schema as { security: unknown }).security, [{ bearerAuth: [] }]);
});

describe('access on every documented operation', () => {
  let t: TestContext;
  let operations: Operation[];
  let noRoleToken: string;
  before(async () => {
    t = await startTestApp();
    operations = operationsOf((await t.app.inject({ method: 'GET', url: '/openapi.json' })).json());
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      headers: bearer(t.adminToken),
      payload: {
        username: 'nobody',
        email: 'nobody@bank.test',
        full_name: 'No Roles',
        password: 'no roles at all 123',
        roles: [],
        must_change_password: false,
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    noRoleToken = (await login(t.app, 'nobody', 'no roles at all 123')).access_token;
  });
  after(async () => t.close());

  test('anonymous requests to protected operations are 401 with the standard body', async () => {
    const protectedOperations = operations.filter((operation) => operation.security.length > 0);
    assert.ok(protectedOperations.length >= 15);
    for (const operation of protectedOperations) {
      const response = await t.app.inject({
        method: operation.method as 'GET',
        url: operation.url,
        payload: {},
      });
      assert.equal(
        response.statusCode,
        401,
        `${operation.method} ${operation.path} answered ${response.statusCode}`,
      );
      assert.equal(response.json().error_code, 'UNAUTHORIZED');
    }
  });

  test('a garbage bearer token is 401, never 500', async () => {
    for (const operation of operations.filter((item) => item.security.length > 0)) {
      const response = await t.app.inject({
        method: operation.method as 'GET',
        url: operation.url,
        headers: { authorization: 'Bearer not.a.token' },
      });
      assert.equal(response.statusCode, 401, `${operation.method} ${operation.path}`);
    }
  });

  test('a signed-in user without the permission gets 403 on every permission-guarded operation', async () => {
    const guarded = operations.filter((operation) =>
      /Requires `[a-z_]+:[a-z_]+`/.test(operation.description),
    );
    assert.ok(guarded.length >= 10);
    for (const operation of guarded) {
      const response = await t.app.inject({
        method: operation.method as 'GET',
        url: operation.url,
        headers: bearer(noRoleToken),
        payload: {},
      });
      assert.equal(
        response.statusCode,
        403,
        `${operation.method} ${operation.path} answered ${response.statusCode}`,
      );
      assert.equal(response.json().error_code, 'FORBIDDEN');
    }
  });

  test('public operations answer without a token', async () => {
    for (const operation of operations.filter(
      (item) => item.security.length === 0 && item.method === 'GET',
    )) {
      const response = await t.app.inject({ method: 'GET', url: operation.url });
      assert.notEqual(response.statusCode, 401, operation.path);
      assert.ok(response.statusCode < 500, `${operation.path} answered ${response.statusCode}`);
    }
  });
});

describe('a customer naming another customer in a list filter', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  test('is not found on every customer-scoped list (derived from the OpenAPI document), never an empty or own page', async () => {
    const { createCustomer } = await import('../helpers/money.ts');
    const asker = await createCustomer(t, 'Filter Asker', '+254799100001');
    const other = await createCustomer(t, 'Filter Other', '+254799100002');
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
    };
    const probed: string[] = [];
    for (const [path, methods] of Object.entries(document.paths)) {
      const parameters = methods.get?.parameters ?? [];
      if (path.includes('{')) continue;
      for (const name of ['customer_id', 'owner_customer_id']) {
        if (!parameters.some((parameter) => parameter.in === 'query' && parameter.name === name)) continue;
        const answer = await t.app.inject({
          method: 'GET',
          url: `${path}?${name}=${other.id}`,
          headers: bearer(asker.token),
        });
        probed.push(`${path}?${name}: ${answer.statusCode}`);
        // 403 where customers may not list at all; otherwise the other customer is not found.
        assert.ok(
          [403, 404].includes(answer.statusCode),
          `${path}?${name}: ${answer.statusCode} ${answer.body}`,
        );
        assert.equal(answer.json().error_code, answer.statusCode === 404 ? 'NOT_FOUND' : 'FORBIDDEN');
      }
    }
    assert.ok(probed.filter((line) => line.endsWith('404')).length >= 8, probed.join('\n'));
  });
});
