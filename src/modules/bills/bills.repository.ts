/**
 * The SQL of the biller registry (`billers`). Other modules read billers only through `billerNames`, exported from
 * the module's index; the registry's own use cases (bills.service.ts, bills.seed.ts) go through the rest.
 */
import { and, asc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { billers } from './bills.tables.ts';

export type BillerRow = typeof billers.$inferSelect;
export type NewBiller = typeof billers.$inferInsert;

/** The code and name of each biller, by id (receipts, statements and alerts name the biller paid). */
export async function billerNames(
  executor: Executor,
  ids: readonly string[],
): Promise<Map<string, { code: string; name: string }>> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return new Map();
  const rows = await executor
    .select({ id: billers.id, code: billers.code, name: billers.name })
    .from(billers)
    .where(inArray(billers.id, wanted));
  return new Map(rows.map((row) => [row.id, { code: row.code, name: row.name }]));
}

export async function billerById(executor: Executor, id: string): Promise<BillerRow | undefined> {
  const [row] = await executor.select().from(billers).where(eq(billers.id, id)).limit(1);
  return row;
}

export async function billerByCode(executor: Executor, code: string): Promise<BillerRow | undefined> {
  const [row] = await executor.select().from(billers).where(eq(billers.code, code)).limit(1);
  return row;
}

/** A page of the registry in code order, after the cursor's code. */
export function listBillers(
  executor: Executor,
  filters: { active?: boolean; category?: string; currency?: string; afterCode?: string },
  limit: number,
): Promise<BillerRow[]> {
  const conditions: SQL[] = [];
  if (filters.active !== undefined) conditions.push(eq(billers.active, filters.active));
  if (filters.category) conditions.push(eq(billers.category, filters.category));
  if (filters.currency) conditions.push(eq(billers.currency, filters.currency));
  if (filters.afterCode !== undefined) conditions.push(sql`${billers.code} > ${filters.afterCode}`);
  return executor
    .select()
    .from(billers)
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(asc(billers.code))
    .limit(limit);
}

export async function insertBiller(executor: Executor, values: NewBiller): Promise<BillerRow> {
  const [row] = await executor.insert(billers).values(values).returning();
  return row!;
}

/** The biller locked for an update (inside the caller's transaction). */
export async function lockBiller(tx: Executor, id: string): Promise<BillerRow | undefined> {
  const [row] = await tx.select().from(billers).where(eq(billers.id, id)).for('update').limit(1);
  return row;
}

export async function updateBiller(
  tx: Executor,
  id: string,
  values: Partial<Omit<NewBiller, 'id' | 'code' | 'currency'>>,
): Promise<BillerRow> {
  const [row] = await tx
    .update(billers)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(billers.id, id))
    .returning();
  return row!;
}
