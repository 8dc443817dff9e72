/** The SQL of disputes (`disputes`); what they say of the payment and its hold comes from transactions and ledger. */
import { and, desc, eq, inArray, lt, type SQL } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { disputes } from './disputes.tables.ts';

export type DisputeRow = typeof disputes.$inferSelect;
export type DisputeStatus = DisputeRow['status'];

export interface DisputeFilters {
  id?: string;
  customerId?: string;
  status?: DisputeStatus;
  transactionId?: string;
  /** Disputes older than this one (the page cursor). */
  beforeId?: string;
}

/** Disputes matching every filter given, newest first. */
export function listDisputes(
  executor: Executor,
  filters: DisputeFilters,
  limit: number,
): Promise<DisputeRow[]> {
  const conditions: SQL[] = [];
  if (filters.id) conditions.push(eq(disputes.id, filters.id));
  if (filters.customerId) conditions.push(eq(disputes.customerId, filters.customerId));
  if (filters.status) conditions.push(eq(disputes.status, filters.status));
  if (filters.transactionId) conditions.push(eq(disputes.transactionId, filters.transactionId));
  if (filters.beforeId) conditions.push(lt(disputes.id, filters.beforeId));
  return executor
    .select()
    .from(disputes)
    .where(and(...conditions))
    .orderBy(desc(disputes.id))
    .limit(limit);
}

/** A dispute of the transaction in one of the states, if any. */
export async function disputeOfTransaction(
  executor: Executor,
  transactionId: string,
  statuses: readonly DisputeStatus[],
): Promise<Pick<DisputeRow, 'id' | 'status'> | undefined> {
  const [row] = await executor
    .select({ id: disputes.id, status: disputes.status })
    .from(disputes)
    .where(and(eq(disputes.transactionId, transactionId), inArray(disputes.status, [...statuses])))
    .limit(1);
  return row;
}

/** The dispute locked until the caller's transaction ends. */
export async function lockDispute(tx: Executor, id: string): Promise<DisputeRow | undefined> {
  const [row] = await tx.select().from(disputes).where(eq(disputes.id, id)).for('update');
  return row;
}

export async function insertDispute(tx: Executor, values: typeof disputes.$inferInsert): Promise<void> {
  await tx.insert(disputes).values(values);
}

export async function updateDispute(
  tx: Executor,
  id: string,
  values: Partial<
    Pick<
      DisputeRow,
      'status' | 'resolution' | 'resolvedById' | 'refundTransactionId' | 'resolvedAt' | 'updatedAt'
    >
  >,
): Promise<void> {
  await tx
    .update(disputes)
    .set({ updatedAt: new Date(), ...values })
    .where(eq(disputes.id, id));
}
