/** Queries of the settings module; each takes the executor it runs on. */
import { eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { appSettings } from './settings.tables.ts';

export type StoredSettingRow = typeof appSettings.$inferSelect;

/** Every stored override. */
export async function storedSettings(db: Executor): Promise<StoredSettingRow[]> {
  return db.select().from(appSettings);
}

/** One stored override, locked for the rest of the transaction. */
export async function lockStoredSetting(tx: Executor, key: string): Promise<StoredSettingRow | undefined> {
  const [row] = await tx.select().from(appSettings).where(eq(appSettings.key, key)).for('update').limit(1);
  return row;
}

/** Stores a value: a new override at version 1, or the next version of the existing one. */
export async function writeStoredSetting(
  tx: Executor,
  key: string,
  value: unknown,
  current: StoredSettingRow | undefined,
  updatedBy: string | null,
): Promise<void> {
  if (current) {
    await tx
      .update(appSettings)
      .set({ value, version: current.version + 1, updatedBy, updatedAt: new Date() })
      .where(eq(appSettings.key, key));
  } else {
    await tx.insert(appSettings).values({ key, value, version: 1, updatedBy });
  }
}

/** Removes the override (the default applies again); the removed row, if there was one. */
export async function deleteStoredSetting(tx: Executor, key: string): Promise<StoredSettingRow | undefined> {
  const [row] = await tx.delete(appSettings).where(eq(appSettings.key, key)).returning();
  return row;
}
