/**
 * The audit trail: append-only and hash-chained. Write it inside the use case's transaction, as its last step:
 * the chain lock is held only until that transaction commits.
 */
import { createHash } from 'node:crypto';
import { and, asc, desc, eq, gt, gte, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Executor } from './db.ts';
import { uuidv7 } from './ids.ts';
import { canonicalJson, toJsonSafe } from './json.ts';
import { auditLog } from './platform.tables.ts';

export interface Actor {
  type: 'user' | 'customer' | 'agent_operator' | 'system' | 'anonymous';
  id: string | null;
}

/** Who acts and from where; built from the request by the HTTP layer, or by the CLI and worker. */
export interface RequestContext {
  actor: Actor;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export const systemContext = (requestId: string | null = null): RequestContext => ({
  actor: { type: 'system', id: null },
  ip: null,
  userAgent: null,
  requestId,
});

export interface AuditEntry {
  action: string;
  entityType: string;
  entityId?: string | null;
  before?: unknown;
  after?: unknown;
}

const GENESIS_HASH = '0'.repeat(64);
const CHAIN_LOCK_KEY = 7402;

interface ChainedFields {
  id: string;
  occurredAt: Date;
  actorType: string;
  actorId: string | null;
  action: string;
  entityType: string;
  entityId: string | null;
  before: unknown;
  after: unknown;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export function auditHash(prevHash: string, fields: ChainedFields): string {
  const content = canonicalJson({
    id: fields.id,
    occurred_at: fields.occurredAt.toISOString(),
    actor_type: fields.actorType,
    actor_id: fields.actorId,
    action: fields.action,
    entity_type: fields.entityType,
    entity_id: fields.entityId,
    before: fields.before ?? null,
    after: fields.after ?? null,
    ip: fields.ip,
    user_agent: fields.userAgent,
    request_id: fields.requestId,
  });
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

export async function writeAudit(tx: Executor, context: RequestContext, entry: AuditEntry): Promise<string> {
  await tx.execute(sql`select pg_advisory_xact_lock(${CHAIN_LOCK_KEY})`);
  const [last] = await tx.select({ hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
  const prevHash = last?.hash ?? GENESIS_HASH;
  const fields: ChainedFields = {
    id: uuidv7(),
    occurredAt: new Date(),
    actorType: context.actor.type,
    actorId: context.actor.id,
    action: entry.action,
    entityType: entry.entityType,
    entityId: entry.entityId ?? null,
    before: entry.before === undefined ? null : toJsonSafe(entry.before),
    after: entry.after === undefined ? null : toJsonSafe(entry.after),
    ip: context.ip,
    userAgent: context.userAgent,
    requestId: context.requestId,
  };
  const hash = auditHash(prevHash, fields);
  await tx.insert(auditLog).values({ ...fields, prevHash, hash });
  return fields.id;
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  firstBadSeq: bigint | null;
  reason: string | null;
}

/** Walks the chain in order; reports the first row whose content or link does not match. */
export async function verifyAuditChain(db: Executor, batchSize = 1000): Promise<AuditVerification> {
  let prevHash = GENESIS_HASH;
  let afterSeq = 0n;
  let checked = 0;
  for (;;) {
    const rows = await db
      .select()
      .from(auditLog)
      .where(gt(auditLog.seq, afterSeq))
      .orderBy(asc(auditLog.seq))
      .limit(batchSize);
    if (rows.length === 0) return { ok: true, checked, firstBadSeq: null, reason: null };
    for (const row of rows) {
      if (row.prevHash !== prevHash) {
        return { ok: false, checked, firstBadSeq: row.seq, reason: 'link to the previous row is broken' };
      }
      if (auditHash(prevHash, row) !== row.hash) {
        return { ok: false, checked, firstBadSeq: row.seq, reason: 'row content does not match its hash' };
      }
      prevHash = row.hash;
      afterSeq = row.seq;
      checked += 1;
    }
  }
}

/** One stored audit row, as the chain holds it. */
export type AuditRecord = typeof auditLog.$inferSelect;

export interface AuditQuery {
  actorId?: string;
  action?: string;
  entityType?: string;
  entityId?: string;
  /** Occurred at or after. */
  from?: Date;
  /** Occurred at or before. */
  to?: Date;
  /** Rows older than this position in the chain (the next page of a newest-first listing). */
  beforeSeq?: bigint;
  limit: number;
}

/** Audit rows matching every given filter, newest first. */
export async function queryAuditLog(db: Executor, query: AuditQuery): Promise<AuditRecord[]> {
  const conditions: SQL[] = [];
  if (query.actorId) conditions.push(eq(auditLog.actorId, query.actorId));
  if (query.action) conditions.push(eq(auditLog.action, query.action));
  if (query.entityType) conditions.push(eq(auditLog.entityType, query.entityType));
  if (query.entityId) conditions.push(eq(auditLog.entityId, query.entityId));
  if (query.from) conditions.push(gte(auditLog.occurredAt, query.from));
  if (query.to) conditions.push(lte(auditLog.occurredAt, query.to));
  if (query.beforeSeq !== undefined) conditions.push(lt(auditLog.seq, query.beforeSeq));
  return db
    .select()
    .from(auditLog)
    .where(and(...conditions))
    .orderBy(desc(auditLog.seq))
    .limit(query.limit);
}

/**
 * What was done to a principal and what the principal did, newest first: rows about the entity `actor.type`/`actor.id`
 * and rows whose actor it is (a customer's own actions on their wallets, devices, disputes, …).
 */
export async function auditTrailOf(db: Executor, actor: Actor & { id: string }, limit: number) {
  return db
    .select({
      action: auditLog.action,
      occurredAt: auditLog.occurredAt,
      actorType: auditLog.actorType,
      entityType: auditLog.entityType,
    })
    .from(auditLog)
    .where(
      or(
        and(eq(auditLog.entityType, actor.type), eq(auditLog.entityId, actor.id)),
        and(eq(auditLog.actorType, actor.type), eq(auditLog.actorId, actor.id)),
      ),
    )
    .orderBy(desc(auditLog.seq))
    .limit(limit);
}

/** Who did `action` to the entity (the first such row), or null when nothing was recorded. */
export async function auditActorOf(
  db: Executor,
  entity: { type: string; id: string },
  action: string,
): Promise<Actor | null> {
  const [row] = await db
    .select({ actorType: auditLog.actorType, actorId: auditLog.actorId })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.entityType, entity.type),
        eq(auditLog.entityId, entity.id),
        eq(auditLog.action, action),
      ),
    )
    .limit(1);
  return row ? { type: row.actorType as Actor['type'], id: row.actorId } : null;
}
