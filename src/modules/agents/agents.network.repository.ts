/**
 * The network area's reads and writes of its own tables (agents, stores, operators, devices). The service holds the
 * rules; this file only speaks SQL.
 */
import { and, desc, eq, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { type Executor, perDatabase } from '../../platform/db.ts';
import { humanNumber } from '../../platform/ids.ts';
import type { AgentRow, OperatorRow, StoreRow } from './agents.ports.ts';
import { agentOperatorDevices, agentOperators, agentStores, agents } from './agents.tables.ts';

export async function findAgent(db: Executor, id: string, lock = false): Promise<AgentRow | undefined> {
  const query = db.select().from(agents).where(eq(agents.id, id)).limit(1);
  const [row] = await (lock ? query.for('update') : query);
  return row;
}

export async function findStore(db: Executor, id: string, lock = false): Promise<StoreRow | undefined> {
  const query = db.select().from(agentStores).where(eq(agentStores.id, id)).limit(1);
  const [row] = await (lock ? query.for('update') : query);
  return row;
}

/** An operator's last fix, as the counter read returns it (JSON: the time as text). */
interface LastFixJson {
  lat: number;
  lon: number;
  accuracyM: number;
  fixAt: string;
}

/**
 * Everything an operator's money action checks before its geofence and posting, in one prepared read: the operator
 * (its scope), its agent, the store it acts at (the one named, or the teller's own; null when it is not the agent's),
 * the super-agent's status, and the operator's last fix (the speed check's reference).
 */
export async function findOperatorCounter(db: Executor, operatorId: string, storeId: string | null) {
  const [row] = await operatorCounterQuery(db).execute({ operatorId, storeId });
  if (!row) return undefined;
  const fix = row.lastFix;
  return {
    ...row,
    lastFix: fix
      ? { lat: fix.lat, lon: fix.lon, accuracyM: fix.accuracyM, fixAt: new Date(fix.fixAt) }
      : null,
  };
}

const operatorCounterQuery = perDatabase((db: Executor) => {
  const parent = alias(agents, 'parent_agent');
  return db
    .select({
      operator: {
        id: agentOperators.id,
        agentId: agentOperators.agentId,
        storeId: agentOperators.storeId,
        role: agentOperators.role,
        status: agentOperators.status,
      },
      agent: agents,
      store: agentStores,
      parentStatus: parent.status,
      lastFix: sql<LastFixJson | null>`(select json_build_object('lat', c.latitude, 'lon', c.longitude,
          'accuracyM', c.accuracy_m, 'fixAt', c.fix_at)
        from agent_location_checks c where c.operator_id = ${agentOperators.id}
        order by c.checked_at desc, c.id desc limit 1)`,
    })
    .from(agentOperators)
    .innerJoin(agents, eq(agents.id, agentOperators.agentId))
    .leftJoin(
      agentStores,
      and(
        eq(agentStores.id, sql`coalesce(${sql.placeholder('storeId')}::uuid, ${agentOperators.storeId})`),
        eq(agentStores.agentId, agents.id),
      ),
    )
    .leftJoin(parent, eq(parent.id, agents.parentId))
    .where(eq(agentOperators.id, sql.placeholder('operatorId')))
    .limit(1)
    .prepare('agent_operator_counter');
});

/** What an operator's scope is made of (`scopeOf`, every operator route), built once per database handle. */
export const operatorScopeQuery = perDatabase((db: Executor) =>
  db
    .select({
      id: agentOperators.id,
      agentId: agentOperators.agentId,
      storeId: agentOperators.storeId,
      role: agentOperators.role,
      status: agentOperators.status,
    })
    .from(agentOperators)
    .where(eq(agentOperators.id, sql.placeholder('id')))
    .limit(1)
    .prepare('agent_operator_scope'),
);

export async function findOperator(db: Executor, id: string, lock = false): Promise<OperatorRow | undefined> {
  const query = db.select().from(agentOperators).where(eq(agentOperators.id, id)).limit(1);
  const [row] = await (lock ? query.for('update') : query);
  return row;
}

export async function findOperatorByPhone(db: Executor, phone: string): Promise<OperatorRow | undefined> {
  const [row] = await db.select().from(agentOperators).where(eq(agentOperators.phone, phone)).limit(1);
  return row;
}

export async function activeDevice(db: Executor, operatorId: string, deviceId: string) {
  const [row] = await db
    .select()
    .from(agentOperatorDevices)
    .where(
      and(
        eq(agentOperatorDevices.operatorId, operatorId),
        eq(agentOperatorDevices.deviceId, deviceId),
        isNull(agentOperatorDevices.revokedAt),
      ),
    )
    .limit(1);
  return row;
}

export async function devicesOf(db: Executor, operatorId: string) {
  return db
    .select()
    .from(agentOperatorDevices)
    .where(and(eq(agentOperatorDevices.operatorId, operatorId), isNull(agentOperatorDevices.revokedAt)))
    .orderBy(agentOperatorDevices.boundAt);
}

/** A fresh `A`/`S` + 7 digits number not yet taken (the unique index is the final word; callers retry on it). */
export function newNumber(prefix: 'A' | 'S'): string {
  return humanNumber(prefix, 7);
}

/** The status chain an operator's principal depends on, read in one statement (every operator request). */
export interface OperatorStanding {
  operator_status: string;
  role: OperatorRow['role'];
  agent_status: string;
  store_status: string | null;
  parent_status: string | null;
}

export function operatorStandingQuery(db: Executor) {
  return db
    .select({
      operator_status: agentOperators.status,
      role: agentOperators.role,
      agent_status: agents.status,
      store_status: agentStores.status,
      parent_status: sql<string | null>`(select p.status from agents p where p.id = ${agents.parentId})`,
    })
    .from(agentOperators)
    .innerJoin(agents, eq(agents.id, agentOperators.agentId))
    .leftJoin(agentStores, eq(agentStores.id, agentOperators.storeId))
    .where(eq(agentOperators.id, sql.placeholder('id')))
    .limit(1)
    .prepare('agent_operator_principal_status');
}

/** Agents newest first, keyset by id (uuidv7 ids sort by creation). */
export async function listAgents(
  db: Executor,
  filters: { kind?: AgentRow['kind']; status?: AgentRow['status']; parent_id?: string; limit: number },
  after: string | null,
): Promise<AgentRow[]> {
  const where: SQL[] = [];
  if (filters.kind) where.push(eq(agents.kind, filters.kind));
  if (filters.status) where.push(eq(agents.status, filters.status));
  if (filters.parent_id) where.push(eq(agents.parentId, filters.parent_id));
  if (after) where.push(lt(agents.id, after));
  return db
    .select()
    .from(agents)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(agents.id))
    .limit(filters.limit + 1);
}

export async function listStores(
  db: Executor,
  agentId: string,
  filters: { status?: StoreRow['status']; store_id?: string | null; limit: number },
  after: string | null,
): Promise<StoreRow[]> {
  const where: SQL[] = [eq(agentStores.agentId, agentId)];
  if (filters.status) where.push(eq(agentStores.status, filters.status));
  if (filters.store_id) where.push(eq(agentStores.id, filters.store_id));
  if (after) where.push(lt(agentStores.id, after));
  return db
    .select()
    .from(agentStores)
    .where(and(...where))
    .orderBy(desc(agentStores.id))
    .limit(filters.limit + 1);
}

export async function listOperators(
  db: Executor,
  agentId: string,
  filters: { store_id?: string; status?: OperatorRow['status']; limit: number },
  after: string | null,
): Promise<OperatorRow[]> {
  const where: SQL[] = [eq(agentOperators.agentId, agentId)];
  if (filters.store_id) where.push(eq(agentOperators.storeId, filters.store_id));
  if (filters.status) where.push(eq(agentOperators.status, filters.status));
  if (after) where.push(lt(agentOperators.id, after));
  return db
    .select()
    .from(agentOperators)
    .where(and(...where))
    .orderBy(desc(agentOperators.id))
    .limit(filters.limit + 1);
}

/** Stores of an agent (for closure: every store's float must be zero). */
export async function storesOf(db: Executor, agentId: string): Promise<StoreRow[]> {
  return db.select().from(agentStores).where(eq(agentStores.agentId, agentId));
}

/** Agents whose parent is this super-agent and are not closed. */
export async function openChildren(db: Executor, parentId: string): Promise<number> {
  const [row] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(agents)
    .where(
      and(
        eq(agents.parentId, parentId),
        or(eq(agents.status, 'pending'), eq(agents.status, 'active'), eq(agents.status, 'suspended')),
      ),
    );
  return row?.count ?? 0;
}

/** The unique constraint a driver error names, looking through Drizzle's wrapper. */
export function violatedConstraint(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth += 1) {
    const { code, constraint } = current as { code?: unknown; constraint?: unknown };
    if (code === '23505' && typeof constraint === 'string') return constraint;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
