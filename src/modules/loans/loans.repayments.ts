/**
 * Repayments: a customer paying their own loan from their wallet (PIN, and a one-time code at the payments
 * threshold), staff recording a cash or bank payment, automatic collection from the wallet (loans.collection.auto.ts
 * calls `collect`), and the payoff quote. Every payment holds the loan's row lock, then the wallet's, so two payments
 * on one loan (a customer's and a collection) run one after the other and never allocate more than is due; the
 * instalments' CHECK (paid <= due) backs that up. One payment is one loan transaction (unique dedupe key) and one
 * ledger batch keyed by it.
 */
import type { RequestContext } from '../../platform/audit.ts';
import { writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import type { Principal } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { minorToJson } from '../../platform/money.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { LEDGER_STATES, LedgerError } from '../ledger/index.ts';
import type { PaymentAuthorizer } from '../transactions/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import { loansErrors } from './loans.errors.ts';
import { loanClosed, loanRepaymentReceived } from './loans.events.ts';
import { type LoanLedger, type LoanLeg, type LockedLoan, lockLoan } from './loans.ledger.ts';
import {
  type PaymentPlan,
  payoffBreakdown,
  planPayment,
  type RepaymentKind,
} from './loans.repayments.plan.ts';
import { recastAfterPrepayment } from './loans.repayments.recast.ts';
import {
  closeLoan,
  insertLoanTransaction,
  type LoanTransactionRow,
  loanById,
  openInstalments,
  payInstalment,
  transactionByKey,
} from './loans.repayments.repository.ts';
import type { RepaymentInput, RepaymentSource } from './loans.repayments.schemas.ts';
import {
  businessDate,
  endOf,
  notRepayableFrom,
  type RepaymentResult,
  sourceOf,
  view,
} from './loans.repayments.views.ts';

export { businessDate, type RepaymentResult } from './loans.repayments.views.ts';

/** One payment to apply inside the caller's transaction (see `#apply`). */
interface PaymentRequest {
  loanId: string;
  kind: RepaymentKind;
  source: RepaymentSource;
  amount: bigint | 'available';
  dedupeKey: string;
  today: string;
  externalReference: string | null;
  context: RequestContext;
  /** Cash and bank payments are debited here (`settlement:<CUR>`). */
  settlementId?: string;
}

const notFound = () => loansErrors.LOAN_NOT_FOUND();

export class RepaymentsService {
  readonly #deps: Dependencies;
  readonly #ledger: LoanLedger;
  readonly #wallets: WalletsService;
  readonly #authorizer: PaymentAuthorizer;

  constructor(options: {
    deps: Dependencies;
    ledger: LoanLedger;
    wallets: WalletsService;
    authorizer: PaymentAuthorizer;
  }) {
    this.#deps = options.deps;
    this.#ledger = options.ledger;
    this.#wallets = options.wallets;
    this.#authorizer = options.authorizer;
  }

  get #db(): Executor {
    return this.#deps.database.db;
  }

  /** A loan the principal may see (customers: their own; anything else answers 404), with its product's code. */
  async #visibleLoan(principal: Pick<Principal, 'type' | 'id'>, loanId: string) {
    const loan = await loanById(this.#db, loanId);
    if (!loan || (principal.type === 'customer' && loan.customerId !== principal.id)) throw notFound();
    return loan;
  }

  /**
   * `POST /loan/repayment/add`. Customers pay from their own wallet (PIN, one-time code at the threshold); staff
   * record cash or bank. `dedupeKey` comes from the Idempotency-Key and its scope: the loan transaction's key.
   */
  async repay(
    principal: Principal,
    input: RepaymentInput,
    dedupeKey: string,
    claim: IdempotencyClaim | null,
    context: RequestContext,
    today: string = businessDate(),
  ): Promise<RepaymentResult> {
    const source = sourceOf(principal, input);
    const loan = await this.#visibleLoan(principal, input.loan_id);
    if (loan.status !== 'active')
      throw loansErrors.LOAN_NOT_REPAYABLE({ params: { number: loan.number, status: loan.status } });
    const amount = BigInt(input.amount_minor);
    if (source === 'wallet') {
      const wallet = await this.#wallets.row(loan.walletId);
      if (wallet.status !== 'active') throw notRepayableFrom(wallet.status);
      await this.#authorizer.authorize(
        principal.id,
        {
          type: 'loan_repayment',
          source: wallet.id,
          payee: `loan:${loan.id}`,
          amount,
          currency: loan.currency,
        },
        input,
      );
    }
    // House accounts are created committed before use (the ledger caches their ids).
    await this.#ledger.ensureHouseAccounts(this.#db, loan.productCode, loan.currency);
    const settlementId =
      source === 'wallet' ? undefined : await this.#ledger.ledger.houseAccount(`settlement:${loan.currency}`);
    return inTransaction(this.#db, async (tx) => {
      const result = await this.#apply(tx, {
        loanId: loan.id,
        kind: 'repayment',
        source,
        amount,
        dedupeKey,
        today,
        externalReference: input.external_reference ?? null,
        context,
        settlementId,
      });
      if (!result) throw loansErrors.LOAN_NOTHING_DUE({ params: { number: loan.number } });
      await claim?.commit(tx, 201, result);
      return result;
    });
  }

  /**
   * Automatic collection inside the caller's transaction: takes what the wallet holds, up to what is due by
   * `today`, never more and never an overdraft. Null when nothing was taken (nothing due, an empty or inactive
   * wallet, a loan no longer active) or when this key collected already.
   */
  async collect(
    tx: Executor,
    loanId: string,
    dedupeKey: string,
    today: string,
  ): Promise<RepaymentResult | null> {
    // Collected already under this key (a rerun of the day, a redelivered event): nothing more.
    if (await transactionByKey(tx, dedupeKey)) return null;
    return this.#apply(tx, {
      loanId,
      kind: 'auto_collection',
      source: 'wallet',
      amount: 'available',
      dedupeKey,
      today,
      externalReference: null,
      context: { actor: { type: 'system', id: null }, ip: null, userAgent: null, requestId: null },
    });
  }

  /** `GET /loan/loan/:id/payoff`: what closes the loan if paid today. */
  async payoffQuote(principal: Principal, loanId: string, today: string = businessDate()) {
    const loan = await this.#visibleLoan(principal, loanId);
    if (loan.status !== 'active')
      throw loansErrors.LOAN_NOT_REPAYABLE({ params: { number: loan.number, status: loan.status } });
    const quote = payoffBreakdown(await openInstalments(this.#db, loan.id), loan, today);
    return {
      loan_id: loan.id,
      loan_number: loan.number,
      currency: loan.currency,
      as_of: today,
      valid_until: endOf(today),
      penalty_minor: quote.penalty,
      fee_minor: quote.fee,
      interest_minor: quote.interest,
      principal_minor: quote.principal,
      total_minor: quote.total,
    };
  }

  /** Applies one payment under the loan's lock, then the wallet's; null when it would take nothing. */
  async #apply(tx: Executor, request: PaymentRequest): Promise<RepaymentResult | null> {
    const done = await transactionByKey(tx, request.dedupeKey);
    if (done) return this.#resultOf(tx, done, request.kind);
    const loan = await lockLoan(tx, request.loanId);
    if (!loan) throw notFound();
    if (loan.status !== 'active') {
      if (request.kind === 'auto_collection') return null;
      throw loansErrors.LOAN_NOT_REPAYABLE({ params: { number: loan.number, status: loan.status } });
    }
    let available: bigint | null = null;
    if (request.source === 'wallet') {
      const wallet = (await this.#wallets.lock(tx, [loan.walletId])).get(loan.walletId);
      if (wallet?.status !== 'active') {
        if (request.kind === 'auto_collection') return null;
        throw notRepayableFrom(wallet?.status ?? 'closed');
      }
      available = (await this.#ledger.ledger.balance(loan.walletId, tx)).available;
    }
    const open = await openInstalments(tx, loan.id);
    const offered = request.amount === 'available' ? (available ?? 0n) : request.amount;
    if (offered <= 0n) return null;
    const plan = planPayment({
      kind: request.kind,
      amount: offered,
      refundable: request.source !== 'wallet',
      loan,
      today: request.today,
      open,
    });
    const applied = plan.parts.penalty + plan.parts.fee + plan.parts.interest + plan.parts.principal;
    if (applied === 0n) return null;
    if (available !== null && plan.taken > available)
      throw loansErrors.LOAN_REPAYMENT_INSUFFICIENT_FUNDS({
        details: { required: plan.taken, available },
      });

    const now = new Date();
    const id = uuidv7();
    const batch = await this.#post(tx, loan, request, plan);
    for (const change of plan.changes)
      await payInstalment(tx, loan.id, {
        seq: change.seq,
        ...change.paid,
        interestDue: change.interestDue,
        interestAccrued: change.interestAccrued,
        status: change.settled ? 'paid' : 'partially_paid',
        paidAt: change.settled ? now : null,
      });
    if (plan.prepayment > 0n) await recastAfterPrepayment(tx, loan, request.today, plan.prepayment);
    const row = await insertLoanTransaction(tx, {
      id,
      loanId: loan.id,
      type: request.kind,
      amountMinor: plan.taken,
      currency: loan.currency,
      allocation: {
        penalty: minorToJson(plan.parts.penalty),
        fee: minorToJson(plan.parts.fee),
        interest: minorToJson(plan.parts.interest),
        principal: minorToJson(plan.parts.principal),
        overpayment: minorToJson(plan.refund),
      },
      source: request.source,
      externalReference: request.externalReference,
      ledgerBatchId: batch?.batchId ?? null,
      dedupeKey: request.dedupeKey,
      businessDate: request.today,
      actorType: request.context.actor.type === 'anonymous' ? 'system' : request.context.actor.type,
      actorId: request.context.actor.id,
      createdAt: now,
    });
    const outstanding = await this.#ledger.loanOutstanding(tx, loan);
    const remaining = await openInstalments(tx, loan.id);
    const closes = remaining.length === 0 && outstanding.total === 0n;
    if (closes) await closeLoan(tx, loan.id, now);
    const aggregate = { type: 'loan', id: loan.id };
    await emitEvent(tx, loanRepaymentReceived, aggregate, {
      loan_id: loan.id,
      number: loan.number,
      customer_id: loan.customerId,
      transaction_id: id,
      type: request.kind,
      amount_minor: minorToJson(plan.taken),
      currency: loan.currency,
      outstanding_minor: minorToJson(outstanding.total),
    });
    if (closes)
      await emitEvent(tx, loanClosed, aggregate, {
        loan_id: loan.id,
        number: loan.number,
        customer_id: loan.customerId,
        status: 'closed',
      });
    const result = view(
      row,
      loan,
      request.kind,
      offered,
      plan,
      outstanding.total,
      closes ? 'closed' : 'active',
    );
    await writeAudit(tx, request.context, {
      action: request.kind === 'repayment' ? 'loan.repayment' : 'loan.auto_collection',
      entityType: 'loan',
      entityId: loan.id,
      after: { ...result, outstanding_minor: outstanding.total },
    });
    return result;
  }

  /** The ledger batch: the source debited, the loan's accounts (and income for unrecognised interest) credited. */
  async #post(tx: Executor, loan: LockedLoan, request: PaymentRequest, plan: PaymentPlan) {
    const source = { account: request.source === 'wallet' ? loan.walletId : request.settlementId! };
    const legs: LoanLeg[] = [
      { debit: source, credit: 'penalty', amount: plan.parts.penalty, code: 'penalty' },
      { debit: source, credit: 'fee', amount: plan.parts.fee, code: 'fee' },
      { debit: source, credit: 'interest', amount: plan.interestFromReceivable, code: 'interest' },
      {
        debit: source,
        credit: 'interest_income',
        amount: plan.parts.interest - plan.interestFromReceivable,
        code: 'interest',
      },
      { debit: source, credit: 'principal', amount: plan.parts.principal, code: 'principal' },
      { debit: source, credit: { account: loan.walletId }, amount: plan.refund, code: 'refund' },
    ];
    try {
      return await this.#ledger.postLoanMovement(tx, {
        key: request.dedupeKey,
        code: request.kind === 'repayment' ? 'loan_repayment' : 'loan_auto_collection',
        loan,
        legs,
        narration: `Loan ${loan.number} ${request.kind === 'repayment' ? 'repayment' : 'automatic collection'}`,
      });
    } catch (error) {
      if (error instanceof LedgerError && error.state === LEDGER_STATES.insufficientFunds)
        throw loansErrors.LOAN_REPAYMENT_INSUFFICIENT_FUNDS({
          details: { required: plan.taken, available: BigInt(error.detail.available ?? '0') },
        });
      throw error;
    }
  }

  /** The result of a payment already applied under this key (a replay after the idempotency record expired). */
  async #resultOf(tx: Executor, row: LoanTransactionRow, kind: RepaymentKind): Promise<RepaymentResult> {
    const loan = await loanById(tx, row.loanId);
    if (!loan) throw notFound();
    const allocation = row.allocation ?? {};
    const part = (name: keyof typeof allocation) => BigInt(allocation[name] ?? '0');
    const outstanding = await this.#ledger.loanOutstanding(tx, loan);
    const refund = part('overpayment');
    return view(
      row,
      loan,
      kind,
      row.amountMinor,
      {
        taken: row.amountMinor,
        refund,
        untaken: 0n,
        parts: {
          penalty: part('penalty'),
          fee: part('fee'),
          interest: part('interest'),
          principal: part('principal'),
        },
        interestFromReceivable: 0n,
        prepayment: 0n,
        changes: [],
        payoff: false,
      },
      outstanding.total,
      loan.status,
    );
  }
}
