/** The SQL of AML rules (`aml_rules`: one row per version; the current version has no `superseded_at`). */
import { and, asc, desc, eq, isNull, type SQL } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { amlRules, type RuleKind, type RuleMode } from './aml.tables.ts';

export type RuleRow = typeof amlRules.$inferSelect;
export type RuleInsert = typeof amlRules.$inferInsert;

export async function currentRules(
  executor: Executor,
  filter: { kind?: RuleKind; mode?: RuleMode } = {},
): Promise<RuleRow[]> {
  const conditions: SQL[] = [isNull(amlRules.supersededAt)];
  if (filter.kind) conditions.push(eq(amlRules.kind, filter.kind));
  if (filter.mode) conditions.push(eq(amlRules.mode, filter.mode));
  return executor
    .select()
    .from(amlRules)
    .where(and(...conditions))
    .orderBy(asc(amlRules.code));
}

/** The current version of a rule; `lock` holds it (for update) so versions are added one at a time. */
export async function currentRule(
  executor: Executor,
  code: string,
  lock = false,
): Promise<RuleRow | undefined> {
  const query = executor
    .select()
    .from(amlRules)
    .where(and(eq(amlRules.code, code), isNull(amlRules.supersededAt)))
    .limit(1);
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

export async function ruleVersions(executor: Executor, code: string): Promise<RuleRow[]> {
  return executor.select().from(amlRules).where(eq(amlRules.code, code)).orderBy(desc(amlRules.version));
}

export async function ruleVersion(executor: Executor, code: string, version: number) {
  const [row] = await executor
    .select()
    .from(amlRules)
    .where(and(eq(amlRules.code, code), eq(amlRules.version, version)))
    .limit(1);
  return row;
}

export async function insertRule(tx: Executor, values: RuleInsert): Promise<RuleRow | undefined> {
  const [row] = await tx.insert(amlRules).values(values).onConflictDoNothing().returning();
  return row;
}

export async function supersede(tx: Executor, id: string, at: Date): Promise<void> {
  await tx.update(amlRules).set({ supersededAt: at }).where(eq(amlRules.id, id));
}
