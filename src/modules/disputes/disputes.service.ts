/**
 * Customer disputes. The payer opens one within `payments.dispute_window_days` of a completed payment; what the
 * recipient's wallet still holds of the amount is put on hold (a pending ledger transfer to suspense), so the money
 * cannot be spent while staff investigate. Staff then refund (the hold is posted to suspense and paid back, the
 * rest taken from the recipient) or reject (the hold is voided). Every step is one database transaction with its
 * audit entry and outbox event; both parties' ids travel in the events so notifications reach both.
 */
import { auditActorOf, type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import { assertOwnership, decodeCursor, type Principal, paginate } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { formatMoney, minorToJson } from '../../platform/money.ts';
import { emitEvent } from '../../platform/outbox.ts';
import {
  batchTransfers,
  LEDGER_STATES,
  LedgerError,
  type LedgerService,
  type Leg,
  pendingStates,
} from '../ledger/index.ts';
import type { SettingsService } from '../settings/index.ts';
import {
  findTransaction,
  type Party,
  type TransactionRow,
  type TransactionsService,
  transactionReferences,
} from '../transactions/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import { disputeErrors } from './disputes.errors.ts';
import { disputeInvestigating, disputeOpened, disputeResolved } from './disputes.events.ts';
import {
  type DisputeFilters,
  type DisputeRow,
  type DisputeStatus,
  disputeOfTransaction,
  insertDispute,
  listDisputes,
  lockDispute,
  updateDispute,
} from './disputes.repository.ts';
import type { DisputeReason } from './disputes.schemas.ts';

export const DISPUTABLE_TYPES: ReadonlySet<string> = new Set(['p2p', 'merchant', 'bill']);
const OPEN_STATES: DisputeStatus[] = ['open', 'investigating'];
/** Holds outlive any investigation; an expired hold is voided by the ledger sweeper (the refund then takes it all). */
const HOLD_DAYS = 180;
const DAY_MS = 86_400_000;

interface Loaded {
  dispute: DisputeRow;
  reference: string;
  holdAmount: bigint | null;
  holdExpiresAt: Date | null;
  holdEndKind: string | null;
}

export function disputeView(loaded: Loaded) {
  const { dispute } = loaded;
  let holdStatus: 'none' | 'held' | 'released' | 'captured' = 'none';
  if (loaded.holdAmount !== null)
    holdStatus =
      loaded.holdEndKind === 'post_pending'
        ? 'captured'
        : loaded.holdEndKind === 'void_pending'
          ? 'released'
          : 'held';
  return {
    id: dispute.id,
    transaction_id: dispute.transactionId,
    transaction_reference: loaded.reference,
    customer_id: dispute.customerId,
    reason: dispute.reason as DisputeReason,
    description: dispute.description,
    status: dispute.status,
    amount: dispute.amount,
    currency: dispute.currency,
    amount_display: formatMoney(dispute.amount, dispute.currency),
    held_amount: loaded.holdAmount ?? 0n,
    hold_status: holdStatus,
    resolution: dispute.resolution,
    resolved_by_id: dispute.resolvedById,
    refund_transaction_id: dispute.refundTransactionId,
    resolved_at: dispute.resolvedAt?.toISOString() ?? null,
    created_at: dispute.createdAt.toISOString(),
    updated_at: dispute.updatedAt.toISOString(),
  };
}

export type DisputeView = ReturnType<typeof disputeView>;

/**
 * Customers see the whole view but the deciding staff member's id. The payer sees `held_amount` too: how much of
 * the money they paid is secured for them. It is at most the amount they paid, and below it only when the
 * recipient already spent part of that very payment; nothing of the recipient's balance beyond the payment shows.
 */
export function disputeViewFor(view: DisputeView, principal: Pick<Principal, 'type'>) {
  if (principal.type !== 'customer') return view;
  const { resolved_by_id: _resolver, ...visible } = view;
  return visible;
}

export interface OpenInput {
  transaction_id: string;
  reason: DisputeReason;
  description?: string;
}

export class DisputesService {
  readonly #db: Executor;
  readonly #ledger: LedgerService;
  readonly #wallets: WalletsService;
  readonly #settings: SettingsService;
  readonly #transactions: TransactionsService;

  constructor(options: {
    db: Executor;
    ledger: LedgerService;
    wallets: WalletsService;
    settings: SettingsService;
    transactions: TransactionsService;
  }) {
    this.#db = options.db;
    this.#ledger = options.ledger;
    this.#wallets = options.wallets;
    this.#settings = options.settings;
    this.#transactions = options.transactions;
  }

  /** The payer (or staff on their behalf) disputes a payment; what the recipient still holds is put on hold. */
  async open(
    principal: Principal,
    input: OpenInput,
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ) {
    const original = await this.#original(input.transaction_id);
    // Only the payer may dispute; anyone else is told the transaction does not exist.
    if (principal.type === 'customer' && original.customerId !== principal.id)
      throw disputeErrors.transactionNotFound();
    const windowDays = await this.#settings.get('payments.dispute_window_days');
    this.#assertDisputable(original, windowDays);
    const suspense = await this.#ledger.houseAccount(`suspense:${original.currency}`);
    const id = uuidv7();
    try {
      return await inTransaction(this.#db, async (tx) => {
        // Wallet first, then the transaction row: the same order as the payment engine and reversals.
        const recipientWallet = original.destinationWalletId;
        if (recipientWallet) await this.#wallets.lock(tx, [recipientWallet]);
        const locked = await findTransaction(tx, original.id, { lock: true });
        this.#assertDisputable(locked!, windowDays);
        const existing = await disputeOfTransaction(
          tx,
          original.id,
          // A rejected dispute is final for the payer (reopening would freeze the recipient's money again and
          // again); staff may reopen one on their behalf.
          principal.type === 'customer'
            ? [...OPEN_STATES, 'refunded', 'rejected']
            : [...OPEN_STATES, 'refunded'],
        );
        if (existing) throw disputeErrors.exists(existing.id, existing.status);
        let holdTransferId: string | null = null;
        let held = 0n;
        if (recipientWallet) {
          const { available } = await this.#ledger.balance(recipientWallet, tx);
          held = available < original.amount ? (available > 0n ? available : 0n) : original.amount;
          if (held > 0n) {
            const posted = await this.#ledger.post(tx, {
              key: `dispute-hold:${id}`,
              code: 'dispute_hold',
              reference: original.reference,
              metadata: { dispute_id: id, transaction_id: original.id },
              legs: [{ debit: recipientWallet, credit: suspense, amount: held, code: 'hold' }],
              pendingUntil: new Date(Date.now() + HOLD_DAYS * DAY_MS),
            });
            holdTransferId = posted.transferIds[0]!;
          }
        }
        const customerId = locked!.customerId!;
        await insertDispute(tx, {
          id,
          transactionId: original.id,
          customerId,
          reason: input.reason,
          description: input.description ?? null,
          status: 'open',
          amount: original.amount,
          currency: original.currency,
          holdTransferId,
        });
        const view = await this.#view(tx, id);
        await emitEvent(
          tx,
          disputeOpened,
          { type: 'dispute', id },
          {
            ...partiesOf(locked!),
            dispute_id: id,
            reason: input.reason,
            amount: original.amount.toString(),
            currency: original.currency,
            held_amount: held.toString(),
            opened_by: { type: principal.type, id: principal.id },
          },
        );
        await writeAudit(tx, context, {
          action: 'dispute.opened',
          entityType: 'dispute',
          entityId: id,
          after: view,
        });
        const shown = disputeViewFor(view, principal);
        await claim?.commit(tx, 201, shown);
        return shown;
      });
    } catch (error) {
      if (violatedConstraint(error) === 'disputes_open_per_transaction_key')
        throw disputeErrors.exists(null, 'open');
      throw error;
    }
  }

  async get(id: string, principal: Principal) {
    const [loaded] = await this.#select(this.#db, { id });
    if (!loaded) throw disputeErrors.notFound();
    if (principal.type === 'customer' && loaded.dispute.customerId !== principal.id)
      throw disputeErrors.notFound();
    return disputeViewFor(disputeView(loaded), principal);
  }

  async list(
    filters: {
      status?: DisputeStatus;
      customer_id?: string;
      transaction_id?: string;
      limit?: number;
      cursor?: string;
    },
    principal: Principal,
  ) {
    const limit = filters.limit ?? 20;
    // Customers see the disputes they opened; naming another customer is a 404, as everywhere else.
    if (principal.type === 'customer' && filters.customer_id) assertOwnership(principal, filters.customer_id);
    const position = decodeCursor(filters.cursor, ['id'] as const);
    const rows = await this.#select(
      this.#db,
      {
        customerId: principal.type === 'customer' ? principal.id : filters.customer_id,
        status: filters.status,
        transactionId: filters.transaction_id,
        beforeId: position?.id,
      },
      limit + 1,
    );
    const page = paginate(rows, limit, (row) => ({ id: row.dispute.id }));
    return {
      items: page.items.map((loaded) => disputeViewFor(disputeView(loaded), principal)),
      next_cursor: page.next_cursor,
    };
  }

  /** Staff take an open dispute into investigation. */
  async investigate(
    principal: Principal,
    input: { dispute_id: string; note?: string },
    context: RequestContext,
  ): Promise<DisputeView> {
    return inTransaction(this.#db, async (tx) => {
      const dispute = await this.#lock(tx, input.dispute_id);
      if (dispute.status !== 'open') {
        if (!OPEN_STATES.includes(dispute.status)) throw disputeErrors.closed(dispute.status);
        throw disputeErrors.notOpen(dispute.status);
      }
      await updateDispute(tx, dispute.id, { status: 'investigating' });
      const original = await this.#original(dispute.transactionId, tx);
      await emitEvent(
        tx,
        disputeInvestigating,
        { type: 'dispute', id: dispute.id },
        { ...partiesOf(original), dispute_id: dispute.id, investigator_id: principal.id },
      );
      await writeAudit(tx, context, {
        action: 'dispute.investigating',
        entityType: 'dispute',
        entityId: dispute.id,
        before: { status: 'open' },
        after: { status: 'investigating', note: input.note ?? null },
      });
      return this.#view(tx, dispute.id);
    });
  }

  async resolve(
    principal: Principal,
    input: { dispute_id: string; outcome: 'refund' | 'reject'; resolution: string },
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ): Promise<DisputeView> {
    const [loaded] = await this.#select(this.#db, { id: input.dispute_id });
    if (!loaded) throw disputeErrors.notFound();
    if (!OPEN_STATES.includes(loaded.dispute.status)) throw disputeErrors.closed(loaded.dispute.status);
    try {
      if (input.outcome === 'reject') return await this.#reject(principal, input, claim, context);
      return await this.#refund(loaded, principal, input.resolution, claim, context);
    } catch (error) {
      if (
        error instanceof LedgerError &&
        (error.state === LEDGER_STATES.alreadyResolved || error.state === LEDGER_STATES.expired)
      )
        throw disputeErrors.holdChanged();
      throw error;
    }
  }

  async #reject(
    principal: Principal,
    input: { dispute_id: string; resolution: string },
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ): Promise<DisputeView> {
    return inTransaction(this.#db, async (tx) => {
      const dispute = await this.#lock(tx, input.dispute_id);
      if (!OPEN_STATES.includes(dispute.status)) throw disputeErrors.closed(dispute.status);
      const released = await this.#settleHold(tx, dispute, 'void');
      const view = await this.#decide(tx, dispute, {
        status: 'rejected',
        resolution: input.resolution,
        principal,
        refundTransactionId: null,
        moved: { released, captured: 0n, refunded: 0n },
        context,
      });
      await claim?.commit(tx, 200, view);
      return view;
    });
  }

  /**
   * Pays the payer back in one transaction: the hold is posted to suspense and paid out from there, the part that
   * could not be held comes from the recipient now (refused with 409, nothing changed, when they lack it).
   */
  async #refund(
    loaded: Loaded,
    principal: Principal,
    resolution: string,
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ): Promise<DisputeView> {
    const { dispute } = loaded;
    // A refund takes money from the recipient: like a reversal it needs two staff members, so whoever opened the
    // dispute on the payer's behalf cannot also refund it.
    const opened = await auditActorOf(this.#db, { type: 'dispute', id: dispute.id }, 'dispute.opened');
    if (opened?.type === 'user' && opened.id === principal.id) throw disputeErrors.ownRefund();
    const original = await this.#original(dispute.transactionId);
    if (original.status !== 'completed') throw disputeErrors.notDisputableStatus(original.status);
    const holdOpen =
      loaded.holdAmount !== null &&
      loaded.holdEndKind === null &&
      (loaded.holdExpiresAt === null || loaded.holdExpiresAt.getTime() > Date.now());
    const held = holdOpen ? loaded.holdAmount! : 0n;
    const rest = dispute.amount - held;
    const payerWallet = original.sourceWalletId!;
    const suspense = await this.#ledger.houseAccount(`suspense:${dispute.currency}`);
    const recipientAccount = await this.#recipientAccount(original);
    const legs: Leg[] = [];
    if (held > 0n) legs.push({ debit: suspense, credit: payerWallet, amount: held, code: 'refund' });
    if (rest > 0n) {
      await this.#assertRecipientHolds(recipientAccount, rest);
      legs.push({ debit: recipientAccount, credit: payerWallet, amount: rest, code: 'refund' });
    }
    const source: Party =
      rest === 0n
        ? { kind: 'account', accountId: suspense }
        : original.destinationWalletId
          ? { kind: 'wallet', walletId: original.destinationWalletId }
          : { kind: 'account', accountId: recipientAccount };
    let view: DisputeView | null = null;
    const now = new Date().toISOString();
    await this.#transactions.engine.commit(
      {
        type: 'refund',
        allowFrozen: true,
        channel: 'back_office',
        initiator: { type: 'user', id: principal.id },
        source,
        destination: { kind: 'wallet', walletId: payerWallet },
        amount: dispute.amount,
        currency: dispute.currency,
        feeRule: null,
        limits: false,
        legs: () => legs,
        relatedTransactionId: original.id,
        narration: `Refund of disputed payment ${original.reference}`,
        metadata: {
          dispute_id: dispute.id,
          resolution,
          resolved_by: principal.id,
          from_hold_minor: minorToJson(held),
          from_recipient_minor: minorToJson(rest),
        },
        beforeCommit: async (tx, record) => {
          const locked = await this.#lock(tx, dispute.id);
          if (!OPEN_STATES.includes(locked.status)) throw disputeErrors.closed(locked.status);
          const current = await findTransaction(tx, original.id, { lock: true });
          if (current?.status !== 'completed')
            throw disputeErrors.notDisputableStatus(String(current?.status));
          // The legs were priced on the hold as read before: it must still be exactly that.
          const captured = await this.#settleHold(tx, locked, held > 0n ? 'post' : 'void');
          if (captured !== held && held > 0n) throw disputeErrors.holdChanged();
          view = await this.#decide(tx, locked, {
            status: 'refunded',
            resolution,
            principal,
            refundTransactionId: record.id,
            moved: { released: 0n, captured: held, refunded: dispute.amount },
            context,
          });
          await claim?.commit(tx, 200, view);
        },
      },
      [
        { state: 'initiated', at: now },
        { state: 'validated', at: now },
        { state: 'authorized', at: now },
      ],
      context,
    );
    return view!;
  }

  /**
   * Posts or voids the dispute's hold if it is still pending; returns the amount posted (post) or released (void).
   * A hold the sweeper voided after expiry is already released: nothing to do.
   */
  async #settleHold(tx: Executor, dispute: DisputeRow, mode: 'post' | 'void'): Promise<bigint> {
    if (!dispute.holdTransferId) return 0n;
    const pending = (await pendingStates(tx, [dispute.holdTransferId])).get(dispute.holdTransferId);
    if (!pending || pending.ended) return 0n;
    const expired = pending.expiresAt !== null && pending.expiresAt.getTime() <= Date.now();
    const voiding = mode === 'void' || expired;
    await this.#ledger.resolve(tx, {
      key: `${voiding ? 'dispute-void' : 'dispute-post'}:${dispute.id}`,
      code: voiding ? 'dispute_release' : 'dispute_capture',
      pending: [{ transferId: dispute.holdTransferId }],
      void: voiding,
    });
    return mode === 'void' || !expired ? pending.amount : 0n;
  }

  async #decide(
    tx: Executor,
    dispute: DisputeRow,
    decision: {
      status: 'refunded' | 'rejected';
      resolution: string;
      principal: Principal;
      refundTransactionId: string | null;
      moved: { released: bigint; captured: bigint; refunded: bigint };
      context: RequestContext;
    },
  ): Promise<DisputeView> {
    const now = new Date();
    await updateDispute(tx, dispute.id, {
      status: decision.status,
      resolution: decision.resolution,
      resolvedById: decision.principal.id,
      refundTransactionId: decision.refundTransactionId,
      resolvedAt: now,
      updatedAt: now,
    });
    const original = await this.#original(dispute.transactionId, tx);
    const view = await this.#view(tx, dispute.id);
    await emitEvent(
      tx,
      disputeResolved,
      { type: 'dispute', id: dispute.id },
      {
        ...partiesOf(original),
        dispute_id: dispute.id,
        outcome: decision.status === 'refunded' ? 'refund' : 'reject',
        status: decision.status,
        amount: dispute.amount.toString(),
        currency: dispute.currency,
        refunded_amount: decision.moved.refunded.toString(),
        released_amount: decision.moved.released.toString(),
        refund_transaction_id: decision.refundTransactionId,
        resolution: decision.resolution,
      },
    );
    await writeAudit(tx, decision.context, {
      action: 'dispute.resolved',
      entityType: 'dispute',
      entityId: dispute.id,
      before: { status: dispute.status },
      after: {
        status: decision.status,
        resolution: decision.resolution,
        refund_transaction_id: decision.refundTransactionId,
        captured: decision.moved.captured,
        released: decision.moved.released,
      },
    });
    return view;
  }

  #assertDisputable(original: TransactionRow, windowDays: number): void {
    if (!DISPUTABLE_TYPES.has(original.type) || !original.sourceWalletId || !original.customerId)
      throw disputeErrors.notDisputableType(original.type);
    if (original.status !== 'completed') throw disputeErrors.notDisputableStatus(original.status);
    const completedAt = original.completedAt ?? original.createdAt;
    const closesAt = new Date(completedAt.getTime() + windowDays * DAY_MS);
    if (closesAt.getTime() < Date.now()) throw disputeErrors.windowClosed(windowDays, closesAt);
  }

  /** The ledger account that received the principal (the recipient's wallet, or a settlement account). */
  async #recipientAccount(original: TransactionRow): Promise<string> {
    if (original.destinationWalletId) return original.destinationWalletId;
    const [principal] = await batchTransfers(this.#db, original.ledgerBatchId!, { code: 'principal' });
    if (!principal) throw disputeErrors.notDisputableType(original.type);
    return principal.creditAccountId;
  }

  /** A clear 409 before posting when the recipient cannot cover the part that was not held. */
  async #assertRecipientHolds(accountId: string, required: bigint): Promise<void> {
    const [account] = await this.#ledger.accounts([accountId]);
    if (!account?.debitsMustNotExceedCredits) return;
    const available = account.creditsPosted - account.debitsPosted - account.debitsPending;
    if (available < required) throw disputeErrors.counterpartyFunds(required, available);
  }

  async #original(id: string, executor: Executor = this.#db): Promise<TransactionRow> {
    const row = await findTransaction(executor, id);
    if (!row) throw disputeErrors.transactionNotFound();
    return row;
  }

  async #lock(tx: Executor, id: string): Promise<DisputeRow> {
    const row = await lockDispute(tx, id);
    if (!row) throw disputeErrors.notFound();
    return row;
  }

  async #view(executor: Executor, id: string): Promise<DisputeView> {
    const [loaded] = await this.#select(executor, { id });
    if (!loaded) throw disputeErrors.notFound();
    return disputeView(loaded);
  }

  /** Disputes with their payment's reference and where their hold stands (newest first). */
  async #select(executor: Executor, filters: DisputeFilters, limit = 1): Promise<Loaded[]> {
    const rows = await listDisputes(executor, filters, limit);
    const [references, holds] = await Promise.all([
      transactionReferences(
        executor,
        rows.map((row) => row.transactionId),
      ),
      pendingStates(
        executor,
        rows.flatMap((row) => (row.holdTransferId ? [row.holdTransferId] : [])),
      ),
    ]);
    return rows.flatMap((dispute) => {
      const reference = references.get(dispute.transactionId);
      if (reference === undefined) return [];
      const hold = dispute.holdTransferId ? holds.get(dispute.holdTransferId) : undefined;
      return [
        {
          dispute,
          reference,
          holdAmount: hold?.amount ?? null,
          holdExpiresAt: hold?.expiresAt ?? null,
          holdEndKind: hold?.ended ?? null,
        },
      ];
    });
  }
}

/** Both sides of the disputed payment: who paid, who received (customer or merchant). */
function partiesOf(original: TransactionRow) {
  return {
    transaction_id: original.id,
    reference: original.reference,
    payer_customer_id: original.customerId,
    recipient_customer_id: original.counterpartyCustomerId,
    merchant_id: original.merchantId,
    biller_id: original.billerId,
  };
}
