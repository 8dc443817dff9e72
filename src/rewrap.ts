/**
 * Master-key rotation: every data key wrapped under a retired master key is re-wrapped under the active one.
 * Payloads (documents, PII, secrets) are not re-encrypted; only their small wrapped keys change. Idempotent:
 * rows already under the active key are skipped, so an interrupted run can simply be run again.
 */
import { eq } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { customers } from './modules/customers/index.ts';
import { documents } from './modules/documents/index.ts';
import { mfaFactors, signingKeys } from './modules/identity/index.ts';
import { type KeyRing, rewrapKey, rewrapSealed, wrappedWithActiveKey } from './platform/crypto.ts';
import { type Executor, inTransaction } from './platform/db.ts';

interface Target {
  name: string;
  table: PgTable;
  id: PgColumn;
  column: PgColumn;
  /** Sealed JSON envelopes carry the wrapped key inside; bare wrapped keys are the value itself. */
  sealed: boolean;
}

const targets: Target[] = [
  {
    name: 'signing_keys.private_key_wrapped',
    table: signingKeys,
    id: signingKeys.kid,
    column: signingKeys.privateKeyWrapped,
    sealed: true,
  },
  {
    name: 'mfa_factors.secret_sealed',
    table: mfaFactors,
    id: mfaFactors.id,
    column: mfaFactors.secretSealed,
    sealed: true,
  },
  {
    name: 'customers.national_id_sealed',
    table: customers,
    id: customers.id,
    column: customers.nationalIdSealed,
    sealed: true,
  },
  {
    name: 'customers.date_of_birth_sealed',
    table: customers,
    id: customers.id,
    column: customers.dateOfBirthSealed,
    sealed: true,
  },
  {
    name: 'documents.wrapped_key',
    table: documents,
    id: documents.id,
    column: documents.wrappedKey,
    sealed: false,
  },
];

export async function rewrapAll(db: Executor, ring: KeyRing): Promise<Record<string, number>> {
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

function columnKey(target: Target): string {
  const entry = Object.entries(target.table).find(([, value]) => value === target.column);
  if (!entry) throw new Error(`column of ${target.name} not found`);
  return entry[0];
}
