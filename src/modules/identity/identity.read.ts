/** Read models other modules may call: what they need of a staff user, never the table. */
import { eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { users } from './identity.tables.ts';

/** A staff user's full name; null when there is no such user. */
export async function userFullName(db: Executor, userId: string): Promise<string | null> {
  const [row] = await db.select({ name: users.fullName }).from(users).where(eq(users.id, userId)).limit(1);
  return row?.name ?? null;
}
