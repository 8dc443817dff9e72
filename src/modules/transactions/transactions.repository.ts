/**
 * SQL on transaction records for the steps of a movement posted around an outside call (the engine's `begin`,
 * `complete`, `fail`, `note`), and the reads and commands other modules use through the module's index.ts: a
 * record by id (locked when asked), references by id, and a reversal marking its original. Commands take the
 * caller's executor, so they join the caller's transaction (a dispute refund, a reversal) and commit with it.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { type Executor, violatedConstraint } from '../../platform/db.ts';
import { transactionErrors } from './transactions.errors.ts';
import type { Step, TransactionRow } from './transactions.plan.ts';
import { transactions } from './transactions.tables.ts';

type NewTransaction = typeof transactions.$inferInsert;

/** A record by id; `lock` takes its row lock until the caller's transaction ends. */
export async function findTransaction(
  executor: Executor,
  id: string,
  options: { lock?: boolean } = {},
): Promise<TransactionRow | undefined> {
  const query = executor.select().from(transactions).where(eq(transactions.id, id)).limit(1);
  const [row] = options.lock ? await query.for('update') : await query;
  return row;
}

/** The reference of each record, by id (ids that name none are absent). */
export async function transactionReferences(
  executor: Executor,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return new Map();
  const rows = await executor
    .select({ id: transactions.id, reference: transactions.reference })
    .from(transactions)
    .where(inArray(transactions.id, wanted));
  return new Map(rows.map((row) => [row.id, row.reference]));
}

/**
 * Inside a reversal's posting transaction: the completed original becomes `reversed`, with the step in its history
 * (its row stays locked until the transaction ends). Refused when it is no longer completed.
 */
export async function markReversed(tx: Executor, originalId: string, step: Step): Promise<TransactionRow> {
  const [marked] = await tx
    .update(transactions)
    .set({
      status: 'reversed',
      history: sql`${transactions.history} || ${JSON.stringify([step])}::jsonb`,
      updatedAt: new Date(),
    })
    .where(and(eq(transactions.id, originalId), eq(transactions.status, 'completed')))
    .returning();
  if (!marked) {
    const current = await findTransaction(tx, originalId);
    if (current?.status === 'reversed') throw transactionErrors.alreadyReversed();
    throw transactionErrors.notReversible(current?.status ?? 'unknown');
  }
  return marked;
}

/** Links a reversal record to its original (inside the posting transaction); refused when another reversal is. */
export async function linkReversal(tx: Executor, reversalId: string, originalId: string): Promise<void> {
  try {
    await tx
      .update(transactions)
      .set({ relatedTransactionId: originalId })
      .where(eq(transactions.id, reversalId));
  } catch (error) {
    if (violatedConstraint(error) === 'transactions_one_reversal_key')
      throw transactionErrors.alreadyReversed();
    throw error;
  }
}

export async function insertTransaction(tx: Executor, values: NewTransaction): Promise<TransactionRow> {
  const [row] = await tx.insert(transactions).values(values).returning();
  return row!;
}

/** A `processing` record settled (completed or failed); undefined when it was no longer processing. */
export async function settleProcessing(
  tx: Executor,
  id: string,
  values: Pick<
    Partial<NewTransaction>,
    'status' | 'ledgerBatchId' | 'completedAt' | 'history' | 'metadata' | 'failureCode' | 'failureReason'
  >,
): Promise<TransactionRow | undefined> {
  const [row] = await tx
    .update(transactions)
    .set({ ...values, updatedAt: new Date() })
    .where(and(eq(transactions.id, id), eq(transactions.status, 'processing')))
    .returning();
  return row;
}

/** Adds keys to a record's metadata (no state change). */
export async function addMetadata(
  executor: Executor,
  id: string,
  note: Record<string, unknown>,
): Promise<void> {
  await executor
    .update(transactions)
    .set({
      metadata: sql`coalesce(${transactions.metadata}, '{}'::jsonb) || ${JSON.stringify(note)}::jsonb`,
      updatedAt: new Date(),
    })
    .where(eq(transactions.id, id));
}
