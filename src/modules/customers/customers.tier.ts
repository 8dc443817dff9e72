/**
 * A customer's KYC tier and the contacts KYC checks. The tier is a column of the customer's row, so customers owns
 * it; the KYC module decides when it changes and calls these commands through customers' index.ts. Each takes the
 * caller's transaction, so an approval moves the tier in the same transaction that decides the application.
 */
import { and, eq, lt, ne, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { customerEmails, customerPhones, customers } from './customers.tables.ts';

type CustomerRow = typeof customers.$inferSelect;

/** What KYC reads of a customer before it moves them between tiers. */
export interface CustomerTier {
  kycTier: string;
  status: CustomerRow['status'];
  erasedAt: Date | null;
}

/** Locks the customer's row (`for update`) until the transaction ends and reads their tier; undefined when none. */
export async function lockCustomerTier(tx: Executor, customerId: string): Promise<CustomerTier | undefined> {
  const [row] = await tx
    .select({ kycTier: customers.kycTier, status: customers.status, erasedAt: customers.erasedAt })
    .from(customers)
    .where(eq(customers.id, customerId))
    .for('update')
    .limit(1);
  return row;
}

/**
 * Moves the customer to a tier, valid until `expiresAt` (null: no expiry). A pending customer becomes active: an
 * approved KYC is what activates one.
 */
export async function setCustomerTier(
  tx: Executor,
  customerId: string,
  tier: string,
  expiresAt: Date | null,
): Promise<void> {
  await tx
    .update(customers)
    .set({
      kycTier: tier,
      kycTierExpiresAt: expiresAt,
      status: sql`case when ${customers.status} = 'pending' then 'active' else ${customers.status} end`,
      updatedAt: new Date(),
    })
    .where(eq(customers.id, customerId));
}

/** Customers whose tier lapsed before `now` fall back to `fallback`; returns their ids. */
export async function lapseCustomerTiers(tx: Executor, fallback: string, now: Date): Promise<string[]> {
  const lapsed = await tx
    .update(customers)
    .set({ kycTier: fallback, kycTierExpiresAt: null, updatedAt: new Date() })
    .where(and(lt(customers.kycTierExpiresAt, now), ne(customers.kycTier, fallback)))
    .returning({ id: customers.id });
  return lapsed.map((row) => row.id);
}

/** Whether the customer's primary phone and primary email are verified (false when they have none). */
export async function verifiedContacts(
  db: Executor,
  customerId: string,
): Promise<{ phone: boolean; email: boolean }> {
  const [phone] = await db
    .select({ verifiedAt: customerPhones.verifiedAt })
    .from(customerPhones)
    .where(and(eq(customerPhones.customerId, customerId), eq(customerPhones.primary, true)))
    .limit(1);
  const [email] = await db
    .select({ verifiedAt: customerEmails.verifiedAt })
    .from(customerEmails)
    .where(and(eq(customerEmails.customerId, customerId), eq(customerEmails.primary, true)))
    .limit(1);
  return { phone: Boolean(phone?.verifiedAt), email: Boolean(email?.verifiedAt) };
}
