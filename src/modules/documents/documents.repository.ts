/** Queries of the documents module (its own, the read models others call) and its key rotation. */
import { and, desc, eq, lt } from 'drizzle-orm';
import type { KeyRing } from '../../platform/crypto.ts';
import type { Executor } from '../../platform/db.ts';
import { rewrapColumns } from '../../platform/key-rotation.ts';
import { documents } from './documents.tables.ts';

export type DocumentRow = typeof documents.$inferSelect;

export async function insertDocument(tx: Executor, row: typeof documents.$inferInsert): Promise<DocumentRow> {
  const [inserted] = await tx.insert(documents).values(row).returning();
  return inserted!;
}

/** One document; `lock` holds it (`for update`) until the transaction ends. */
export async function findDocument(db: Executor, id: string, lock = false): Promise<DocumentRow | undefined> {
  const query = db.select().from(documents).where(eq(documents.id, id)).limit(1);
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

/** A customer's documents, newest first, at most `limit`. */
export async function documentsOfCustomer(
  db: Executor,
  customerId: string,
  limit: number,
): Promise<DocumentRow[]> {
  return db
    .select()
    .from(documents)
    .where(eq(documents.customerId, customerId))
    .orderBy(desc(documents.createdAt))
    .limit(limit);
}

/** Records staff's decision on a document (reviewed now). */
export async function recordReview(
  tx: Executor,
  id: string,
  review: Pick<DocumentRow, 'reviewedById' | 'reviewReason' | 'expiresAt'> & {
    status: 'verified' | 'rejected';
  },
): Promise<DocumentRow> {
  const [row] = await tx
    .update(documents)
    .set({ ...review, reviewedAt: new Date(), updatedAt: new Date() })
    .where(eq(documents.id, id))
    .returning();
  return row!;
}

/** Verified documents past their own expiry become `expired`; their ids. */
export async function expireVerifiedDocuments(tx: Executor): Promise<{ id: string }[]> {
  return tx
    .update(documents)
    .set({ status: 'expired', updatedAt: new Date() })
    .where(and(eq(documents.status, 'verified'), lt(documents.expiresAt, new Date())))
    .returning({ id: documents.id });
}

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
