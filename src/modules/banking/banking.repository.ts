/** The SQL of linked bank accounts (`linked_bank_accounts`); each function runs on the executor it is given. */
import { and, count, desc, eq, isNull, lt, ne, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { linkedBankAccounts } from './banking.tables.ts';

export type LinkedAccountRow = typeof linkedBankAccounts.$inferSelect;
type NewLinkedAccount = typeof linkedBankAccounts.$inferInsert;
type Status = LinkedAccountRow['status'];

export async function linkedAccountById(
  executor: Executor,
  id: string,
): Promise<LinkedAccountRow | undefined> {
  const [row] = await executor
    .select()
    .from(linkedBankAccounts)
    .where(eq(linkedBankAccounts.id, id))
    .limit(1);
  return row;
}

/** A page of accounts, newest first: of one customer when given, of a status (else every one not unlinked). */
export function listLinkedAccounts(
  executor: Executor,
  filters: { customerId?: string; status?: Status; beforeId?: string },
  limit: number,
): Promise<LinkedAccountRow[]> {
  const conditions: SQL[] = [];
  if (filters.customerId) conditions.push(eq(linkedBankAccounts.customerId, filters.customerId));
  conditions.push(
    filters.status
      ? eq(linkedBankAccounts.status, filters.status)
      : ne(linkedBankAccounts.status, 'unlinked'),
  );
  if (filters.beforeId) conditions.push(lt(linkedBankAccounts.id, filters.beforeId));
  return executor
    .select()
    .from(linkedBankAccounts)
    .where(and(...conditions))
    .orderBy(desc(linkedBankAccounts.id))
    .limit(limit);
}

/** How many accounts the customer has linked and not unlinked. */
export async function activeLinkCount(executor: Executor, customerId: string): Promise<number> {
  const [linked] = await executor
    .select({ total: count() })
    .from(linkedBankAccounts)
    .where(and(eq(linkedBankAccounts.customerId, customerId), ne(linkedBankAccounts.status, 'unlinked')));
  return linked?.total ?? 0;
}

/**
 * What the link rules count of one bank account number: whether another customer has it pending or verified, its
 * failed verifications (by anyone) since an instant, and this customer's links of it since then.
 */
export async function linkHistory(
  executor: Executor,
  input: { customerId: string; bankCode: string; accountIndex: string; since: Date },
): Promise<{ elsewhere: boolean; failures: number; attempts: number }> {
  const sameAccount = and(
    eq(linkedBankAccounts.bankCode, input.bankCode),
    eq(linkedBankAccounts.accountNumberIndex, input.accountIndex),
  );
  const [elsewhere] = await executor
    .select({ id: linkedBankAccounts.id })
    .from(linkedBankAccounts)
    .where(
      and(
        sameAccount,
        ne(linkedBankAccounts.customerId, input.customerId),
        sql`${linkedBankAccounts.status} in ('pending', 'verified')`,
      ),
    )
    .limit(1);
  if (elsewhere) return { elsewhere: true, failures: 0, attempts: 0 };
  const [failures] = await executor
    .select({ total: count() })
    .from(linkedBankAccounts)
    .where(
      and(
        sameAccount,
        eq(linkedBankAccounts.status, 'failed'),
        sql`${linkedBankAccounts.updatedAt} > ${input.since}`,
      ),
    );
  const [attempts] = await executor
    .select({ total: count() })
    .from(linkedBankAccounts)
    .where(
      and(
        sameAccount,
        eq(linkedBankAccounts.customerId, input.customerId),
        sql`${linkedBankAccounts.createdAt} > ${input.since}`,
      ),
    );
  return { elsewhere: false, failures: failures?.total ?? 0, attempts: attempts?.total ?? 0 };
}

export async function insertLinkedAccount(tx: Executor, values: NewLinkedAccount): Promise<LinkedAccountRow> {
  const [row] = await tx.insert(linkedBankAccounts).values(values).returning();
  return row!;
}

/** Unlinks an account not unlinked yet; undefined when it was. */
export async function unlinkAccount(tx: Executor, id: string): Promise<LinkedAccountRow | undefined> {
  const [row] = await tx
    .update(linkedBankAccounts)
    .set({ status: 'unlinked', updatedAt: new Date() })
    .where(and(eq(linkedBankAccounts.id, id), ne(linkedBankAccounts.status, 'unlinked')))
    .returning();
  return row;
}

/** Changes a pending account (its outcome, or the micro deposit's state); undefined when it is no longer pending. */
export async function updatePending(
  executor: Executor,
  id: string,
  values: Partial<Omit<NewLinkedAccount, 'id' | 'customerId'>>,
): Promise<LinkedAccountRow | undefined> {
  const [row] = await executor
    .update(linkedBankAccounts)
    .set({ ...values, updatedAt: new Date() })
    .where(and(eq(linkedBankAccounts.id, id), eq(linkedBankAccounts.status, 'pending')))
    .returning();
  return row;
}

/** Records that a micro deposit is being sent, once: false when one was already (or the account is not pending). */
export async function claimMicroDeposit(
  tx: Executor,
  id: string,
  values: { microDepositHash: string; externalAccountId: string },
): Promise<boolean> {
  const [claimed] = await tx
    .update(linkedBankAccounts)
    .set({ verificationMethod: 'micro_deposit', verificationAttempts: 0, ...values, updatedAt: new Date() })
    .where(
      and(
        eq(linkedBankAccounts.id, id),
        eq(linkedBankAccounts.status, 'pending'),
        isNull(linkedBankAccounts.microDepositHash),
      ),
    )
    .returning({ id: linkedBankAccounts.id });
  return claimed !== undefined;
}

/** Counts one confirmation attempt while fewer than `max` were made; undefined when none is left (or not pending). */
export async function countAttempt(
  executor: Executor,
  id: string,
  max: number,
): Promise<LinkedAccountRow | undefined> {
  const [counted] = await executor
    .update(linkedBankAccounts)
    .set({ verificationAttempts: sql`${linkedBankAccounts.verificationAttempts} + 1`, updatedAt: new Date() })
    .where(
      and(
        eq(linkedBankAccounts.id, id),
        eq(linkedBankAccounts.status, 'pending'),
        lt(linkedBankAccounts.verificationAttempts, max),
      ),
    )
    .returning();
  return counted;
}
