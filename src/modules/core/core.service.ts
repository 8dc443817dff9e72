/** Audit-log queries and entity categories (seeded from `seed/category.json`). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, asc, desc, eq, gt, gte, lt, lte, type SQL } from 'drizzle-orm';
import { type RequestContext, verifyAuditChain, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { decodeCursor, paginate } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { auditLog, entityCategories } from '../../platform/platform.tables.ts';
import { coreErrorCatalogue } from './core.errors.ts';

type CategoryRow = typeof entityCategories.$inferSelect;
type AuditRow = typeof auditLog.$inferSelect;

export function categoryView(row: CategoryRow) {
  return {
    id: row.id,
    entity_type: row.entityType,
    code: row.code,
    name: row.name,
    description: row.description,
    active: row.active,
    sort_order: row.sortOrder,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

function auditView(row: AuditRow) {
  return {
    id: row.id,
    seq: row.seq.toString(),
    occurred_at: row.occurredAt.toISOString(),
    actor_type: row.actorType,
    actor_id: row.actorId,
    action: row.action,
    entity_type: row.entityType,
    entity_id: row.entityId,
    before: row.before,
    after: row.after,
    ip: row.ip,
    user_agent: row.userAgent,
    request_id: row.requestId,
    hash: row.hash,
  };
}

export interface AuditFilters {
  actor_id?: string;
  action?: string;
  entity_type?: string;
  entity_id?: string;
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

export class CoreService {
  readonly #db: Executor;

  constructor(db: Executor) {
    this.#db = db;
  }

  async queryAudit(filters: AuditFilters) {
    const limit = filters.limit ?? 20;
    const conditions: SQL[] = [];
    if (filters.actor_id) conditions.push(eq(auditLog.actorId, filters.actor_id));
    if (filters.action) conditions.push(eq(auditLog.action, filters.action));
    if (filters.entity_type) conditions.push(eq(auditLog.entityType, filters.entity_type));
    if (filters.entity_id) conditions.push(eq(auditLog.entityId, filters.entity_id));
    if (filters.from) conditions.push(gte(auditLog.occurredAt, new Date(filters.from)));
    if (filters.to) conditions.push(lte(auditLog.occurredAt, new Date(filters.to)));
    const position = decodeCursor(filters.cursor, ['seq'] as const);
    if (position) {
      if (!/^\d+$/.test(position.seq)) throw commonErrors.validation('Invalid cursor');
      conditions.push(lt(auditLog.seq, BigInt(position.seq)));
    }
    const rows = await this.#db
      .select()
      .from(auditLog)
      .where(and(...conditions))
      .orderBy(desc(auditLog.seq))
      .limit(limit + 1);
    const page = paginate(rows, limit, (row) => ({ seq: row.seq.toString() }));
    return { items: page.items.map(auditView), next_cursor: page.next_cursor };
  }

  async verifyAudit() {
    const result = await verifyAuditChain(this.#db);
    return {
      ok: result.ok,
      checked: result.checked,
      first_bad_seq: result.firstBadSeq?.toString() ?? null,
      reason: result.reason,
    };
  }

  async listCategories(filters: { entity_type?: string; active?: boolean; limit?: number; cursor?: string }) {
    const limit = filters.limit ?? 20;
    const conditions: SQL[] = [];
    if (filters.entity_type) conditions.push(eq(entityCategories.entityType, filters.entity_type));
    if (filters.active !== undefined) conditions.push(eq(entityCategories.active, filters.active));
    const position = decodeCursor(filters.cursor, ['id'] as const);
    if (position) conditions.push(gt(entityCategories.id, position.id));
    const rows = await this.#db
      .select()
      .from(entityCategories)
      .where(and(...conditions))
      .orderBy(asc(entityCategories.id))
      .limit(limit + 1);
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return { items: page.items.map(categoryView), next_cursor: page.next_cursor };
  }

  async getCategory(id: string) {
    const [row] = await this.#db.select().from(entityCategories).where(eq(entityCategories.id, id)).limit(1);
    if (!row) throw commonErrors.notFound('Category');
    return categoryView(row);
  }

  async createCategory(
    input: { entity_type: string; code: string; name: string; description?: string; sort_order?: number },
    context: RequestContext,
    claim: IdempotencyClaim | null = null,
  ) {
    try {
      return await inTransaction(this.#db, async (tx) => {
        const [row] = await tx
          .insert(entityCategories)
          .values({
            id: uuidv7(),
            entityType: input.entity_type,
            code: input.code,
            name: input.name,
            description: input.description ?? null,
            sortOrder: input.sort_order ?? 0,
          })
          .returning();
        const view = categoryView(row!);
        await writeAudit(tx, context, {
          action: 'category.created',
          entityType: 'category',
          entityId: row!.id,
          after: view,
        });
        await claim?.commit(tx, 201, view);
        return view;
      });
    } catch (error) {
      if (violatedConstraint(error) === 'entity_categories_type_code') {
        throw coreErrorCatalogue.CATEGORY_EXISTS();
      }
      throw error;
    }
  }

  async updateCategory(
    id: string,
    changes: { name?: string; description?: string | null; active?: boolean; sort_order?: number },
    context: RequestContext,
  ) {
    return inTransaction(this.#db, async (tx) => {
      const [before] = await tx
        .select()
        .from(entityCategories)
        .where(eq(entityCategories.id, id))
        .for('update')
        .limit(1);
      if (!before) throw commonErrors.notFound('Category');
      const [row] = await tx
        .update(entityCategories)
        .set({
          ...(changes.name !== undefined ? { name: changes.name } : {}),
          ...(changes.description !== undefined ? { description: changes.description } : {}),
          ...(changes.active !== undefined ? { active: changes.active } : {}),
          ...(changes.sort_order !== undefined ? { sortOrder: changes.sort_order } : {}),
          updatedAt: new Date(),
        })
        .where(eq(entityCategories.id, id))
        .returning();
      const view = categoryView(row!);
      await writeAudit(tx, context, {
        action: 'category.updated',
        entityType: 'category',
        entityId: id,
        before: categoryView(before),
        after: view,
      });
      return view;
    });
  }

  /** Categories are referenced by records, so deleting one retires it (inactive) rather than removing the row. */
  async retireCategory(id: string, context: RequestContext) {
    return this.updateCategory(id, { active: false }, context);
  }
}

interface CategorySeed {
  entity_type: string;
  code: string;
  name: string;
  description: string | null;
}

export async function seedCategories(db: Executor, seedDir: string): Promise<void> {
  const seed = JSON.parse(readFileSync(join(seedDir, 'category.json'), 'utf8')) as CategorySeed[];
  await inTransaction(db, async (tx) => {
    for (const [index, category] of seed.entries()) {
      await tx
        .insert(entityCategories)
        .values({
          id: uuidv7(),
          entityType: category.entity_type,
          code: category.code,
          name: category.name,
          description: category.description,
          sortOrder: index,
        })
        .onConflictDoNothing();
    }
  });
}
