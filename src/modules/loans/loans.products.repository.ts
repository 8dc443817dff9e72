/** The SQL of loan products and their versions (`loan_products`, `loan_product_versions`). */
import { and, asc, desc, eq, lt, type SQL } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { loanProducts, loanProductVersions } from './loans.tables.ts';
import type { ProductTerms } from './loans.terms.ts';

export type ProductRow = typeof loanProducts.$inferSelect;
export type ProductVersionRow = typeof loanProductVersions.$inferSelect;

export interface ProductFilters {
  status?: ProductRow['status'];
  currency?: string;
  /** Products older than this one (the page cursor). */
  beforeId?: string;
}

/** A product with the terms of its current version. */
export interface ProductWithTerms {
  product: ProductRow;
  terms: ProductTerms;
}

const withTerms = {
  product: loanProducts,
  terms: loanProductVersions.terms,
};

function joinCurrent(executor: Executor) {
  return executor
    .select(withTerms)
    .from(loanProducts)
    .innerJoin(
      loanProductVersions,
      and(
        eq(loanProductVersions.productId, loanProducts.id),
        eq(loanProductVersions.version, loanProducts.currentVersion),
      ),
    );
}

export async function findProduct(executor: Executor, id: string): Promise<ProductWithTerms | undefined> {
  const [row] = await joinCurrent(executor).where(eq(loanProducts.id, id)).limit(1);
  return row;
}

/** The product row locked (`for update`) until the transaction ends: changes to one product run one at a time. */
export async function lockProduct(tx: Executor, id: string): Promise<ProductRow | undefined> {
  const [row] = await tx.select().from(loanProducts).where(eq(loanProducts.id, id)).for('update');
  return row;
}

export function listProducts(
  executor: Executor,
  filters: ProductFilters,
  limit: number,
): Promise<ProductWithTerms[]> {
  const conditions: SQL[] = [];
  if (filters.status) conditions.push(eq(loanProducts.status, filters.status));
  if (filters.currency) conditions.push(eq(loanProducts.currency, filters.currency));
  if (filters.beforeId) conditions.push(lt(loanProducts.id, filters.beforeId));
  return joinCurrent(executor)
    .where(and(...conditions))
    .orderBy(desc(loanProducts.id))
    .limit(limit);
}

export async function productVersion(
  executor: Executor,
  productId: string,
  version: number,
): Promise<ProductVersionRow | undefined> {
  const [row] = await executor
    .select()
    .from(loanProductVersions)
    .where(and(eq(loanProductVersions.productId, productId), eq(loanProductVersions.version, version)))
    .limit(1);
  return row;
}

export function productVersions(executor: Executor, productId: string): Promise<ProductVersionRow[]> {
  return executor
    .select()
    .from(loanProductVersions)
    .where(eq(loanProductVersions.productId, productId))
    .orderBy(asc(loanProductVersions.version));
}

/** Inserts the product unless its code is taken; false when it is. */
export async function insertProduct(
  tx: Executor,
  values: typeof loanProducts.$inferInsert,
): Promise<boolean> {
  const inserted = await tx
    .insert(loanProducts)
    .values(values)
    .onConflictDoNothing({ target: loanProducts.code })
    .returning({ id: loanProducts.id });
  return inserted.length > 0;
}

export async function insertProductVersion(
  tx: Executor,
  values: typeof loanProductVersions.$inferInsert,
): Promise<void> {
  await tx.insert(loanProductVersions).values(values);
}

export async function updateProduct(
  tx: Executor,
  id: string,
  values: Partial<Pick<ProductRow, 'name' | 'status' | 'currentVersion'>>,
): Promise<void> {
  await tx
    .update(loanProducts)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(loanProducts.id, id));
}
