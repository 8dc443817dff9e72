/**
 * Customer profiles: creation with normalised contacts, reads that mask PII unless the caller may and asks to see it,
 * search by phone, email, name, national ID (blind index) or number, changes, status changes and the staff's phone
 * verification.
 */
import { and, asc, eq, gt, ilike, inArray, or, type SQL, sql } from 'drizzle-orm';
import type { Static } from 'typebox';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { decodeCursor, type Principal, paginate } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { humanNumber, uuidv7 } from '../../platform/ids.ts';
import {
  type CustomerRecords,
  type CustomerRow,
  customerErrors,
  normaliseNationalId,
  normalisePhone,
} from './customers.records.ts';
import type { CustomerView } from './customers.schemas.ts';
import { customerEmails, customerPhones, customers } from './customers.tables.ts';

export interface CreateCustomer {
  first_name: string;
  last_name: string;
  middle_name?: string;
  phone: string;
  email?: string;
  date_of_birth?: string;
  national_id?: string;
  national_id_type?: string;
  customer_type?: CustomerRow['customerType'];
  business_name?: string;
  gender?: NonNullable<CustomerRow['gender']>;
  nationality?: string;
  occupation?: string;
  income_band?: string;
  channel?: CustomerRow['channel'];
}

export class CustomerProfiles {
  readonly #records: CustomerRecords;

  constructor(records: CustomerRecords) {
    this.#records = records;
  }

  get #db(): Executor {
    return this.#records.db;
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
            ? this.#records.seal(id, 'national_id', normaliseNationalId(input.national_id))
            : null,
          nationalIdIndex: input.national_id
            ? this.#records.index(input.national_id_type!, input.national_id)
            : null,
          nationalIdLast4: input.national_id ? normaliseNationalId(input.national_id).slice(-4) : null,
          dateOfBirthSealed: input.date_of_birth
            ? this.#records.seal(id, 'date_of_birth', input.date_of_birth)
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
        const view = this.#records.view(row!, phone, input.email?.toLowerCase() ?? null, false);
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
    const row = await this.#records.row(this.#db, id);
    const clear = includePii && principal.type === 'user' && principal.permissions.has('customer:pii_read');
    if (includePii && !clear)
      throw commonErrors.forbidden('Seeing personal data in clear needs customer:pii_read');
    const { phones, emails } = await this.#records.contacts(this.#db, [id]);
    if (clear) {
      await inTransaction(this.#db, (tx) =>
        writeAudit(tx, context, { action: 'customer.pii_viewed', entityType: 'customer', entityId: id }),
      );
    }
    return this.#records.view(row, phones.get(id) ?? null, emails.get(id) ?? null, clear);
  }

  async search(filters: {
    phone?: string;
    email?: string;
    name?: string;
    national_id?: string;
    national_id_type?: string;
    customer_number?: string;
    status?: CustomerRow['status'];
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
          types.map((type) => this.#records.index(type, filters.national_id!)),
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
    const { phones, emails } = await this.#records.contacts(
      this.#db,
      page.items.map((row) => row.id),
    );
    return {
      items: page.items.map((row) =>
        this.#records.view(row, phones.get(row.id) ?? null, emails.get(row.id) ?? null, false),
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
      gender?: CustomerRow['gender'];
      nationality?: string | null;
      occupation?: string | null;
      income_band?: string | null;
      date_of_birth?: string;
    },
    context: RequestContext,
  ) {
    return inTransaction(this.#db, async (tx) => {
      const before = await this.#records.row(tx, id, true);
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
            ? { dateOfBirthSealed: this.#records.seal(id, 'date_of_birth', changes.date_of_birth) }
            : {}),
          updatedAt: new Date(),
        })
        .where(eq(customers.id, id))
        .returning();
      const { phones, emails } = await this.#records.contacts(tx, [id]);
      const after = this.#records.view(row!, phones.get(id) ?? null, emails.get(id) ?? null, false);
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

  async changeStatus(id: string, status: CustomerRow['status'], reason: string, context: RequestContext) {
    return inTransaction(this.#db, async (tx) => {
      const before = await this.#records.row(tx, id, true);
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
      const { phones, emails } = await this.#records.contacts(tx, [id]);
      return this.#records.view(row!, phones.get(id) ?? null, emails.get(id) ?? null, false);
    });
  }

  /** Staff confirm the primary phone (e.g. at a branch); one-time-code verification will set the same mark. */
  async verifyPhone(id: string, context: RequestContext) {
    return inTransaction(this.#db, async (tx) => {
      const row = await this.#records.row(tx, id, true);
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
}
