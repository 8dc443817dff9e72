/**
 * The loans port: what the USSD loans menu asks of the loans module, as the customer (channel `ussd`). Offers use the
 * loans module's own eligibility rules (`offers`, the submission's rules without an application); an application
 * goes through the same submission and pipeline as the app's (fraud check, scoring, automatic approval, the
 * module's decision messages); a repayment is the app's customer repayment from the wallet (PIN with its lockout
 * counters, the same allocation). Each money action runs once per idempotency key (the platform's claims, as the
 * HTTP routes use them): a gateway delivering the step again gets the outcome of the first delivery.
 */
import type { Principal } from '../../platform/http.ts';
import type { IdempotencyService } from '../../platform/idempotency.ts';
import type { ModuleContext } from '../../platform/modules.ts';
import { type CustomerAuth, customersModule } from '../customers/index.ts';
import { type LoanQuote, type LoansApi, loansModule } from '../loans/index.ts';
import { type SettingsService, settingsModule } from '../settings/index.ts';
import { type UssdOrigin, ussdPrincipal, ussdRequestContext } from './ussd.claims.ts';
import { applyRefusalOf, repayRefusalOf, runOnce } from './ussd.loans.claims.ts';

export type { LoanQuote } from '../loans/index.ts';

/** A product the customer may apply for now. */
export interface UssdLoanOffer {
  productId: string;
  code: string;
  name: string;
  currency: string;
  minAmountMinor: bigint;
  maxAmountMinor: bigint;
  minTerm: number;
  maxTerm: number;
  frequency: 'daily' | 'weekly' | 'biweekly' | 'monthly';
}

/** Why the customer may apply for nothing: the loans module's eligibility reason codes, or no active product. */
export type OfferRefusal =
  | 'CUSTOMER_BLOCKED'
  | 'KYC_TIER_TOO_LOW'
  | 'NO_WALLET'
  | 'WALLET_NOT_ACTIVE'
  | 'WALLET_TENURE_TOO_SHORT'
  | 'TOO_MANY_ACTIVE_LOANS'
  | 'NO_PRODUCTS';

export interface OffersResult {
  offers: UssdLoanOffer[];
  /** When there is no offer: the reason to show (the one most products share); null otherwise. */
  refusal: OfferRefusal | null;
}

/** Where the request came from, for the audit trail and the idempotency claim. */
export type UssdActionContext = UssdOrigin;

export type ApplyOutcome =
  | {
      kind: 'approved';
      applicationNumber: string;
      loanId: string;
      loanNumber: string;
      amountMinor: bigint;
      currency: string;
      /** The money is in the wallet already (false: it goes there once the loan is disbursed). */
      disbursed: boolean;
    }
  | { kind: 'declined'; applicationNumber: string; reasons: string[] }
  /** A loan officer decides (also an application held for review): the customer hears by SMS. */
  | { kind: 'referred'; applicationNumber: string }
  | { kind: 'refused'; code: 'NOT_ELIGIBLE' | 'OUT_OF_RANGE' | 'PRODUCT_UNAVAILABLE'; reasons: string[] };

export type RepayOutcome =
  | {
      kind: 'paid';
      loanNumber: string;
      amountMinor: bigint;
      currency: string;
      outstandingMinor: bigint;
      closed: boolean;
    }
  | {
      kind: 'refused';
      code: 'INSUFFICIENT_FUNDS' | 'NOTHING_DUE' | 'NOT_REPAYABLE' | 'WALLET_UNAVAILABLE' | 'USE_APP';
    };

export interface UssdLoanSummary {
  loanId: string;
  number: string;
  productName: string;
  currency: string;
  /** `approved`: waiting for disbursement (nothing owed yet). */
  status: 'approved' | 'active';
  principalMinor: bigint;
  outstandingMinor: bigint;
  /** The oldest unpaid instalment's date, and what is due by then (every overdue instalment, else the next). */
  nextDueDate: string | null;
  nextDueMinor: bigint | null;
  overdue: boolean;
}

export interface LoansPort {
  offers(customerId: string): Promise<OffersResult>;
  /** A loan's cost on the product's current terms (throws LOAN_AMOUNT/TERM_OUT_OF_RANGE outside its ranges). */
  quote(productId: string, amountMinor: bigint, term: number): Promise<LoanQuote>;
  /**
   * Submits an application after checking the PIN (throws INVALID_PIN / PIN_LOCKED / PIN_NOT_SET: nothing is
   * submitted, the key is not spent).
   */
  apply(
    customerId: string,
    input: { productId: string; amountMinor: bigint; term: number; pin: string },
    idempotencyKey: string,
    context: UssdActionContext,
  ): Promise<ApplyOutcome>;
  /** The customer's active loans and those approved awaiting disbursement, newest first. */
  loans(customerId: string): Promise<UssdLoanSummary[]>;
  /** What closes the loan if paid today. */
  payoff(customerId: string, loanId: string): Promise<{ totalMinor: bigint; currency: string }>;
  /** True when a payment of this amount needs a one-time code (USSD sends the customer to the app instead). */
  needsApp(currency: string, amountMinor: bigint): Promise<boolean>;
  /** Repays from the wallet; PIN errors throw as in `apply`. */
  repay(
    customerId: string,
    input: { loanId: string; amountMinor: bigint; pin: string },
    idempotencyKey: string,
    context: UssdActionContext,
  ): Promise<RepayOutcome>;
}

const REFUSAL_ORDER: readonly OfferRefusal[] = [
  'CUSTOMER_BLOCKED',
  'TOO_MANY_ACTIVE_LOANS',
  'KYC_TIER_TOO_LOW',
  'NO_WALLET',
  'WALLET_NOT_ACTIVE',
  'WALLET_TENURE_TOO_SHORT',
];

export class UssdLoans implements LoansPort {
  readonly #loans: LoansApi;
  readonly #auth: CustomerAuth;
  readonly #settings: SettingsService;
  readonly #idempotency: IdempotencyService;

  constructor(options: {
    loans: LoansApi;
    auth: CustomerAuth;
    settings: SettingsService;
    idempotency: IdempotencyService;
  }) {
    this.#loans = options.loans;
    this.#auth = options.auth;
    this.#settings = options.settings;
    this.#idempotency = options.idempotency;
  }

  async offers(customerId: string): Promise<OffersResult> {
    const found = await this.#loans.offers.forCustomer(customerId);
    const offers = found.eligible.map((offer) => ({
      productId: offer.product_id,
      code: offer.code,
      name: offer.name,
      currency: offer.currency,
      minAmountMinor: offer.min_amount_minor,
      maxAmountMinor: offer.max_amount_minor,
      minTerm: offer.min_term,
      maxTerm: offer.max_term,
      frequency: offer.frequency,
    }));
    if (offers.length > 0) return { offers, refusal: null };
    // The reason to give: the most telling one any product names (blocked, then already borrowing, then KYC…).
    const named = new Set(found.refused.flatMap((product) => product.reasons.map((reason) => reason.code)));
    return { offers, refusal: REFUSAL_ORDER.find((code) => named.has(code)) ?? 'NO_PRODUCTS' };
  }

  quote(productId: string, amountMinor: bigint, term: number): Promise<LoanQuote> {
    return this.#loans.offers.quote(productId, amountMinor, term);
  }

  async apply(
    customerId: string,
    input: { productId: string; amountMinor: bigint; term: number; pin: string },
    idempotencyKey: string,
    context: UssdActionContext,
  ): Promise<ApplyOutcome> {
    const principal = ussdPrincipal(customerId, context);
    return runOnce(
      this.#idempotency,
      customerId,
      'loans.apply',
      idempotencyKey,
      { product_id: input.productId, amount_minor: input.amountMinor.toString(), term: input.term },
      async (claim) => {
        await this.#auth.verifyPin(customerId, input.pin);
        const view = await this.#loans.applications.submit(
          principal,
          {
            product_id: input.productId,
            amount_minor: Number(input.amountMinor),
            term: input.term,
            purpose: 'Applied over USSD',
            // Not asked on a feature phone: nothing declared (the fraud rules' income check then has nothing to
            // compare, and scoring reads the wallet's real inflows).
            declared_monthly_income_minor: 0,
          },
          null,
          claim,
          ussdRequestContext(customerId, context),
        );
        return this.#applyOutcome(view, principal);
      },
      (stored) => this.#applyOutcome(stored as ApplicationAnswer, principal),
      applyRefusalOf,
    );
  }

  async #applyOutcome(view: ApplicationAnswer, principal: Principal): Promise<ApplyOutcome> {
    if (view.status === 'approved' && view.loan_id) {
      const loan = await this.#loans.accounts.views.get(view.loan_id, principal);
      return {
        kind: 'approved',
        applicationNumber: view.number,
        loanId: loan.id,
        loanNumber: loan.number,
        amountMinor: BigInt(view.amount_minor),
        currency: view.currency,
        disbursed: loan.disbursed_at !== null,
      };
    }
    if (view.status === 'declined')
      return {
        kind: 'declined',
        applicationNumber: view.number,
        reasons: (view.decline_reasons ?? []).map((reason) => reason.code),
      };
    // Submitted (a replay while scoring still runs), referred, or held for review: a person or the pipeline decides.
    return { kind: 'referred', applicationNumber: view.number };
  }

  async loans(customerId: string): Promise<UssdLoanSummary[]> {
    const principal = ussdPrincipal(customerId);
    // By state, so closed loans never push a running one off the page; a product allows a handful at once.
    const views = this.#loans.accounts.views;
    const [active, approved] = await Promise.all([
      views.list({ status: 'active', limit: 20 }, principal),
      views.list({ status: 'approved', limit: 20 }, principal),
    ]);
    const listed = [...active.items, ...approved.items].sort((a, b) => (a.id < b.id ? 1 : -1));
    const today = new Date().toISOString().slice(0, 10);
    const summaries: UssdLoanSummary[] = [];
    for (const loan of listed) {
      if (loan.status !== 'active' && loan.status !== 'approved') continue;
      let nextDueDate: string | null = null;
      let nextDueMinor: bigint | null = null;
      let overdue = false;
      if (loan.status === 'active') {
        const unpaid = (await this.#loans.accounts.views.schedule(loan.id, principal)).items.filter(
          (item) => item.status !== 'paid' && item.remaining_minor > 0n,
        );
        const late = unpaid.filter((item) => item.due_date <= today);
        overdue = late.some((item) => item.due_date < today);
        const due = late.length > 0 ? late : unpaid.slice(0, 1);
        if (due.length > 0) {
          nextDueDate = due[0]!.due_date;
          nextDueMinor = due.reduce((sum, item) => sum + item.remaining_minor, 0n);
        }
      }
      summaries.push({
        loanId: loan.id,
        number: loan.number,
        productName: loan.product_name,
        currency: loan.currency,
        status: loan.status,
        principalMinor: loan.principal_minor,
        outstandingMinor: loan.outstanding.total_minor,
        nextDueDate,
        nextDueMinor,
        overdue,
      });
    }
    return summaries;
  }

  async payoff(customerId: string, loanId: string): Promise<{ totalMinor: bigint; currency: string }> {
    const quote = await this.#loans.repayments.service.payoffQuote(ussdPrincipal(customerId), loanId);
    return { totalMinor: quote.total_minor, currency: quote.currency };
  }

  async needsApp(currency: string, amountMinor: bigint): Promise<boolean> {
    const threshold = (await this.#settings.get('payments.otp_threshold_minor'))[currency];
    return threshold !== undefined && amountMinor >= BigInt(threshold);
  }

  async repay(
    customerId: string,
    input: { loanId: string; amountMinor: bigint; pin: string },
    idempotencyKey: string,
    context: UssdActionContext,
  ): Promise<RepayOutcome> {
    const principal = ussdPrincipal(customerId, context);
    const outcomeOf = (result: RepaymentAnswer): RepayOutcome => ({
      kind: 'paid',
      loanNumber: result.loan_number,
      amountMinor: BigInt(result.amount_minor),
      currency: result.currency,
      outstandingMinor: BigInt(result.outstanding_minor),
      closed: result.loan_status === 'closed',
    });
    return runOnce(
      this.#idempotency,
      customerId,
      'loans.repay',
      idempotencyKey,
      { loan_id: input.loanId, amount_minor: input.amountMinor.toString() },
      async (claim) => {
        const loan = await this.#loans.accounts.views.visible(input.loanId, principal);
        // Checked before the PIN: no code is issued and no PIN try is spent on a payment USSD cannot finish.
        if (await this.needsApp(loan.currency, input.amountMinor)) throw useApp;
        const result = await this.#loans.repayments.service.repay(
          principal,
          { loan_id: input.loanId, amount_minor: Number(input.amountMinor), pin: input.pin },
          `repayment:customer:${customerId}:${idempotencyKey}`,
          claim,
          ussdRequestContext(customerId, context),
        );
        return outcomeOf(result);
      },
      (stored) => outcomeOf(stored as RepaymentAnswer),
      (error): Extract<RepayOutcome, { kind: 'refused' }> | null =>
        error === useApp ? { kind: 'refused', code: 'USE_APP' } : repayRefusalOf(error),
    );
  }
}

/** Thrown inside `repay` to refuse before the PIN (never leaves this file). */
const useApp = new Error('payment needs a one-time code');

type ApplicationAnswer = Awaited<ReturnType<LoansApi['applications']['submit']>>;
type RepaymentAnswer = Awaited<ReturnType<LoansApi['repayments']['service']['repay']>>;

/** Built in index.ts from the modules it calls (`dependsOn`: loans, customers, settings). */
export function createUssdLoans(ctx: ModuleContext): UssdLoans {
  return new UssdLoans({
    loans: ctx.use(loansModule),
    auth: ctx.use(customersModule).auth,
    settings: ctx.use(settingsModule),
    idempotency: ctx.deps.idempotency,
  });
}
