/**
 * Merchant registration under maker-checker (the merchant and its wallet open together when a second staff member
 * approves), and the merchant's life after it: listing, reading with its balance, suspension and reactivation.
 */
import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { assertOwnership, decodeCursor, type Principal, paginate } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { humanNumber, uuidv7 } from '../../platform/ids.ts';
import { formatMoney } from '../../platform/money.ts';
import { emitEvent } from '../../platform/outbox.ts';
import type { ApprovalService } from '../approvals/index.ts';
import { customerStanding } from '../customers/index.ts';
import type { LedgerService } from '../ledger/index.ts';
import type { PaymentModuleOptions } from '../transactions/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import { merchantErrors } from './merchants.errors.ts';
import { merchantActivated, merchantRegistered, merchantSuspended } from './merchants.events.ts';
import {
  currencyNumeric,
  type MerchantStatus,
  type MerchantView,
  merchantView,
  ownedMerchant,
} from './merchants.rows.ts';
import { merchants } from './merchants.tables.ts';

/** Merchant number: "M", seven random digits and a Luhn check digit; carried in template 26, sub-tag 01. */
const MERCHANT_NUMBER_DIGITS = 8;
const NUMBER_ATTEMPTS = 4;

export interface RegistrationInput {
  name: string;
  mcc: string;
  city: string;
  country: string;
  currency: string;
  fee_bps: number;
  owner_customer_id?: string;
}

/** What the approval request carries: the maker's input and who made it. */
export type RegistrationPayload = RegistrationInput & { requested_by: string | null };

export class MerchantRegistration {
  readonly #db: Executor;
  readonly #wallets: WalletsService;
  readonly #ledger: LedgerService;
  readonly #approvals: ApprovalService;

  constructor(options: PaymentModuleOptions) {
    this.#db = options.deps.database.db;
    this.#wallets = options.wallets;
    this.#ledger = options.ledger;
    this.#approvals = options.approvals;
  }

  /** Files the registration for a second staff member; nothing exists until it is approved. */
  async requestRegistration(
    input: RegistrationInput,
    context: RequestContext,
    claim: IdempotencyClaim | null,
  ) {
    await this.#checkRegistration(input);
    const payload: RegistrationPayload = { ...input, requested_by: context.actor.id };
    const outcome = await this.#approvals.run<RegistrationPayload, MerchantView>(
      'merchant.register',
      payload,
      {
        summary: `Register merchant ${input.name} (MCC ${input.mcc}, ${input.currency}, MDR ${input.fee_bps} bps)`,
        entityType: 'merchant',
      },
      context,
      { always: true, claim },
    );
    if (outcome.kind === 'done') return { status: 201 as const, body: outcome.result };
    return { status: 202 as const, body: outcome.request };
  }

  /** Refusals that can be known at filing time (and again at approval: the owner may have closed since). */
  async #checkRegistration(input: RegistrationInput): Promise<void> {
    currencyNumeric(input.currency);
    await this.#wallets.products.defaultFor(input.currency);
    if (!input.owner_customer_id) return;
    const owner = await customerStanding(this.#db, input.owner_customer_id);
    if (!owner) throw commonErrors.notFound('Customer');
    if (owner.erasedAt || owner.status === 'closed')
      throw merchantErrors.ownerInactive(owner.erasedAt ? 'erased' : owner.status);
  }

  /** The approved registration: the merchant and its wallet in one transaction, audited, with an event. */
  async executeRegistration(payload: RegistrationPayload, context: RequestContext): Promise<MerchantView> {
    await this.#checkRegistration(payload);
    // House accounts resolved outside the transaction: the wallet opener must find them cached.
    await this.#ledger.ensureHouseAccounts(payload.currency);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await inTransaction(this.#db, async (tx) => {
          const id = uuidv7();
          await tx.insert(merchants).values({
            id,
            merchantNumber: humanNumber('M', MERCHANT_NUMBER_DIGITS),
            name: payload.name,
            mcc: payload.mcc,
            city: payload.city,
            country: payload.country,
            currency: payload.currency,
            ownerCustomerId: payload.owner_customer_id ?? null,
            status: 'active',
            feeBps: payload.fee_bps,
          });
          const wallet = await this.#wallets.openMerchantWallet(tx, id, payload.currency);
          const [row] = await tx
            .update(merchants)
            .set({ walletId: wallet.id, updatedAt: new Date() })
            .where(eq(merchants.id, id))
            .returning();
          const view = merchantView(row!);
          await emitEvent(
            tx,
            merchantRegistered,
            { type: 'merchant', id },
            {
              merchant_id: id,
              merchant_number: view.merchant_number,
              name: view.name,
              mcc: view.mcc,
              currency: view.currency,
              wallet_id: wallet.id,
              owner_customer_id: view.owner_customer_id,
            },
          );
          await writeAudit(tx, context, {
            action: 'merchant.register',
            entityType: 'merchant',
            entityId: id,
            after: { ...view, wallet_number: wallet.wallet_number, requested_by: payload.requested_by },
          });
          return view;
        });
      } catch (error) {
        // A merchant or wallet number collision just draws another number.
        const constraint = violatedConstraint(error);
        if (
          (constraint === 'merchants_number_key' || constraint === 'wallets_number_key') &&
          attempt < NUMBER_ATTEMPTS
        )
          continue;
        throw error;
      }
    }
  }

  async list(
    filters: {
      status?: MerchantStatus;
      owner_customer_id?: string;
      merchant_number?: string;
      mcc?: string;
      currency?: string;
      limit?: number;
      cursor?: string;
    },
    principal: Principal,
  ) {
    const limit = filters.limit ?? 20;
    const conditions: SQL[] = [];
    if (filters.owner_customer_id) assertOwnership(principal, filters.owner_customer_id);
    const owner = principal.type === 'customer' ? principal.id : filters.owner_customer_id;
    if (owner) conditions.push(eq(merchants.ownerCustomerId, owner));
    if (filters.status) conditions.push(eq(merchants.status, filters.status));
    if (filters.merchant_number) conditions.push(eq(merchants.merchantNumber, filters.merchant_number));
    if (filters.mcc) conditions.push(eq(merchants.mcc, filters.mcc));
    if (filters.currency) conditions.push(eq(merchants.currency, filters.currency));
    const position = decodeCursor(filters.cursor, ['id'] as const);
    if (position) conditions.push(sql`${merchants.id} < ${position.id}`);
    const rows = await this.#db
      .select()
      .from(merchants)
      .where(conditions.length > 0 ? and(...conditions) : undefined)
      .orderBy(desc(merchants.id))
      .limit(limit + 1);
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return { items: page.items.map(merchantView), next_cursor: page.next_cursor };
  }

  /** One merchant with its wallet and balance (statements: the wallet routes with `wallet_id`). */
  async get(id: string, principal: Principal) {
    const row = await ownedMerchant(this.#db, id, principal);
    const view = merchantView(row);
    if (!row.walletId)
      return { ...view, wallet_number: null, balance: 0n, available_balance: 0n, balance_display: '' };
    const [wallet, balance] = await Promise.all([
      this.#wallets.row(row.walletId),
      this.#ledger.balance(row.walletId),
    ]);
    return {
      ...view,
      wallet_number: wallet.walletNumber,
      balance: balance.balance,
      available_balance: balance.available,
      balance_display: formatMoney(balance.balance, row.currency),
    };
  }

  /** Suspend or reactivate; a suspended merchant cannot be paid (its wallet and balance are untouched). */
  async setStatus(
    id: string,
    status: 'suspended' | 'active',
    reason: string | null,
    context: RequestContext,
  ): Promise<MerchantView> {
    return inTransaction(this.#db, async (tx) => {
      const [current] = await tx.select().from(merchants).where(eq(merchants.id, id)).for('update').limit(1);
      if (!current) throw merchantErrors.notFound();
      if (current.status === 'closed') throw merchantErrors.closed();
      if (current.status === status) throw merchantErrors.statusUnchanged(status);
      const [row] = await tx
        .update(merchants)
        .set({ status, updatedAt: new Date() })
        .where(eq(merchants.id, id))
        .returning();
      await emitEvent(
        tx,
        status === 'suspended' ? merchantSuspended : merchantActivated,
        { type: 'merchant', id },
        { merchant_id: id, status, reason },
      );
      await writeAudit(tx, context, {
        action: status === 'suspended' ? 'merchant.suspend' : 'merchant.activate',
        entityType: 'merchant',
        entityId: id,
        before: { status: current.status },
        after: { status, reason },
      });
      return merchantView(row!);
    });
  }
}
