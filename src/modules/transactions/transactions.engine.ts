/**
 * The payment engine: every money movement goes initiated → validated → authorized → processing → completed
 * (or failed). `check`/`prepare` check everything without locks against one read of the wallets' state (fast refusals
 * before asking for a PIN); `commit` posts, in one transaction with the usage counters, the record, the outbox event
 * and the stored idempotent response — in one call while the wallets' state is the one checked (ADR 0016), otherwise
 * step by step after checking again under the wallet locks. Business refusals are recorded as failed transactions.
 */
import { randomInt } from 'node:crypto';
import type { RequestContext } from '../../platform/audit.ts';
import { crashPoint } from '../../platform/crashpoints.ts';
import { type Executor, inTransaction, sqlState } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { AppError } from '../../platform/errors.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { stringifyWithBigInt } from '../../platform/json.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { LEDGER_STATES, LedgerError, type LedgerService, type Leg } from '../ledger/index.ts';
import type { PolicyService } from '../policy/index.ts';
import {
  feeFor,
  periodsOf,
  type Usage,
  type WalletFacts,
  type WalletLimits,
  type WalletRow,
  type WalletState,
  type WalletsService,
} from '../wallets/index.ts';
import { commitPayment } from './transactions.commit.ts';
import { transactionErrors } from './transactions.errors.ts';
import { type TransactionState, type TransactionType, transactions } from './transactions.tables.ts';
import { type TransactionView, transactionView } from './transactions.views.ts';

export type TransactionRow = typeof transactions.$inferSelect;

export type Party =
  | { kind: 'wallet'; walletId: string }
  /** A house or settlement ledger account (teller cash, biller settlement, suspense …). */
  | { kind: 'account'; accountId: string };

export interface Initiator {
  type: 'customer' | 'user' | 'system';
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
  /** Response stored with the effect for Idempotency-Key replays. */
  claim?: IdempotencyClaim | null;
  status?: 201 | 200;
}

export type PrePostingHook = (check: {
  tx: Executor;
  plan: MovementPlan;
  quote: Quote;
  wallets: ReadonlyMap<string, WalletRow>;
  context: RequestContext;
}) => Promise<void>;

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
/** Serialization failure and deadlock: nothing was written, the stepwise commit (which retries them) goes next. */
const RETRIED_STATES = new Set(['40001', '40P01']);
const RECORDED_FAILURES = new Set([
  'INSUFFICIENT_BALANCE',
  'LIMIT_EXCEEDED',
  'RECIPIENT_LIMIT_EXCEEDED',
  'BALANCE_CAP_EXCEEDED',
]);

/** Ten characters, unambiguous letters and digits (no 0/O, 1/I): read over the phone. */
export function newReference(): string {
  let text = '';
  for (let index = 0; index < 10; index += 1)
    text += REFERENCE_ALPHABET[randomInt(REFERENCE_ALPHABET.length)];
  return text;
}

type Step = { state: TransactionState; at: string; reason?: string };

export class PaymentEngine {
  readonly #deps: Dependencies;
  readonly #wallets: WalletsService;
  readonly #ledger: LedgerService;
  readonly #policy: PolicyService;
  readonly #hooks: PrePostingHook[] = [];
  /** How commits went since start: in one call, found stale (then locked), or locked from the outset. */
  readonly commits = { oneCall: 0, stale: 0, locked: 0 };

  constructor(deps: Dependencies, wallets: WalletsService, ledger: LedgerService, policy: PolicyService) {
    this.#deps = deps;
    this.#wallets = wallets;
    this.#ledger = ledger;
    this.#policy = policy;
  }

  get #db(): Executor {
    return this.#deps.database.db;
  }

  /**
   * Adds a check that runs inside the posting transaction, after validation and before the ledger moves (the AML
   * module's screening plugs in here). Throwing an AppError refuses the payment with nothing written.
   */
  addPrePostingHook(hook: PrePostingHook): void {
    this.#hooks.push(hook);
  }

  /**
   * Checks without locks and computes the fee; throws the same refusals `commit` would. `known` passes wallet rows the
   * caller already read (they are re-read under lock at commit).
   */
  async prepare(plan: MovementPlan, known: WalletRow[] = []): Promise<Quote> {
    return (await this.check(plan, known)).quote;
  }

  /**
   * `prepare` with what the checks read: handed to `commit`, it lets the commit go in one call. `read` gives the
   * wallets' states when the caller read them with the wallets (`WalletsService.transferParties`).
   */
  async check(
    plan: MovementPlan,
    known: WalletRow[] = [],
    read?: { states: ReadonlyMap<string, WalletState>; at: Date },
  ): Promise<Checked> {
    const wallets = await this.#walletsOf(this.#db, plan, false, known);
    return this.#validate(this.#db, plan, wallets, read?.at ?? new Date(), read?.states);
  }

  /**
   * For movements posted in steps around an outside call (bank transfers): locks the plan's wallets inside the
   * caller's transaction and checks everything `commit` checks, limits included, so the caller can reserve the
   * money and count usage under the same lock.
   */
  async validateLocked(tx: Executor, plan: MovementPlan): Promise<Checked> {
    return this.#validate(tx, plan, await this.#walletsOf(tx, plan, true), new Date());
  }

  /** Counts the movement against the wallets' day and month usage (inside the caller's transaction). */
  async countUsage(tx: Executor, plan: MovementPlan, wallets: Map<string, WalletRow>): Promise<void> {
    await this.#wallets.addUsage(tx, this.#usageEntries(plan, wallets), new Date());
  }

  /**
   * Posts the movement. `steps` carries the states already passed (initiated, validated, authorized) with their
   * times so the record shows the whole path. Given the `check` it passed, the commit is one call to PostgreSQL
   * (`payment_commit`) while the wallets' state is still the one checked; otherwise, and for plans that write more
   * inside the transaction (`beforeCommit`, pre-posting hooks), it locks, checks again and posts step by step.
   */
  async commit(
    plan: MovementPlan,
    steps: Step[],
    context: RequestContext,
    checked?: Checked,
  ): Promise<ReturnType<typeof transactionView>> {
    const id = uuidv7();
    const reference = newReference();
    // House accounts are resolved before the transaction opens (cached after the first use).
    const house = {
      fee: await this.#ledger.houseAccount(`fee_income:${plan.currency}`),
      tax: await this.#ledger.houseAccount(`tax_payable:${plan.currency}`),
    };
    try {
      if (
        checked &&
        this.#hooks.length === 0 &&
        !plan.beforeCommit &&
        this.#deps.config.PAYMENT_COMMIT === 'one-call'
      ) {
        const view = await this.#commitInOneCall(plan, steps, context, checked, { id, reference, house });
        if (view) {
          this.commits.oneCall += 1;
          return view;
        }
        this.commits.stale += 1;
      } else this.commits.locked += 1;
      return await inTransaction(this.#db, async (tx) => {
        const now = new Date();
        const locked = await this.#validate(tx, plan, await this.#walletsOf(tx, plan, true), now);
        const { quote, wallets } = locked;
        for (const hook of this.#hooks) await hook({ tx, plan, quote, wallets, context });
        crashPoint('transfer.before-posting');
        const history: Step[] = [...steps, { state: 'processing', at: now.toISOString() }];
        const posting = await this.#posting(plan, locked, house, id, reference);
        const batch = await this.#post(tx, posting, quote);
        crashPoint('transfer.after-posting');
        if (plan.limits !== false) await this.#wallets.addUsage(tx, this.#usageEntries(plan, wallets), now);
        history.push({ state: 'completed', at: new Date().toISOString() });
        const [record] = await tx
          .insert(transactions)
          .values({
            ...this.#recordValues(id, reference, plan, wallets, quote),
            // Who asked, from where: fraud and dispute investigations start here.
            metadata: { ...plan.metadata, request_id: context.requestId, ip: context.ip },
            status: 'completed',
            ledgerBatchId: batch.batchId,
            history,
            completedAt: new Date(),
          })
          .returning();
        await plan.beforeCommit?.(tx, record!);
        crashPoint('transfer.after-record');
        await emitEvent(tx, {
          topic: 'transaction.completed',
          aggregateType: 'transaction',
          aggregateId: id,
          payload: completedEventPayload(record!),
        });
        // The history as built here, not as jsonb returned it (its keys reordered): the stored answer, the replay and
        // a later read then have the same bytes, as on the one-call path.
        const view = transactionView({ ...record!, history });
        crashPoint('transfer.after-outbox');
        await plan.claim?.commit(tx, plan.status ?? 201, view);
        return view;
      });
    } catch (error) {
      if (error instanceof AppError && RECORDED_FAILURES.has(error.errorCode))
        await this.#recordFailure(id, reference, plan, steps, error).catch(() => {});
      throw error;
    }
  }

  async #walletsOf(
    executor: Executor,
    plan: MovementPlan,
    lock: boolean,
    known: WalletRow[] = [],
  ): Promise<Map<string, WalletRow>> {
    const ids = [plan.source, plan.destination].flatMap((party) =>
      party.kind === 'wallet' ? [party.walletId] : [],
    );
    if (lock) return this.#wallets.lock(executor, ids);
    const rows = await Promise.all(
      ids.map((id) => known.find((row) => row.id === id) ?? this.#wallets.row(id, executor)),
    );
    return new Map(rows.map((row) => [row.id, row]));
  }

  /**
   * Every check of a payment, against one read of its wallets' state (`WalletsService.facts`): status, currency,
   * channel and tier features, fee, product and tier limits. Under lock that read is a statement of its own after the
   * locking one, so it sees every payment committed before the lock was granted (a daily limit holds under any
   * concurrency); without locks, `payment_commit` compares the same state again under the lock.
   */
  async #validate(
    executor: Executor,
    plan: MovementPlan,
    rows: Map<string, WalletRow>,
    at: Date,
    states?: ReadonlyMap<string, WalletState>,
  ): Promise<Checked> {
    if (
      plan.source.kind === 'wallet' &&
      plan.destination.kind === 'wallet' &&
      plan.source.walletId === plan.destination.walletId
    )
      throw transactionErrors.sameWallet();
    if (plan.source.kind === 'wallet' && !rows.has(plan.source.walletId))
      throw new AppError(404, 'NOT_FOUND', 'Wallet not found');
    if (plan.destination.kind === 'wallet' && !rows.has(plan.destination.walletId))
      throw transactionErrors.recipientUnavailable();
    const facts = await this.#wallets.facts(executor, rows.values(), at, states);
    const wallets = new Map([...facts].map(([id, fact]) => [id, fact.wallet]));
    const source = plan.source.kind === 'wallet' ? wallets.get(plan.source.walletId) : undefined;
    const destination =
      plan.destination.kind === 'wallet' ? wallets.get(plan.destination.walletId) : undefined;
    if (source) {
      if (source.status !== 'active' && !(plan.allowFrozen && source.status === 'frozen'))
        throw new AppError(409, 'WALLET_NOT_ACTIVE', `The wallet is ${source.status}`, {
          status: source.status,
        });
      if (source.currency !== plan.currency)
        throw transactionErrors.currencyMismatch(source.currency, plan.currency);
    }
    if (destination) {
      if (destination.status !== 'active' && !(plan.allowFrozen && destination.status === 'frozen'))
        throw transactionErrors.recipientUnavailable();
      const expected = plan.destinationCurrency ?? plan.currency;
      if (destination.currency !== expected)
        throw transactionErrors.currencyMismatch(destination.currency, expected);
    }
    let quote: Quote = { fee: 0n, tax: 0n, total: plan.amount };
    if (source) {
      const { limits, product, usage } = facts.get(source.id)!;
      if (plan.initiator.type === 'customer') {
        if (!product.allowedChannels.includes(plan.channel))
          throw transactionErrors.channelNotAllowed(plan.channel);
        if (plan.feature && !(limits.features[plan.channel] ?? []).includes(plan.feature))
          throw transactionErrors.featureNotAllowed(plan.feature, plan.channel, limits.tier);
      }
      const rule = plan.feeRule === null ? undefined : product.fees[plan.feeRule ?? plan.type];
      const { fee, tax } = feeFor(rule, plan.amount);
      quote = { fee, tax, total: plan.amount + fee + tax };
      if (plan.limits !== false && source.ownerType === 'customer')
        await this.#checkLimits(executor, source, 'send', plan, limits, usage.send);
    }
    let destinationMaxBalance: bigint | null = null;
    if (destination?.ownerType === 'customer') {
      const { limits, usage } = facts.get(destination.id)!;
      destinationMaxBalance = limits.maxBalance;
      try {
        if (plan.limits !== false)
          await this.#checkLimits(executor, destination, 'receive', plan, limits, usage.receive);
      } catch (error) {
        if (error instanceof AppError && error.errorCode === 'LIMIT_EXCEEDED')
          throw transactionErrors.recipientLimit();
        throw error;
      }
    }
    return { quote, destinationMaxBalance, wallets, facts, at };
  }

  async #checkLimits(
    executor: Executor,
    wallet: WalletRow,
    direction: 'send' | 'receive',
    plan: MovementPlan,
    limits: WalletLimits,
    used: Usage,
  ): Promise<void> {
    const amount = direction === 'receive' ? (plan.destinationAmount ?? plan.amount) : plan.amount;
    if (limits.tier) {
      const verdict = await this.#policy.evaluateTransaction(
        {
          kyc_tier: limits.tier,
          channel: plan.channel,
          transaction_type: direction,
          currency: wallet.currency,
          amount,
          used,
        },
        executor,
      );
      const [first] = verdict.violations;
      if (first)
        throw transactionErrors.limitExceeded({
          scope: 'kyc_tier',
          period: first.period,
          kind: first.kind,
          limit: first.limit,
          remaining: first.remaining,
        });
    }
    if (direction !== 'send') return;
    const product = limits.product;
    const checks: [string, number | undefined, bigint][] = [
      ['single', product.single, 0n],
      ['daily', product.daily, used.daily_amount],
      ['monthly', product.monthly, used.monthly_amount],
    ];
    for (const [period, limit, usedAmount] of checks) {
      if (limit === undefined) continue;
      if (usedAmount + amount > BigInt(limit)) {
        const remaining = BigInt(limit) > usedAmount ? BigInt(limit) - usedAmount : 0n;
        throw transactionErrors.limitExceeded({
          scope: 'product',
          period,
          kind: 'amount',
          limit: BigInt(limit),
          remaining,
        });
      }
    }
  }

  async #defaultLegs(
    plan: MovementPlan,
    quote: Quote,
    house: { fee: string; tax: string },
    source: string,
    destination: string,
  ): Promise<Leg[]> {
    const legs: Leg[] = [{ debit: source, credit: destination, amount: plan.amount, code: 'principal' }];
    if (quote.fee > 0n)
      legs.push({
        debit: source,
        credit: house.fee,
        amount: quote.fee,
        code: 'fee',
      });
    if (quote.tax > 0n)
      legs.push({
        debit: source,
        credit: house.tax,
        amount: quote.tax,
        code: 'tax',
      });
    if (plan.extraLegs)
      legs.push(...(await plan.extraLegs({ sourceAccount: source, destinationAccount: destination })));
    return legs;
  }

  async #post(tx: Executor, posting: Parameters<LedgerService['post']>[1], quote: Quote) {
    try {
      return await this.#ledger.post(tx, posting);
    } catch (error) {
      throw this.#refusal(error, posting.legs, quote);
    }
  }

  /** A ledger refusal in the payment's terms (the payer's balance, the counterparty's, a cap); other errors as they are. */
  #refusal(error: unknown, legs: Leg[], quote: Quote): unknown {
    if (!(error instanceof LedgerError)) return error;
    if (error.state === LEDGER_STATES.insufficientFunds) {
      const available = BigInt(error.detail.available ?? '0');
      if (error.detail.account_id === legs[0]!.debit)
        return transactionErrors.insufficientBalance(quote.total, available);
      return new AppError(
        409,
        'COUNTERPARTY_INSUFFICIENT_FUNDS',
        'The counterparty account cannot cover this movement',
        {
          required: BigInt(error.detail.required ?? '0'),
          available,
        },
      );
    }
    if (error.state === LEDGER_STATES.capExceeded) return transactionErrors.balanceCap();
    if (error.state === LEDGER_STATES.currencyMismatch)
      return transactionErrors.currencyMismatch(String(error.detail.debit), String(error.detail.credit));
    return error;
  }

  /** What the movement adds to the day and month usage of its customer wallets. */
  #usageEntries(plan: MovementPlan, wallets: Map<string, WalletRow>) {
    const entries: { walletId: string; direction: 'send' | 'receive'; amount: bigint }[] = [];
    if (plan.source.kind === 'wallet' && wallets.get(plan.source.walletId)?.ownerType === 'customer')
      entries.push({ walletId: plan.source.walletId, direction: 'send', amount: plan.amount });
    if (
      plan.destination.kind === 'wallet' &&
      wallets.get(plan.destination.walletId)?.ownerType === 'customer'
    )
      entries.push({
        walletId: plan.destination.walletId,
        direction: 'receive',
        amount: plan.destinationAmount ?? plan.amount,
      });
    return entries;
  }

  /** The ledger posting of a checked movement: its legs (default or the plan's) and the recipient's balance cap. */
  async #posting(
    plan: MovementPlan,
    checked: Pick<Checked, 'quote' | 'destinationMaxBalance' | 'wallets'>,
    house: { fee: string; tax: string },
    id: string,
    reference: string,
  ) {
    const { quote, destinationMaxBalance, wallets } = checked;
    const sourceAccount = plan.source.kind === 'wallet' ? plan.source.walletId : plan.source.accountId;
    const destinationAccount =
      plan.destination.kind === 'wallet' ? plan.destination.walletId : plan.destination.accountId;
    const legs = plan.legs
      ? await plan.legs(quote)
      : await this.#defaultLegs(plan, quote, house, sourceAccount, destinationAccount);
    const destinationWallet =
      plan.destination.kind === 'wallet' ? wallets.get(plan.destination.walletId) : undefined;
    const caps =
      destinationWallet && destinationMaxBalance !== null
        ? [{ accountId: destinationWallet.id, cap: destinationMaxBalance }]
        : [];
    return {
      key: `transaction:${id}`,
      code: plan.type,
      reference,
      metadata: { transaction_id: id, narration: plan.narration ?? null },
      legs,
      caps,
    };
  }

  /**
   * The commit as one statement (`payment_commit`), for a movement checked without locks: every row is built here,
   * and PostgreSQL writes them only while the wallets' state under lock is the state the checks read. Null when it
   * was not (another payment, a freeze, a tier change came between): nothing was written and the caller takes the
   * locked path, which checks again.
   */
  async #commitInOneCall(
    plan: MovementPlan,
    steps: Step[],
    context: RequestContext,
    checked: Checked,
    ids: { id: string; reference: string; house: { fee: string; tax: string } },
  ): Promise<TransactionView | null> {
    const now = new Date();
    const { day, month } = periodsOf(checked.at);
    // Usage is counted in the period the checks read; a commit past midnight checks again under lock.
    if (periodsOf(now).day !== day) return null;
    const { id, reference, house } = ids;
    const posting = await this.#posting(plan, checked, house, id, reference);
    const at = now.toISOString();
    const record: TransactionRow = {
      ...this.#recordValues(id, reference, plan, checked.wallets, checked.quote),
      metadata: { ...plan.metadata, request_id: context.requestId, ip: context.ip },
      status: 'completed',
      ledgerBatchId: uuidv7(),
      failureCode: null,
      failureReason: null,
      history: [...steps, { state: 'processing', at }, { state: 'completed', at }],
      completedAt: now,
      createdAt: now,
      updatedAt: now,
    };
    const view = transactionView(record);
    const status = plan.status ?? 201;
    const claim = plan.claim
      ? { id: plan.claim.id, lockedUntil: plan.claim.lockedUntil, status, body: stringifyWithBigInt(view) }
      : null;
    crashPoint('transfer.before-posting');
    let outcome: 'committed' | 'stale';
    try {
      outcome = await commitPayment(this.#db, {
        expected: new Map([...checked.facts].map(([walletId, fact]) => [walletId, fact.state])),
        day,
        month,
        batchId: record.ledgerBatchId!,
        ...posting,
        legIds: posting.legs.map(() => uuidv7()),
        usage: plan.limits === false ? [] : this.#usageEntries(plan, checked.wallets),
        record,
        event: {
          topic: 'transaction.completed',
          aggregateType: 'transaction',
          aggregateId: id,
          payload: completedEventPayload(record),
        },
        claim,
      });
    } catch (error) {
      // A serialization failure or deadlock wrote nothing: the stepwise path retries those.
      if (RETRIED_STATES.has(sqlState(error) ?? '')) return null;
      throw this.#refusal(error, posting.legs, checked.quote);
    }
    if (outcome === 'stale') return null;
    crashPoint('transfer.after-commit');
    if (claim) plan.claim!.stored(claim.status, claim.body);
    return view;
  }

  #recordValues(
    id: string,
    reference: string,
    plan: MovementPlan,
    wallets: Map<string, WalletRow>,
    quote: Quote,
  ) {
    const source = plan.source.kind === 'wallet' ? wallets.get(plan.source.walletId) : undefined;
    const destination =
      plan.destination.kind === 'wallet' ? wallets.get(plan.destination.walletId) : undefined;
    return {
      id,
      reference,
      type: plan.type,
      channel: plan.channel,
      customerId: source?.customerId ?? (plan.initiator.type === 'customer' ? plan.initiator.id : null),
      sourceWalletId: source?.id ?? null,
      destinationWalletId: destination?.id ?? null,
      counterpartyCustomerId: destination?.customerId ?? null,
      merchantId: plan.merchantId ?? destination?.merchantId ?? null,
      billerId: plan.billerId ?? null,
      amount: plan.amount,
      currency: plan.currency,
      fee: quote.fee,
      tax: quote.tax,
      destinationAmount: plan.destinationAmount ?? null,
      destinationCurrency: plan.destinationCurrency ?? null,
      narration: plan.narration ?? null,
      relatedTransactionId: plan.relatedTransactionId ?? null,
      metadata: plan.metadata ?? null,
      initiatedByType: plan.initiator.type,
      initiatedById: plan.initiator.id,
    };
  }

  async #recordFailure(
    id: string,
    reference: string,
    plan: MovementPlan,
    steps: Step[],
    error: AppError,
  ): Promise<void> {
    await inTransaction(this.#db, async (tx) => {
      const wallets = await this.#walletsOf(tx, plan, false).catch(() => new Map<string, WalletRow>());
      const at = new Date().toISOString();
      await tx.insert(transactions).values({
        ...this.#recordValues(id, reference, plan, wallets, { fee: 0n, tax: 0n, total: plan.amount }),
        status: 'failed',
        failureCode: error.errorCode,
        failureReason: error.message,
        history: [...steps, { state: 'processing', at }, { state: 'failed', at, reason: error.errorCode }],
      });
    });
  }
}

/** The `transaction.completed` payload: parties and amounts for notifications, AML and webhooks (no secrets). */
export function completedEventPayload(record: TransactionRow) {
  return {
    transaction_id: record.id,
    reference: record.reference,
    type: record.type,
    amount: record.amount,
    currency: record.currency,
    fee: record.fee,
    tax: record.tax,
    source_wallet_id: record.sourceWalletId,
    destination_wallet_id: record.destinationWalletId,
    source_customer_id: record.customerId,
    destination_customer_id: record.counterpartyCustomerId,
    merchant_id: record.merchantId,
  };
}
