/**
 * Test factories for the agents module's geo area: an active agent with two stores under a fence of the test's
 * choosing, a teller at each and an agent admin, inserted directly (the network area's routes have their own tests),
 * with operator sessions opened as the sign-in opens them. Float and commission account ids are fresh ids: nothing
 * here moves money.
 */
import { randomInt, randomUUID } from 'node:crypto';
import {
  agentOperators,
  agentStores,
  agents,
  type Geofence,
} from '../../src/modules/agents/agents.tables.ts';
import { type AgentsApi, agentsModule } from '../../src/modules/agents/index.ts';
import { systemContext } from '../../src/platform/audit.ts';
import { uuidv7 } from '../../src/platform/ids.ts';
import type { TestContext } from './app.ts';

/** A Nairobi shop; the default fence is 150 m around it. */
export const SHOP = { lat: -1.2841, lon: 36.8233 };
export const SHOP_FENCE: Geofence = { type: 'circle', center: SHOP, radius_m: 150 };

/** A fix at `point` taken now (or `ageMs` ago), 8 m accuracy. */
export function fix(point: { lat: number; lon: number } = SHOP, overrides: Record<string, unknown> = {}) {
  const { ageMs = 0, ...rest } = overrides as { ageMs?: number };
  return {
    lat: point.lat,
    lon: point.lon,
    accuracy_m: 8,
    fix_at: new Date(Date.now() - ageMs).toISOString(),
    ...rest,
  };
}

/** `metres` north of `point` (on the sphere of the geofence maths: 1° of latitude is 111,195.08 m). */
export function north(point: { lat: number; lon: number }, metres: number) {
  return { lat: point.lat + metres / 111_195.08, lon: point.lon };
}

export interface GeoStore {
  id: string;
  tellerId: string;
  tellerToken: string;
}

export interface GeoAgent {
  id: string;
  stores: [GeoStore, GeoStore];
  adminId: string;
  adminToken: string;
}

export function agentsApi(t: TestContext): AgentsApi {
  return t.application.system.api(agentsModule);
}

export async function operatorToken(t: TestContext, operatorId: string): Promise<string> {
  const issued = await t.application.identity.sessions.openSession(
    t.deps.database.db,
    { type: 'agent_operator', id: operatorId },
    systemContext(),
    'agent',
  );
  return issued.access_token;
}

const digits = (n: number) => String(randomInt(0, 10 ** n)).padStart(n, '0');
const phone = () => `+2547${digits(8)}`;

/** An active agent with two active stores under `fence` (default SHOP_FENCE), a teller at each and an admin. */
export async function geoAgent(
  t: TestContext,
  options: { policy?: 'refuse' | 'flag'; fence?: Geofence } = {},
): Promise<GeoAgent> {
  const db = t.deps.database.db;
  const fence = options.fence ?? SHOP_FENCE;
  const centre = fence.type === 'circle' ? fence.center : fence.vertices[0]!;
  const agentId = uuidv7();
  await db.insert(agents).values({
    id: agentId,
    agentNumber: `A${digits(7)}`,
    kind: 'agent',
    businessName: 'Geo test shop',
    registrationNumber: `REG-${randomUUID()}`,
    businessTier: 'business_basic',
    ownerCustomerId: randomUUID(),
    phone: phone(),
    currency: 'KES',
    status: 'active',
    geofencePolicy: options.policy ?? 'refuse',
    floatAccountId: randomUUID(),
    commissionAccountId: randomUUID(),
  });
  const stores: GeoStore[] = [];
  for (const name of ['Main', 'Market']) {
    const storeId = uuidv7();
    await db.insert(agentStores).values({
      id: storeId,
      agentId,
      storeNumber: `S${digits(7)}`,
      name,
      address: 'Moi Avenue, Nairobi',
      latitude: centre.lat,
      longitude: centre.lon,
      geofence: fence,
      floatAccountId: randomUUID(),
    });
    const tellerId = uuidv7();
    await db.insert(agentOperators).values({
      id: tellerId,
      agentId,
      storeId,
      role: 'teller',
      fullName: `Teller ${name}`,
      phone: phone(),
    });
    stores.push({ id: storeId, tellerId, tellerToken: await operatorToken(t, tellerId) });
  }
  const adminId = uuidv7();
  await db.insert(agentOperators).values({
    id: adminId,
    agentId,
    storeId: null,
    role: 'agent_admin',
    fullName: 'Agent admin',
    phone: phone(),
  });
  return {
    id: agentId,
    stores: stores as [GeoStore, GeoStore],
    adminId,
    adminToken: await operatorToken(t, adminId),
  };
}

/** The scope a teller of `agent`'s store `index` acts with (as OperatorScopes would resolve it). */
export function tellerScope(agent: GeoAgent, index: 0 | 1 = 0) {
  const store = agent.stores[index];
  return { operatorId: store.tellerId, agentId: agent.id, storeId: store.id, role: 'teller' as const };
}
