/**
 * Customer profiles: creation with normalised contacts, reads that mask PII unless the caller may and asks to see it,
 * search by phone, email, name, national ID (blind index) or number, status changes, and the data-protection rights
 * (export of everything held; erasure that anonymises PII and keeps the records the law requires).
 */
import { and, asc, eq, gt, ilike, inArray, or, type SQL, sql } from 'drizzle-orm';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { Static } from 'typebox';
import { auditTrailOf, type RequestContext, writeAudit } from '../../platform/audit.ts';
import { keyedHash, openEnvelope, sealEnvelope } from '../../platform/crypto.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors } from '../../platform/errors.ts';
import { decodeCursor, type Principal, paginate } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { humanNumber, uuidv7 } from '../../platform/ids.ts';
import { customerErrorCatalogue as codes } from './customers.errors.ts';
import { customerHeldData } from './customers.export.ts';
import type { CustomerView } from './customers.schemas.ts';
import { customerAddresses, customerEmails, customerPhones, customers } from './customers.tables.ts';

type Row = typeof customers.$inferSelect;

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

export interface CreateCustomer {
  first_name: string;
  last_name: string;
  middle_name?: string;
  phone: string;
  email?: string;
  date_of_birth?: string;
  national_id?: string;
  national_id_type?: string;
  customer_type?: Row['customerType'];
  business_name?: string;
  gender?: NonNullable<Row['gender']>;
  nationality?: string;
  occupation?: string;
  income_band?: string;
  channel?: Row['channel'];
}

export class CustomersService {
  readonly #deps: Dependencies;

  constructor(deps: Dependencies) {
    this.#deps = deps;
  }

  get #db(): Executor {
    return this.#deps.database.db;
  }

  #index(type: string, value: string): string {
    return keyedHash(this.#deps.config.HMAC_PEPPER, `national-id:${type}`, normaliseNationalId(value));
  }

  #seal(id: string, field: string, value: string): string {
    return JSON.stringify(sealEnvelope(this.#deps.keys, Buffer.from(value), `customer:${id}:${field}`));
  }

  #open(id: string, field: string, sealed: string | null): string | null {
    if (!sealed) return null;
    return openEnvelope(this.#deps.keys, JSON.parse(sealed), `customer:${id}:${field}`).toString('utf8');
  }

  async #contacts(executor: Executor, ids: string[]) {
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

  #view(row: Row, phone: string | null, email: string | null, clear: boolean) {
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
        ? this.#open(row.id, 'national_id', row.nationalIdSealed)
        : row.nationalIdLast4
          ? `****${row.nationalIdLast4}`
          : null,
      date_of_birth: clear
        ? this.#open(row.id, 'date_of_birth', row.dateOfBirthSealed)
        : row.dateOfBirthSealed
          ? '****-**-**'
          : null,
      status: row.status,
      status_reason: row.statusReason,
      kyc_tier: row.kycTier,
      channel: row.channel,
      registered_by: row.registeredById
        ? { type: row.registeredByType ?? 'user', id: row.registeredById }
        : null,
      created_at: row.createdAt.toISOString(),
      updated_at: row.updatedAt.toISOString(),
    };
  }

  async #row(executor: Executor, id: string, lock = false): Promise<Row> {
    const query = executor.select().from(customers).where(eq(customers.id, id)).limit(1);
    const [row] = lock ? await query.for('update') : await query;
    if (!row) throw commonErrors.notFound('Customer');
    return row;
  }

  async create(
    input: CreateCustomer,
    context: RequestContext,
    claim: IdempotencyClaim | null = null,
  ): Promise<Static<typeof CustomerView>> {
    const phone = normalisePhone(input.phone);
    if (input.national_id && !input.national_id_type) throw customerErrors.nationalIdTypeRequired();
    const id = uuidv7();
    const customerType = input.customer_type ?? 'individual';
    try {
      return await inTransaction(this.#db, async (tx) => {
        const values = {
          id,
          customerNumber: humanNumber('CF', 10),
          customerType,
          firstName: input.first_name,
          middleName: input.middle_name ?? null,
          lastName: input.last_name,
          businessName: input.business_name ?? null,
          gender: input.gender ?? null,
          nationality: input.nationality ?? null,
          occupation: input.occupation ?? null,
          incomeBand: input.income_band ?? null,
          nationalIdType: input.national_id_type ?? null,
          nationalIdSealed: input.national_id
            ? this.#seal(id, 'national_id', normaliseNationalId(input.national_id))
            : null,
          nationalIdIndex: input.national_id ? this.#index(input.national_id_type!, input.national_id) : null,
          nationalIdLast4: input.national_id ? normaliseNationalId(input.national_id).slice(-4) : null,
          dateOfBirthSealed: input.date_of_birth
            ? this.#seal(id, 'date_of_birth', input.date_of_birth)
            : null,
          status: 'pending' as const,
          channel: input.channel ?? 'web',
          registeredByType: context.actor.type === 'anonymous' ? null : context.actor.type,
          registeredById: context.actor.id,
        };
        const [row] = await tx.insert(customers).values(values).returning();
        await tx.insert(customerPhones).values({ id: uuidv7(), customerId: id, phone, primary: true });
        if (input.email) {
          await tx
            .insert(customerEmails)
            .values({ id: uuidv7(), customerId: id, email: input.email.toLowerCase(), primary: true });
        }
        const view = this.#view(row!, phone, input.email?.toLowerCase() ?? null, false);
        // The append-only audit log must survive erasure, so it records what happened, never who the person is.
        await writeAudit(tx, context, {
          action: 'customer.created',
          entityType: 'customer',
          entityId: id,
          after: {
            customer_number: view.customer_number,
            customer_type: view.customer_type,
            channel: view.channel,
          },
        });
        await claim?.commit(tx, 201, view);
        return view;
      });
    } catch (error) {
      const constraint = violatedConstraint(error);
      if (constraint === 'customer_phones_phone_key') throw customerErrors.duplicate('phone');
      if (constraint === 'customer_emails_email_key') throw customerErrors.duplicate('email');
      if (constraint === 'customers_national_id_key') throw customerErrors.duplicate('national ID');
      if (constraint === 'customers_number_key') return this.create(input, context, claim);
      throw error;
    }
  }

  /** Staff see PII in clear only with customer:pii_read and when they ask; reading it is audited. */
  async get(id: string, principal: Principal, includePii: boolean, context: RequestContext) {
    const row = await this.#row(this.#db, id);
    const clear = includePii && principal.type === 'user' && principal.permissions.has('customer:pii_read');
    if (includePii && !clear)
      throw commonErrors.forbidden('Seeing personal data in clear needs customer:pii_read');
    const { phones, emails } = await this.#contacts(this.#db, [id]);
    if (clear) {
      await inTransaction(this.#db, (tx) =>
        writeAudit(tx, context, { action: 'customer.pii_viewed', entityType: 'customer', entityId: id }),
      );
    }
    return this.#view(row, phones.get(id) ?? null, emails.get(id) ?? null, clear);
  }

  async search(filters: {
    phone?: string;
    email?: string;
    name?: string;
    national_id?: string;
    national_id_type?: string;
    customer_number?: string;
    status?: Row['status'];
    limit?: number;
    cursor?: string;
  }) {
    const limit = filters.limit ?? 20;
    const conditions: SQL[] = [];
    if (filters.phone) {
      const phone = normalisePhone(filters.phone);
      conditions.push(
        inArray(
          customers.id,
          this.#db
            .select({ id: customerPhones.customerId })
            .from(customerPhones)
            .where(eq(customerPhones.phone, phone)),
        ),
      );
    }
    if (filters.email) {
      conditions.push(
        inArray(
          customers.id,
          this.#db
            .select({ id: customerEmails.customerId })
            .from(customerEmails)
            .where(sql`lower(${customerEmails.email}) = ${filters.email.toLowerCase()}`),
        ),
      );
    }
    if (filters.name) {
      const pattern = `%${filters.name.replace(/[\\%_]/g, (match) => `\\${match}`)}%`;
      conditions.push(
        or(
          ilike(customers.firstName, pattern),
          ilike(customers.lastName, pattern),
          ilike(customers.businessName, pattern),
        )!,
      );
    }
    if (filters.national_id) {
      const types = filters.national_id_type
        ? [filters.national_id_type]
        : ['national_id', 'passport', 'alien_id', 'drivers_license', 'business_registration'];
      conditions.push(
        inArray(
          customers.nationalIdIndex,
          types.map((type) => this.#index(type, filters.national_id!)),
        ),
      );
    }
    if (filters.customer_number)
      conditions.push(eq(customers.customerNumber, filters.customer_number.toUpperCase()));
    if (filters.status) conditions.push(eq(customers.status, filters.status));
    const position = decodeCursor(filters.cursor, ['id'] as const);
    if (position) conditions.push(gt(customers.id, position.id));
    const rows = await this.#db
      .select()
      .from(customers)
      .where(and(...conditions))
      .orderBy(asc(customers.id))
      .limit(limit + 1);
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    const { phones, emails } = await this.#contacts(
      this.#db,
      page.items.map((row) => row.id),
    );
    return {
      items: page.items.map((row) =>
        this.#view(row, phones.get(row.id) ?? null, emails.get(row.id) ?? null, false),
      ),
      next_cursor: page.next_cursor,
    };
  }

  async update(
    id: string,
    changes: {
      first_name?: string;
      middle_name?: string | null;
      last_name?: string;
      business_name?: string | null;
      gender?: Row['gender'];
      nationality?: string | null;
      occupation?: string | null;
      income_band?: string | null;
      date_of_birth?: string;
    },
    context: RequestContext,
  ) {
    return inTransaction(this.#db, async (tx) => {
      const before = await this.#row(tx, id, true);
      if (before.erasedAt) throw customerErrors.erased();
      const [row] = await tx
        .update(customers)
        .set({
          ...(changes.first_name !== undefined ? { firstName: changes.first_name } : {}),
          ...(changes.middle_name !== undefined ? { middleName: changes.middle_name } : {}),
          ...(changes.last_name !== undefined ? { lastName: changes.last_name } : {}),
          ...(changes.business_name !== undefined ? { businessName: changes.business_name } : {}),
          ...(changes.gender !== undefined ? { gender: changes.gender } : {}),
          ...(changes.nationality !== undefined ? { nationality: changes.nationality } : {}),
          ...(changes.occupation !== undefined ? { occupation: changes.occupation } : {}),
          ...(changes.income_band !== undefined ? { incomeBand: changes.income_band } : {}),
          ...(changes.date_of_birth !== undefined
            ? { dateOfBirthSealed: this.#seal(id, 'date_of_birth', changes.date_of_birth) }
            : {}),
          updatedAt: new Date(),
        })
        .where(eq(customers.id, id))
        .returning();
      const { phones, emails } = await this.#contacts(tx, [id]);
      const after = this.#view(row!, phones.get(id) ?? null, emails.get(id) ?? null, false);
      // Field names only: personal values stay out of the append-only log so erasure can remove them.
      await writeAudit(tx, context, {
        action: 'customer.updated',
        entityType: 'customer',
        entityId: id,
        after: {
          fields: Object.keys(changes)
            .filter((key) => changes[key as keyof typeof changes] !== undefined)
            .sort(),
        },
      });
      return after;
    });
  }

  async changeStatus(id: string, status: Row['status'], reason: string, context: RequestContext) {
    return inTransaction(this.#db, async (tx) => {
      const before = await this.#row(tx, id, true);
      if (before.erasedAt) throw customerErrors.erased();
      const [row] = await tx
        .update(customers)
        .set({ status, statusReason: reason, updatedAt: new Date() })
        .where(eq(customers.id, id))
        .returning();
      await writeAudit(tx, context, {
        action: 'customer.status_changed',
        entityType: 'customer',
        entityId: id,
        before: { status: before.status },
        after: { status, reason },
      });
      const { phones, emails } = await this.#contacts(tx, [id]);
      return this.#view(row!, phones.get(id) ?? null, emails.get(id) ?? null, false);
    });
  }

  /** Staff confirm the primary phone (e.g. at a branch); one-time-code verification will set the same mark. */
  async verifyPhone(id: string, context: RequestContext) {
    return inTransaction(this.#db, async (tx) => {
      const row = await this.#row(tx, id, true);
      if (row.erasedAt) throw customerErrors.erased();
      const [phone] = await tx
        .update(customerPhones)
        .set({ verifiedAt: new Date(), updatedAt: new Date() })
        .where(and(eq(customerPhones.customerId, id), eq(customerPhones.primary, true)))
        .returning();
      if (!phone) throw commonErrors.notFound('Phone');
      await writeAudit(tx, context, {
        action: 'customer.phone_verified',
        entityType: 'customer',
        entityId: id,
        after: { phone: phone.phone },
      });
      return { customer_id: id, phone: phone.phone, verified_at: phone.verifiedAt!.toISOString() };
    });
  }

  /** Everything held about a customer, PII in clear (the data subject's right of access); audited. */
  async export(id: string, context: RequestContext) {
    const row = await this.#row(this.#db, id);
    const [phones, emails, addresses, audit] = await Promise.all([
      this.#db.select().from(customerPhones).where(eq(customerPhones.customerId, id)),
      this.#db.select().from(customerEmails).where(eq(customerEmails.customerId, id)),
      this.#db.select().from(customerAddresses).where(eq(customerAddresses.customerId, id)),
      // What was done to the customer, and what the customer did (to their wallets, devices, disputes, …).
      auditTrailOf(this.#db, { type: 'customer', id }, 1000),
    ]);
    const held = await customerHeldData(this.#db, id);
    await inTransaction(this.#db, (tx) =>
      writeAudit(tx, context, { action: 'customer.exported', entityType: 'customer', entityId: id }),
    );
    const primaryPhone = phones.find((phone) => phone.primary)?.phone ?? null;
    const primaryEmail = emails.find((email) => email.primary)?.email ?? null;
    return {
      exported_at: new Date().toISOString(),
      customer: this.#view(row, primaryPhone, primaryEmail, true),
      phones: phones.map((phone) => ({
        phone: phone.phone,
        primary: phone.primary,
        verified_at: phone.verifiedAt?.toISOString() ?? null,
      })),
      emails: emails.map((email) => ({
        email: email.email,
        primary: email.primary,
        verified_at: email.verifiedAt?.toISOString() ?? null,
      })),
      addresses: addresses.map((address) => ({
        kind: address.kind,
        line1: address.line1,
        line2: address.line2,
        city: address.city,
        region: address.region,
        postal_code: address.postalCode,
        country: address.country,
      })),
      audit: audit.map((entry) => ({
        action: entry.action,
        occurred_at: entry.occurredAt.toISOString(),
        actor_type: entry.actorType,
        entity_type: entry.entityType,
      })),
      ...held,
    };
  }

  /**
   * Erasure: names, contacts and identifiers are replaced or removed; the row, its number and (later) its
   * financial records stay, since the law requires keeping them. The customer is closed.
   */
  async erase(id: string, reason: string, context: RequestContext) {
    return inTransaction(this.#db, async (tx) => {
      const row = await this.#row(tx, id, true);
      if (row.erasedAt) throw customerErrors.erased();
      await tx.delete(customerPhones).where(eq(customerPhones.customerId, id));
      await tx.delete(customerEmails).where(eq(customerEmails.customerId, id));
      await tx.delete(customerAddresses).where(eq(customerAddresses.customerId, id));
      const [erased] = await tx
        .update(customers)
        .set({
          firstName: 'Erased',
          middleName: null,
          lastName: 'Customer',
          businessName: null,
          gender: null,
          nationality: null,
          occupation: null,
          incomeBand: null,
          nationalIdSealed: null,
          nationalIdIndex: null,
          nationalIdLast4: null,
          dateOfBirthSealed: null,
          status: 'closed',
          statusReason: 'erased',
          erasedAt: new Date(),
          updatedAt: new Date(),
        })
        .where(eq(customers.id, id))
        .returning();
      await writeAudit(tx, context, {
        action: 'customer.erased',
        entityType: 'customer',
        entityId: id,
        after: { reason },
      });
      return this.#view(erased!, null, null, false);
    });
  }
}
