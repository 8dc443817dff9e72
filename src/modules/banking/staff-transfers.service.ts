/**
 * Staff moving a customer's money to another wallet, without the customer's PIN (a branch or call-centre assisted
 * transfer). The customer payment routes refuse staff (`STAFF_PAYMENT_NOT_ALLOWED`); this is the one way, and it needs
 * its own permission (`transaction:transfer_for_customer`), a reason kept on the transaction and in the audit log, and
 * a second staff member at or above `payments.staff_transfer_approval_threshold_minor` (ADR 0007). The customer's limits
 * still apply; fees are charged as for a P2P transfer.
 */
import type { RequestContext } from '../../platform/audit.ts';

import type { Principal } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { currencyInfo, formatMoney, minorToJson, positiveAmount } from '../../platform/money.ts';
import type { ApprovalService } from '../approvals/index.ts';
import type { SettingsService } from '../settings/index.ts';
import {
  type MovementPlan,
  type TransactionsService,
  transactionErrors,
  type transactionView,
} from '../transactions/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import { staffTransferErrors } from './banking.errors.ts';

export const STAFF_TRANSFER_ACTION = 'wallet.staff_transfer';

export interface StaffTransferInput {
  source_wallet_id: string;
  to_wallet_number?: string;
  to_phone?: string;
  amount: number;
  currency: string;
  narration?: string;
  reason: string;
}

/** What an approval request carries: the amount in minor units as a decimal string, the wallets resolved at filing. */
export interface StaffTransferPayload {
  source_wallet_id: string;
  destination_wallet_id: string;
  /** Minor units as a decimal string (money inside jsonb is never a JSON number). */
  amount: string;
  currency: string;
  narration: string | null;
  reason: string;
  requested_by: string;
}

type TransactionView = ReturnType<typeof transactionView>;

export class StaffTransfersService {
  readonly #wallets: WalletsService;
  readonly #transactions: TransactionsService;
  readonly #settings: SettingsService;
  readonly #approvals: ApprovalService;

  constructor(options: {
    wallets: WalletsService;
    transactions: TransactionsService;
    settings: SettingsService;
    approvals: ApprovalService;
  }) {
    this.#wallets = options.wallets;
    this.#transactions = options.transactions;
    this.#settings = options.settings;
    this.#approvals = options.approvals;
  }

  /**
   * Runs the transfer now (below the threshold, 201) or files it for a second staff member (202). What cannot succeed
   * is refused at filing (unknown wallets, a closed or frozen wallet, limits, the balance), not queued.
   */
  async request(
    principal: Principal,
    input: StaffTransferInput,
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ): Promise<{ status: 201; body: TransactionView } | { status: 202; body: unknown }> {
    currencyInfo(input.currency);
    const amount = positiveAmount(input.amount);
    const source = await this.#wallets.row(input.source_wallet_id);
    if (source.ownerType !== 'customer') throw staffTransferErrors.notCustomerWallet();
    const destination = await this.#transactions.recipient(input, input.currency);
    if (destination.id === source.id) throw staffTransferErrors.sameWallet();
    const payload: StaffTransferPayload = {
      source_wallet_id: source.id,
      destination_wallet_id: destination.id,
      amount: minorToJson(amount),
      currency: input.currency,
      narration: input.narration ?? null,
      reason: input.reason,
      requested_by: principal.id,
    };
    await this.#transactions.engine.check(this.#plan(payload, null, null), [source, destination]);
    const thresholds = await this.#settings.get('payments.staff_transfer_approval_threshold_minor');
    const threshold = thresholds[input.currency];
    // A currency without a threshold fails closed: every staff transfer in it waits for a second staff member, so a
    // wallet in a currency nobody configured (UGX, EUR, …) is not a way around maker-checker.
    const large = threshold === undefined || amount >= BigInt(threshold);
    if (!large && !(await this.#approvals.isRequired(STAFF_TRANSFER_ACTION)))
      return { status: 201, body: await this.execute(payload, context, claim) };
    const outcome = await this.#approvals.run<StaffTransferPayload, TransactionView>(
      STAFF_TRANSFER_ACTION,
      payload,
      {
        summary: `Staff transfer of ${formatMoney(amount, input.currency)} from wallet ${source.walletNumber} to ${destination.walletNumber}: ${input.reason}`,
        entityType: 'wallet',
        entityId: source.id,
      },
      context,
      { always: true, claim },
    );
    if (outcome.kind === 'done') return { status: 201, body: outcome.result };
    return { status: 202, body: outcome.request };
  }

  /** The transfer itself: directly, or once a checker approves the request (the checker is `approved_by`). */
  async execute(
    payload: StaffTransferPayload,
    context: RequestContext,
    claim: IdempotencyClaim | null = null,
  ): Promise<TransactionView> {
    if (!(await this.#settings.get('features.p2p_transfers')))
      throw transactionErrors.disabled('p2p_transfers');
    const approvedBy = context.actor.id !== payload.requested_by ? context.actor.id : null;
    const at = () => new Date().toISOString();
    return this.#transactions.engine.commit(
      this.#plan(payload, approvedBy, claim),
      [
        { state: 'initiated', at: at() },
        { state: 'validated', at: at() },
        { state: 'authorized', at: at() },
      ],
      context,
    );
  }

  #plan(
    payload: StaffTransferPayload,
    approvedBy: string | null,
    claim: IdempotencyClaim | null,
  ): MovementPlan {
    return {
      type: 'p2p',
      channel: 'back_office',
      // The maker moved the money; the customer gave no PIN, which the record says.
      initiator: { type: 'user', id: payload.requested_by },
      source: { kind: 'wallet', walletId: payload.source_wallet_id },
      destination: { kind: 'wallet', walletId: payload.destination_wallet_id },
      amount: BigInt(payload.amount),
      currency: payload.currency,
      narration: payload.narration,
      metadata: {
        staff_transfer: true,
        reason: payload.reason,
        requested_by: payload.requested_by,
        ...(approvedBy ? { approved_by: approvedBy } : {}),
      },
      claim,
    };
  }
}
