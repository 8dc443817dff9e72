/** The SQL of real-time decisions (`aml_decisions`): one row per screened payment; reviews are the held payments. */
import { and, asc, eq, gt, isNull, lte, or } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { amlDecisions } from './aml.tables.ts';

export type DecisionRow = typeof amlDecisions.$inferSelect;
export type DecisionInsert = typeof amlDecisions.$inferInsert;

/** Inserts decisions; one already recorded for the transaction is kept (a retried payment decides again). */
export async function insertDecisions(executor: Executor, rows: DecisionInsert[]): Promise<void> {
  if (rows.length === 0) return;
  await executor.insert(amlDecisions).values(rows).onConflictDoNothing();
}

export async function decisionOf(
  executor: Executor,
  transactionId: string,
  lock = false,
): Promise<DecisionRow | undefined> {
  const query = executor
    .select()
    .from(amlDecisions)
    .where(eq(amlDecisions.transactionId, transactionId))
    .limit(1);
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

/** Open reviews (held payments nobody resolved), oldest due first; keyset after (due, id). */
export async function openReviews(
  executor: Executor,
  limit: number,
  after?: { due: Date; id: string },
): Promise<DecisionRow[]> {
  return executor
    .select()
    .from(amlDecisions)
    .where(
      and(
        eq(amlDecisions.outcome, 'review'),
        isNull(amlDecisions.resolution),
        after
          ? or(
              gt(amlDecisions.reviewDueAt, after.due),
              and(eq(amlDecisions.reviewDueAt, after.due), gt(amlDecisions.id, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(asc(amlDecisions.reviewDueAt), asc(amlDecisions.id))
    .limit(limit);
}

export async function resolveDecision(
  tx: Executor,
  id: string,
  resolution: 'released' | 'rejected' | 'expired',
  by: string | null,
  at: Date,
): Promise<void> {
  await tx
    .update(amlDecisions)
    .set({ resolution, resolvedBy: by, resolvedAt: at })
    .where(and(eq(amlDecisions.id, id), isNull(amlDecisions.resolution)));
}

/** Open reviews past their SLA whose alert was not raised yet, locked so two job runs raise each once. */
export async function overdueReviews(tx: Executor, now: Date, limit: number): Promise<DecisionRow[]> {
  return tx
    .select()
    .from(amlDecisions)
    .where(
      and(
        eq(amlDecisions.outcome, 'review'),
        isNull(amlDecisions.resolution),
        isNull(amlDecisions.slaAlertedAt),
        lte(amlDecisions.reviewDueAt, now),
      ),
    )
    .orderBy(asc(amlDecisions.reviewDueAt))
    .limit(limit)
    .for('update', { skipLocked: true });
}

export async function markSlaAlerted(tx: Executor, id: string, at: Date): Promise<void> {
  await tx.update(amlDecisions).set({ slaAlertedAt: at }).where(eq(amlDecisions.id, id));
}
