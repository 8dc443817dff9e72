/** The registration's SQL; each function takes the executor (or transaction) it runs on. */
import { and, eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { onboardingDenyList, registrationSteps, registrations } from './onboarding.tables.ts';

export type RegistrationRow = typeof registrations.$inferSelect;
export type RegistrationPatch = Partial<
  Omit<typeof registrations.$inferInsert, 'id' | 'state' | 'version' | 'createdAt' | 'stepTimes'>
>;
export type StepRow = typeof registrationSteps.$inferSelect;

export async function findRegistration(db: Executor, id: string): Promise<RegistrationRow | undefined> {
  const [row] = await db.select().from(registrations).where(eq(registrations.id, id)).limit(1);
  return row;
}

export async function findRegistrationByTokenHash(
  db: Executor,
  tokenHash: string,
): Promise<RegistrationRow | undefined> {
  const [row] = await db.select().from(registrations).where(eq(registrations.tokenHash, tokenHash)).limit(1);
  return row;
}

/** The row, locked until the transaction ends (steps on one registration serialise on it). */
export async function lockRegistration(tx: Executor, id: string): Promise<RegistrationRow | undefined> {
  const [row] = await tx.select().from(registrations).where(eq(registrations.id, id)).limit(1).for('update');
  return row;
}

export async function insertRegistration(
  tx: Executor,
  row: typeof registrations.$inferInsert,
): Promise<RegistrationRow> {
  const [inserted] = await tx.insert(registrations).values(row).returning();
  return inserted!;
}

export async function updateRegistration(
  tx: Executor,
  id: string,
  values: Partial<typeof registrations.$inferInsert>,
): Promise<RegistrationRow> {
  const [row] = await tx.update(registrations).set(values).where(eq(registrations.id, id)).returning();
  return row!;
}

export async function findStep(
  db: Executor,
  registrationId: string,
  step: string,
  requestHash: string,
): Promise<StepRow | undefined> {
  const [row] = await db
    .select()
    .from(registrationSteps)
    .where(
      and(
        eq(registrationSteps.registrationId, registrationId),
        eq(registrationSteps.step, step),
        eq(registrationSteps.requestHash, requestHash),
      ),
    )
    .limit(1);
  return row;
}

export async function insertStep(tx: Executor, row: typeof registrationSteps.$inferInsert): Promise<void> {
  await tx.insert(registrationSteps).values(row).onConflictDoNothing();
}

export async function denyListed(
  db: Executor,
  kind: 'phone' | 'device' | 'national_id',
  valueIndex: string,
): Promise<string | null> {
  const [row] = await db
    .select({ reason: onboardingDenyList.reason })
    .from(onboardingDenyList)
    .where(and(eq(onboardingDenyList.kind, kind), eq(onboardingDenyList.valueIndex, valueIndex)))
    .limit(1);
  return row?.reason ?? null;
}
