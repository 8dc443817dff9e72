/**
 * The data subject's rights: the export of everything held about a customer (PII in clear, every module's data
 * through customers.export.ts), and erasure, which anonymises PII and keeps the records the law requires. Erasure
 * waits until the customer neither holds nor owes anything: the modules that know (wallets, loans) register a check
 * (`addErasureCheck`), so this module depends on none of them; and it tells them through `customers.customer_erased`.
 */
import { eq } from 'drizzle-orm';
import { auditTrailOf, type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { customerErased } from './customers.events.ts';
import { customerHeldData } from './customers.export.ts';
import { type CustomerRecords, customerErrors } from './customers.records.ts';
import { customerAddresses, customerEmails, customerPhones, customers } from './customers.tables.ts';

/**
 * What still ties a customer to a module (a balance, a loan, an open application), one readable reason each, read on
 * the erasure's transaction `tx` only (the customer row is locked there); an empty list when nothing does.
 */
export type ErasureCheck = (tx: Executor, customerId: string) => Promise<string[]>;
/**
 * What another module forgets about the customer as part of the erasure, in its transaction, once every check let it
 * go ahead and before the customer's phones, emails and identifiers are removed (so it can still match by them).
 */
export type ErasureStep = (tx: Executor, customer: { id: string; phones: string[] }) => Promise<void>;

export class CustomerDataRights {
  readonly #records: CustomerRecords;
  readonly #erasureChecks: ErasureCheck[] = [];
  readonly #erasureSteps: ErasureStep[] = [];

  constructor(records: CustomerRecords) {
    this.#records = records;
  }

  get #db(): Executor {
    return this.#records.db;
  }

  /** Modules holding a customer's money or debts register what refuses erasure (from their `create`). */
  addErasureCheck(check: ErasureCheck): void {
    this.#erasureChecks.push(check);
  }

  addErasureStep(step: ErasureStep): void {
    this.#erasureSteps.push(step);
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
   * financial records stay, since the law requires keeping them. The customer is closed. Refused while the customer
   * still holds money or owes it (every registered check, on this transaction, after the customer row is locked);
   * the other modules learn of it from `customers.customer_erased`, written in the same transaction.
   */
  async erase(id: string, reason: string, context: RequestContext) {
    return inTransaction(this.#db, async (tx) => {
      const row = await this.#records.row(tx, id, true);
      if (row.erasedAt) throw customerErrors.erased();
      const reasons: string[] = [];
      // One after the other: they share the transaction's connection.
      for (const check of this.#erasureChecks) reasons.push(...(await check(tx, id)));
      if (reasons.length > 0) throw customerErrors.hasObligations(reasons);
      if (this.#erasureSteps.length > 0) {
        const phones = await tx
          .select({ phone: customerPhones.phone })
          .from(customerPhones)
          .where(eq(customerPhones.customerId, id));
        const customer = { id, phones: phones.map((row) => row.phone) };
        for (const step of this.#erasureSteps) await step(tx, customer);
      }
      const erasedAt = new Date();
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
          // The bank's key to the person: erased like the national ID (it frees the link for the bank client).
          cbsClientId: null,
          status: 'closed',
          statusReason: 'erased',
          erasedAt,
          updatedAt: erasedAt,
        })
        .where(eq(customers.id, id))
        .returning();
      await writeAudit(tx, context, {
        action: 'customer.erased',
        entityType: 'customer',
        entityId: id,
        after: { reason },
      });
      await emitEvent(
        tx,
        customerErased,
        { type: 'customer', id },
        { customer_id: id, erased_at: erasedAt.toISOString() },
      );
      return this.#records.view(erased!, null, null, false);
    });
  }
}
