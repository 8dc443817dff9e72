/**
 * The agent network the `agents` scenario measures, built through the module's HTTP routes on the bench API, as the
 * back office and the tellers would: two staff members (a maker and a checker) signed in by the app's own
 * SessionService; per agent an active owner (a seeded customer), `POST /agent/agent/add`, the activation asked by the
 * maker and approved by the checker (maker-checker), one store fenced 150 m around its own point, tellers created
 * with a PIN, each with a bound Ed25519 device key, signed in by challenge + signed login; the store's float funded by
 * a bank deposit asked by the maker and confirmed by the checker. Nothing is inserted by SQL.
 */
import { generateKeyPairSync, randomInt, randomUUID, sign } from 'node:crypto';
import { systemContext } from '../../src/platform/audit.ts';
import { log } from '../lib/format.ts';
import type { Runner } from '../lib/runner.ts';
import type { SeededCustomer } from '../lib/seed.ts';

const TELLER_PIN = '482915';
const STAFF_PASSWORD = 'bench agent officer passphrase 8164';

export interface BenchTeller {
  id: string;
  token: string;
}

export interface BenchStore {
  agentId: string;
  storeId: string;
  /** The store's point: every request's device location (inside its 150 m fence). */
  lat: number;
  lon: number;
  tellers: BenchTeller[];
}

type Json = Record<string, unknown>;

/** One HTTP call to the bench API; throws with the answer when the status is not the expected one. */
async function call(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  token: string | null,
  body: Json | undefined,
  expected: number,
  headers: Record<string, string> = {},
): Promise<Json> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
      'user-agent': 'codeforge-bench',
      // TRUST_PROXY=true: one client address per call, as behind a load balancer (per-IP sign-in limits).
      'x-forwarded-for': `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`,
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (response.status !== expected)
    throw new Error(`${method} ${path}: ${response.status} (expected ${expected}) ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as Json) : {};
}

/** Two administrators (maker and checker) created by IdentityService, their sessions opened by SessionService. */
async function staffTokens(bench: Runner): Promise<{ maker: string; checker: string }> {
  const { identity, deps } = bench.primary;
  const tokens: string[] = [];
  for (const name of ['maker', 'checker']) {
    const username = `bench.agents.${name}.${randomInt(1_000_000)}`;
    const user = await identity.createUser(
      {
        username,
        email: `${username}@bench.test`,
        full_name: `Bench agents ${name}`,
        password: STAFF_PASSWORD,
        roles: ['admin'],
      },
      systemContext(),
      { mustChangePassword: false },
    );
    const issued = await identity.sessions.openSession(
      deps.database.db,
      { type: 'user', id: user.id },
      {
        actor: { type: 'user', id: user.id },
        ip: '127.0.0.1',
        userAgent: 'codeforge-bench',
        requestId: null,
      },
      'web',
    );
    tokens.push(issued.access_token);
  }
  return { maker: tokens[0]!, checker: tokens[1]! };
}

/** A teller at the store with a bound device, signed in with PIN + the device's signature of the nonce. */
async function teller(base: string, maker: string, agentId: string, storeId: string): Promise<BenchTeller> {
  const phone = `+25471${String(randomInt(10_000_000)).padStart(7, '0')}`;
  const created = await call(
    base,
    'POST',
    '/api/v1/agent/operator/add',
    maker,
    {
      agent_id: agentId,
      store_id: storeId,
      role: 'teller',
      full_name: 'Bench Teller',
      phone,
      pin: TELLER_PIN,
    },
    201,
  );
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const deviceId = `bench-${randomUUID()}`;
  await call(
    base,
    'POST',
    `/api/v1/agent/operator/${created.id}/device`,
    maker,
    { device_id: deviceId, public_key: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') },
    200,
  );
  const { nonce } = await call(
    base,
    'POST',
    '/api/v1/agent/auth/challenge',
    null,
    { phone, device_id: deviceId },
    200,
  );
  const signature = sign(null, Buffer.from(`agent-login:${nonce}:${deviceId}`), privateKey).toString(
    'base64',
  );
  const login = await call(
    base,
    'POST',
    '/api/v1/agent/auth/login',
    null,
    { phone, device_id: deviceId, pin: TELLER_PIN, nonce, signature },
    200,
  );
  return { id: String(created.id), token: String(login.access_token) };
}

/** An active agent (maker-checker), one fenced store with `tellers` signed-in tellers and `floatMinor` of float. */
async function agentWithStore(
  base: string,
  staff: { maker: string; checker: string },
  owner: SeededCustomer,
  index: number,
  tellers: number,
  floatMinor: number,
): Promise<BenchStore> {
  const agent = await call(
    base,
    'POST',
    '/api/v1/agent/agent/add',
    staff.maker,
    {
      kind: 'agent',
      parent_id: null,
      business_name: `Bench Shop ${index}`,
      registration_number: `BENCH-${randomUUID()}`,
      business_tier: 'standard',
      owner_customer_id: owner.id,
      phone: `+25472${String(randomInt(10_000_000)).padStart(7, '0')}`,
      currency: 'KES',
      geofence_policy: 'refuse',
      limits: {},
    },
    201,
  );
  const agentId = String(agent.id);
  const requested = await call(
    base,
    'POST',
    `/api/v1/agent/agent/${agentId}/activate`,
    staff.maker,
    undefined,
    202,
  );
  const approved = await call(
    base,
    'POST',
    '/api/v1/policy/approval/approve',
    staff.checker,
    { request_id: requested.id },
    200,
  );
  if (approved.status !== 'approved')
    throw new Error(`agent ${agentId} activation: ${JSON.stringify(approved)}`);
  // Stores ~110 m apart on a line through Nairobi CBD (each fence 150 m around its own point).
  const lat = -1.2841 + index * 0.001;
  const lon = 36.8233;
  const store = await call(
    base,
    'POST',
    `/api/v1/agent/agent/${agentId}/store`,
    staff.maker,
    {
      name: `Bench Store ${index}`,
      address: 'Moi Avenue, Nairobi',
      opening_hours: { '1': [['08:00', '18:00']] },
      lat,
      lon,
      geofence: { type: 'circle', center: { lat, lon }, radius_m: 150 },
    },
    201,
  );
  const storeId = String(store.id);
  const deposit = await call(
    base,
    'POST',
    '/api/v1/agent/float/deposit',
    staff.maker,
    {
      store_id: storeId,
      amount: floatMinor,
      currency: 'KES',
      bank_reference: `BENCH${randomInt(1e9)}${randomInt(1e9)}`,
    },
    201,
  );
  await call(
    base,
    'POST',
    `/api/v1/agent/float/deposit/${deposit.id}/confirm`,
    staff.checker,
    undefined,
    200,
  );
  const signedIn: BenchTeller[] = [];
  for (let count = 0; count < tellers; count += 1)
    signedIn.push(await teller(base, staff.maker, agentId, storeId));
  return { agentId, storeId, lat, lon, tellers: signedIn };
}

/**
 * `spread` agents with one store and one teller each (the random variant), and one more agent whose single store
 * has `hotTellers` tellers (the hot variant: every cash-in through that store's float). Owners are seeded customers
 * taken from the end of the list (not among the signed-in payers of the transfer reference); every float holds
 * `floatMinor`. Four agents are built at a time.
 */
export async function seedAgentNetwork(
  bench: Runner,
  options: { spread: number; hotTellers: number; floatMinor: number },
): Promise<{ spread: BenchStore[]; hot: BenchStore }> {
  const started = Date.now();
  const base = bench.primary.base;
  const staff = await staffTokens(bench);
  const customers = bench.primary.customers;
  const owners = customers.slice(customers.length - options.spread - 1);
  const spread: BenchStore[] = new Array(options.spread);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const index = next;
      next += 1;
      if (index >= options.spread) return;
      spread[index] = await agentWithStore(base, staff, owners[index]!, index, 1, options.floatMinor);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const hot = await agentWithStore(
    base,
    staff,
    owners[options.spread]!,
    options.spread,
    options.hotTellers,
    options.floatMinor,
  );
  log(
    `agents: ${options.spread} agents with a store and a teller, 1 hot store with ${options.hotTellers} tellers, floats funded (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  return { spread, hot };
}
