/**
 * FX rates (`fx_rates`, the engine's: currency exchange is one of its movements), and SQL on transaction records for
 * the steps of a movement posted around an outside call (the engine's `begin`,
 * `complete`, `fail`, `note`), and the reads and commands other modules use through the module's index.ts: a
 * record by id (locked when asked), references by id, and a reversal marking its original. Commands take the
 * caller's executor, so they join the caller's transaction (a dispute refund, a reversal) and commit with it.
 */
import { and, asc, desc, eq, gte, inArray, lte, or, type SQL, sql } from 'drizzle-orm';
import { type Executor, violatedConstraint } from '../../platform/db.ts';
import { transactionErrors } from './transactions.errors.ts';
import type { Step, TransactionRow } from './transactions.plan.ts';
import { fxRates, type TransactionState, type TransactionType, transactions } from './transactions.tables.ts';

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

/** Records by id (ids that name none are left out). */
export function transactionsById(executor: Executor, ids: readonly string[]): Promise<TransactionRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return executor
    .select()
    .from(transactions)
    .where(inArray(transactions.id, [...ids]));
}

export async function transactionByReference(
  executor: Executor,
  reference: string,
): Promise<TransactionRow | undefined> {
  const [row] = await executor
    .select()
    .from(transactions)
    .where(eq(transactions.reference, reference))
    .limit(1);
  return row;
}

/** What a history page is filtered by; every filter given applies. */
export interface HistoryFilters {
  /** Either side's customer. */
  partyCustomerId?: string;
  /** Only what this customer made (in any state), and anyone's settled movements. */
  visibleToCustomerId?: string;
  settledStates: readonly TransactionState[];
  /** Either side's wallet. */
  walletId?: string;
  type?: TransactionType;
  status?: TransactionState;
  reference?: string;
  from?: Date;
  to?: Date;
  /** Older than this record (the page cursor). */
  beforeId?: string;
}

/** A page of the history, newest first. */
export function listTransactions(
  executor: Executor,
  filters: HistoryFilters,
  limit: number,
): Promise<TransactionRow[]> {
  const conditions: SQL[] = [];
  const customerId = filters.partyCustomerId;
  if (customerId)
    conditions.push(
      or(eq(transactions.customerId, customerId), eq(transactions.counterpartyCustomerId, customerId))!,
    );
  const viewer = filters.visibleToCustomerId;
  if (viewer)
    conditions.push(
      or(
        eq(transactions.customerId, viewer),
        and(eq(transactions.initiatedByType, 'customer'), eq(transactions.initiatedById, viewer)),
        inArray(transactions.status, [...filters.settledStates]),
      )!,
    );
  if (filters.walletId)
    conditions.push(
      or(
        eq(transactions.sourceWalletId, filters.walletId),
        eq(transactions.destinationWalletId, filters.walletId),
      )!,
    );
  if (filters.type) conditions.push(eq(transactions.type, filters.type));
  if (filters.status) conditions.push(eq(transactions.status, filters.status));
  if (filters.reference) conditions.push(eq(transactions.reference, filters.reference));
  if (filters.from) conditions.push(gte(transactions.createdAt, filters.from));
  if (filters.to) conditions.push(lte(transactions.createdAt, filters.to));
  if (filters.beforeId) conditions.push(sql`${transactions.id} < ${filters.beforeId}`);
  return executor
    .select()
    .from(transactions)
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(transactions.id))
    .limit(limit);
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

export type FxRateRow = typeof fxRates.$inferSelect;

/** Every rate, by base then quote currency. */
export function fxRateRows(executor: Executor): Promise<FxRateRow[]> {
  return executor.select().from(fxRates).orderBy(asc(fxRates.baseCurrency), asc(fxRates.quoteCurrency));
}

/** The rate of a pair, whichever way round it was entered. */
export async function fxRateBetween(
  executor: Executor,
  from: string,
  to: string,
): Promise<FxRateRow | undefined> {
  const [row] = await executor
    .select()
    .from(fxRates)
    .where(
      or(
        and(eq(fxRates.baseCurrency, from), eq(fxRates.quoteCurrency, to)),
        and(eq(fxRates.baseCurrency, to), eq(fxRates.quoteCurrency, from)),
      ),
    )
    .limit(1);
  return row;
}

/** Sets a pair's rate (inside the caller's transaction): one row per pair, whichever way round it came first. */
export async function upsertFxRate(
  tx: Executor,
  input: { id: string; baseCurrency: string; quoteCurrency: string } & Pick<
    FxRateRow,
    'rateNumerator' | 'rateDenominator' | 'spreadBps'
  >,
): Promise<FxRateRow> {
  await tx
    .delete(fxRates)
    .where(and(eq(fxRates.baseCurrency, input.quoteCurrency), eq(fxRates.quoteCurrency, input.baseCurrency)));
  const values = {
    rateNumerator: input.rateNumerator,
    rateDenominator: input.rateDenominator,
    spreadBps: input.spreadBps,
    updatedAt: new Date(),
  };
  const [row] = await tx
    .insert(fxRates)
    .values({ id: input.id, baseCurrency: input.baseCurrency, quoteCurrency: input.quoteCurrency, ...values })
    .onConflictDoUpdate({ target: [fxRates.baseCurrency, fxRates.quoteCurrency], set: values })
    .returning();
  return row!;
}
