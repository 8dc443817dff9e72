/**
 * What other modules read of customers (read models) and the module's key rotation; each takes the executor it runs
 * on. Other modules call these through the module's index.ts, never the tables.
 */
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { KeyRing } from '../../platform/crypto.ts';
import { type Executor, perDatabase } from '../../platform/db.ts';
import { rewrapColumns } from '../../platform/key-rotation.ts';
import { customerPhones, customers } from './customers.tables.ts';

type CustomerRow = typeof customers.$inferSelect;

/** Whether a customer exists, and whether it may still be acted for (status; erased customers keep only a shell). */
export interface CustomerStanding {
  id: string;
  status: CustomerRow['status'];
  erasedAt: Date | null;
}

export async function customerStanding(db: Executor, id: string): Promise<CustomerStanding | undefined> {
  const [row] = await db
    .select({ id: customers.id, status: customers.status, erasedAt: customers.erasedAt })
    .from(customers)
    .where(eq(customers.id, id))
    .limit(1);
  return row;
}

/**
 * Locks a customer that has not been erased (`for no key update`: the row stays referable by foreign keys) until
 * the transaction ends, so concurrent use cases about that customer run one at a time; false when there is none.
 */
export async function lockLiveCustomer(tx: Executor, id: string): Promise<boolean> {
  const [row] = await tx
    .select({ id: customers.id })
    .from(customers)
    .where(and(eq(customers.id, id), isNull(customers.erasedAt)))
    .for('no key update');
  return row !== undefined;
}

/** The names a customer is shown by (receipts, statements, messages). */
export interface CustomerNames {
  customerType: CustomerRow['customerType'];
  firstName: string;
  middleName: string | null;
  lastName: string;
  businessName: string | null;
}

/** Names of the given customers by id; ids without a customer are absent. */
export async function customerNames(
  db: Executor,
  ids: readonly string[],
): Promise<Map<string, CustomerNames>> {
  const result = new Map<string, CustomerNames>();
  if (ids.length === 0) return result;
  const rows = await db
    .select({
      id: customers.id,
      customerType: customers.customerType,
      firstName: customers.firstName,
      middleName: customers.middleName,
      lastName: customers.lastName,
      businessName: customers.businessName,
    })
    .from(customers)
    .where(inArray(customers.id, [...ids]));
  for (const { id, ...names } of rows) result.set(id, names);
  return result;
}

/** Re-wraps the sealed national IDs and dates of birth under the active master key (src/rewrap.ts). */
export function rewrapCustomerKeys(db: Executor, ring: KeyRing): Promise<Record<string, number>> {
  return rewrapColumns(db, ring, [
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
  ]);
}

/** The customer holding a phone number (E.164, as `normalisePhone` gives it), if any: P2P transfers to a phone. */
export async function customerIdByPhone(db: Executor, phone: string): Promise<string | undefined> {
  const [row] = await db
    .select({ id: customerPhones.customerId })
    .from(customerPhones)
    .where(eq(customerPhones.phone, phone))
    .limit(1);
  return row?.id;
}

/** The standing of the customer a phone number belongs to, in one prepared statement (an agent's cash-in asks). */
export async function customerStandingByPhone(
  db: Executor,
  phone: string,
): Promise<CustomerStanding | undefined> {
  const [row] = await standingByPhone(db).execute({ phone });
  return row;
}

const standingByPhone = perDatabase((db: Executor) =>
  db
    .select({ id: customers.id, status: customers.status, erasedAt: customers.erasedAt })
    .from(customerPhones)
    .innerJoin(customers, eq(customers.id, customerPhones.customerId))
    .where(eq(customerPhones.phone, sql.placeholder('phone')))
    .limit(1)
    .prepare('customer_standing_by_phone'),
);

/**
 * The blind index of the customer's national ID (null when none is on file or the customer was erased): the loans
 * fraud rules match applicants and deny lists on it without seeing the ID.
 */
export async function customerNationalIdIndex(db: Executor, customerId: string): Promise<string | null> {
  const [row] = await db
    .select({ index: customers.nationalIdIndex })
    .from(customers)
    .where(eq(customers.id, customerId))
    .limit(1);
  return row?.index ?? null;
}
