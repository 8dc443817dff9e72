/**
 * Test factories for the agent network's money (float, cash-in, cash-out): an active agent with two stores, a teller
 * at each and an agent admin, inserted directly (the network area's routes have their own tests), their float
 * accounts in the ledger, operator sessions opened as the sign-in opens them, and float funded through the
 * bank-deposit routes (asked by the administrator, confirmed by a second staff member).
 */
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import type { AgentLimits } from '../../src/modules/agents/agents.tables.ts';
import { agentOperators, agentStores, agents } from '../../src/modules/agents/agents.tables.ts';
import { LedgerService } from '../../src/modules/ledger/index.ts';
import { systemContext } from '../../src/platform/audit.ts';
import { uuidv7 } from '../../src/platform/ids.ts';
import { bearer, type TestContext } from './app.ts';
import { staffToken } from './loans.ts';

/** The stores' point (Nairobi CBD); a money action's location here is inside a 150 m fence. */
export const STORE_POINT = { lat: -1.2841, lon: 36.8233 };

export function inside(overrides: Record<string, unknown> = {}) {
  return { ...STORE_POINT, accuracy_m: 8, fix_at: new Date().toISOString(), ...overrides };
}

/** About 5 km north of the store: outside any test fence. */
export function outside() {
  return inside({ lat: STORE_POINT.lat + 0.045 });
}

export function randomPhone(): string {
  return `+2547${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
}

export interface MoneyStore {
  id: string;
  number: string;
  floatAccountId: string;
  tellerId: string;
  tellerToken: string;
}

export interface MoneyAgent {
  id: string;
  number: string;
  floatAccountId: string;
  stores: [MoneyStore, MoneyStore];
  adminId: string;
  adminToken: string;
}

const checkers = new WeakMap<TestContext, string>();

/** A second staff member with agent:float (the administrator asks for deposits, this one confirms them). */
export async function checkerToken(t: TestContext): Promise<string> {
  let token = checkers.get(t);
  if (!token) {
    const role = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/role/add',
      headers: bearer(t.adminToken),
      payload: { code: 'float_officer', name: 'Float officer', permissions: ['agent:float', 'agent:read'] },
    });
    assert.equal(role.statusCode, 201, role.body);
    token = await staffToken(t, `float-checker-${randomInt(1_000_000)}`, ['float_officer']);
    checkers.set(t, token);
  }
  return token;
}

async function operatorToken(t: TestContext, operatorId: string): Promise<string> {
  const issued = await t.application.identity.sessions.openSession(
    t.deps.database.db,
    { type: 'agent_operator', id: operatorId },
    systemContext(),
    'agent',
  );
  return issued.access_token;
}

function number(prefix: string): string {
  return `${prefix}${String(randomInt(0, 10_000_000)).padStart(7, '0')}`;
}

/**
 * An active agent (owner: `ownerCustomerId`, any customer) with two active stores fenced 150 m around STORE_POINT,
 * a teller at each and an agent admin. `parentId` makes it a super-agent's agent.
 */
export async function moneyAgent(
  t: TestContext,
  ownerCustomerId: string,
  options: {
    limits?: AgentLimits;
    kind?: 'agent' | 'super_agent';
    parentId?: string;
    currency?: string;
    policy?: 'refuse' | 'flag';
  } = {},
): Promise<MoneyAgent> {
  const db = t.deps.database.db;
  const ledger = new LedgerService(db);
  const currency = options.currency ?? 'KES';
  const floatAccount = (name: string) =>
    ledger.createAccount(db, { name, currency, kind: 'liability', debitsMustNotExceedCredits: true });
  const agentNumber = number('A');
  const agentFloat = await floatAccount(`Agent float ${agentNumber}`);
  const commission = await ledger.createAccount(db, {
    name: `Agent commission ${agentNumber}`,
    currency,
    kind: 'liability',
    debitsMustNotExceedCredits: true,
    deferred: true,
  });
  const agentId = uuidv7();
  await db.insert(agents).values({
    id: agentId,
    agentNumber,
    kind: options.kind ?? 'agent',
    parentId: options.parentId ?? null,
    businessName: `Shop ${agentNumber}`,
    registrationNumber: `REG-${randomUUID()}`,
    businessTier: 'business_basic',
    ownerCustomerId,
    phone: randomPhone(),
    currency,
    status: 'active',
    geofencePolicy: options.policy ?? 'refuse',
    limits: options.limits ?? {},
    floatAccountId: agentFloat.id,
    commissionAccountId: commission.id,
  });
  const stores: MoneyStore[] = [];
  for (const name of ['Main', 'Market']) {
    const storeNumber = number('S');
    const float = await floatAccount(`Store float ${storeNumber}`);
    const storeId = uuidv7();
    await db.insert(agentStores).values({
      id: storeId,
      agentId,
      storeNumber,
      name: `${name} ${storeNumber}`,
      address: 'Moi Avenue, Nairobi',
      latitude: STORE_POINT.lat,
      longitude: STORE_POINT.lon,
      geofence: { type: 'circle', center: STORE_POINT, radius_m: 150 },
      floatAccountId: float.id,
    });
    const tellerId = uuidv7();
    await db.insert(agentOperators).values({
      id: tellerId,
      agentId,
      storeId,
      role: 'teller',
      fullName: `Teller ${storeNumber}`,
      phone: randomPhone(),
    });
    stores.push({
      id: storeId,
      number: storeNumber,
      floatAccountId: float.id,
      tellerId,
      tellerToken: await operatorToken(t, tellerId),
    });
  }
  const adminId = uuidv7();
  await db.insert(agentOperators).values({
    id: adminId,
    agentId,
    storeId: null,
    role: 'agent_admin',
    fullName: `Admin ${agentNumber}`,
    phone: randomPhone(),
  });
  return {
    id: agentId,
    number: agentNumber,
    floatAccountId: agentFloat.id,
    stores: stores as [MoneyStore, MoneyStore],
    adminId,
    adminToken: await operatorToken(t, adminId),
  };
}

/** Tops up a float through the bank-deposit routes: the administrator asks, a second staff member confirms. */
export async function fundFloat(
  t: TestContext,
  target: { agent_id: string } | { store_id: string },
  amount: number,
  currency = 'KES',
) {
  const asked = await t.app.inject({
    method: 'POST',
    url: '/api/v1/agent/float/deposit',
    headers: bearer(t.adminToken),
    payload: { ...target, amount, currency, bank_reference: `FT${randomInt(1e9)}${randomInt(1e9)}` },
  });
  assert.equal(asked.statusCode, 201, asked.body);
  const confirmed = await t.app.inject({
    method: 'POST',
    url: `/api/v1/agent/float/deposit/${asked.json().id}/confirm`,
    headers: bearer(await checkerToken(t)),
  });
  assert.equal(confirmed.statusCode, 200, confirmed.body);
  return confirmed.json();
}

/** A float's balance as the staff position route reports it. */
export async function floatBalances(t: TestContext, agentId: string) {
  const response = await t.app.inject({
    method: 'GET',
    url: `/api/v1/agent/agent/${agentId}/float`,
    headers: bearer(t.adminToken),
  });
  assert.equal(response.statusCode, 200, response.body);
  const body = response.json() as {
    agent: { balance: number };
    stores: { store_id: string; balance: number }[];
  };
  return {
    agent: Number(body.agent.balance),
    store: (id: string) => Number(body.stores.find((store) => store.store_id === id)?.balance),
  };
}

export const idem = (token: string) => ({ ...bearer(token), 'idempotency-key': `k-${randomUUID()}` });
