/** Queries of the core module (entity categories); each takes the executor it runs on. */
import { and, asc, eq, gt, type SQL } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { entityCategories } from './core.tables.ts';

export type CategoryRow = typeof entityCategories.$inferSelect;
export type NewCategory = Pick<typeof entityCategories.$inferInsert, 'id' | 'entityType' | 'code' | 'name'> &
  Partial<Pick<typeof entityCategories.$inferInsert, 'description' | 'sortOrder'>>;

/** Categories in id order after `afterId`, at most `limit`. */
export async function listCategories(
  db: Executor,
  filters: { entityType?: string; active?: boolean; afterId?: string; limit: number },
): Promise<CategoryRow[]> {
  const conditions: SQL[] = [];
  if (filters.entityType) conditions.push(eq(entityCategories.entityType, filters.entityType));
  if (filters.active !== undefined) conditions.push(eq(entityCategories.active, filters.active));
  if (filters.afterId) conditions.push(gt(entityCategories.id, filters.afterId));
  return db
    .select()
    .from(entityCategories)
    .where(and(...conditions))
    .orderBy(asc(entityCategories.id))
    .limit(filters.limit);
}

export async function findCategory(db: Executor, id: string, lock = false): Promise<CategoryRow | undefined> {
  const query = db.select().from(entityCategories).where(eq(entityCategories.id, id)).limit(1);
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

/** Inserts a category; violates `entity_categories_type_code` when the code exists for the entity type. */
export async function insertCategory(tx: Executor, category: NewCategory): Promise<CategoryRow> {
  const [row] = await tx.insert(entityCategories).values(category).returning();
  return row!;
}

/** Inserts a category unless one with its entity type and code exists (seeding). */
export async function insertCategoryIfMissing(tx: Executor, category: NewCategory): Promise<void> {
  await tx.insert(entityCategories).values(category).onConflictDoNothing();
}

export async function updateCategory(
  tx: Executor,
  id: string,
  changes: Partial<Pick<CategoryRow, 'name' | 'description' | 'active' | 'sortOrder'>>,
): Promise<CategoryRow> {
  const [row] = await tx
    .update(entityCategories)
    .set({ ...changes, updatedAt: new Date() })
    .where(eq(entityCategories.id, id))
    .returning();
  return row!;
}
