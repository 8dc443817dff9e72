/**
 * What a deployment exposes by configuration: the client address behind load balancers (TRUST_PROXY: a client must
 * not pick its own address for per-IP rate limits and IP allowlists) and who may read the API documentation (API_DOCS).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { apiDocsMode, type Config } from '../../src/config.ts';
import {
  bearer,
  LogCapture,
  startTestApp,
  type TestContext,
  testConfig,
  withProductionModuleVariables,
} from '../helpers/app.ts';
import { createCustomer } from '../helpers/money.ts';

/** Another app on the test app's database and store, built with `overrides` applied to its configuration. */
async function appBeside(t: TestContext, overrides: Partial<Record<keyof Config, unknown>>) {
  const logs = new LogCapture();
  const { app } = await withProductionModuleVariables(() =>
    buildApp({ ...t.deps, config: { ...t.config, ...overrides } as Config }, { logStream: logs }),
  );
  await app.ready();
  return { app, logs };
}

type Built = Awaited<ReturnType<typeof appBeside>>;

/** The client address the app saw for one request: the `ip` of its access-log line. */
async function addressSeen(
  built: Built,
  options: { socket: string; forwardedFor?: string; token: string },
): Promise<{ ip: string; status: number; code: string | undefined }> {
  const id = `ip-${Math.random().toString(36).slice(2)}`;
  const response = await built.app.inject({
    method: 'GET',
    url: '/api/v1/auth/me',
    remoteAddress: options.socket,
    headers: {
      ...bearer(options.token),
      'x-request-id': id,
      ...(options.forwardedFor ? { 'x-forwarded-for': options.forwardedFor } : {}),
    },
  });
  const line = built.logs.lines
    .map((text) => JSON.parse(text) as { req?: { id?: string; ip?: string } })
    .find((entry) => entry.req?.id === id);
  assert.ok(line?.req?.ip, `no access-log line for ${id}`);
  const body = response.json() as { error_code?: string };
  return { ip: line.req.ip, status: response.statusCode, code: body.error_code };
}

describe('the client address behind proxies (TRUST_PROXY)', () => {
  let t: TestContext;
  let policyId: string;
  const OFFICE = '10.20.3.4';
  const ELSEWHERE = '198.51.100.9';
  before(async () => {
    t = await startTestApp();
    // Administrators may work from the office range only: the policy the spoofed header tries to get around.
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/policy/access/add',
      headers: bearer(t.adminToken),
      payload: { name: 'admins from the office', role_code: 'super_admin', ip_allowlist: ['10.20.0.0/16'] },
    });
    assert.equal(created.statusCode, 201, created.body);
    policyId = created.json().id;
  });
  after(async () => {
    await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/policy/access/${policyId}`,
      headers: bearer(t.adminToken),
      remoteAddress: OFFICE,
    });
    await t.close();
  });

  test('true means one trusted hop, a count or CIDRs are accepted, anything else is refused', () => {
    const parse = (value: string) => testConfig({ TRUST_PROXY: value }).TRUST_PROXY;
    assert.equal(parse('true'), 1);
    assert.equal(parse('false'), false);
    assert.equal(parse('2'), 2);
    assert.deepEqual(parse('10.0.0.0/8, 192.0.2.7,loopback,fd00::/8'), [
      '10.0.0.0/8',
      '192.0.2.7',
      'loopback',
      'fd00::/8',
    ]);
    for (const bad of ['maybe', '10.0.0.0/33', 'lb.internal', '-1']) {
      assert.throws(() => parse(bad), /TRUST_PROXY/, bad);
    }
  });

  test('behind one proxy the left-most X-Forwarded-For (written by the client) is ignored', async () => {
    for (const setting of [1, 'true']) {
      const trust = typeof setting === 'number' ? setting : testConfig({ TRUST_PROXY: setting }).TRUST_PROXY;
      const built = await appBeside(t, { TRUST_PROXY: trust, RATE_LIMIT_MAX: 3 });
      try {
        const balancer = '10.0.0.1';
        const honest = await addressSeen(built, {
          socket: balancer,
          forwardedFor: OFFICE,
          token: t.adminToken,
        });
        assert.deepEqual([honest.ip, honest.status], [OFFICE, 200]);
        const spoofed = await addressSeen(built, {
          socket: balancer,
          forwardedFor: `${OFFICE}, ${ELSEWHERE}`,
          token: t.adminToken,
        });
        assert.deepEqual([spoofed.ip, spoofed.status, spoofed.code], [ELSEWHERE, 403, 'ACCESS_POLICY']);

        // The per-IP rate limit counts the real client, whatever it writes in front.
        const client = `198.51.100.${typeof setting === 'number' ? 77 : 78}`;
        const statuses: number[] = [];
        for (let index = 0; index < 4; index += 1) {
          const response = await built.app.inject({
            method: 'GET',
            url: '/api/v1/app/config',
            remoteAddress: balancer,
            headers: { 'x-forwarded-for': `203.0.113.${index}, ${client}` },
          });
          statuses.push(response.statusCode);
        }
        assert.deepEqual(statuses, [200, 200, 200, 429], `TRUST_PROXY=${setting}`);
      } finally {
        await built.app.close();
      }
    }
  });

  test('behind two proxies (a hop count or their CIDRs) the client is the address before them', async () => {
    for (const trust of [2, ['10.0.0.0/24']]) {
      const built = await appBeside(t, { TRUST_PROXY: trust });
      try {
        // client → proxy 10.0.0.1 → proxy 10.0.0.2 → API; the client wrote the first entry itself.
        const from = (real: string, written: string) =>
          addressSeen(built, {
            socket: '10.0.0.2',
            forwardedFor: `${written}, ${real}, 10.0.0.1`,
            token: t.adminToken,
          });
        const office = await from(OFFICE, ELSEWHERE);
        assert.deepEqual([office.ip, office.status], [OFFICE, 200], JSON.stringify(trust));
        const spoofed = await from(ELSEWHERE, OFFICE);
        assert.deepEqual([spoofed.ip, spoofed.status], [ELSEWHERE, 403], JSON.stringify(trust));
      } finally {
        await built.app.close();
      }
    }
    // With proxy CIDRs a client reaching the API around the balancers is not believed either.
    const cidrs = await appBeside(t, { TRUST_PROXY: ['10.0.0.0/24'] });
    try {
      const direct = await addressSeen(cidrs, {
        socket: ELSEWHERE,
        forwardedFor: OFFICE,
        token: t.adminToken,
      });
      assert.deepEqual([direct.ip, direct.status], [ELSEWHERE, 403]);
    } finally {
      await cidrs.app.close();
    }
  });

  test('without TRUST_PROXY the socket address is the client, whatever the header says', async () => {
    const built = await appBeside(t, { TRUST_PROXY: false });
    try {
      const seen = await addressSeen(built, { socket: ELSEWHERE, forwardedFor: OFFICE, token: t.adminToken });
      assert.deepEqual([seen.ip, seen.status], [ELSEWHERE, 403]);
    } finally {
      await built.app.close();
    }
  });
});

describe('who may read the API documentation (API_DOCS)', () => {
  let t: TestContext;
  let customerToken: string;
  before(async () => {
    t = await startTestApp();
    customerToken = (await createCustomer(t, 'Docs', '+254700555666')).token;
  });
  after(async () => t.close());

  const DOCS = ['/openapi.json', '/docs', '/docs/json'];

  async function statuses(built: Built, token?: string) {
    const seen: number[] = [];
    for (const url of DOCS) {
      const response = await built.app.inject({ method: 'GET', url, headers: token ? bearer(token) : {} });
      seen.push(response.statusCode === 302 ? 200 : response.statusCode);
    }
    return seen;
  }

  test('the default is off in production and public otherwise', () => {
    assert.equal(apiDocsMode({ API_DOCS: undefined, PRODUCTION: true }), 'off');
    assert.equal(apiDocsMode({ API_DOCS: undefined, PRODUCTION: false }), 'public');
    assert.equal(apiDocsMode({ API_DOCS: 'staff', PRODUCTION: true }), 'staff');
    assert.equal(testConfig({ API_DOCS: 'staff' }).API_DOCS, 'staff');
    assert.throws(() => testConfig({ API_DOCS: 'everyone' }), /API_DOCS must be one of public, staff, off/);
  });

  test('public: anyone reads them', async () => {
    const built = await appBeside(t, { API_DOCS: 'public' });
    try {
      assert.deepEqual(await statuses(built), [200, 200, 200]);
      const document = await built.app.inject({ method: 'GET', url: '/openapi.json' });
      assert.equal(document.json().openapi, '3.1.0');
    } finally {
      await built.app.close();
    }
  });

  test('staff: a staff bearer token is needed; anonymous is 401 and a customer 403', async () => {
    const built = await appBeside(t, { API_DOCS: 'staff' });
    try {
      assert.deepEqual(await statuses(built), [401, 401, 401]);
      assert.deepEqual(await statuses(built, customerToken), [403, 403, 403]);
      assert.deepEqual(await statuses(built, t.adminToken), [200, 200, 200]);
      const document = await built.app.inject({
        method: 'GET',
        url: '/openapi.json',
        headers: bearer(t.adminToken),
      });
      assert.equal(document.json().openapi, '3.1.0');
    } finally {
      await built.app.close();
    }
  });

  test('off, and production without API_DOCS: not served at all', async () => {
    for (const overrides of [{ API_DOCS: 'off' }, { PRODUCTION: true, API_DOCS: undefined }]) {
      const built = await appBeside(t, overrides);
      try {
        assert.deepEqual(await statuses(built), [404, 404, 404], JSON.stringify(overrides));
        assert.deepEqual(await statuses(built, t.adminToken), [404, 404, 404], JSON.stringify(overrides));
        // The document is still generated from the routes (npm run openapi:write).
        assert.ok(Object.keys((built.app.swagger() as { paths: object }).paths).length > 20);
      } finally {
        await built.app.close();
      }
    }
  });
});
