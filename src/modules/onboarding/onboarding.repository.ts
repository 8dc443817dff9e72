/** The onboarding module's SQL; each function takes the executor (or transaction) it runs on. */
import { eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { onboardingItems } from './onboarding.tables.ts';

export type OnboardingItemRow = typeof onboardingItems.$inferSelect;

export async function findItem(db: Executor, id: string): Promise<OnboardingItemRow | undefined> {
  const [row] = await db.select().from(onboardingItems).where(eq(onboardingItems.id, id)).limit(1);
  return row;
}

/** Inserts an item; null when the customer already has one with this reference. */
export async function insertItem(
  tx: Executor,
  item: typeof onboardingItems.$inferInsert,
): Promise<OnboardingItemRow | null> {
  const [row] = await tx.insert(onboardingItems).values(item).onConflictDoNothing().returning();
  return row ?? null;
}
