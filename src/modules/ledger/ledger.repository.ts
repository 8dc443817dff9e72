/**
 * What other modules read of the ledger (read models), each on the executor it is given: an account's journal lines
 * and opening balance (statements), a batch's transfers (reversals, disputes), the state of pending transfers (holds),
 * and a row of the caller's own table read with its ledger account's balance in one prepared statement. Other modules
 * call these through the module's index.ts, never the tables.
 */
import { and, asc, desc, eq, gte, inArray, lt, lte, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Executor } from '../../platform/db.ts';
import { type Balance, balanceColumns, balanceFrom } from './ledger.service.ts';
import { ledgerAccounts, ledgerBatches, ledgerEntries, ledgerTransfers } from './ledger.tables.ts';

export type JournalEntryRow = typeof ledgerEntries.$inferSelect;
export type TransferRow = typeof ledgerTransfers.$inferSelect;

/** One journal line of an account with what its batch and transfer say it was. */
export interface JournalLine {
  entry: JournalEntryRow;
  /** The batch's reference and code (the transaction's reference and type) and metadata. */
  reference: string | null;
  code: string;
  metadata: Record<string, unknown> | null;
  /** The transfer's code: principal, fee, tax, hold … */
  leg: string;
}

/** An account's journal lines, oldest first, between two instants and after a line (statement pages). */
export function journalLines(
  executor: Executor,
  accountId: string,
  range: { from?: Date; to?: Date; afterEntry?: bigint },
  limit: number,
): Promise<JournalLine[]> {
  const conditions: SQL[] = [eq(ledgerEntries.accountId, accountId)];
  if (range.from) conditions.push(gte(ledgerEntries.createdAt, range.from));
  if (range.to) conditions.push(lte(ledgerEntries.createdAt, range.to));
  if (range.afterEntry !== undefined) conditions.push(sql`${ledgerEntries.id} > ${range.afterEntry}`);
  return executor
    .select({
      entry: ledgerEntries,
      reference: ledgerBatches.reference,
      code: ledgerBatches.code,
      metadata: ledgerBatches.metadata,
      leg: ledgerTransfers.code,
    })
    .from(ledgerEntries)
    .innerJoin(ledgerBatches, eq(ledgerBatches.id, ledgerEntries.batchId))
    .innerJoin(ledgerTransfers, eq(ledgerTransfers.id, ledgerEntries.transferId))
    .where(and(...conditions))
    .orderBy(asc(ledgerEntries.id))
    .limit(limit);
}

/**
 * The account's balance after the last line before a point: up to and including a line (`throughEntry`, a page's
 * cursor) or before an instant. Null when no line came before (or neither is given).
 */
export async function balanceBefore(
  executor: Executor,
  accountId: string,
  point: { throughEntry?: bigint; before?: Date },
): Promise<bigint | null> {
  const [row] = await executor
    .select({ balance: ledgerEntries.balanceAfter })
    .from(ledgerEntries)
    .where(
      and(
        eq(ledgerEntries.accountId, accountId),
        point.throughEntry !== undefined
          ? lt(ledgerEntries.id, point.throughEntry + 1n)
          : point.before
            ? lt(ledgerEntries.createdAt, point.before)
            : sql`false`,
      ),
    )
    .orderBy(desc(ledgerEntries.id))
    .limit(1);
  return row?.balance ?? null;
}

/** A batch's transfers in id order, of one kind or leg code when given (the original legs of a payment). */
export function batchTransfers(
  executor: Executor,
  batchId: string,
  filter: { kind?: TransferRow['kind']; code?: string } = {},
): Promise<TransferRow[]> {
  const conditions: SQL[] = [eq(ledgerTransfers.batchId, batchId)];
  if (filter.kind) conditions.push(eq(ledgerTransfers.kind, filter.kind));
  if (filter.code) conditions.push(eq(ledgerTransfers.code, filter.code));
  return executor
    .select()
    .from(ledgerTransfers)
    .where(and(...conditions))
    .orderBy(asc(ledgerTransfers.id));
}

/** Where a pending transfer stands: its amount and expiry, and how it ended (null while it is still pending). */
export interface PendingState {
  amount: bigint;
  expiresAt: Date | null;
  ended: 'post_pending' | 'void_pending' | null;
}

/** The state of each pending transfer, by id (ids that name none are absent). */
export async function pendingStates(
  executor: Executor,
  transferIds: readonly string[],
): Promise<Map<string, PendingState>> {
  const ids = [...new Set(transferIds)];
  if (ids.length === 0) return new Map();
  const [pending, ends] = await Promise.all([
    executor
      .select({
        id: ledgerTransfers.id,
        amount: ledgerTransfers.amount,
        expiresAt: ledgerTransfers.expiresAt,
      })
      .from(ledgerTransfers)
      .where(inArray(ledgerTransfers.id, ids)),
    executor
      .select({ pendingId: ledgerTransfers.pendingId, kind: ledgerTransfers.kind })
      .from(ledgerTransfers)
      .where(inArray(ledgerTransfers.pendingId, ids)),
  ]);
  const ended = new Map(ends.map((end) => [end.pendingId!, end.kind]));
  return new Map(
    pending.map((row) => {
      const kind = ended.get(row.id);
      return [
        row.id,
        {
          amount: row.amount,
          expiresAt: row.expiresAt,
          ended: kind === 'post_pending' || kind === 'void_pending' ? kind : null,
        },
      ];
    }),
  );
}

/**
 * A named prepared read of one row of the caller's table (`id` its key, which is also its ledger account's id, as for
 * wallets) with the account's balance, in one statement. The caller owns its table; the ledger owns the join.
 * `condition` (the caller's, over its table; its placeholders' values are given with the key) must hold too, or no row.
 */
export function preparedRowWithBalance<Row>(
  db: Executor,
  table: PgTable,
  id: PgColumn,
  name: string,
  condition?: SQL,
): (key: string, values?: Record<string, unknown>) => Promise<{ row: Row; balance: Balance } | undefined> {
  const query = db
    .select({ row: table as PgTable & Record<string, PgColumn>, ...balanceColumns })
    .from(table)
    .innerJoin(ledgerAccounts, eq(ledgerAccounts.id, id))
    .where(condition ? and(eq(id, sql.placeholder('id')), condition) : eq(id, sql.placeholder('id')))
    .limit(1)
    .prepare(name);
  return async (key, values = {}) => {
    const [found] = await query.execute({ ...values, id: key });
    return found && { row: found.row as Row, balance: balanceFrom(found) };
  };
}
