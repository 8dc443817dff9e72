/** Audit-log queries and entity categories (seeded from `seed/category.json`). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AuditRecord,
  queryAuditLog,
  type RequestContext,
  verifyAuditChain,
  writeAudit,
} from '../../platform/audit.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { decodeCursor, paginate } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { coreErrorCatalogue } from './core.errors.ts';
import {
  type CategoryRow,
  findCategory,
  insertCategory,
  insertCategoryIfMissing,
  listCategories,
  updateCategory,
} from './core.repository.ts';

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

function auditView(row: AuditRecord) {
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
    const position = decodeCursor(filters.cursor, ['seq'] as const);
    if (position && !/^\d+$/.test(position.seq)) throw commonErrors.validation('Invalid cursor');
    const rows = await queryAuditLog(this.#db, {
      ...(filters.actor_id ? { actorId: filters.actor_id } : {}),
      ...(filters.action ? { action: filters.action } : {}),
      ...(filters.entity_type ? { entityType: filters.entity_type } : {}),
      ...(filters.entity_id ? { entityId: filters.entity_id } : {}),
      ...(filters.from ? { from: new Date(filters.from) } : {}),
      ...(filters.to ? { to: new Date(filters.to) } : {}),
      ...(position ? { beforeSeq: BigInt(position.seq) } : {}),
      limit: limit + 1,
    });
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
    const position = decodeCursor(filters.cursor, ['id'] as const);
    const rows = await listCategories(this.#db, {
      ...(filters.entity_type ? { entityType: filters.entity_type } : {}),
      ...(filters.active !== undefined ? { active: filters.active } : {}),
      ...(position ? { afterId: position.id } : {}),
      limit: limit + 1,
    });
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return { items: page.items.map(categoryView), next_cursor: page.next_cursor };
  }

  async getCategory(id: string) {
    const row = await findCategory(this.#db, id);
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
        const row = await insertCategory(tx, {
          id: uuidv7(),
          entityType: input.entity_type,
          code: input.code,
          name: input.name,
          description: input.description ?? null,
          sortOrder: input.sort_order ?? 0,
        });
        const view = categoryView(row);
        await writeAudit(tx, context, {
          action: 'category.created',
          entityType: 'category',
          entityId: row.id,
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
      const before = await findCategory(tx, id, true);
      if (!before) throw commonErrors.notFound('Category');
      const row = await updateCategory(tx, id, {
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.description !== undefined ? { description: changes.description } : {}),
        ...(changes.active !== undefined ? { active: changes.active } : {}),
        ...(changes.sort_order !== undefined ? { sortOrder: changes.sort_order } : {}),
      });
      const view = categoryView(row);
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
      await insertCategoryIfMissing(tx, {
        id: uuidv7(),
        entityType: category.entity_type,
        code: category.code,
        name: category.name,
        description: category.description,
        sortOrder: index,
      });
    }
  });
}
