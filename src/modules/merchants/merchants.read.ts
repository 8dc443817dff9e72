/** Read models other modules may call: what they need of a merchant, never the table. */
import { eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { merchants } from './merchants.tables.ts';

/** A merchant's trading name and the customer who owns it (a merchant wallet has no customer of its own). */
export async function merchantParty(
  db: Executor,
  merchantId: string,
): Promise<{ name: string; ownerCustomerId: string | null } | null> {
  const [row] = await db
    .select({ name: merchants.name, ownerCustomerId: merchants.ownerCustomerId })
    .from(merchants)
    .where(eq(merchants.id, merchantId))
    .limit(1);
  return row ?? null;
}
