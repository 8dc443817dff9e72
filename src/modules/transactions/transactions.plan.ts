/**
 * What a money movement is made of: the plan a use case hands the payment engine (parties, amount, channel, legs,
 * hooks), the quote and the checks it passed, the record's reference and the `transaction.completed` payload.
 */
import { randomInt } from 'node:crypto';
import type { RequestContext } from '../../platform/audit.ts';
import type { Executor } from '../../platform/db.ts';
import type { AppError } from '../../platform/errors.ts';
import type { PayloadOf } from '../../platform/events.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import type { Leg } from '../ledger/index.ts';
import type { WalletFacts, WalletRow } from '../wallets/index.ts';
import type { transactionCompleted } from './transactions.events.ts';
import type { TransactionState, TransactionType, transactions } from './transactions.tables.ts';

export type TransactionRow = typeof transactions.$inferSelect;

export type Party =
  | { kind: 'wallet'; walletId: string }
  /** A house or settlement ledger account (teller cash, biller settlement, suspense …). */
  | { kind: 'account'; accountId: string };

export interface Initiator {
  type: 'customer' | 'user' | 'agent_operator' | 'system';
  id: string | null;
}

export interface MovementPlan {
  type: TransactionType;
  channel: string;
  initiator: Initiator;
  source: Party;
  destination: Party;
  amount: bigint;
  currency: string;
  /** The product fee rule charged to the source wallet (default: the type); null charges none. */
  feeRule?: string | null;
  /** The tier feature a customer needs on the channel (p2p, qr_payment, bill_payment …). */
  feature?: string;
  /** Send limits on the source wallet and receive limits on the destination wallet (customer wallets). */
  limits?: boolean;
  narration?: string | null;
  metadata?: Record<string, unknown>;
  merchantId?: string | null;
  billerId?: string | null;
  relatedTransactionId?: string | null;
  /** Legs added after principal, fee and tax (e.g. the merchant's discount fee). */
  extraLegs?: (context: { sourceAccount: string; destinationAccount: string }) => Promise<Leg[]> | Leg[];
  /** Replaces the default legs entirely (FX, reversals); receives the fee quote of the source wallet's product. */
  legs?: (quote: Quote) => Promise<Leg[]> | Leg[];
  /** Overrides what the destination receives (FX). */
  destinationAmount?: bigint;
  destinationCurrency?: string;
  /**
   * Staff corrections (reversals, refunds) still work on frozen wallets: freezing stops the customer, not the bank.
   * Closed wallets stay closed.
   */
  allowFrozen?: boolean;
  /** Runs inside the transaction after posting (mark a QR code used, link a dispute …). */
  beforeCommit?: (tx: Executor, record: TransactionRow) => Promise<void>;
  /**
   * The plan's own rows as one statement written right after the posting, in the payment's transaction, built from
   * the record before the commit: unlike `beforeCommit`, such a payment still joins the group commit (the statement
   * runs inside the batch call, in the payment's own block). A fixed text with $1…$n and its values (no query
   * building per payment: it is on the money path). It refuses by selecting
   * `payment_part_refuse(reason, detail)` (SQLSTATE PP001), which rolls the payment back; `refusal` says it in the
   * plan's terms (null: not a reason the plan gives, and the error goes on as it is).
   */
  part?: {
    statement: (record: TransactionRow) => { text: string; values: readonly unknown[] };
    refusal: (refused: PartRefusal) => AppError | null;
  };
  /** Response stored with the effect for Idempotency-Key replays. */
  claim?: IdempotencyClaim | null;
  status?: 201 | 200;
}

/** A part's refusal as `payment_part_refuse` raised it. */
export interface PartRefusal {
  reason: string;
  detail: Record<string, unknown>;
}

export type PrePostingHook = (check: {
  tx: Executor;
  plan: MovementPlan;
  quote: Quote;
  wallets: ReadonlyMap<string, WalletRow>;
  context: RequestContext;
}) => Promise<void>;

/**
 * The payment screen (the AML module's real-time decision): asked once per payment after its checks passed and
 * before anything is written, outside the posting's transaction, so an `allow` keeps the one-call commit.
 * - `allow`: the payment goes on as it would without a screen.
 * - `block`: refused with `TRANSACTION_BLOCKED` (no rule named), recorded as a failed transaction.
 * - `review`: posted as a two-phase ledger hold (the payer's funds reserved, nothing credited), the record `held`,
 *   answered 202; `PaymentEngine.releaseHeld` posts it, `rejectHeld` voids it.
 */
export type ScreenOutcome = 'allow' | 'review' | 'block';

export interface ScreenInput {
  /** The transaction's id and reference, fixed before the decision (the decision is recorded under them). */
  transactionId: string;
  reference: string;
  plan: MovementPlan;
  quote: Quote;
  /** The plan's wallets as the checks read them (owner, customer, product, tier …). */
  wallets: ReadonlyMap<string, WalletRow>;
  context: RequestContext;
}

export interface ScreenDecision {
  outcome: ScreenOutcome;
  /** For `review`: when the ledger hold lapses if nobody resolves it (default: the engine's, 7 days). */
  holdUntil?: Date;
}

export interface PaymentScreen {
  decide(input: ScreenInput): Promise<ScreenDecision>;
  /**
   * After the payment committed (`completed`) or was held (`held`), outside its transaction, once; never throws (a
   * screen keeping aggregates counts it here; a crash before this loses the count, which a rebuild restores).
   */
  recorded?(input: ScreenInput, outcome: 'completed' | 'held'): void;
}

export interface Quote {
  fee: bigint;
  tax: bigint;
  total: bigint;
}

/** A payment that passed every check, with what the checks read (the wallets' state, at one instant). */
export interface Checked {
  quote: Quote;
  destinationMaxBalance: bigint | null;
  /** The plan's wallets as the checks saw them. */
  wallets: Map<string, WalletRow>;
  facts: Map<string, WalletFacts>;
  at: Date;
}

const REFERENCE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** Ten characters, unambiguous letters and digits (no 0/O, 1/I): read over the phone. */
export function newReference(): string {
  let text = '';
  for (let index = 0; index < 10; index += 1)
    text += REFERENCE_ALPHABET[randomInt(REFERENCE_ALPHABET.length)];
  return text;
}

export type Step = { state: TransactionState; at: string; reason?: string };

/** The `transaction.completed` payload: parties and amounts for notifications, AML and webhooks (no secrets). */
export function completedEventPayload(record: TransactionRow): PayloadOf<typeof transactionCompleted> {
  return {
    transaction_id: record.id,
    reference: record.reference,
    type: record.type,
    amount: record.amount.toString(),
    currency: record.currency,
    fee: record.fee.toString(),
    tax: record.tax.toString(),
    source_wallet_id: record.sourceWalletId,
    destination_wallet_id: record.destinationWalletId,
    source_customer_id: record.customerId,
    destination_customer_id: record.counterpartyCustomerId,
    merchant_id: record.merchantId,
    // A bill payment's alert names the biller and the account or meter number paid.
    biller_id: record.billerId,
    bill_reference:
      typeof record.metadata?.bill_reference === 'string' ? record.metadata.bill_reference : null,
  };
}
