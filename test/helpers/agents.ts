/**
 * Test fixtures for the agents module, all through the HTTP routes: an active agent (maker-checker activation) owned
 * by a customer, its stores with a circle geofence, a teller per store with a bound Ed25519 device, signed in.
 * Other agents helpers may ADD exported functions at the end of this file.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, randomInt, randomUUID, sign } from 'node:crypto';
import { bearer, type TestContext } from './app.ts';
import { staffToken } from './loans.ts';
import { createCustomer, type TestCustomer } from './money.ts';

export const TELLER_PIN = '482915';
export const AGENT_ADMIN_PASSWORD = 'quiet harbour lamp 58';

/** A fresh Kenyan mobile number (E.164), unique enough per test database. */
export function randomPhone(): string {
  return `+25471${String(randomInt(0, 10_000_000)).padStart(7, '0')}`;
}

export interface DeviceKeys {
  deviceId: string;
  publicKey: string;
  privateKey: KeyObject;
}

/** An Ed25519 device key pair; the public key as base64 SPKI DER (what the device binding takes). */
export function deviceKeys(deviceId = `dev-${randomUUID()}`): DeviceKeys {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    deviceId,
    publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    privateKey,
  };
}

/** The device's signature of a sign-in nonce. */
export function signLogin(privateKey: KeyObject, nonce: string, deviceId: string): string {
  return sign(null, Buffer.from(`agent-login:${nonce}:${deviceId}`), privateKey).toString('base64');
}

/** Challenge + signed login for a teller; returns the raw response (assert on it yourself). */
export async function tellerLogin(
  t: TestContext,
  input: { phone: string; deviceId: string; privateKey: KeyObject; pin?: string; signWith?: KeyObject },
) {
  const challenge = await t.app.inject({
    method: 'POST',
    url: '/api/v1/agent/auth/challenge',
    payload: { phone: input.phone, device_id: input.deviceId },
  });
  assert.equal(challenge.statusCode, 200, challenge.body);
  const { nonce } = challenge.json() as { nonce: string };
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/agent/auth/login',
    payload: {
      phone: input.phone,
      device_id: input.deviceId,
      pin: input.pin ?? TELLER_PIN,
      nonce,
      signature: signLogin(input.signWith ?? input.privateKey, nonce, input.deviceId),
    },
  });
}

/** A customer who is active (an agent's owner must be). */
export async function activeCustomer(t: TestContext, name = 'Owner'): Promise<TestCustomer> {
  const customer = await createCustomer(t, name, randomPhone());
  const activated = await t.app.inject({
    method: 'POST',
    url: '/api/v1/customer/customer/status',
    headers: bearer(t.adminToken),
    payload: { customer_id: customer.id, status: 'active', reason: 'agent owner onboarding' },
  });
  assert.equal(activated.statusCode, 200, activated.body);
  return customer;
}

const officers = new WeakMap<TestContext, Promise<string>>();

/**
 * The code of a staff role for the agent network (`agent:*` plus deciding approvals), created once per test app: an
 * admin role would itself need a second approval to be given.
 */
export function agentOfficerRole(t: TestContext): Promise<string> {
  let role = officers.get(t);
  if (!role) {
    role = (async () => {
      const code = `agent_officer_${randomInt(0, 1_000_000)}`;
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/user/role/add',
        headers: bearer(t.adminToken),
        payload: {
          code,
          name: 'Agent network officer',
          permissions: [
            'agent:read',
            'agent:manage',
            'agent:suspend',
            'agent:float',
            'agent:commission',
            'approval:read',
            'approval:decide',
          ],
        },
      });
      assert.equal(created.statusCode, 201, created.body);
      return code;
    })();
    officers.set(t, role);
  }
  return role;
}

/** A staff member with the agent officer role (agent staff permissions and approval:decide), signed in. */
export async function agentOfficerToken(
  t: TestContext,
  username = `agent-officer-${randomInt(0, 1_000_000)}`,
) {
  return staffToken(t, username, [await agentOfficerRole(t)]);
}

const checkers = new WeakMap<TestContext, Promise<string>>();

/** A second staff member who approves maker-checker requests; one per test app. */
export function checkerToken(t: TestContext): Promise<string> {
  let token = checkers.get(t);
  if (!token) {
    token = agentOfficerToken(t, `agent-checker-${randomInt(0, 1_000_000)}`);
    checkers.set(t, token);
  }
  return token;
}

export interface AgentView {
  id: string;
  agent_number: string;
  kind: 'super_agent' | 'agent';
  status: string;
  currency: string;
  float_account_id: string;
  commission_account_id: string;
  owner_customer_id: string;
  parent_id: string | null;
  [key: string]: unknown;
}

export interface StoreView {
  id: string;
  agent_id: string;
  store_number: string;
  lat: number;
  lon: number;
  float_account_id: string;
  [key: string]: unknown;
}

/** Creates an agent through the routes and, unless `activate: false`, has a second staff member activate it. */
export async function createAgent(
  t: TestContext,
  options: {
    kind?: 'super_agent' | 'agent';
    parentId?: string | null;
    owner?: TestCustomer;
    currency?: string;
    geofencePolicy?: 'refuse' | 'flag';
    limits?: Record<string, string>;
    commissionPlanId?: string | null;
    activate?: boolean;
    staffToken?: string;
  } = {},
): Promise<AgentView> {
  const maker = options.staffToken ?? t.adminToken;
  const owner = options.owner ?? (await activeCustomer(t));
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/v1/agent/agent/add',
    headers: bearer(maker),
    payload: {
      kind: options.kind ?? 'agent',
      parent_id: options.parentId ?? null,
      business_name: `Shop ${randomInt(0, 1_000_000)}`,
      registration_number: `REG-${randomUUID()}`,
      business_tier: 'standard',
      owner_customer_id: owner.id,
      phone: randomPhone(),
      currency: options.currency ?? 'KES',
      geofence_policy: options.geofencePolicy ?? 'refuse',
      limits: options.limits ?? {},
      ...(options.commissionPlanId ? { commission_plan_id: options.commissionPlanId } : {}),
    },
  });
  assert.equal(created.statusCode, 201, created.body);
  const agent = created.json() as AgentView;
  if (options.activate === false) return agent;
  return activateAgent(t, agent.id, maker);
}

/** Files the activation (maker) and approves it (checker); returns the active agent. */
export async function activateAgent(
  t: TestContext,
  agentId: string,
  maker = t.adminToken,
): Promise<AgentView> {
  const requested = await t.app.inject({
    method: 'POST',
    url: `/api/v1/agent/agent/${agentId}/activate`,
    headers: bearer(maker),
  });
  assert.equal(requested.statusCode, 202, requested.body);
  const approved = await t.app.inject({
    method: 'POST',
    url: '/api/v1/policy/approval/approve',
    headers: bearer(await checkerToken(t)),
    payload: { request_id: requested.json().id },
  });
  assert.equal(approved.statusCode, 200, approved.body);
  assert.equal(approved.json().status, 'approved', approved.body);
  const read = await t.app.inject({
    method: 'GET',
    url: `/api/v1/agent/agent/${agentId}`,
    headers: bearer(maker),
  });
  assert.equal(read.json().status, 'active', read.body);
  return read.json() as AgentView;
}

export async function createStore(
  t: TestContext,
  agentId: string,
  at: { lat: number; lon: number; radius_m?: number; name?: string } = { lat: -1.2864, lon: 36.8172 },
): Promise<StoreView> {
  const response = await t.app.inject({
    method: 'POST',
    url: `/api/v1/agent/agent/${agentId}/store`,
    headers: bearer(t.adminToken),
    payload: {
      name: at.name ?? `Store ${randomInt(0, 1_000_000)}`,
      address: '1 Market Street',
      opening_hours: { '1': [['08:00', '18:00']] },
      lat: at.lat,
      lon: at.lon,
      geofence: { type: 'circle', center: { lat: at.lat, lon: at.lon }, radius_m: at.radius_m ?? 100 },
    },
  });
  assert.equal(response.statusCode, 201, response.body);
  return response.json() as StoreView;
}

export interface TestTeller {
  id: string;
  phone: string;
  token: string;
  refreshToken: string;
  storeId: string;
  agentId: string;
  deviceId: string;
  devicePrivateKey: KeyObject;
  devicePublicKey: string;
}

/** A teller at a store with a bound device; signed in unless `signIn: false` (then token is ''). */
export async function createTeller(
  t: TestContext,
  agentId: string,
  storeId: string,
  options: { signIn?: boolean; pin?: string; fullName?: string } = {},
): Promise<TestTeller> {
  const phone = randomPhone();
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/v1/agent/operator/add',
    headers: bearer(t.adminToken),
    payload: {
      agent_id: agentId,
      store_id: storeId,
      role: 'teller',
      full_name: options.fullName ?? 'Test Teller',
      phone,
      pin: options.pin ?? TELLER_PIN,
    },
  });
  assert.equal(created.statusCode, 201, created.body);
  const id = created.json().id as string;
  const keys = deviceKeys();
  const bound = await t.app.inject({
    method: 'POST',
    url: `/api/v1/agent/operator/${id}/device`,
    headers: bearer(t.adminToken),
    payload: { device_id: keys.deviceId, public_key: keys.publicKey },
  });
  assert.equal(bound.statusCode, 200, bound.body);
  const teller: TestTeller = {
    id,
    phone,
    token: '',
    refreshToken: '',
    storeId,
    agentId,
    deviceId: keys.deviceId,
    devicePrivateKey: keys.privateKey,
    devicePublicKey: keys.publicKey,
  };
  if (options.signIn === false) return teller;
  const login = await tellerLogin(t, {
    phone,
    deviceId: keys.deviceId,
    privateKey: keys.privateKey,
    pin: options.pin,
  });
  assert.equal(login.statusCode, 200, login.body);
  teller.token = login.json().access_token;
  teller.refreshToken = login.json().refresh_token;
  return teller;
}

export interface AgentNetworkFixture {
  agent: AgentView;
  stores: StoreView[];
  tellers: TestTeller[];
  owner: TestCustomer;
  staffToken: string;
}

/**
 * An active agent (owner: `options.owner` or a new active customer) with `options.stores` stores (default one, at
 * Nairobi's centre with a 100 m circle), one signed-in teller per store with a bound Ed25519 device.
 */
export async function agentNetwork(
  t: TestContext,
  options: {
    owner?: TestCustomer;
    stores?: { lat: number; lon: number; radius_m?: number }[];
    kind?: 'super_agent' | 'agent';
    parentId?: string | null;
    currency?: string;
    geofencePolicy?: 'refuse' | 'flag';
    limits?: Record<string, string>;
    commissionPlanId?: string | null;
  } = {},
): Promise<AgentNetworkFixture> {
  const owner = options.owner ?? (await activeCustomer(t));
  const agent = await createAgent(t, { ...options, owner });
  const stores: StoreView[] = [];
  for (const at of options.stores ?? [{ lat: -1.2864, lon: 36.8172, radius_m: 100 }])
    stores.push(await createStore(t, agent.id, at));
  const tellers: TestTeller[] = [];
  for (const store of stores) tellers.push(await createTeller(t, agent.id, store.id));
  return { agent, stores, tellers, owner, staffToken: t.adminToken };
}
