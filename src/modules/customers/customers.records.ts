/**
 * The customer row as the module's parts share it: how phone numbers and national IDs are normalised, how sealed
 * PII is sealed, opened and indexed, how a row is read and its primary contacts found, and how a customer is shown
 * (PII masked unless the caller may and asks to see it in clear).
 */
import { and, eq, inArray } from 'drizzle-orm';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { keyedHash, openEnvelope, sealEnvelope } from '../../platform/crypto.ts';
import type { Executor } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors } from '../../platform/errors.ts';
import { customerErrorCatalogue as codes } from './customers.errors.ts';
import { customerEmails, customerPhones, customers } from './customers.tables.ts';

export type CustomerRow = typeof customers.$inferSelect;

export const customerErrors = {
  invalidPhone: (value: string) =>
    commonErrors.validation('Phone number is not a valid E.164 number', {
      errors: [
        {
          field: 'body.phone',
          message: `"${value.slice(0, 20)}" is not a valid phone number`,
          rule: 'phone',
        },
      ],
    }),
  duplicate: (field: string) => codes.CUSTOMER_EXISTS({ params: { field }, details: { field } }),
  nationalIdTypeRequired: () =>
    commonErrors.validation('national_id_type is required with national_id', {
      errors: [{ field: 'body.national_id_type', message: 'is required with national_id', rule: 'required' }],
    }),
  erased: () => codes.CUSTOMER_ERASED(),
  hasObligations: (reasons: string[]) =>
    codes.CUSTOMER_HAS_OBLIGATIONS({ params: { reasons: reasons.join('; ') }, details: { reasons } }),
};

/** E.164 through libphonenumber (a regex accepts numbers no network can route). */
export function normalisePhone(value: string): string {
  const parsed = parsePhoneNumberFromString(value.trim());
  if (!parsed?.isValid()) throw customerErrors.invalidPhone(value);
  return parsed.number;
}

export function normaliseNationalId(value: string): string {
  return value.replace(/[\s-]/g, '').toUpperCase();
}

/** Reads, seals and shows customer rows; one per process, shared by the profile and the data-protection rights. */
export class CustomerRecords {
  readonly #deps: Dependencies;

  constructor(deps: Dependencies) {
    this.#deps = deps;
  }

  get db(): Executor {
    return this.#deps.database.db;
  }

  /** The blind index of a national ID of a type (exact search without storing it in clear). */
  index(type: string, value: string): string {
    return keyedHash(this.#deps.config.HMAC_PEPPER, `national-id:${type}`, normaliseNationalId(value));
  }

  seal(id: string, field: string, value: string): string {
    return JSON.stringify(sealEnvelope(this.#deps.keys, Buffer.from(value), `customer:${id}:${field}`));
  }

  open(id: string, field: string, sealed: string | null): string | null {
    if (!sealed) return null;
    return openEnvelope(this.#deps.keys, JSON.parse(sealed), `customer:${id}:${field}`).toString('utf8');
  }

  /** The primary phone and email of each customer, by customer id. */
  async contacts(executor: Executor, ids: string[]) {
    if (ids.length === 0) return { phones: new Map<string, string>(), emails: new Map<string, string>() };
    const [phones, emails] = await Promise.all([
      executor
        .select()
        .from(customerPhones)
        .where(and(inArray(customerPhones.customerId, ids), eq(customerPhones.primary, true))),
      executor
        .select()
        .from(customerEmails)
        .where(and(inArray(customerEmails.customerId, ids), eq(customerEmails.primary, true))),
    ]);
    return {
      phones: new Map(phones.map((row) => [row.customerId, row.phone])),
      emails: new Map(emails.map((row) => [row.customerId, row.email])),
    };
  }

  /** The customer as the API shows them; national ID and date of birth in clear only when `clear`. */
  view(row: CustomerRow, phone: string | null, email: string | null, clear: boolean) {
    return {
      id: row.id,
      customer_number: row.customerNumber,
      customer_type: row.customerType,
      first_name: row.firstName,
      middle_name: row.middleName,
      last_name: row.lastName,
      business_name: row.businessName,
      gender: row.gender,
      nationality: row.nationality,
      occupation: row.occupation,
      income_band: row.incomeBand,
      phone,
      email,
      national_id_type: row.nationalIdType,
      national_id: clear
        ? this.open(row.id, 'national_id', row.nationalIdSealed)
        : row.nationalIdLast4
          ? `****${row.nationalIdLast4}`
          : null,
      date_of_birth: clear
        ? this.open(row.id, 'date_of_birth', row.dateOfBirthSealed)
        : row.dateOfBirthSealed
          ? '****-**-**'
          : null,
      status: row.status,
      status_reason: row.statusReason,
      kyc_tier: row.kycTier,
      channel: row.channel,
      cbs_client_id: row.cbsClientId,
      registered_by: row.registeredById
        ? { type: row.registeredByType ?? 'user', id: row.registeredById }
        : null,
      created_at: row.createdAt.toISOString(),
      updated_at: row.updatedAt.toISOString(),
    };
  }

  /** The customer's row (locked `for update` when `lock`), or 404. */
  async row(executor: Executor, id: string, lock = false): Promise<CustomerRow> {
    const query = executor.select().from(customers).where(eq(customers.id, id)).limit(1);
    const [row] = lock ? await query.for('update') : await query;
    if (!row) throw commonErrors.notFound('Customer');
    return row;
  }
}
