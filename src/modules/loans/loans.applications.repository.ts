/** The SQL of loan applications (`loan_applications`), and what they read of loans and products. */
import { and, count, desc, eq, inArray, lt, type SQL } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { loanApplications, loanProducts, loans } from './loans.tables.ts';

export type ApplicationRow = typeof loanApplications.$inferSelect;

export interface ApplicationFilters {
  id?: string;
  customerId?: string;
  productId?: string;
  /** Any of these states. */
  statuses?: readonly ApplicationRow['status'][];
  /** Applications older than this one (the page cursor). */
  beforeId?: string;
}

/** An application with its product's code and its loan, if one was made. */
export interface LoadedApplication {
  application: ApplicationRow;
  productCode: string;
  loanId: string | null;
}

export async function selectApplications(
  executor: Executor,
  filters: ApplicationFilters,
  limit: number,
): Promise<LoadedApplication[]> {
  const conditions: SQL[] = [];
  if (filters.id) conditions.push(eq(loanApplications.id, filters.id));
  if (filters.customerId) conditions.push(eq(loanApplications.customerId, filters.customerId));
  if (filters.productId) conditions.push(eq(loanApplications.productId, filters.productId));
  if (filters.statuses) conditions.push(inArray(loanApplications.status, [...filters.statuses]));
  if (filters.beforeId) conditions.push(lt(loanApplications.id, filters.beforeId));
  return executor
    .select({ application: loanApplications, productCode: loanProducts.code, loanId: loans.id })
    .from(loanApplications)
    .innerJoin(loanProducts, eq(loanProducts.id, loanApplications.productId))
    .leftJoin(loans, eq(loans.applicationId, loanApplications.id))
    .where(and(...conditions))
    .orderBy(desc(loanApplications.id))
    .limit(limit);
}

export async function loadApplication(
  executor: Executor,
  id: string,
): Promise<LoadedApplication | undefined> {
  const [row] = await selectApplications(executor, { id }, 1);
  return row;
}

/** The application locked (`for update`) until the transaction ends. */
export async function lockApplication(tx: Executor, id: string): Promise<ApplicationRow | undefined> {
  const [row] = await tx.select().from(loanApplications).where(eq(loanApplications.id, id)).for('update');
  return row;
}

export async function insertApplication(
  tx: Executor,
  values: typeof loanApplications.$inferInsert,
): Promise<void> {
  await tx.insert(loanApplications).values(values);
}

export async function updateApplication(
  tx: Executor,
  id: string,
  values: Partial<
    Pick<
      ApplicationRow,
      | 'status'
      | 'fraudScore'
      | 'scoringResultId'
      | 'decision'
      | 'recommendedLimitMinor'
      | 'declineReasons'
      | 'documentIds'
      | 'decidedById'
      | 'decidedAt'
    >
  >,
): Promise<void> {
  await tx
    .update(loanApplications)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(loanApplications.id, id));
}

/** Loans the customer holds now (approved and not yet disbursed, or disbursed and not closed), on any product. */
export async function activeLoanCount(executor: Executor, customerId: string): Promise<number> {
  const [row] = await executor
    .select({ n: count() })
    .from(loans)
    .where(and(eq(loans.customerId, customerId), inArray(loans.status, ['approved', 'active'])));
  return Number(row?.n ?? 0);
}
