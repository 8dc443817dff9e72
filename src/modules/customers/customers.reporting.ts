/**
 * What a regulatory report (the AML module's goAML STR and CTR) names of a customer: names, gender, date of birth,
 * nationality, the identity document in clear, occupation, the primary phone and email, and the residential address.
 * Read inside the caller's transaction (the report is generated and stored in it), a few statements for any number of
 * customers. The national ID and the date of birth are opened as customers.bureau.ts opens them, with the key bound
 * to the customer's row.
 *
 * Nothing is inferred: a value the record does not hold is null. The record holds no issuing country of the identity
 * document (the reader of a report decides what stands in for it). An erased customer is read as erasure left it:
 * the placeholder names, no PII, no contacts.
 */
import { asc, desc, inArray } from 'drizzle-orm';
import { type KeyRing, openEnvelope } from '../../platform/crypto.ts';
import type { Executor } from '../../platform/db.ts';
import { customerAddresses, customerEmails, customerPhones, customers } from './customers.tables.ts';

export interface CustomerReportingAddress {
  kind: 'home' | 'work' | 'postal' | 'business';
  line1: string;
  line2: string | null;
  city: string;
  region: string | null;
  postalCode: string | null;
  /** ISO 3166-1 alpha-2. */
  country: string;
}

export interface CustomerReportingIdentity {
  customerType: 'individual' | 'business';
  firstName: string;
  middleName: string | null;
  lastName: string;
  businessName: string | null;
  gender: 'female' | 'male' | 'other' | 'undisclosed' | null;
  /** `YYYY-MM-DD`. */
  dateOfBirth: string | null;
  /** ISO 3166-1 alpha-2. */
  nationality: string | null;
  /** The country of the residential (home) address, ISO 3166-1 alpha-2; null when no home address is on file. */
  residenceCountry: string | null;
  occupation: string | null;
  /** The identity document: its type (national_id, passport, …) and number. */
  idDocument: { type: string; number: string } | null;
  /** E.164. */
  phone: string | null;
  email: string | null;
  /** The residential address: the primary home address, else a home one, else the primary address of any kind. */
  address: CustomerReportingAddress | null;
  erased: boolean;
}

/** The first row of each customer's list, the lists ordered primary first and then oldest first. */
function firstOf<T extends { customerId: string }>(rows: T[]): Map<string, T> {
  const first = new Map<string, T>();
  for (const row of rows) if (!first.has(row.customerId)) first.set(row.customerId, row);
  return first;
}

type AddressRow = CustomerReportingAddress & { customerId: string; primary: boolean };

function residentialAddress(rows: AddressRow[]): AddressRow | null {
  return rows.find((row) => row.kind === 'home') ?? rows.find((row) => row.primary) ?? null;
}

/** Per customer id; a customer that does not exist is absent from the map. */
export async function customerReportingIdentity(
  db: Executor,
  keys: KeyRing,
  customerIds: readonly string[],
): Promise<Map<string, CustomerReportingIdentity>> {
  const ids = [...new Set(customerIds)];
  const result = new Map<string, CustomerReportingIdentity>();
  if (ids.length === 0) return result;
  // One statement at a time: they share the caller's transaction (one connection).
  const rows = await db
    .select({
      id: customers.id,
      customerType: customers.customerType,
      firstName: customers.firstName,
      middleName: customers.middleName,
      lastName: customers.lastName,
      businessName: customers.businessName,
      gender: customers.gender,
      nationality: customers.nationality,
      occupation: customers.occupation,
      idType: customers.nationalIdType,
      idSealed: customers.nationalIdSealed,
      dobSealed: customers.dateOfBirthSealed,
      erasedAt: customers.erasedAt,
    })
    .from(customers)
    .where(inArray(customers.id, ids));
  if (rows.length === 0) return result;
  const found = rows.map((row) => row.id);
  const phones = firstOf(
    await db
      .select({ customerId: customerPhones.customerId, value: customerPhones.phone })
      .from(customerPhones)
      .where(inArray(customerPhones.customerId, found))
      .orderBy(desc(customerPhones.primary), asc(customerPhones.createdAt), asc(customerPhones.id)),
  );
  const emails = firstOf(
    await db
      .select({ customerId: customerEmails.customerId, value: customerEmails.email })
      .from(customerEmails)
      .where(inArray(customerEmails.customerId, found))
      .orderBy(desc(customerEmails.primary), asc(customerEmails.createdAt), asc(customerEmails.id)),
  );
  const addressRows = await db
    .select({
      customerId: customerAddresses.customerId,
      kind: customerAddresses.kind,
      line1: customerAddresses.line1,
      line2: customerAddresses.line2,
      city: customerAddresses.city,
      region: customerAddresses.region,
      postalCode: customerAddresses.postalCode,
      country: customerAddresses.country,
      primary: customerAddresses.primary,
    })
    .from(customerAddresses)
    .where(inArray(customerAddresses.customerId, found))
    .orderBy(desc(customerAddresses.primary), asc(customerAddresses.createdAt), asc(customerAddresses.id));
  const addresses = new Map<string, AddressRow[]>();
  for (const row of addressRows) {
    const list = addresses.get(row.customerId) ?? [];
    list.push(row);
    addresses.set(row.customerId, list);
  }

  for (const row of rows) {
    const erased = row.erasedAt !== null;
    const open = (field: string, sealed: string | null) =>
      sealed && !erased
        ? openEnvelope(keys, JSON.parse(sealed), `customer:${row.id}:${field}`).toString('utf8')
        : null;
    const idNumber = row.idType ? open('national_id', row.idSealed) : null;
    const home = residentialAddress(addresses.get(row.id) ?? []);
    result.set(row.id, {
      customerType: row.customerType,
      firstName: row.firstName,
      middleName: row.middleName,
      lastName: row.lastName,
      businessName: row.businessName,
      gender: row.gender,
      dateOfBirth: open('date_of_birth', row.dobSealed),
      nationality: row.nationality,
      residenceCountry: home?.kind === 'home' ? home.country : null,
      occupation: row.occupation,
      idDocument: row.idType && idNumber ? { type: row.idType, number: idNumber } : null,
      phone: phones.get(row.id)?.value ?? null,
      email: emails.get(row.id)?.value ?? null,
      address: home
        ? {
            kind: home.kind,
            line1: home.line1,
            line2: home.line2,
            city: home.city,
            region: home.region,
            postalCode: home.postalCode,
            country: home.country,
          }
        : null,
      erased,
    });
  }
  return result;
}
