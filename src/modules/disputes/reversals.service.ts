/**
 * Reversals: staff undo a completed transaction, always with a second staff member's approval (maker-checker).
 * A reversal is a NEW ledger batch whose legs are the original's legs inverted (principal, fee and tax all come
 * back); the original's postings are never touched, only its record is marked `reversed`, in the same database
 * transaction as the new batch.
 */
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import type { Executor } from '../../platform/db.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { formatMoney, minorToJson } from '../../platform/money.ts';
import { emitEvent } from '../../platform/outbox.ts';
import type { ApprovalService } from '../approvals/index.ts';
import { batchTransfers, type LedgerService, type Leg } from '../ledger/index.ts';
import {
  findTransaction,
  linkReversal,
  markReversed,
  type Party,
  type TransactionRow,
  type TransactionsService,
  transactionErrors,
  transactionView,
} from '../transactions/index.ts';
import { disputeErrors } from './disputes.errors.ts';
import { transactionReversed } from './disputes.events.ts';
import { disputeOfTransaction } from './disputes.repository.ts';

export const REVERSIBLE_TYPES: ReadonlySet<string> = new Set([
  'p2p',
  'merchant',
  'bill',
  'cash_deposit',
  'cash_withdrawal',
  // Agent cash (the agents module claws the commissions back on `transaction.reversed`).
  'cash_in',
  'cash_out',
]);

export interface ReversalPayload {
  transaction_id: string;
  reason: string;
  /** The maker: recorded as the reversal's initiator (the checker is `approved_by`). */
  requested_by: string;
}

type HistoryStep = TransactionRow['history'][number];

export class ReversalService {
  readonly #db: Executor;
  readonly #ledger: LedgerService;
  readonly #transactions: TransactionsService;
  readonly #approvals: ApprovalService;

  constructor(options: {
    db: Executor;
    ledger: LedgerService;
    transactions: TransactionsService;
    approvals: ApprovalService;
  }) {
    this.#db = options.db;
    this.#ledger = options.ledger;
    this.#transactions = options.transactions;
    this.#approvals = options.approvals;
  }

  /** Files the reversal for a checker (fast refusals first: a request that cannot succeed is not queued). */
  async request(
    input: { transaction_id: string; reason: string },
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ) {
    const original = await this.#original(input.transaction_id);
    await this.#assertReversible(this.#db, original);
    const payload: ReversalPayload = {
      transaction_id: original.id,
      reason: input.reason,
      requested_by: context.actor.id ?? '',
    };
    const outcome = await this.#approvals.run<ReversalPayload, unknown>(
      'transaction.reverse',
      payload,
      {
        summary: `Reverse ${original.type} ${original.reference} of ${formatMoney(original.amount, original.currency)}`,
        entityType: 'transaction',
        entityId: original.id,
      },
      context,
      { always: true, claim },
    );
    if (outcome.kind === 'pending') {
      return outcome.request;
    }
    // `always` files every request; an immediate result would mean the approvals service changed under us.
    throw new Error('transaction.reverse ran without approval');
  }

  /** The reversal itself, run once when a checker approves the request. */
  async execute(payload: ReversalPayload, context: RequestContext) {
    const original = await this.#original(payload.transaction_id);
    await this.#assertReversible(this.#db, original);
    const originalLegs = await batchTransfers(this.#db, original.ledgerBatchId!, { kind: 'posted' });
    if (originalLegs.length === 0) throw transactionErrors.notReversible(original.status);
    const legs: Leg[] = originalLegs.map((leg) => ({
      debit: leg.creditAccountId,
      credit: leg.debitAccountId,
      amount: leg.amount,
      code: leg.code,
    }));
    await this.#assertFunds(legs);
    const principal = originalLegs.find((leg) => leg.code === 'principal') ?? originalLegs[0]!;
    const originalSource: Party = original.sourceWalletId
      ? { kind: 'wallet', walletId: original.sourceWalletId }
      : { kind: 'account', accountId: principal.debitAccountId };
    const originalDestination: Party = original.destinationWalletId
      ? { kind: 'wallet', walletId: original.destinationWalletId }
      : { kind: 'account', accountId: principal.creditAccountId };
    const now = new Date().toISOString();
    const reversal = await this.#transactions.engine.commit(
      {
        type: 'reversal',
        allowFrozen: true,
        channel: 'back_office',
        initiator: { type: 'user', id: payload.requested_by },
        source: originalDestination,
        destination: originalSource,
        amount: original.amount,
        currency: original.currency,
        feeRule: null,
        limits: false,
        legs: () => legs,
        narration: `Reversal of ${original.reference}`,
        // The link is set in beforeCommit, not here: a refused attempt is recorded as a failed transaction, and
        // a failed record holding related_transaction_id would take the one-reversal-per-transaction slot.
        metadata: {
          reason: payload.reason,
          requested_by: payload.requested_by,
          approved_by: context.actor.id,
          reversal_of: original.id,
          original_reference: original.reference,
          refunded_fee_minor: minorToJson(original.fee),
          refunded_tax_minor: minorToJson(original.tax),
        },
        beforeCommit: (tx, record) => this.#markReversed(tx, original, record, payload, context),
      },
      [
        { state: 'initiated', at: now },
        { state: 'validated', at: now },
        { state: 'authorized', at: now },
      ],
      context,
    );
    return transactionView(await this.#transactions.row(reversal.id));
  }

  async #original(id: string): Promise<TransactionRow> {
    const row = await findTransaction(this.#db, id);
    if (!row) throw disputeErrors.transactionNotFound();
    return row;
  }

  async #assertReversible(executor: Executor, original: TransactionRow): Promise<void> {
    if (original.status === 'reversed') throw transactionErrors.alreadyReversed();
    if (!REVERSIBLE_TYPES.has(original.type)) throw disputeErrors.notReversibleType(original.type);
    if (original.status !== 'completed' || !original.ledgerBatchId)
      throw transactionErrors.notReversible(original.status);
    const dispute = await disputeOfTransaction(executor, original.id, ['open', 'investigating', 'refunded']);
    if (dispute?.status === 'refunded') throw disputeErrors.alreadyRefunded(dispute.id);
    if (dispute) throw disputeErrors.disputeOpen(dispute.id);
  }

  /**
   * Refuses before posting when a guarded account (a wallet, a till) cannot give back what it received, so a
   * recipient who spent the money gets a clear 409 and nothing is recorded. The ledger re-checks under its locks.
   */
  async #assertFunds(legs: Leg[]): Promise<void> {
    const debits = new Map<string, bigint>();
    const credits = new Map<string, bigint>();
    for (const leg of legs) {
      debits.set(leg.debit, (debits.get(leg.debit) ?? 0n) + leg.amount);
      credits.set(leg.credit, (credits.get(leg.credit) ?? 0n) + leg.amount);
    }
    const ids = [...new Set([...debits.keys(), ...credits.keys()])];
    let accounts = await this.#ledger.accounts(ids);
    // A deferred account with a guard (an agent's commission payable) counts only rolled-up credits: roll its deltas
    // up first, so a reversal soon after the original is not refused for money the account holds.
    if (
      accounts.some(
        (account) => account.deferred && debits.has(account.id) && account.debitsMustNotExceedCredits,
      )
    ) {
      await this.#ledger.rollUp();
      accounts = await this.#ledger.accounts(ids);
    }
    for (const account of accounts) {
      const debit = debits.get(account.id) ?? 0n;
      const credit = credits.get(account.id) ?? 0n;
      if (account.debitsMustNotExceedCredits && debit > 0n) {
        const available = account.creditsPosted - account.debitsPosted - account.debitsPending;
        if (debit > available) throw transactionErrors.reversalFunds(available, debit);
      }
      if (account.creditsMustNotExceedDebits && credit > 0n) {
        const available = account.debitsPosted - account.creditsPosted - account.creditsPending;
        if (credit > available) throw transactionErrors.reversalFunds(available, credit);
      }
    }
  }

  /** Inside the posting transaction: the original becomes `reversed`, linked to its reversal, exactly once. */
  async #markReversed(
    tx: Executor,
    original: TransactionRow,
    reversal: TransactionRow,
    payload: ReversalPayload,
    context: RequestContext,
  ): Promise<void> {
    const step: HistoryStep = { state: 'reversed', at: new Date().toISOString(), reason: payload.reason };
    const marked = await markReversed(tx, original.id, step);
    // The original's row is locked now: a dispute opened meanwhile is visible here and wins.
    await this.#assertReversible(tx, { ...marked, status: 'completed' });
    await linkReversal(tx, reversal.id, original.id);
    await emitEvent(
      tx,
      transactionReversed,
      { type: 'transaction', id: original.id },
      {
        transaction_id: original.id,
        reference: original.reference,
        reversal_transaction_id: reversal.id,
        reversal_reference: reversal.reference,
        type: original.type,
        amount: original.amount.toString(),
        fee: original.fee.toString(),
        tax: original.tax.toString(),
        currency: original.currency,
        reason: payload.reason,
        source_customer_id: original.customerId,
        destination_customer_id: original.counterpartyCustomerId,
        merchant_id: original.merchantId,
        requested_by: payload.requested_by,
        approved_by: context.actor.id ?? null,
      },
    );
    await writeAudit(tx, context, {
      action: 'transaction.reversed',
      entityType: 'transaction',
      entityId: original.id,
      before: { status: 'completed' },
      after: {
        status: 'reversed',
        reversal_transaction_id: reversal.id,
        reason: payload.reason,
        requested_by: payload.requested_by,
      },
    });
  }
}
