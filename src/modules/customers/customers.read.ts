/** Read models other modules may call: what they need of a customer, never the table. */
import { desc, eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { customerEmails, customerPhones, customers } from './customers.tables.ts';

/** The name a customer is addressed by: the business name, else first and last name; null when unknown. */
export async function customerDisplayName(db: Executor, customerId: string): Promise<string | null> {
  const [row] = await db
    .select({ first: customers.firstName, last: customers.lastName, business: customers.businessName })
    .from(customers)
    .where(eq(customers.id, customerId))
    .limit(1);
  if (!row) return null;
  return row.business ?? `${row.first} ${row.last}`.trim();
}

/**
 * Where a message to the customer goes: their primary phone or email, else the oldest one; null when they have
 * none. Read by notifications, inside the transaction that queues the message.
 */
export async function primaryContact(
  db: Executor,
  customerId: string,
  kind: 'phone' | 'email',
): Promise<string | null> {
  const table = kind === 'phone' ? customerPhones : customerEmails;
  const column = kind === 'phone' ? customerPhones.phone : customerEmails.email;
  const [contact] = await db
    .select({ address: column })
    .from(table)
    .where(eq(table.customerId, customerId))
    .orderBy(desc(table.primary), table.createdAt)
    .limit(1);
  return contact?.address ?? null;
}
