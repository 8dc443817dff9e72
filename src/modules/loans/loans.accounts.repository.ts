/**
 * The SQL of the accounts area: applications as approval reads them, loans and their instalments, loan transactions,
 * approval limits and the holiday calendar. Each function takes the executor (or transaction) it runs on.
 */
import { and, asc, desc, eq, gt, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { loanFraudFlags } from './loans.fraud.tables.ts';
import type { ScheduleLine } from './loans.schedule.ts';
import {
  type ApplicationState,
  type LoanState,
  loanApplications,
  loanApprovalLimits,
  loanHolidays,
  loanInstalments,
  loanProducts,
  loanProductVersions,
  loans,
  loanTransactions,
} from './loans.tables.ts';
import type { ArrearsBucket, ProductTerms } from './loans.terms.ts';

export type ApplicationRow = typeof loanApplications.$inferSelect;
export type LoanRecord = typeof loans.$inferSelect;
export type InstalmentRow = typeof loanInstalments.$inferSelect;
export type LoanTransactionRow = typeof loanTransactions.$inferSelect;
export type ApprovalLimitRow = typeof loanApprovalLimits.$inferSelect;

/** A loan with its product's code and name (views and postings need them). */
export type LoanWithProduct = LoanRecord & { productCode: string; productName: string };

export async function lockApplication(tx: Executor, id: string): Promise<ApplicationRow | undefined> {
  const [row] = await tx.select().from(loanApplications).where(eq(loanApplications.id, id)).for('update');
  return row;
}

export async function applicationById(executor: Executor, id: string): Promise<ApplicationRow | undefined> {
  const [row] = await executor.select().from(loanApplications).where(eq(loanApplications.id, id)).limit(1);
  return row;
}

/** The terms of a product version, with the product's code. */
export async function productVersion(
  executor: Executor,
  productId: string,
  version: number,
): Promise<{ terms: ProductTerms; code: string } | undefined> {
  const [row] = await executor
    .select({ terms: loanProductVersions.terms, code: loanProducts.code })
    .from(loanProductVersions)
    .innerJoin(loanProducts, eq(loanProducts.id, loanProductVersions.productId))
    .where(and(eq(loanProductVersions.productId, productId), eq(loanProductVersions.version, version)))
    .limit(1);
  return row;
}

/** Whether the application's last fraud flag was cleared by an investigation (it may then be approved by hand). */
export async function fraudFlagCleared(executor: Executor, applicationId: string): Promise<boolean> {
  const [flag] = await executor
    .select({ status: loanFraudFlags.status })
    .from(loanFraudFlags)
    .where(eq(loanFraudFlags.applicationId, applicationId))
    .orderBy(desc(loanFraudFlags.createdAt), desc(loanFraudFlags.id))
    .limit(1);
  return flag?.status === 'cleared';
}

export async function decideApplication(
  tx: Executor,
  id: string,
  decision: {
    status: Extract<ApplicationState, 'approved' | 'declined'>;
    decidedById: string | null;
    reasons: { code: string; message: string }[] | null;
  },
): Promise<ApplicationRow> {
  const [row] = await tx
    .update(loanApplications)
    .set({
      status: decision.status,
      decidedById: decision.decidedById,
      decidedAt: new Date(),
      ...(decision.reasons ? { declineReasons: decision.reasons } : {}),
      updatedAt: new Date(),
    })
    .where(eq(loanApplications.id, id))
    .returning();
  return row!;
}

/** The highest approval limit among the roles for the currency; null when none of them has one. */
export async function approvalLimitOf(
  executor: Executor,
  roles: readonly string[],
  currency: string,
): Promise<bigint | null> {
  if (roles.length === 0) return null;
  const rows = await executor
    .select({ max: loanApprovalLimits.maxAmountMinor })
    .from(loanApprovalLimits)
    .where(and(inArray(loanApprovalLimits.roleCode, [...roles]), eq(loanApprovalLimits.currency, currency)));
  let best: bigint | null = null;
  for (const row of rows) if (best === null || row.max > best) best = row.max;
  return best;
}

export async function upsertApprovalLimit(
  tx: Executor,
  input: { roleCode: string; currency: string; maxAmountMinor: bigint; updatedById: string | null },
): Promise<ApprovalLimitRow> {
  const [row] = await tx
    .insert(loanApprovalLimits)
    .values(input)
    .onConflictDoUpdate({
      target: [loanApprovalLimits.roleCode, loanApprovalLimits.currency],
      set: { maxAmountMinor: input.maxAmountMinor, updatedById: input.updatedById, updatedAt: new Date() },
    })
    .returning();
  return row!;
}

export function deleteApprovalLimit(tx: Executor, roleCode: string, currency: string) {
  return tx
    .delete(loanApprovalLimits)
    .where(and(eq(loanApprovalLimits.roleCode, roleCode), eq(loanApprovalLimits.currency, currency)))
    .returning();
}

export function approvalLimits(executor: Executor): Promise<ApprovalLimitRow[]> {
  return executor
    .select()
    .from(loanApprovalLimits)
    .orderBy(asc(loanApprovalLimits.roleCode), asc(loanApprovalLimits.currency));
}

/** Holidays on or after a date (what a schedule starting then can meet). */
export async function holidaysFrom(executor: Executor, from: string): Promise<string[]> {
  const rows = await executor
    .select({ date: loanHolidays.date })
    .from(loanHolidays)
    .where(gte(loanHolidays.date, from));
  return rows.map((row) => row.date);
}

export async function insertLoan(tx: Executor, values: typeof loans.$inferInsert): Promise<LoanRecord> {
  const [row] = await tx.insert(loans).values(values).returning();
  return row!;
}

export async function loanByApplication(executor: Executor, applicationId: string) {
  const [row] = await executor.select().from(loans).where(eq(loans.applicationId, applicationId)).limit(1);
  return row;
}

/** The loan's instalments become the schedule's lines (approval; again from the actual date at disbursement). */
export async function replaceInstalments(tx: Executor, loanId: string, lines: readonly ScheduleLine[]) {
  await tx.delete(loanInstalments).where(eq(loanInstalments.loanId, loanId));
  if (lines.length === 0) return;
  await tx.insert(loanInstalments).values(
    lines.map((line) => ({
      loanId,
      seq: line.seq,
      dueDate: line.due_date,
      principalDue: line.principal_due,
      interestDue: line.interest_due,
      feeDue: line.fee_due,
      status: 'pending' as const,
    })),
  );
}

export async function updateLoan(tx: Executor, id: string, values: Partial<typeof loans.$inferInsert>) {
  const [row] = await tx
    .update(loans)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(loans.id, id))
    .returning();
  return row!;
}

export async function insertLoanTransaction(
  tx: Executor,
  values: typeof loanTransactions.$inferInsert,
): Promise<LoanTransactionRow> {
  const [row] = await tx.insert(loanTransactions).values(values).returning();
  return row!;
}

const loanWithProduct = { loan: loans, productCode: loanProducts.code, productName: loanProducts.name };

function flatten(row: { loan: LoanRecord; productCode: string; productName: string }): LoanWithProduct {
  return { ...row.loan, productCode: row.productCode, productName: row.productName };
}

export async function loanById(executor: Executor, id: string): Promise<LoanWithProduct | undefined> {
  const [row] = await executor
    .select(loanWithProduct)
    .from(loans)
    .innerJoin(loanProducts, eq(loanProducts.id, loans.productId))
    .where(eq(loans.id, id))
    .limit(1);
  return row && flatten(row);
}

export interface LoanFilters {
  status?: LoanState;
  customerId?: string;
  productId?: string;
  bucket?: ArrearsBucket;
  /** Newest first: loans with an id below this one. */
  beforeId?: string;
}

export async function listLoans(executor: Executor, filters: LoanFilters, limit: number) {
  const conditions: SQL[] = [];
  if (filters.status) conditions.push(eq(loans.status, filters.status));
  if (filters.customerId) conditions.push(eq(loans.customerId, filters.customerId));
  if (filters.productId) conditions.push(eq(loans.productId, filters.productId));
  if (filters.bucket) conditions.push(eq(loans.arrearsBucket, filters.bucket));
  if (filters.beforeId) conditions.push(lt(loans.id, filters.beforeId));
  const rows = await executor
    .select(loanWithProduct)
    .from(loans)
    .innerJoin(loanProducts, eq(loanProducts.id, loans.productId))
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(loans.id))
    .limit(limit);
  return rows.map(flatten);
}

export function instalmentsOf(executor: Executor, loanId: string): Promise<InstalmentRow[]> {
  return executor
    .select()
    .from(loanInstalments)
    .where(eq(loanInstalments.loanId, loanId))
    .orderBy(asc(loanInstalments.seq));
}

/** The first instalment not yet paid of each loan. */
export async function nextDueOf(executor: Executor, loanIds: string[]): Promise<Map<string, InstalmentRow>> {
  if (loanIds.length === 0) return new Map();
  const rows = await executor
    .selectDistinctOn([loanInstalments.loanId])
    .from(loanInstalments)
    .where(and(inArray(loanInstalments.loanId, loanIds), sql`${loanInstalments.status} <> 'paid'`))
    .orderBy(asc(loanInstalments.loanId), asc(loanInstalments.seq));
  return new Map(rows.map((row) => [row.loanId, row]));
}

/** A loan's transactions, oldest first (ids are time-ordered), after an id. */
export function transactionsOf(
  executor: Executor,
  loanId: string,
  limit: number,
  afterId?: string,
): Promise<LoanTransactionRow[]> {
  const conditions: SQL[] = [eq(loanTransactions.loanId, loanId)];
  if (afterId) conditions.push(gt(loanTransactions.id, afterId));
  return executor
    .select()
    .from(loanTransactions)
    .where(and(...conditions))
    .orderBy(asc(loanTransactions.id))
    .limit(limit);
}
