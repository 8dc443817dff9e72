/** SQL of the Didit identity path's tables; each function takes the executor (or transaction) it runs on. */
import { and, asc, eq, isNull, lte, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { diditSessions, diditWebhookReceipts } from './onboarding.didit.tables.ts';

export type DiditSessionRow = typeof diditSessions.$inferSelect;

export async function findDiditSession(
  db: Executor,
  sessionId: string,
): Promise<DiditSessionRow | undefined> {
  const [row] = await db.select().from(diditSessions).where(eq(diditSessions.sessionId, sessionId)).limit(1);
  return row;
}

/** The session row locked until the transaction ends (take the registration's lock first: one order everywhere). */
export async function lockDiditSession(
  tx: Executor,
  sessionId: string,
): Promise<DiditSessionRow | undefined> {
  const [row] = await tx
    .select()
    .from(diditSessions)
    .where(eq(diditSessions.sessionId, sessionId))
    .limit(1)
    .for('update');
  return row;
}

export async function insertDiditSession(
  tx: Executor,
  row: typeof diditSessions.$inferInsert,
): Promise<void> {
  await tx.insert(diditSessions).values(row).onConflictDoNothing();
}

export async function updateDiditSession(
  tx: Executor,
  sessionId: string,
  values: Partial<typeof diditSessions.$inferInsert>,
): Promise<void> {
  await tx.update(diditSessions).set(values).where(eq(diditSessions.sessionId, sessionId));
}

/** Unfinished sessions whose poll time has come, oldest first. */
export async function dueDiditSessions(db: Executor, now: Date, limit: number): Promise<DiditSessionRow[]> {
  return db
    .select()
    .from(diditSessions)
    .where(and(isNull(diditSessions.finishedAt), lte(diditSessions.nextPollAt, now)))
    .orderBy(asc(diditSessions.nextPollAt))
    .limit(limit);
}

export async function receiptExists(db: Executor, sessionId: string, status: string): Promise<boolean> {
  const [row] = await db
    .select({ one: sql<number>`1` })
    .from(diditWebhookReceipts)
    .where(and(eq(diditWebhookReceipts.sessionId, sessionId), eq(diditWebhookReceipts.status, status)))
    .limit(1);
  return row !== undefined;
}

/**
 * Records a webhook; false when (session, status) was recorded already. A concurrent duplicate waits on the key
 * until the first transaction ends, then finds it: one effect either way.
 */
export async function insertReceipt(
  tx: Executor,
  row: typeof diditWebhookReceipts.$inferInsert,
): Promise<boolean> {
  const inserted = await tx
    .insert(diditWebhookReceipts)
    .values(row)
    .onConflictDoNothing()
    .returning({ sessionId: diditWebhookReceipts.sessionId });
  return inserted.length > 0;
}

export async function setReceiptEffect(tx: Executor, sessionId: string, status: string, effect: string) {
  await tx
    .update(diditWebhookReceipts)
    .set({ effect })
    .where(and(eq(diditWebhookReceipts.sessionId, sessionId), eq(diditWebhookReceipts.status, status)));
}
