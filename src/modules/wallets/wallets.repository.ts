/**
 * The SQL of wallets (`wallets`); each function runs on the executor it is given. What a payment reads of a wallet's
 * state and its usage counters is in wallets.facts.ts (`payment_wallet_state`, ADR 0016 and 0026).
 */
import { and, asc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { preparedRowWithBalance } from '../ledger/index.ts';
import { wallets } from './wallets.tables.ts';

export type WalletRow = typeof wallets.$inferSelect;
type Status = WalletRow['status'];

/**
 * The reads of every payment and balance request, built once and sent as named prepared statements: drizzle's
 * query building cost about as much client CPU as the round trip itself (benchmark profile), and PostgreSQL keeps
 * the plan per connection.
 */
export function preparedWalletReads(db: Executor) {
  return {
    byId: db
      .select()
      .from(wallets)
      .where(eq(wallets.id, sql.placeholder('id')))
      .limit(1)
      .prepare('wallets_by_id'),
    ofCustomer: db
      .select()
      .from(wallets)
      .where(
        and(
          eq(wallets.customerId, sql.placeholder('customerId')),
          eq(wallets.currency, sql.placeholder('currency')),
          eq(wallets.ownerType, 'customer'),
        ),
      )
      .limit(1)
      .prepare('wallets_of_customer'),
  };
}

/**
 * What lets a customer see a wallet that is not theirs (a merchant's owner sees the merchant's wallet): a condition
 * over the wallet's columns, given the customer's id. Registered by the modules that own such wallets.
 */
export type OwnerCondition = (wallet: typeof wallets, customerId: SQL) => SQL;

/** A customer sees their own wallets and those an owner condition gives them. */
function visibleToCustomer(customerId: SQL, conditions: readonly OwnerCondition[]): SQL {
  return sql`(${sql.join(
    [
      sql`${wallets.customerId} = ${customerId}`,
      ...conditions.map((condition) => condition(wallets, customerId)),
    ],
    sql` or `,
  )})`;
}

/**
 * The balance read in one statement: the wallet, its ledger account's balance and holds, and whether the viewer may see
 * it. `viewer` is the customer's id, or null for staff (their permission was checked); a wallet the viewer may not
 * see comes back as no row, like one that does not exist.
 */
export function preparedVisibleBalance(db: Executor, conditions: readonly OwnerCondition[]) {
  const viewer = sql`${sql.placeholder('viewer')}::uuid`;
  const read = preparedRowWithBalance<WalletRow>(
    db,
    wallets,
    wallets.id,
    `wallets_balance_visible_${conditions.length}`,
    sql`(${viewer} is null or ${visibleToCustomer(viewer, conditions)})`,
  );
  return (id: string, viewerId: string | null) => read(id, { viewer: viewerId });
}

/** Whether a customer who is not the wallet's customer may see it (an owner condition holds), in one statement. */
export async function visibleThroughOwnerConditions(
  executor: Executor,
  walletId: string,
  customerId: string,
  conditions: readonly OwnerCondition[],
): Promise<boolean> {
  if (conditions.length === 0) return false;
  const [row] = await executor
    .select({ id: wallets.id })
    .from(wallets)
    .where(and(eq(wallets.id, walletId), visibleToCustomer(sql`${customerId}::uuid`, conditions)))
    .limit(1);
  return row !== undefined;
}

export async function walletById(executor: Executor, id: string): Promise<WalletRow | undefined> {
  const [row] = await executor.select().from(wallets).where(eq(wallets.id, id)).limit(1);
  return row;
}

/** Wallet rows by id, in one statement (ids that name no wallet are left out). */
export function walletsById(executor: Executor, ids: readonly string[]): Promise<WalletRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return executor
    .select()
    .from(wallets)
    .where(inArray(wallets.id, [...ids]));
}

export async function walletByNumber(
  executor: Executor,
  walletNumber: string,
): Promise<WalletRow | undefined> {
  const [row] = await executor.select().from(wallets).where(eq(wallets.walletNumber, walletNumber)).limit(1);
  return row;
}

/** The id of the customer's own wallet in the currency, if any (without the prepared read: inside a transaction). */
export async function customerWalletId(
  executor: Executor,
  customerId: string,
  currency: string,
): Promise<string | undefined> {
  const [existing] = await executor
    .select({ id: wallets.id })
    .from(wallets)
    .where(
      and(
        eq(wallets.customerId, customerId),
        eq(wallets.currency, currency),
        eq(wallets.ownerType, 'customer'),
      ),
    )
    .limit(1);
  return existing?.id;
}

export async function insertWallet(tx: Executor, values: typeof wallets.$inferInsert): Promise<WalletRow> {
  const [row] = await tx.insert(wallets).values(values).returning();
  return row!;
}

/** A page of wallets in id order, after the cursor's id. */
export function listWallets(
  executor: Executor,
  filters: { customerId?: string; merchantId?: string; currency?: string; status?: Status; afterId?: string },
  limit: number,
): Promise<WalletRow[]> {
  const conditions: SQL[] = [];
  if (filters.customerId) conditions.push(eq(wallets.customerId, filters.customerId));
  if (filters.merchantId) conditions.push(eq(wallets.merchantId, filters.merchantId));
  if (filters.currency) conditions.push(eq(wallets.currency, filters.currency));
  if (filters.status) conditions.push(eq(wallets.status, filters.status));
  if (filters.afterId) conditions.push(sql`${wallets.id} > ${filters.afterId}`);
  return executor
    .select()
    .from(wallets)
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(asc(wallets.id))
    .limit(limit);
}

/** Locks the wallets in id order (so two opposite transfers never deadlock) until the transaction ends. */
export function lockWallets(tx: Executor, ids: readonly string[]): Promise<WalletRow[]> {
  const unique = [...new Set(ids)].sort();
  return tx.select().from(wallets).where(inArray(wallets.id, unique)).orderBy(asc(wallets.id)).for('update');
}

export async function setWalletStatus(
  tx: Executor,
  id: string,
  status: Status,
  reason: string,
): Promise<WalletRow | undefined> {
  const [row] = await tx
    .update(wallets)
    .set({ status, statusReason: reason, updatedAt: new Date() })
    .where(eq(wallets.id, id))
    .returning();
  return row;
}
