/** Queries of the documents module that others read (read models) and its key rotation. */
import { and, eq } from 'drizzle-orm';
import type { KeyRing } from '../../platform/crypto.ts';
import type { Executor } from '../../platform/db.ts';
import { rewrapColumns } from '../../platform/key-rotation.ts';
import { documents } from './documents.tables.ts';

/** Document types a customer holds verified and unexpired (the KYC checklist asks). */
export async function verifiedDocumentTypes(db: Executor, customerId: string): Promise<Set<string>> {
  const rows = await db
    .select({ type: documents.documentType, expiresAt: documents.expiresAt })
    .from(documents)
    .where(and(eq(documents.customerId, customerId), eq(documents.status, 'verified')));
  const now = Date.now();
  return new Set(
    rows.filter((row) => !row.expiresAt || row.expiresAt.getTime() > now).map((row) => row.type),
  );
}

/** Document types on file and not refused (uploaded or verified, unexpired): enough to submit a KYC application. */
export async function documentTypesOnFile(db: Executor, customerId: string): Promise<Set<string>> {
  const rows = await db
    .select({ type: documents.documentType, status: documents.status, expiresAt: documents.expiresAt })
    .from(documents)
    .where(eq(documents.customerId, customerId));
  const now = Date.now();
  return new Set(
    rows
      .filter(
        (row) =>
          (row.status === 'uploaded' || row.status === 'verified') &&
          (!row.expiresAt || row.expiresAt.getTime() > now),
      )
      .map((row) => row.type),
  );
}

/** Re-wraps every document's data key under the active master key (src/rewrap.ts). */
export function rewrapDocumentKeys(db: Executor, ring: KeyRing): Promise<Record<string, number>> {
  return rewrapColumns(db, ring, [
    {
      name: 'documents.wrapped_key',
      table: documents,
      id: documents.id,
      column: documents.wrappedKey,
      sealed: false,
    },
  ]);
}
