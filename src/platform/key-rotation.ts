/**
 * Master-key rotation over one module's encrypted columns: each data key wrapped under a retired master key is
 * re-wrapped under the active one. Modules own their tables, so each exports a rewrap function naming its own
 * columns (`RewrapTarget`) and calls `rewrapColumns`; `src/rewrap.ts` runs them all.
 */
import { eq } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { type KeyRing, rewrapKey, rewrapSealed, wrappedWithActiveKey } from './crypto.ts';
import { type Executor, inTransaction } from './db.ts';

export interface RewrapTarget {
  /** `<table>.<column>`, the key of its count. */
  name: string;
  table: PgTable;
  id: PgColumn;
  column: PgColumn;
  /** Sealed JSON envelopes carry the wrapped key inside; bare wrapped keys are the value itself. */
  sealed: boolean;
}

/**
 * Re-wraps every value of each target not yet under the active key, one row per transaction; the count of rows
 * changed per target. Idempotent: rows already under the active key are skipped.
 */
export async function rewrapColumns(
  db: Executor,
  ring: KeyRing,
  targets: readonly RewrapTarget[],
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const target of targets) {
    const rows = (await db.select({ id: target.id, value: target.column }).from(target.table)) as {
      id: string;
      value: string | null;
    }[];
    let changed = 0;
    for (const row of rows) {
      if (!row.value) continue;
      const wrapped = target.sealed
        ? (JSON.parse(row.value) as { wrappedKey: string }).wrappedKey
        : row.value;
      if (wrappedWithActiveKey(ring, wrapped)) continue;
      const next = target.sealed ? rewrapSealed(ring, row.value) : rewrapKey(ring, row.value);
      await inTransaction(db, async (tx) => {
        await tx
          .update(target.table)
          .set({ [columnKey(target)]: next })
          .where(eq(target.id, row.id));
      });
      changed += 1;
    }
    counts[target.name] = changed;
  }
  return counts;
}

function columnKey(target: RewrapTarget): string {
  const entry = Object.entries(target.table).find(([, value]) => value === target.column);
  if (!entry) throw new Error(`column of ${target.name} not found`);
  return entry[0];
}
