/**
 * A customer's phones, emails and addresses: one primary of each kind, the primary phone never removed (it is the
 * sign-in identifier), every change audited. Numbers are E.164 through libphonenumber; emails are lower-cased.
 */
import { and, asc, eq, ne } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { customerErrorCatalogue } from './customers.errors.ts';
import { customerErrors, normalisePhone } from './customers.service.ts';
import { customerAddresses, customerEmails, customerPhones, customers } from './customers.tables.ts';

export const contactErrors = {
  primaryPhone: () => customerErrorCatalogue.PRIMARY_CONTACT(),
};

export interface AddressInput {
  kind: 'home' | 'work' | 'postal' | 'business';
  line1: string;
  line2?: string;
  city: string;
  region?: string;
  postal_code?: string;
  country: string;
  primary?: boolean;
}

type Kind = 'phone' | 'email' | 'address';

export class CustomerContacts {
  readonly #db: Executor;

  constructor(db: Executor) {
    this.#db = db;
  }

  async #customer(tx: Executor, id: string) {
    const [row] = await tx
      .select({ id: customers.id, erasedAt: customers.erasedAt })
      .from(customers)
      .where(eq(customers.id, id))
      .for('update')
      .limit(1);
    if (!row) throw commonErrors.notFound('Customer');
    if (row.erasedAt) throw customerErrors.erased();
  }

  async list(customerId: string) {
    const [exists] = await this.#db
      .select({ id: customers.id })
      .from(customers)
      .where(eq(customers.id, customerId))
      .limit(1);
    if (!exists) throw commonErrors.notFound('Customer');
    const [phones, emails, addresses] = await Promise.all([
      this.#db
        .select()
        .from(customerPhones)
        .where(eq(customerPhones.customerId, customerId))
        .orderBy(asc(customerPhones.createdAt)),
      this.#db
        .select()
        .from(customerEmails)
        .where(eq(customerEmails.customerId, customerId))
        .orderBy(asc(customerEmails.createdAt)),
      this.#db
        .select()
        .from(customerAddresses)
        .where(eq(customerAddresses.customerId, customerId))
        .orderBy(asc(customerAddresses.createdAt)),
    ]);
    return {
      phones: phones.map((row) => ({
        id: row.id,
        phone: row.phone,
        primary: row.primary,
        verified: row.verifiedAt !== null,
      })),
      emails: emails.map((row) => ({
        id: row.id,
        email: row.email,
        primary: row.primary,
        verified: row.verifiedAt !== null,
      })),
      addresses: addresses.map((row) => ({
        id: row.id,
        kind: row.kind,
        line1: row.line1,
        line2: row.line2,
        city: row.city,
        region: row.region,
        postal_code: row.postalCode,
        country: row.country,
        primary: row.primary,
      })),
    };
  }

  async add(
    customerId: string,
    kind: Kind,
    value: string | AddressInput,
    primary: boolean,
    context: RequestContext,
  ) {
    const id = uuidv7();
    try {
      await inTransaction(this.#db, async (tx) => {
        await this.#customer(tx, customerId);
        if (kind === 'phone') {
          const phone = normalisePhone(value as string);
          if (primary)
            await tx
              .update(customerPhones)
              .set({ primary: false })
              .where(eq(customerPhones.customerId, customerId));
          await tx.insert(customerPhones).values({ id, customerId, phone, primary });
        } else if (kind === 'email') {
          if (primary)
            await tx
              .update(customerEmails)
              .set({ primary: false })
              .where(eq(customerEmails.customerId, customerId));
          await tx
            .insert(customerEmails)
            .values({ id, customerId, email: (value as string).toLowerCase(), primary });
        } else {
          const address = value as AddressInput;
          if (primary)
            await tx
              .update(customerAddresses)
              .set({ primary: false })
              .where(eq(customerAddresses.customerId, customerId));
          await tx.insert(customerAddresses).values({
            id,
            customerId,
            kind: address.kind,
            line1: address.line1,
            line2: address.line2 ?? null,
            city: address.city,
            region: address.region ?? null,
            postalCode: address.postal_code ?? null,
            country: address.country,
            primary,
          });
        }
        await writeAudit(tx, context, {
          action: `customer.${kind}_added`,
          entityType: 'customer',
          entityId: customerId,
          after: { id, primary },
        });
      });
    } catch (error) {
      const constraint = violatedConstraint(error);
      if (constraint === 'customer_phones_phone_key') throw customerErrors.duplicate('phone');
      if (constraint === 'customer_emails_email_key') throw customerErrors.duplicate('email');
      throw error;
    }
    return this.list(customerId);
  }

  #table(kind: Kind) {
    return kind === 'phone' ? customerPhones : kind === 'email' ? customerEmails : customerAddresses;
  }

  async remove(customerId: string, kind: Kind, contactId: string, context: RequestContext) {
    await inTransaction(this.#db, async (tx) => {
      await this.#customer(tx, customerId);
      const table = this.#table(kind);
      const [row] = await tx
        .select({ id: table.id, primary: table.primary })
        .from(table)
        .where(and(eq(table.id, contactId), eq(table.customerId, customerId)))
        .limit(1);
      if (!row) throw commonErrors.notFound(kind[0]!.toUpperCase() + kind.slice(1));
      if (kind === 'phone' && row.primary) throw contactErrors.primaryPhone();
      await tx.delete(table).where(eq(table.id, contactId));
      await writeAudit(tx, context, {
        action: `customer.${kind}_removed`,
        entityType: 'customer',
        entityId: customerId,
        before: { id: contactId },
      });
    });
    return this.list(customerId);
  }

  async makePrimary(customerId: string, kind: Kind, contactId: string, context: RequestContext) {
    await inTransaction(this.#db, async (tx) => {
      await this.#customer(tx, customerId);
      const table = this.#table(kind);
      const [row] = await tx
        .select({ id: table.id })
        .from(table)
        .where(and(eq(table.id, contactId), eq(table.customerId, customerId)))
        .limit(1);
      if (!row) throw commonErrors.notFound(kind[0]!.toUpperCase() + kind.slice(1));
      await tx
        .update(table)
        .set({ primary: false })
        .where(and(eq(table.customerId, customerId), ne(table.id, contactId)));
      await tx.update(table).set({ primary: true, updatedAt: new Date() }).where(eq(table.id, contactId));
      await writeAudit(tx, context, {
        action: `customer.${kind}_made_primary`,
        entityType: 'customer',
        entityId: customerId,
        after: { id: contactId },
      });
    });
    return this.list(customerId);
  }
}
