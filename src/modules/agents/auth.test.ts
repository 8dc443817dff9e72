/** Operator sign-in (PIN on a bound device, admin password + SMS code), sessions, and the operator's scope. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, desc, eq } from 'drizzle-orm';
import {
  type AgentNetworkFixture,
  agentNetwork,
  agentOfficerToken,
  createTeller,
  deviceKeys,
  randomPhone,
  signLogin,
  TELLER_PIN,
  tellerLogin,
} from '../../../test/helpers/agents.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { type Envelope, openEnvelope } from '../../platform/crypto.ts';
import { outboxEvents } from '../../platform/platform.tables.ts';
import { agentsModule } from './index.ts';

const ADMIN_PASSWORD = 'violet canyon ledger 93';

describe('agent operator sign-in and scope', () => {
  let t: TestContext;
  let net: AgentNetworkFixture;
  let other: AgentNetworkFixture;
  let officer: string;

  const post = (url: string, token: string | null, payload?: object) =>
    t.app.inject({
      method: 'POST',
      url,
      ...(token ? { headers: bearer(token) } : {}),
      ...(payload ? { payload } : {}),
    });
  const get = (url: string, token: string) => t.app.inject({ method: 'GET', url, headers: bearer(token) });

  before(async () => {
    t = await startTestApp();
    net = await agentNetwork(t);
    other = await agentNetwork(t);
    officer = await agentOfficerToken(t);
  });
  after(() => t.close());

  test('a teller signs in on the bound device; the session is on the agent channel; refresh and logout work', async () => {
    const teller = await createTeller(t, net.agent.id, net.stores[0]!.id, { signIn: false });
    const login = await tellerLogin(t, {
      phone: teller.phone,
      deviceId: teller.deviceId,
      privateKey: teller.devicePrivateKey,
    });
    assert.equal(login.statusCode, 200, login.body);
    const { access_token, refresh_token } = login.json();
    const claims = JSON.parse(Buffer.from(access_token.split('.')[1], 'base64url').toString());
    assert.equal(claims.ptype, 'agent_operator');
    assert.equal(claims.sub, teller.id);
    assert.equal(claims.chn, 'agent');
    const me = await get('/api/v1/agent/me', access_token);
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json().operator.id, teller.id);
    assert.ok(me.json().operator.last_login_at);
    const refreshed = await post('/api/v1/auth/refresh', null, { refresh_token });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    const next = refreshed.json().access_token as string;
    assert.equal((await get('/api/v1/agent/me', next)).statusCode, 200);
    const logout = await post('/api/v1/auth/logout', next, { refresh_token: refreshed.json().refresh_token });
    assert.ok([200, 204].includes(logout.statusCode), logout.body);
    assert.equal((await get('/api/v1/agent/me', next)).statusCode, 401);
  });

  test('a nonce is single use and bound to its device', async () => {
    const teller = net.tellers[0]!;
    const challenge = await post('/api/v1/agent/auth/challenge', null, {
      phone: teller.phone,
      device_id: teller.deviceId,
    });
    const { nonce } = challenge.json();
    const body = {
      phone: teller.phone,
      device_id: teller.deviceId,
      pin: TELLER_PIN,
      nonce,
      signature: signLogin(teller.devicePrivateKey, nonce, teller.deviceId),
    };
    const results = await Promise.all([1, 2, 3].map(() => post('/api/v1/agent/auth/login', null, body)));
    assert.deepEqual(
      results.map((result) => result.statusCode).sort(),
      [200, 401, 401],
      results.map((result) => result.body).join('\n'),
    );
    for (const result of results.filter((item) => item.statusCode === 401))
      assert.equal(result.json().error_code, 'AGENT_AUTH_FAILED');
  });

  test('wrong device signature, unbound device and revoked device are refused alike', async () => {
    const teller = await createTeller(t, net.agent.id, net.stores[0]!.id, { signIn: false });
    const stranger = deviceKeys();
    const wrongKey = await tellerLogin(t, {
      phone: teller.phone,
      deviceId: teller.deviceId,
      privateKey: teller.devicePrivateKey,
      signWith: stranger.privateKey,
    });
    assert.equal(wrongKey.statusCode, 401);
    assert.equal(wrongKey.json().error_code, 'AGENT_AUTH_FAILED');
    const unbound = await tellerLogin(t, {
      phone: teller.phone,
      deviceId: stranger.deviceId,
      privateKey: stranger.privateKey,
    });
    assert.equal(unbound.statusCode, 401);
    assert.equal(unbound.json().error_code, 'AGENT_AUTH_FAILED');
    const unknownPhone = await tellerLogin(t, {
      phone: randomPhone(),
      deviceId: teller.deviceId,
      privateKey: teller.devicePrivateKey,
    });
    assert.equal(unknownPhone.json().error_code, 'AGENT_AUTH_FAILED');
    const revoked = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/agent/operator/${teller.id}/device/${teller.deviceId}`,
      headers: bearer(officer),
    });
    assert.equal(revoked.statusCode, 200, revoked.body);
    const afterRevoke = await tellerLogin(t, {
      phone: teller.phone,
      deviceId: teller.deviceId,
      privateKey: teller.devicePrivateKey,
    });
    assert.equal(afterRevoke.statusCode, 401);
    assert.equal(afterRevoke.json().error_code, 'AGENT_AUTH_FAILED');
  });

  test('wrong PINs count down, then lock (even the right PIN); a staff PIN reset lifts the lock', async () => {
    const teller = await createTeller(t, net.agent.id, net.stores[0]!.id, { signIn: false });
    const attempt = (pin: string) =>
      tellerLogin(t, {
        phone: teller.phone,
        deviceId: teller.deviceId,
        privateKey: teller.devicePrivateKey,
        pin,
      });
    for (let left = 4; left >= 1; left -= 1) {
      const wrong = await attempt('000111');
      assert.equal(wrong.statusCode, 401, wrong.body);
      assert.equal(wrong.json().error_code, 'AGENT_PIN_INVALID');
      assert.equal(wrong.json().details.attempts_left, left);
    }
    const locking = await attempt('000111');
    assert.equal(locking.statusCode, 423, locking.body);
    assert.equal(locking.json().error_code, 'AGENT_PIN_LOCKED');
    const right = await attempt(TELLER_PIN);
    assert.equal(right.statusCode, 423);
    const reset = await post(`/api/v1/agent/operator/${teller.id}/pin`, officer, { pin: '246813' });
    assert.equal(reset.statusCode, 204, reset.body);
    assert.equal((await attempt(TELLER_PIN)).statusCode, 401);
    assert.equal((await attempt('246813')).statusCode, 200);
  });

  test('a suspended operator, store or agent cannot sign in, and its live token stops working', async () => {
    const teller = await createTeller(t, other.agent.id, other.stores[0]!.id);
    const login = () =>
      tellerLogin(t, { phone: teller.phone, deviceId: teller.deviceId, privateKey: teller.devicePrivateKey });
    for (const [suspend, reactivate] of [
      [`/api/v1/agent/operator/${teller.id}/suspend`, `/api/v1/agent/operator/${teller.id}/reactivate`],
      [
        `/api/v1/agent/store/${other.stores[0]!.id}/suspend`,
        `/api/v1/agent/store/${other.stores[0]!.id}/reactivate`,
      ],
      [`/api/v1/agent/agent/${other.agent.id}/suspend`, `/api/v1/agent/agent/${other.agent.id}/reactivate`],
    ] as const) {
      assert.equal((await post(suspend, officer, { reason: 'check' })).statusCode, 200);
      assert.equal((await get('/api/v1/agent/me', teller.token)).statusCode, 401);
      const refused = await login();
      assert.equal(refused.statusCode, 403, refused.body);
      assert.equal(refused.json().error_code, 'AGENT_OPERATOR_INACTIVE');
      assert.equal((await post(reactivate, officer, { reason: 'cleared' })).statusCode, 200);
      assert.equal((await get('/api/v1/agent/me', teller.token)).statusCode, 200);
    }
  });

  test('staff and customer tokens are refused on operator routes (403)', async () => {
    // The admin role's `*` may include agent_op:* permissions: the scope still refuses any non-operator.
    const admin = await get('/api/v1/agent/me', t.adminToken);
    assert.equal(admin.statusCode, 403, admin.body);
    assert.ok(['AGENT_SCOPE_REQUIRED', 'FORBIDDEN'].includes(admin.json().error_code));
    const staff = await get('/api/v1/agent/me', officer);
    assert.equal(staff.statusCode, 403, staff.body);
    const customer = await get('/api/v1/agent/me', net.owner.token);
    assert.equal(customer.statusCode, 403, customer.body);
    const adminList = await get('/api/v1/agent/admin/store/list', t.adminToken);
    assert.equal(adminList.statusCode, 403);
  });

  test('an agent admin signs in with password + SMS code and manages only their own agent (others: 404)', async () => {
    const phone = randomPhone();
    const created = await post('/api/v1/agent/operator/add', officer, {
      agent_id: net.agent.id,
      role: 'agent_admin',
      full_name: 'Shop Owner',
      phone,
      password: ADMIN_PASSWORD,
    });
    assert.equal(created.statusCode, 201, created.body);
    const adminId = created.json().id as string;
    const wrong = await post('/api/v1/agent/auth/admin/login', null, {
      phone,
      password: 'not the password 1',
    });
    assert.equal(wrong.statusCode, 401);
    const first = await post('/api/v1/agent/auth/admin/login', null, { phone, password: ADMIN_PASSWORD });
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.json().mfa_required, true);
    const [event] = await t.deps.database.db
      .select()
      .from(outboxEvents)
      .where(and(eq(outboxEvents.topic, 'otp.requested'), eq(outboxEvents.aggregateId, adminId)))
      .orderBy(desc(outboxEvents.id))
      .limit(1);
    assert.ok(event, 'an otp.requested event for the admin');
    assert.equal(event.payload.phone, phone);
    const code = openEnvelope(
      t.deps.keys,
      JSON.parse(String(event.payload.code_sealed)) as Envelope,
      `otp:${String(event.payload.challenge_id)}`,
    ).toString();
    const badCode = await post('/api/v1/agent/auth/admin/verify', null, {
      mfa_token: first.json().mfa_token,
      code: code === '000000' ? '000001' : '000000',
    });
    assert.equal(badCode.statusCode, 401);
    assert.equal(badCode.json().error_code, 'AGENT_MFA_INVALID');
    const verified = await post('/api/v1/agent/auth/admin/verify', null, {
      mfa_token: first.json().mfa_token,
      code,
    });
    assert.equal(verified.statusCode, 200, verified.body);
    const token = verified.json().access_token as string;
    const reused = await post('/api/v1/agent/auth/admin/verify', null, {
      mfa_token: first.json().mfa_token,
      code,
    });
    assert.equal(reused.statusCode, 401);

    const me = await get('/api/v1/agent/me', token);
    assert.equal(me.json().role, 'agent_admin');
    assert.equal(me.json().store, null);
    const stores = await get('/api/v1/agent/admin/store/list', token);
    assert.deepEqual(
      stores.json().items.map((store: { id: string }) => store.id),
      net.stores.map((store) => store.id),
    );
    const operators = await get('/api/v1/agent/admin/operator/list', token);
    const ids = operators.json().items.map((operator: { id: string }) => operator.id);
    assert.ok(ids.includes(net.tellers[0]!.id));
    assert.ok(!ids.includes(other.tellers[0]!.id));
    const added = await post('/api/v1/agent/admin/operator/add', token, {
      store_id: net.stores[0]!.id,
      full_name: 'Second Teller',
      phone: randomPhone(),
      pin: '314159',
    });
    assert.equal(added.statusCode, 201, added.body);
    assert.equal(added.json().agent_id, net.agent.id);
    const foreignStore = await post('/api/v1/agent/admin/operator/add', token, {
      store_id: other.stores[0]!.id,
      full_name: 'Intruder',
      phone: randomPhone(),
      pin: '314159',
    });
    assert.equal(foreignStore.statusCode, 404);
    assert.equal(foreignStore.json().error_code, 'AGENT_STORE_NOT_FOUND');
    const foreignTeller = await post(`/api/v1/agent/admin/operator/${other.tellers[0]!.id}/suspend`, token, {
      reason: 'not mine',
    });
    assert.equal(foreignTeller.statusCode, 404);
    assert.equal(foreignTeller.json().error_code, 'AGENT_OPERATOR_NOT_FOUND');
    const ownTeller = await post(`/api/v1/agent/admin/operator/${added.json().id}/suspend`, token, {
      reason: 'leave',
    });
    assert.equal(ownTeller.statusCode, 200, ownTeller.body);
    assert.equal(ownTeller.json().status, 'suspended');
    // A teller has no admin permission.
    const tellerTry = await get('/api/v1/agent/admin/store/list', net.tellers[0]!.token);
    assert.equal(tellerTry.statusCode, 403);
  });

  test('a teller reaches only its own store through the directory (another store or agent: 404)', async () => {
    const agents = t.application.system.api(agentsModule);
    const scope = await agents.scopes.scopeOf({
      type: 'agent_operator',
      id: net.tellers[0]!.id,
    } as never);
    assert.equal((await agents.network.storeFor(scope)).id, net.stores[0]!.id);
    await assert.rejects(agents.network.storeFor(scope, other.stores[0]!.id), /Store not found/);
    await assert.rejects(
      agents.scopes.scopeOf({ type: 'user', id: crypto.randomUUID() } as never),
      (error: { errorCode?: string }) => error.errorCode === 'AGENT_SCOPE_REQUIRED',
    );
  });
});
