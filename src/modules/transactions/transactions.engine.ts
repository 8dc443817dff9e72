/**
 * The payment engine: every money movement goes initiated → validated → authorized → processing → completed
 * (or failed). `check`/`prepare` check everything without locks against one read of the wallets' state (fast refusals
 * before asking for a PIN); `commit` posts, in one transaction with the usage counters, the record, the outbox event
 * and the stored idempotent response — in one call while the wallets' state is the one checked (ADR 0016), otherwise
 * step by step after checking again under the wallet locks. Business refusals are recorded as failed transactions.
 * A plan's type must be declared by some module (`transactionTypes`); any other is refused with a thrown Error.
 */
import type { RequestContext } from '../../platform/audit.ts';
import { crashPoint } from '../../platform/crashpoints.ts';
import { type Executor, inTransaction, sqlState, textRows } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { AppError, errorBody } from '../../platform/errors.ts';
import type { PayloadOf } from '../../platform/events.ts';
import type { GroupBatchOptions } from '../../platform/group-batch.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { stringifyWithBigInt } from '../../platform/json.ts';
import { emitEvent, outboxRecord } from '../../platform/outbox.ts';
import type { TransactionTypes } from '../../platform/transaction-types.ts';
import { LEDGER_STATES, LedgerError, type LedgerService, type Leg } from '../ledger/index.ts';
import type { PolicyService } from '../policy/index.ts';
import { periodsOf, type WalletRow, type WalletState, type WalletsService } from '../wallets/index.ts';
import type { PinCheck } from './transactions.authorize.ts';
import { PaymentChecks } from './transactions.checks.ts';
import {
  type CommitOutcome,
  commitPayment,
  PaymentCommitBatcher,
  partRefusalOf,
  paymentPart,
} from './transactions.commit.ts';
import type { PaymentCommit } from './transactions.config.ts';
import { transactionErrors } from './transactions.errors.ts';
import { transactionCompleted, transactionHeld } from './transactions.events.ts';
import { HeldPayments } from './transactions.held.ts';
import {
  type Checked,
  completedEventPayload,
  type MovementPlan,
  newReference,
  type PaymentScreen,
  type PrePostingHook,
  type Quote,
  type ScreenDecision,
  type ScreenInput,
  type Step,
  type TransactionRow,
} from './transactions.plan.ts';
import { addMetadata, insertTransaction, settleProcessing } from './transactions.repository.ts';
import { transactions } from './transactions.tables.ts';
import { type TransactionView, transactionView } from './transactions.views.ts';

/** How long a payment held for review stays reserved when the screen names no time (then the ledger voids it). */
const HOLD_MS = 7 * 86_400_000;
/** Serialization failure and deadlock: nothing was written, the stepwise commit (which retries them) goes next. */
const RETRIED_STATES = new Set(['40001', '40P01']);
const RECORDED_FAILURES = new Set([
  'TRANSACTION_BLOCKED',
  'INSUFFICIENT_BALANCE',
  'LIMIT_EXCEEDED',
  'RECIPIENT_LIMIT_EXCEEDED',
  'BALANCE_CAP_EXCEEDED',
]);

/**
 * The fee and duty a movement's record shows: what its payer was charged — and for a reversal, which charges nothing,
 * the fee and duty it gives back to the original payer (its legs coded `fee` and `tax` that credit its destination),
 * so that its `total` is what was credited back.
 */
function charges(plan: MovementPlan, quote: Quote, legs: readonly Leg[]): Pick<Quote, 'fee' | 'tax'> {
  if (plan.type !== 'reversal') return quote;
  const destination =
    plan.destination.kind === 'wallet' ? plan.destination.walletId : plan.destination.accountId;
  const refunded = (code: string) =>
    legs.reduce((sum, leg) => (leg.code === code && leg.credit === destination ? sum + leg.amount : sum), 0n);
  return { fee: refunded('fee'), tax: refunded('tax') };
}

export class PaymentEngine {
  readonly #deps: Dependencies;
  readonly #wallets: WalletsService;
  readonly #ledger: LedgerService;
  readonly #checks: PaymentChecks;
  readonly #types: TransactionTypes;
  readonly #commit: PaymentCommit;
  readonly #hooks: PrePostingHook[] = [];
  #screen: PaymentScreen | null = null;
  readonly #held: HeldPayments;
  /**
   * Group commit (PAYMENT_COMMIT=batched): the one-call commits of plans without `beforeCommit` go through it (a
   * plan's `part` travels with its payment).
   */
  readonly batcher: PaymentCommitBatcher | null;
  /** How commits went since start: in one call, found stale (then locked), or locked from the outset. */
  readonly commits = { oneCall: 0, stale: 0, locked: 0 };

  /**
   * `types`: the transaction types the composed modules declare; a plan of any other type is a programming error.
   * `commit`: PAYMENT_COMMIT (batched, one-call, or stepwise for diagnosis and comparison); `batching`: the group
   * commit's batch size and calls in flight (PAYMENT_COMMIT_BATCH_MAX, PAYMENT_COMMIT_CONCURRENCY).
   */
  constructor(
    deps: Dependencies,
    wallets: WalletsService,
    ledger: LedgerService,
    policy: PolicyService,
    types: TransactionTypes,
    commit: PaymentCommit,
    batching: GroupBatchOptions,
  ) {
    this.#deps = deps;
    this.#types = types;
    this.#commit = commit;
    this.batcher = commit === 'batched' ? new PaymentCommitBatcher(() => this.#db, batching) : null;
    this.#wallets = wallets;
    this.#ledger = ledger;
    this.#checks = new PaymentChecks(wallets, policy);
    this.#held = new HeldPayments(deps, ledger);
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
   * The payment screen (the AML module's real-time decision), asked once per payment after its checks and before
   * anything is written, outside the posting's transaction: `allow` keeps the one-call commit; `block` refuses with
   * TRANSACTION_BLOCKED (recorded); `review` posts the payment as a ledger hold with the record `held`. One screen.
   */
  setPaymentScreen(screen: PaymentScreen | null): void {
    this.#screen = screen;
  }

  /** Posts a held payment's hold (staff released it after review) and completes its record. */
  releaseHeld(transactionId: string, context: RequestContext): Promise<TransactionView> {
    return this.#held.release(transactionId, context);
  }

  /** Voids a held payment's hold (staff rejected it after review): nothing moved; the record fails. */
  rejectHeld(transactionId: string, reason: string, context: RequestContext): Promise<TransactionView> {
    return this.#held.reject(transactionId, reason, context);
  }

  async #decide(input: ScreenInput): Promise<ScreenDecision> {
    const decision = await this.#screen!.decide(input);
    if (decision.outcome === 'block') throw transactionErrors.blocked();
    return decision;
  }

  #recorded(input: ScreenInput | null, outcome: 'completed' | 'held'): void {
    if (!input || !this.#screen?.recorded) return;
    try {
      this.#screen.recorded(input, outcome);
    } catch {
      // The screen's bookkeeping never fails a committed payment.
    }
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
    this.#types.assert(plan.type);
    const wallets = await this.#walletsOf(this.#db, plan, false, known);
    return this.#checks.validate(this.#db, plan, wallets, read?.at ?? new Date(), read?.states);
  }

  /**
   * For movements posted in steps around an outside call (bank transfers): locks the plan's wallets inside the
   * caller's transaction and checks everything `commit` checks, limits included, so the caller can reserve the
   * money and count usage under the same lock.
   */
  async validateLocked(tx: Executor, plan: MovementPlan): Promise<Checked> {
    this.#types.assert(plan.type);
    return this.#checks.validate(tx, plan, await this.#walletsOf(tx, plan, true), new Date());
  }

  /** Counts the movement against the wallets' day and month usage (inside the caller's transaction). */
  async countUsage(tx: Executor, plan: MovementPlan, wallets: Map<string, WalletRow>): Promise<void> {
    await this.#wallets.addUsage(tx, this.#usageEntries(plan, wallets), new Date());
  }

  /**
   * A movement posted in steps around an outside call (bank transfers), step 1: its record in `processing`, built
   * as `commit` builds its records, inside the caller's transaction (after `validateLocked` and the caller's hold).
   */
  async begin(
    tx: Executor,
    input: {
      id: string;
      reference: string;
      plan: MovementPlan;
      steps: Step[];
      wallets: Map<string, WalletRow>;
      quote: Pick<Quote, 'fee' | 'tax'>;
      metadata?: Record<string, unknown>;
      context: RequestContext;
    },
  ): Promise<TransactionRow> {
    const { plan, context } = input;
    this.#types.assert(plan.type);
    return insertTransaction(tx, {
      ...this.#recordValues(input.id, input.reference, plan, input.wallets, input.quote),
      metadata: { ...plan.metadata, ...input.metadata, request_id: context.requestId, ip: context.ip },
      status: 'processing',
      history: [...input.steps, { state: 'processing', at: new Date().toISOString() }],
    });
  }

  /**
   * Step 3 when the outside call confirmed the movement: the record completed with the money's batch, the
   * `transaction.completed` event and the stored 201 answer, in the caller's transaction (with the posting). Null
   * when the record is no longer processing: someone else settled it, and nothing was written.
   */
  async complete(
    tx: Executor,
    record: TransactionRow,
    outcome: {
      batchId: string;
      metadata?: Record<string, unknown>;
      event?: Partial<PayloadOf<typeof transactionCompleted>>;
      claim?: IdempotencyClaim | null;
    },
  ): Promise<TransactionView | null> {
    const updated = await settleProcessing(tx, record.id, {
      status: 'completed',
      ledgerBatchId: outcome.batchId,
      completedAt: new Date(),
      history: [...record.history, { state: 'completed', at: new Date().toISOString() }],
      metadata: { ...record.metadata, ...outcome.metadata },
    });
    if (!updated) return null;
    await emitEvent(
      tx,
      transactionCompleted,
      { type: 'transaction', id: updated.id },
      { ...completedEventPayload(updated), ...outcome.event },
    );
    const view = transactionView(updated);
    await outcome.claim?.commit(tx, 201, view);
    return view;
  }

  /** Step 3 when the movement did not happen: the record failed (the caller voids its hold in the transaction). */
  async fail(tx: Executor, record: TransactionRow, failure: { code: string; reason: string }): Promise<void> {
    await settleProcessing(tx, record.id, {
      status: 'failed',
      failureCode: failure.code,
      failureReason: failure.reason,
      history: [...record.history, { state: 'failed', at: new Date().toISOString(), reason: failure.code }],
    });
  }

  /** Notes on a record left processing, for reconciliation (no state change). */
  note(id: string, note: Record<string, string>): Promise<void> {
    return addMetadata(this.#db, id, note);
  }

  /**
   * A stepped movement refused before anything moved: recorded failed as `commit` records its refusals (with the
   * plan's claim's answer), and, as `begin` does, with who asked and from where.
   */
  async recordRefusal(
    id: string,
    reference: string,
    plan: MovementPlan,
    steps: Step[],
    error: AppError,
    context: RequestContext,
  ): Promise<void> {
    this.#types.assert(plan.type);
    const asked = { ...plan, metadata: { ...plan.metadata, request_id: context.requestId, ip: context.ip } };
    await this.#recordFailure(id, reference, asked, steps, error, context).catch(() => plan.claim?.forget());
  }

  /**
   * Posts the movement. `steps` carries the states already passed (initiated, validated, authorized) with their
   * times so the record shows the whole path. Given the `check` it passed, the commit is one call to PostgreSQL
   * (`payment_commit`) while the wallets' state is still the one checked (a plan's `beforeCommit` then runs right
   * after that call, in the same transaction); otherwise, and with pre-posting hooks, it locks, checks again and posts
   * step by step. A
   * customer's `pin` is compared inside the one call; any other outcome runs its full check before going on.
   */
  async commit(
    plan: MovementPlan,
    steps: Step[],
    context: RequestContext,
    checked?: Checked,
    pin?: PinCheck | null,
  ): Promise<ReturnType<typeof transactionView>> {
    this.#types.assert(plan.type);
    const id = uuidv7();
    const reference = newReference();
    // House accounts are resolved before the transaction opens (cached after the first use).
    const house = {
      fee: await this.#ledger.houseAccount(`fee_income:${plan.currency}`),
      tax: await this.#ledger.houseAccount(`tax_payable:${plan.currency}`),
    };
    let screened: ScreenInput | null = null;
    let decision: ScreenDecision | null = null;
    try {
      if (this.#screen && checked) {
        screened = {
          transactionId: id,
          reference,
          plan,
          quote: checked.quote,
          wallets: checked.wallets,
          context,
        };
        decision = await this.#decide(screened);
      }
      if (
        checked &&
        decision?.outcome !== 'review' &&
        this.#hooks.length === 0 &&
        this.#commit !== 'stepwise'
      ) {
        const ids = { id, reference, house };
        let view = await this.#commitInOneCall(plan, steps, context, checked, ids, pin ?? null);
        if (view === 'pin') {
          // Not a right PIN with nothing to reset: the counting check answers (or resets), then the call again.
          await pin!.verify();
          pin = null;
          view = await this.#commitInOneCall(plan, steps, context, checked, ids, null);
        }
        if (view !== null && view !== 'pin') {
          this.commits.oneCall += 1;
          this.#recorded(screened, 'completed');
          return view;
        }
        this.commits.stale += 1;
      } else this.commits.locked += 1;
      if (pin) await pin.verify();
      const committed = await inTransaction(this.#db, async (tx) => {
        const now = new Date();
        const locked = await this.#checks.validate(tx, plan, await this.#walletsOf(tx, plan, true), now);
        const { quote, wallets } = locked;
        if (this.#screen && !decision) {
          // Not checked before (or checked by an older read): the screen decides on what the locks hold now.
          screened = { transactionId: id, reference, plan, quote, wallets, context };
          decision = await this.#decide(screened);
        }
        const held = decision?.outcome === 'review';
        for (const hook of this.#hooks) await hook({ tx, plan, quote, wallets, context });
        crashPoint('transfer.before-posting');
        const history: Step[] = [...steps, { state: 'processing', at: now.toISOString() }];
        const posting = {
          ...(await this.#posting(plan, locked, house, id, reference)),
          // Held for review: every leg pending (the payer's funds reserved, nothing credited) until released.
          ...(held ? { pendingUntil: decision!.holdUntil ?? new Date(now.getTime() + HOLD_MS) } : {}),
        };
        const batch = await this.#post(tx, posting, quote);
        crashPoint('transfer.after-posting');
        if (plan.limits !== false) await this.#wallets.addUsage(tx, this.#usageEntries(plan, wallets), now);
        history.push({ state: held ? 'held' : 'completed', at: new Date().toISOString() });
        const [record] = await tx
          .insert(transactions)
          .values({
            ...this.#recordValues(id, reference, plan, wallets, charges(plan, quote, posting.legs)),
            // Who asked, from where: fraud and dispute investigations start here.
            metadata: { ...plan.metadata, request_id: context.requestId, ip: context.ip },
            status: held ? 'held' : 'completed',
            ledgerBatchId: batch.batchId,
            history,
            completedAt: held ? null : new Date(),
          })
          .returning();
        await plan.beforeCommit?.(tx, record!);
        if (plan.part) {
          const part = plan.part.statement(record!);
          await textRows(tx, part.text, part.values).catch((error: unknown) => {
            throw this.#partRefusal(plan, error) ?? error;
          });
        }
        crashPoint('transfer.after-record');
        await emitEvent(
          tx,
          held ? transactionHeld : transactionCompleted,
          { type: 'transaction', id },
          completedEventPayload(record!),
        );
        // The history as built here, not as jsonb returned it (its keys reordered): the stored answer, the replay and
        // a later read then have the same bytes, as on the one-call path.
        const view = transactionView({ ...record!, history });
        crashPoint('transfer.after-outbox');
        await plan.claim?.commit(tx, plan.status ?? 201, view);
        return { view, held };
      });
      this.#recorded(screened, committed.held ? 'held' : 'completed');
      return committed.view;
    } catch (error) {
      if (error instanceof AppError && RECORDED_FAILURES.has(error.errorCode))
        // When the refusal's transaction fails (at COMMIT too), neither the record nor the answer was stored: the
        // claim must not send the answer as stored; the idempotency hook then stores the refusal alone, or answers
        // the outcome as unknown.
        await this.#recordFailure(id, reference, plan, steps, error, context).catch(() =>
          plan.claim?.forget(),
        );
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

  /** A refusal of the plan's part (`payment_part_refuse`) in the plan's terms; null for any other error. */
  #partRefusal(plan: MovementPlan, error: unknown) {
    const refused = plan.part ? partRefusalOf(error) : null;
    return refused ? plan.part!.refusal(refused) : null;
  }

  /** A ledger refusal in the payment's terms (the payer's balance, the counterparty's, a cap); other errors as they are. */
  #refusal(error: unknown, legs: Leg[], quote: Quote): unknown {
    if (!(error instanceof LedgerError)) return error;
    if (error.state === LEDGER_STATES.insufficientFunds) {
      const available = BigInt(error.detail.available ?? '0');
      if (error.detail.account_id === legs[0]!.debit)
        return transactionErrors.insufficientBalance(quote.total, available);
      return transactionErrors.counterpartyFunds(BigInt(error.detail.required ?? '0'), available);
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
    pin: PinCheck | null,
  ): Promise<TransactionView | 'pin' | null> {
    const now = new Date();
    const { day, month } = periodsOf(checked.at);
    // Usage is counted in the period the checks read; a commit past midnight checks again under lock.
    if (periodsOf(now).day !== day) return null;
    const { id, reference, house } = ids;
    const posting = await this.#posting(plan, checked, house, id, reference);
    const at = now.toISOString();
    const record: TransactionRow = {
      ...this.#recordValues(id, reference, plan, checked.wallets, charges(plan, checked.quote, posting.legs)),
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
    let outcome: CommitOutcome;
    const input = {
      expected: new Map([...checked.facts].map(([walletId, fact]) => [walletId, fact.state])),
      day,
      month,
      batchId: record.ledgerBatchId!,
      ...posting,
      legIds: posting.legs.map(() => uuidv7()),
      usage: plan.limits === false ? [] : this.#usageEntries(plan, checked.wallets),
      record,
      event: outboxRecord(transactionCompleted, { type: 'transaction', id }, completedEventPayload(record)),
      claim,
      pin: pin && { customerId: pin.customerId, candidate: pin.candidate },
      part: plan.part ? paymentPart(plan.part.statement(record)) : null,
      locks: [
        ...checked.facts.keys(),
        ...[plan.source, plan.destination].flatMap((party) =>
          party.kind === 'account' ? [party.accountId] : [],
        ),
      ],
    };
    const commit = (executor: Executor) => commitPayment(executor, input);
    const beforeCommit = plan.beforeCommit;
    try {
      // A plan that writes its own rows with the payment (beforeCommit) keeps the one call: the call, then those
      // rows, in one transaction (one attempt: a conflict goes to the locked path, which retries). Any other plan
      // joins the group commit when it is on.
      outcome = beforeCommit
        ? await inTransaction(
            this.#db,
            async (tx) => {
              const done = await commit(tx);
              if (done === 'committed') await beforeCommit(tx, record);
              return done;
            },
            { maxAttempts: 1 },
          )
        : this.batcher
          ? await this.batcher.submit(input)
          : await commit(this.#db);
    } catch (error) {
      // A serialization failure or deadlock wrote nothing: the stepwise path retries those.
      if (RETRIED_STATES.has(sqlState(error) ?? '')) return null;
      throw this.#partRefusal(plan, error) ?? this.#refusal(error, posting.legs, checked.quote);
    }
    if (outcome === 'stale') return null;
    if (outcome === 'pin') return 'pin';
    crashPoint('transfer.after-commit');
    if (claim) plan.claim!.stored(claim.status, claim.body);
    return view;
  }

  #recordValues(
    id: string,
    reference: string,
    plan: MovementPlan,
    wallets: Map<string, WalletRow>,
    quote: Pick<Quote, 'fee' | 'tax'>,
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

  /**
   * Records a refused movement as a failed transaction and, in the same transaction, stores the refusal as the
   * request's idempotent answer: a crash between the two would leave a record the retry contradicts (it would run
   * again, and might succeed). When the claim was taken over meanwhile, nothing is recorded (the retry's run is the
   * request's); the refusal is answered as in progress.
   */
  async #recordFailure(
    id: string,
    reference: string,
    plan: MovementPlan,
    steps: Step[],
    error: AppError,
    context: RequestContext,
  ): Promise<void> {
    await inTransaction(this.#db, async (tx) => {
      const wallets = await this.#walletsOf(tx, plan, false).catch(() => new Map<string, WalletRow>());
      const at = new Date().toISOString();
      await tx.insert(transactions).values({
        ...this.#recordValues(id, reference, plan, wallets, { fee: 0n, tax: 0n }),
        status: 'failed',
        failureCode: error.errorCode,
        failureReason: error.message,
        history: [...steps, { state: 'processing', at }, { state: 'failed', at, reason: error.errorCode }],
      });
      crashPoint('transfer.after-refusal-record');
      await plan.claim?.commit(tx, error.statusCode, errorBody(error, context.requestId ?? ''));
    });
  }
}
