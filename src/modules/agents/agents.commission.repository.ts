/**
 * The commission area's reads and writes: plans, accruals (one row per transaction and beneficiary), payouts, and
 * the counts performance reads from the module's own rows. Commands take the caller's executor so they join its
 * transaction (an accrual commits with the posting that earned it).
 */
import { and, asc, desc, eq, gt, gte, inArray, isNotNull, lt, min, sql, sum } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import type { CommissionPlanRow } from './agents.ports.ts';
import {
  agentCommissionPayouts,
  agentCommissionPlans,
  agentCommissions,
  agentLocationChecks,
  agents,
} from './agents.tables.ts';

export type CommissionRow = typeof agentCommissions.$inferSelect;
export type PayoutRow = typeof agentCommissionPayouts.$inferSelect;
export type PlanInsert = typeof agentCommissionPlans.$inferInsert;

export async function insertPlan(tx: Executor, values: PlanInsert): Promise<CommissionPlanRow | undefined> {
  const [row] = await tx.insert(agentCommissionPlans).values(values).onConflictDoNothing().returning();
  return row;
}

export async function planById(executor: Executor, id: string, lock = false) {
  const query = executor.select().from(agentCommissionPlans).where(eq(agentCommissionPlans.id, id)).limit(1);
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

export async function defaultPlan(executor: Executor, currency: string) {
  const [row] = await executor
    .select()
    .from(agentCommissionPlans)
    .where(
      and(
        eq(agentCommissionPlans.currency, currency),
        eq(agentCommissionPlans.isDefault, true),
        eq(agentCommissionPlans.active, true),
      ),
    )
    .limit(1);
  return row;
}

export async function listPlans(executor: Executor, filter: { currency?: string; active?: boolean }) {
  const conditions = [];
  if (filter.currency) conditions.push(eq(agentCommissionPlans.currency, filter.currency));
  if (filter.active !== undefined) conditions.push(eq(agentCommissionPlans.active, filter.active));
  return executor
    .select()
    .from(agentCommissionPlans)
    .where(and(...conditions))
    .orderBy(asc(agentCommissionPlans.code));
}

export async function updatePlan(tx: Executor, id: string, values: Partial<PlanInsert>) {
  const [row] = await tx
    .update(agentCommissionPlans)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(agentCommissionPlans.id, id))
    .returning();
  return row!;
}

/** Clears the currency's default flag (before another plan takes it, in the same transaction). */
export async function clearDefault(tx: Executor, currency: string, exceptId: string): Promise<void> {
  await tx
    .update(agentCommissionPlans)
    .set({ isDefault: false, updatedAt: new Date() })
    .where(
      and(
        eq(agentCommissionPlans.currency, currency),
        eq(agentCommissionPlans.isDefault, true),
        sql`${agentCommissionPlans.id} <> ${exceptId}`,
      ),
    );
}

export async function agentsOnPlan(executor: Executor, planId: string): Promise<number> {
  const [row] = await executor
    .select({ count: sql<number>`count(*)::int` })
    .from(agents)
    .where(and(eq(agents.commissionPlanId, planId), sql`${agents.status} <> 'closed'`));
  return row?.count ?? 0;
}

export async function agentRow(executor: Executor, id: string) {
  const [row] = await executor.select().from(agents).where(eq(agents.id, id)).limit(1);
  return row;
}

export async function insertAccruals(
  tx: Executor,
  rows: (typeof agentCommissions.$inferInsert)[],
): Promise<void> {
  const statement = accrualsStatement(tx, rows);
  if (statement) await statement;
}

/** The insert of `insertAccruals`, unrun (null without rows). */
export function accrualsStatement(tx: Executor, rows: (typeof agentCommissions.$inferInsert)[]) {
  if (rows.length === 0) return null;
  // A retried posting writes the same (transaction, beneficiary) rows: the first ones stand.
  return tx.insert(agentCommissions).values(rows).onConflictDoNothing();
}

/** Per beneficiary and currency: what is accrued before `before` (count, sum, earliest accrual). */
export async function accruedBefore(executor: Executor, before: Date, agentId?: string) {
  const conditions = [eq(agentCommissions.status, 'accrued'), lt(agentCommissions.accruedAt, before)];
  if (agentId) conditions.push(eq(agentCommissions.agentId, agentId));
  const rows = await executor
    .select({
      agentId: agentCommissions.agentId,
      currency: agentCommissions.currency,
      count: sql<number>`count(*)::int`,
      total: sum(agentCommissions.amountMinor),
      earliest: min(agentCommissions.accruedAt),
    })
    .from(agentCommissions)
    .where(and(...conditions))
    .groupBy(agentCommissions.agentId, agentCommissions.currency)
    .orderBy(asc(agentCommissions.agentId));
  return rows.map((row) => ({
    agentId: row.agentId,
    currency: row.currency,
    count: row.count,
    total: BigInt(row.total ?? '0'),
    earliest: row.earliest!,
  }));
}

/** Marks the accruals a payout pays; returns how many and their sum (the caller compares with what it counted). */
export async function markPaid(
  tx: Executor,
  input: { agentId: string; currency: string; before: Date; payoutId: string },
): Promise<{ count: number; total: bigint }> {
  const rows = await tx
    .update(agentCommissions)
    .set({ status: 'paid', payoutId: input.payoutId })
    .where(
      and(
        eq(agentCommissions.agentId, input.agentId),
        eq(agentCommissions.currency, input.currency),
        eq(agentCommissions.status, 'accrued'),
        lt(agentCommissions.accruedAt, input.before),
      ),
    )
    .returning({ amount: agentCommissions.amountMinor });
  return { count: rows.length, total: rows.reduce((total, row) => total + row.amount, 0n) };
}

export async function lastPayout(executor: Executor, agentId: string, currency: string) {
  const [row] = await executor
    .select()
    .from(agentCommissionPayouts)
    .where(and(eq(agentCommissionPayouts.agentId, agentId), eq(agentCommissionPayouts.currency, currency)))
    .orderBy(desc(agentCommissionPayouts.periodEnd))
    .limit(1);
  return row;
}

export async function insertPayout(tx: Executor, values: typeof agentCommissionPayouts.$inferInsert) {
  const [row] = await tx.insert(agentCommissionPayouts).values(values).returning();
  return row!;
}

export async function setPayoutTransaction(tx: Executor, id: string, transactionId: string): Promise<void> {
  await tx.update(agentCommissionPayouts).set({ transactionId }).where(eq(agentCommissionPayouts.id, id));
}

export async function payoutById(executor: Executor, id: string) {
  const [row] = await executor
    .select()
    .from(agentCommissionPayouts)
    .where(eq(agentCommissionPayouts.id, id))
    .limit(1);
  return row;
}

/** A payout's commissions, oldest first, from after the cursor's id. */
export async function payoutCommissions(
  executor: Executor,
  payoutId: string,
  afterId: string | null,
  limit: number,
) {
  const conditions = [eq(agentCommissions.payoutId, payoutId)];
  if (afterId) conditions.push(gt(agentCommissions.id, afterId));
  return executor
    .select()
    .from(agentCommissions)
    .where(and(...conditions))
    .orderBy(asc(agentCommissions.id))
    .limit(limit + 1);
}

/** An agent's commissions by status and currency (sums and counts). */
export async function commissionTotals(executor: Executor, agentId: string) {
  const rows = await executor
    .select({
      currency: agentCommissions.currency,
      status: agentCommissions.status,
      count: sql<number>`count(*)::int`,
      total: sum(agentCommissions.amountMinor),
    })
    .from(agentCommissions)
    .where(eq(agentCommissions.agentId, agentId))
    .groupBy(agentCommissions.currency, agentCommissions.status);
  return rows.map((row) => ({ ...row, total: BigInt(row.total ?? '0') }));
}

/** The accruals one transaction earned (locked: a clawback and a payout must not both take a row). */
export async function commissionsOfTransaction(tx: Executor, transactionId: string) {
  return tx
    .select()
    .from(agentCommissions)
    .where(eq(agentCommissions.transactionId, transactionId))
    .orderBy(asc(agentCommissions.id))
    .for('update');
}

export async function markClawedBack(
  tx: Executor,
  ids: string[],
  clawbackTransactionId: string,
): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .update(agentCommissions)
    .set({ status: 'clawed_back', clawbackTransactionId })
    .where(inArray(agentCommissions.id, ids));
}

/** Commissions earned by the agent in [from, to), by UTC day (what it was paid or is owed; clawbacks excluded). */
export async function commissionsByDay(executor: Executor, agentId: string, from: Date, to: Date) {
  const day = sql<string>`to_char(${agentCommissions.accruedAt} at time zone 'UTC', 'YYYY-MM-DD')`;
  const rows = await executor
    .select({
      day,
      currency: agentCommissions.currency,
      count: sql<number>`count(*)::int`,
      total: sum(agentCommissions.amountMinor),
    })
    .from(agentCommissions)
    .where(
      and(
        eq(agentCommissions.agentId, agentId),
        gte(agentCommissions.accruedAt, from),
        lt(agentCommissions.accruedAt, to),
        sql`${agentCommissions.status} <> 'clawed_back'`,
      ),
    )
    .groupBy(day, agentCommissions.currency)
    .orderBy(day);
  return rows.map((row) => ({ ...row, total: BigInt(row.total ?? '0') }));
}

/**
 * The agent's own money actions as its location checks recorded them (those linked to a transaction), by UTC day and
 * action: the fallback count of cash-ins and cash-outs when the cash area exposes no read.
 */
export async function linkedChecksByDay(executor: Executor, agentId: string, from: Date, to: Date) {
  const day = sql<string>`to_char(${agentLocationChecks.checkedAt} at time zone 'UTC', 'YYYY-MM-DD')`;
  return executor
    .select({ day, action: agentLocationChecks.action, count: sql<number>`count(*)::int` })
    .from(agentLocationChecks)
    .where(
      and(
        eq(agentLocationChecks.agentId, agentId),
        gte(agentLocationChecks.checkedAt, from),
        lt(agentLocationChecks.checkedAt, to),
        isNotNull(agentLocationChecks.transactionId),
        inArray(agentLocationChecks.action, ['cash_in', 'cash_out']),
      ),
    )
    .groupBy(day, agentLocationChecks.action)
    .orderBy(day);
}

/** Checks and violations (outside or stale) in [from, to): the fallback violation rate. */
export async function checkCounts(executor: Executor, agentId: string, from: Date, to: Date) {
  const [row] = await executor
    .select({
      checks: sql<number>`count(*)::int`,
      violations: sql<number>`count(*) filter (where ${agentLocationChecks.outcome} <> 'inside')::int`,
    })
    .from(agentLocationChecks)
    .where(
      and(
        eq(agentLocationChecks.agentId, agentId),
        gte(agentLocationChecks.checkedAt, from),
        lt(agentLocationChecks.checkedAt, to),
      ),
    );
  return { checks: row?.checks ?? 0, violations: row?.violations ?? 0 };
}
