/**
 * AML's own record of every completed payment (`aml_payment_facts`), written from `transaction.completed`, one row
 * per transaction (a redelivered event adds nothing), and of the device events the SIM-swap/new-device typology
 * looks back on (`aml_device_events`, from `auth.new_device_login`).
 *
 * Parties follow the engine's record: `customer_id` is the paying side (the source wallet's customer, or the
 * customer who initiated it), `counterparty_customer_id` the receiving side. A teller deposit or an agent cash-in has
 * no payer customer (the money comes from a till or a store's float): its customer is the counterparty. The payment
 * event names neither the channel nor the agent, so both are read from the transaction record (the agents module
 * writes `agent_id` and `store_id` into an agent cash movement's metadata). No payment request carries a device id
 * today: `device_id` is taken from the metadata when a module puts one there, else null.
 */
import { eq } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import type { DomainEvent } from '../../platform/events.ts';
import { uuidv7 } from '../../platform/ids.ts';
import type { newDeviceLogin } from '../identity/index.ts';
import { findTransaction, type transactionCompleted } from '../transactions/index.ts';
import { amlDeviceEvents, amlPaymentFacts } from './aml.tables.ts';

export type PaymentFact = typeof amlPaymentFacts.$inferSelect;

/** Called with each fact after it is written, in the same transaction (another area may listen instead of subscribing). */
export type FactListener = (tx: Executor, fact: PaymentFact, fresh: boolean) => Promise<void>;

const text = (value: unknown): string | null =>
  typeof value === 'string' && value.length > 0 ? value : null;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuidOrNull = (value: unknown): string | null => {
  const found = text(value);
  return found && UUID.test(found) ? found : null;
};

export class PaymentFacts {
  readonly #listeners: FactListener[] = [];

  /** Another AML area that needs every completed payment (one consumer may hold one handler per topic). */
  listen(listener: FactListener): void {
    this.#listeners.push(listener);
  }

  /**
   * Writes the payment's fact (nothing when it is there already) and returns it with `fresh` telling whether this
   * call wrote it. Listeners run either way: their own effects must be idempotent (a retried event).
   */
  async record(
    tx: Executor,
    event: DomainEvent<typeof transactionCompleted>,
  ): Promise<{ fact: PaymentFact; fresh: boolean }> {
    const payload = event.payload;
    const record = await findTransaction(tx, payload.transaction_id);
    const metadata = record?.metadata ?? {};
    const row: PaymentFact = {
      transactionId: payload.transaction_id,
      type: payload.type,
      channel: record?.channel ?? null,
      customerId: payload.source_customer_id,
      counterpartyCustomerId: payload.destination_customer_id,
      sourceWalletId: payload.source_wallet_id,
      destinationWalletId: payload.destination_wallet_id,
      merchantId: payload.merchant_id,
      agentId: uuidOrNull(metadata.agent_id),
      storeId: uuidOrNull(metadata.store_id),
      deviceId: text(metadata.device_id)?.slice(0, 200) ?? null,
      amountMinor: BigInt(payload.amount),
      currency: payload.currency,
      occurredAt: record?.completedAt ?? event.occurredAt,
    };
    const [inserted] = await tx.insert(amlPaymentFacts).values(row).onConflictDoNothing().returning();
    const fact = inserted ?? (await this.find(tx, row.transactionId)) ?? row;
    for (const listener of this.#listeners) await listener(tx, fact, inserted !== undefined);
    return { fact, fresh: inserted !== undefined };
  }

  async find(tx: Executor, transactionId: string): Promise<PaymentFact | undefined> {
    const [row] = await tx
      .select()
      .from(amlPaymentFacts)
      .where(eq(amlPaymentFacts.transactionId, transactionId))
      .limit(1);
    return row;
  }

  /** A customer's sign-in from a new device; staff sign-ins are not AML's. */
  async recordNewDevice(tx: Executor, event: DomainEvent<typeof newDeviceLogin>): Promise<void> {
    const payload = event.payload;
    if (payload.principal_type !== 'customer') return;
    const at = new Date(payload.at);
    await tx
      .insert(amlDeviceEvents)
      .values({
        id: uuidv7(),
        customerId: payload.principal_id,
        kind: 'new_device',
        detail: payload.device,
        sourceEventId: event.id,
        occurredAt: Number.isNaN(at.getTime()) ? event.occurredAt : at,
      })
      .onConflictDoNothing();
  }
}
