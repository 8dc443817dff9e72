/**
 * What a credit bureau check needs of a customer: the KYC tier and the identity document in clear. Opened only for
 * the loans module's bureau inquiry (which records the inquiry in its scoring result and the audit log).
 */
import { eq } from 'drizzle-orm';
import { type KeyRing, openEnvelope } from '../../platform/crypto.ts';
import type { Executor } from '../../platform/db.ts';
import { customers } from './customers.tables.ts';

export interface CustomerCreditIdentity {
  kycTier: string;
  /** The ID document's type (national_id, passport, …) and number, normalised; null when none is on file. */
  idDocument: { type: string; number: string } | null;
}

/** Undefined when there is no such customer; an erased customer has no document left. */
export async function customerCreditIdentity(
  db: Executor,
  keys: KeyRing,
  customerId: string,
): Promise<CustomerCreditIdentity | undefined> {
  const [row] = await db
    .select({
      kycTier: customers.kycTier,
      type: customers.nationalIdType,
      sealed: customers.nationalIdSealed,
      erasedAt: customers.erasedAt,
    })
    .from(customers)
    .where(eq(customers.id, customerId))
    .limit(1);
  if (!row) return undefined;
  if (!row.type || !row.sealed || row.erasedAt) return { kycTier: row.kycTier, idDocument: null };
  const number = openEnvelope(keys, JSON.parse(row.sealed), `customer:${customerId}:national_id`).toString(
    'utf8',
  );
  return { kycTier: row.kycTier, idDocument: { type: row.type, number } };
}
