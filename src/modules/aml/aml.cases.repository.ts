/** The cases area's reads and writes of its tables (alerts, cases, case events). The services hold the rules. */
import { and, asc, desc, eq, isNotNull, isNull, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import { type Executor, rawRows } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import {
  ALERT_PRIORITIES,
  type AlertPriority,
  amlAlerts,
  amlCaseEvents,
  amlCases,
  type CaseState,
} from './aml.tables.ts';

export type CaseRow = typeof amlCases.$inferSelect;
export type AlertRow = typeof amlAlerts.$inferSelect;
export type CaseEventRow = typeof amlCaseEvents.$inferSelect;

export const priorityRank = (priority: AlertPriority) => ALERT_PRIORITIES.indexOf(priority);

/** One step up (critical stays critical). */
export function raisedPriority(priority: AlertPriority): AlertPriority {
  return ALERT_PRIORITIES[Math.min(priorityRank(priority) + 1, ALERT_PRIORITIES.length - 1)]!;
}

export async function findCase(db: Executor, id: string, lock = false): Promise<CaseRow | undefined> {
  const query = db.select().from(amlCases).where(eq(amlCases.id, id)).limit(1);
  const [row] = await (lock ? query.for('update') : query);
  return row;
}

/** The one case still open for this customer (or, with no customer, this agent) and pattern, locked. */
export async function openCaseOf(
  tx: Executor,
  subject: { customerId: string | null; agentId: string | null },
  pattern: string,
): Promise<CaseRow | undefined> {
  const who = subject.customerId
    ? eq(amlCases.customerId, subject.customerId)
    : and(isNull(amlCases.customerId), eq(amlCases.agentId, subject.agentId!));
  const [row] = await tx
    .select()
    .from(amlCases)
    .where(and(who, eq(amlCases.pattern, pattern), sql`${amlCases.state} <> 'closed'`))
    .limit(1)
    .for('update');
  return row;
}

/** `AML-<year>-<6 digits>` from the sequence (beyond a million cases a year the number simply grows). */
export async function nextReference(tx: Executor, at: Date): Promise<string> {
  const rows = await rawRows<{ n: string }>(tx, sql`select nextval('aml_case_reference_seq')::text as n`);
  return `AML-${at.getUTCFullYear()}-${rows[0]!.n.padStart(6, '0')}`;
}

export async function insertCaseEvent(
  tx: Executor,
  caseId: string,
  actorId: string | null,
  action: string,
  detail: Record<string, unknown> = {},
): Promise<void> {
  await tx.insert(amlCaseEvents).values({ id: uuidv7(), caseId, actorId, action, detail });
}

export async function updateCase(
  tx: Executor,
  id: string,
  changes: Partial<typeof amlCases.$inferInsert>,
): Promise<CaseRow> {
  const [row] = await tx
    .update(amlCases)
    .set({ ...changes, updatedAt: new Date() })
    .where(eq(amlCases.id, id))
    .returning();
  return row!;
}

export interface CaseFilters {
  state?: CaseState;
  priority?: AlertPriority;
  assigneeId?: string;
  customerId?: string;
  agentId?: string;
  breached?: boolean;
  /** Snoozed cases (snooze still running) drop out unless asked for. */
  includeSnoozed?: boolean;
  beforeId?: string;
}

export function listCases(db: Executor, filters: CaseFilters, limit: number): Promise<CaseRow[]> {
  const where: (SQL | undefined)[] = [
    filters.state ? eq(amlCases.state, filters.state) : undefined,
    filters.priority ? eq(amlCases.priority, filters.priority) : undefined,
    filters.assigneeId ? eq(amlCases.assigneeId, filters.assigneeId) : undefined,
    filters.customerId ? eq(amlCases.customerId, filters.customerId) : undefined,
    filters.agentId ? eq(amlCases.agentId, filters.agentId) : undefined,
    filters.breached === undefined
      ? undefined
      : filters.breached
        ? isNotNull(amlCases.breachedAt)
        : isNull(amlCases.breachedAt),
    filters.includeSnoozed
      ? undefined
      : or(isNull(amlCases.snoozedUntil), lte(amlCases.snoozedUntil, sql`now()`)),
    filters.beforeId ? lt(amlCases.id, filters.beforeId) : undefined,
  ];
  return db
    .select()
    .from(amlCases)
    .where(and(...where))
    .orderBy(desc(amlCases.id))
    .limit(limit);
}

export function alertsOfCase(db: Executor, caseId: string, limit = 200): Promise<AlertRow[]> {
  return db
    .select()
    .from(amlAlerts)
    .where(eq(amlAlerts.caseId, caseId))
    .orderBy(asc(amlAlerts.createdAt), asc(amlAlerts.id))
    .limit(limit);
}

export function eventsOfCase(db: Executor, caseId: string, limit = 500): Promise<CaseEventRow[]> {
  return db
    .select()
    .from(amlCaseEvents)
    .where(eq(amlCaseEvents.caseId, caseId))
    .orderBy(asc(amlCaseEvents.at), asc(amlCaseEvents.id))
    .limit(limit);
}

/** The latest event of an action on a case (the restriction's frozen wallets, say). */
export async function lastEventOf(
  db: Executor,
  caseId: string,
  action: string,
): Promise<CaseEventRow | undefined> {
  const [row] = await db
    .select()
    .from(amlCaseEvents)
    .where(and(eq(amlCaseEvents.caseId, caseId), eq(amlCaseEvents.action, action)))
    .orderBy(desc(amlCaseEvents.at), desc(amlCaseEvents.id))
    .limit(1);
  return row;
}

/** Open cases past their due time not yet marked, oldest due first, locked (another sweeper skips them). */
export function overdueCases(tx: Executor, now: Date, limit: number): Promise<CaseRow[]> {
  return tx
    .select()
    .from(amlCases)
    .where(and(sql`${amlCases.state} <> 'closed'`, isNull(amlCases.breachedAt), lt(amlCases.dueAt, now)))
    .orderBy(asc(amlCases.dueAt))
    .limit(limit)
    .for('update', { skipLocked: true });
}
