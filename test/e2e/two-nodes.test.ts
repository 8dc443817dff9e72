/**
 * Two API nodes on one database and one Redis prefix (RELIABILITY property 14 "on every API node", and 17):
 * a token issued by one node works on the other, and revocation or a lockout on one holds on the other
 * from the next request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { type Application, buildApp } from '../../src/app.ts';
import { users } from '../../src/modules/identity/identity.tables.ts';
import { closeDependencies, type Dependencies, openDependencies } from '../../src/platform/dependencies.ts';
import {
  ADMIN_PASSWORD,
  bearer,
  LogCapture,
  login,
  sharedServices,
  startTestApp,
  type TestContext,
} from '../helpers/app.ts';
import { needsSharedServices } from '../helpers/databases.ts';

const PASSWORD = 'granite orchard signal 71';

// Defined where PostgreSQL and Redis are configured (always in CI): PGlite and the memory store are per-process.
if (sharedServices)
  describe('two API nodes sharing PostgreSQL and Redis', () => {
    let t: TestContext;
    let depsB: Dependencies;
    let nodeB: Application;
    let a: TestContext['app'];
    let b: Application['app'];
    let counter = 0;

    before(async () => {
      t = await startTestApp({ LOGIN_MAX_FAILURES: '3' });
      // Node B: the same configuration object, so the same DATABASE_URL and REDIS_KEY_PREFIX.
      depsB = await openDependencies(t.config, { migrate: false, runsWorker: false });
      nodeB = await buildApp(depsB, { logStream: new LogCapture() });
      await nodeB.app.ready();
      a = t.app;
      b = nodeB.app;
    });
    after(async () => {
      await nodeB?.app.close();
      if (depsB) await closeDependencies(depsB);
      await t?.close();
    });

    const me = (app: TestContext['app'], token: string) =>
      app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) });

    /** Creates a staff user on node A. */
    async function createUser() {
      counter += 1;
      const username = `node.user${counter}`;
      const response = await a.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        headers: bearer(t.adminToken),
        payload: {
          username,
          email: `${username}@bank.test`,
          full_name: 'Node User',
          password: PASSWORD,
          must_change_password: false,
        },
      });
      assert.equal(response.statusCode, 201, response.body);
      return username;
    }

    test('the nodes really share one database and one Redis prefix', () => {
      assert.equal(t.deps.store.kind, 'redis');
      assert.equal(depsB.store.kind, 'redis');
      assert.equal(t.deps.database.kind, 'postgres');
      assert.equal(depsB.database.connectionString, t.deps.database.connectionString);
      assert.equal(depsB.config.REDIS_KEY_PREFIX, t.config.REDIS_KEY_PREFIX);
      assert.notEqual(depsB.store, t.deps.store);
    });

    test('a token issued on node A works on node B, and the other way round', async () => {
      const username = await createUser();
      const fromA = await login(a, username, PASSWORD);
      const onB = await me(b, fromA.access_token);
      assert.equal(onB.statusCode, 200, onB.body);
      assert.equal(onB.json().user.username, username);
      const fromB = await login(b, username, PASSWORD);
      assert.equal((await me(a, fromB.access_token)).statusCode, 200);
      // A refresh token from A rotates on B.
      const refreshed = await b.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: fromA.refresh_token },
      });
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      assert.equal((await me(a, refreshed.json().access_token)).statusCode, 200);
    });

    test('logout on node A: the token is refused on node B at the next request', async () => {
      const username = await createUser();
      const tokens = await login(a, username, PASSWORD);
      assert.equal((await me(b, tokens.access_token)).statusCode, 200);
      const logout = await a.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: bearer(tokens.access_token),
      });
      assert.equal(logout.statusCode, 204);
      const onB = await me(b, tokens.access_token);
      assert.equal(onB.statusCode, 401, onB.body);
      const refreshOnB = await b.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: tokens.refresh_token },
      });
      assert.equal(refreshOnB.statusCode, 401);
    });

    test('a session revoked on node B is refused on node A', async () => {
      const username = await createUser();
      const first = await login(a, username, PASSWORD);
      const second = await login(a, username, PASSWORD);
      const revoke = await b.inject({
        method: 'DELETE',
        url: `/api/v1/auth/sessions/${decodeJwt(second.access_token).sid}`,
        headers: bearer(first.access_token),
      });
      assert.equal(revoke.statusCode, 204, revoke.body);
      assert.equal((await me(a, second.access_token)).statusCode, 401);
      assert.equal((await me(a, first.access_token)).statusCode, 200);
    });

    test('a password change on node A ends the sessions on node B', async () => {
      const username = await createUser();
      const tokens = await login(a, username, PASSWORD);
      const other = await login(b, username, PASSWORD);
      const change = await a.inject({
        method: 'POST',
        url: '/api/v1/auth/password/change',
        headers: bearer(tokens.access_token),
        payload: { current_password: PASSWORD, new_password: 'copper lighthouse drift 64' },
      });
      assert.equal(change.statusCode, 204, change.body);
      assert.equal((await me(b, tokens.access_token)).statusCode, 401);
      assert.equal((await me(b, other.access_token)).statusCode, 401);
    });

    test('refresh-token reuse detected on node B kills the family on node A', async () => {
      const username = await createUser();
      const first = await login(a, username, PASSWORD);
      const rotated = await a.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: first.refresh_token },
      });
      assert.equal(rotated.statusCode, 200);
      const second = rotated.json();
      const reuse = await b.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: first.refresh_token },
      });
      assert.equal(reuse.statusCode, 401);
      assert.equal((await me(a, second.access_token)).statusCode, 401);
      const next = await a.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: second.refresh_token },
      });
      assert.equal(next.statusCode, 401);
    });

    test('a disabled account is refused on both nodes at the next request', async () => {
      const username = await createUser();
      const onA = await login(a, username, PASSWORD);
      const onB = await login(b, username, PASSWORD);
      await t.deps.database.db.update(users).set({ status: 'disabled' }).where(eq(users.username, username));
      assert.equal((await me(a, onA.access_token)).statusCode, 401);
      assert.equal((await me(b, onA.access_token)).statusCode, 401);
      assert.equal((await me(b, onB.access_token)).statusCode, 401);
    });

    test('a lockout built up across both nodes holds on both', async () => {
      const username = await createUser();
      const wrong = (app: TestContext['app'], index: number) =>
        app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { username, password: `wrong ${index}` },
          remoteAddress: `10.20.0.${index}`,
        });
      assert.equal((await wrong(a, 1)).statusCode, 401);
      assert.equal((await wrong(b, 2)).statusCode, 401);
      assert.equal((await wrong(a, 3)).statusCode, 401);
      for (const app of [a, b]) {
        const right = await app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { username, password: PASSWORD },
          remoteAddress: '10.20.1.1',
        });
        assert.equal(right.statusCode, 423, right.body);
        assert.equal(right.json().error_code, 'ACCOUNT_LOCKED');
        assert.ok(Number(right.headers['retry-after']) >= 1);
      }
    });

    test('after a key rotation on node A, node B verifies the new tokens and still the old ones', async () => {
      const old = await login(a, 'admin', ADMIN_PASSWORD);
      const newKid = await t.application.identity.tokens.rotate();
      const fresh = await login(a, 'admin', ADMIN_PASSWORD);
      assert.equal(decodeProtectedHeader(fresh.access_token).kid, newKid);
      // Node B reloads keys it does not know at most every few seconds; wait out that window once.
      await new Promise((resolve) => setTimeout(resolve, 5_200));
      assert.equal((await me(b, fresh.access_token)).statusCode, 200);
      assert.equal((await me(b, old.access_token)).statusCode, 200);
      const jwks = (await b.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as {
        keys: { kid: string }[];
      };
      assert.ok(jwks.keys.some((key) => key.kid === newKid));
    });
  });
else test('two API nodes sharing PostgreSQL and Redis', { skip: needsSharedServices }, () => {});
