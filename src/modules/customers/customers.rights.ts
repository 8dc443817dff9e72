/**
 * The data subject's rights: the export of everything held about a customer (PII in clear, every module's data
 * through customers.export.ts), and erasure, which anonymises PII and keeps the records the law requires.
 */
import { eq } from 'drizzle-orm';
import { auditTrailOf, type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { customerHeldData } from './customers.export.ts';
import { type CustomerRecords, customerErrors } from './customers.records.ts';
import { customerAddresses, customerEmails, customerPhones, customers } from './customers.tables.ts';

export class CustomerDataRights {
  readonly #records: CustomerRecords;

  constructor(records: CustomerRecords) {
    this.#records = records;
  }

  get #db(): Executor {
    return this.#records.db;
  }

  /** Everything held about a customer, PII in clear (the data subject's right of access); audited. */
  async export(id: string, context: RequestContext) {
    const row = await this.#records.row(this.#db, id);
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
      customer: this.#records.view(row, primaryPhone, primaryEmail, true),
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
      const row = await this.#records.row(tx, id, true);
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
      return this.#records.view(erased!, null, null, false);
    });
  }
}
