/**
 * Loan offers: which active products a customer may apply for now, and what a loan would cost, without creating an
 * application. Channels that must say "you qualify for up to X" before the customer types anything (USSD) use it.
 * The rules are the submission's own (`eligibilityReasons`: KYC tier, wallet and its tenure, active loans, a blocked
 * customer), read the same way, so an offer and an application never disagree; the submission still checks again
 * under its lock.
 */
import { type Executor, inTransaction } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import type { ModuleContext } from '../../platform/modules.ts';
import { formatMoney } from '../../platform/money.ts';
import { lockCustomerTier } from '../customers/index.ts';
import { kycModule } from '../kyc/index.ts';
import { walletsModule } from '../wallets/index.ts';
import { businessToday, loanSchedule } from './loans.accounts.disburse.ts';
import { eligibilityReasons } from './loans.applications.eligibility.ts';
import { activeLoanCount } from './loans.applications.repository.ts';
import { loansErrors } from './loans.errors.ts';
import type { ReasonCode } from './loans.ports.ts';
import { listProducts, type ProductWithTerms } from './loans.products.repository.ts';
import type { LoanProductsService } from './loans.products.ts';
import { deductedFee, upfrontFee } from './loans.schedule.ts';
import type { RepaymentFrequency } from './loans.terms.ts';

/** Active products are few; more than this many would not fit any channel's menu either. */
const PRODUCTS_READ = 100;

/** A product the customer may apply for now, with the ranges an application must stay within. */
export interface LoanOffer {
  product_id: string;
  code: string;
  name: string;
  currency: string;
  min_amount_minor: bigint;
  max_amount_minor: bigint;
  min_term: number;
  max_term: number;
  frequency: RepaymentFrequency;
  annual_rate: string;
}

export interface LoanOffers {
  /** Products the customer may apply for now (oldest product first). */
  eligible: LoanOffer[];
  /** Active products the customer may not apply for, each with every failed rule. */
  refused: { product_id: string; code: string; name: string; reasons: ReasonCode[] }[];
}

/** What a loan of this amount and term would cost if disbursed today (the schedule disbursement would make). */
export interface LoanQuote {
  product_id: string;
  currency: string;
  amount_minor: bigint;
  term: number;
  frequency: RepaymentFrequency;
  /** The first instalment without the upfront fee (equal instalments: every one but a rounding on the last). */
  instalment_minor: bigint;
  /** Everything the schedule asks back: principal, interest and a fee added to the first instalment. */
  total_repayable_minor: bigint;
  /** The upfront fee, whether deducted from the disbursement or added to the first instalment. */
  fee_minor: bigint;
  fee_mode: 'deduct' | 'first_instalment' | null;
  /** What reaches the wallet (the amount less a deducted fee). */
  disbursed_minor: bigint;
  first_due_date: string | null;
}

export interface OffersOptions {
  db: Executor;
  products: LoanProductsService;
  tierRanks: () => Promise<Map<string, number>>;
  walletOf: (
    customerId: string,
    currency: string,
  ) => Promise<{ status: string; createdAt: Date } | undefined>;
}

function offerOf({ product, terms }: ProductWithTerms): LoanOffer {
  return {
    product_id: product.id,
    code: product.code,
    name: product.name,
    currency: product.currency,
    min_amount_minor: BigInt(terms.min_amount_minor),
    max_amount_minor: BigInt(terms.max_amount_minor),
    min_term: terms.min_term,
    max_term: terms.max_term,
    frequency: terms.frequency,
    annual_rate: terms.annual_rate,
  };
}

export class LoanOffersService {
  readonly #options: OffersOptions;

  constructor(options: OffersOptions) {
    this.#options = options;
  }

  async forCustomer(customerId: string): Promise<LoanOffers> {
    const { db } = this.#options;
    // Oldest first: a menu keeps the same order from one session to the next.
    const products = (await listProducts(db, { status: 'active' }, PRODUCTS_READ)).reverse();
    const ranks = await this.#options.tierRanks();
    const wallets = new Map<string, { status: string; createdAt: Date } | undefined>();
    for (const currency of new Set(products.map((row) => row.product.currency)))
      wallets.set(currency, await this.#options.walletOf(customerId, currency));
    // The submission's reads, in a short transaction of their own (the tier read locks the customer row as there).
    const standing = await inTransaction(db, async (tx) => {
      const customer = await lockCustomerTier(tx, customerId);
      if (!customer || customer.erasedAt) throw commonErrors.notFound('Customer');
      return { customer, activeLoans: await activeLoanCount(tx, customerId) };
    });
    const now = new Date();
    const answer: LoanOffers = { eligible: [], refused: [] };
    for (const row of products) {
      const reasons = await eligibilityReasons(row.terms, row.product.currency, {
        customerStatus: standing.customer.status,
        customerTier: standing.customer.kycTier,
        tierRank: async (code) => ranks.get(code) ?? null,
        wallet: wallets.get(row.product.currency),
        activeLoans: standing.activeLoans,
        now,
      });
      if (reasons.length === 0) answer.eligible.push(offerOf(row));
      else
        answer.refused.push({
          product_id: row.product.id,
          code: row.product.code,
          name: row.product.name,
          reasons,
        });
    }
    return answer;
  }

  /** The cost of a loan on the product's current terms; the amount and term must be within its ranges. */
  async quote(productId: string, amountMinor: bigint, term: number): Promise<LoanQuote> {
    const { product, terms } = await this.#options.products.current(productId);
    if (product.status !== 'active')
      throw loansErrors.LOAN_PRODUCT_RETIRED({ params: { code: product.code } });
    const offer = offerOf({ product, terms });
    if (amountMinor < offer.min_amount_minor || amountMinor > offer.max_amount_minor)
      throw loansErrors.LOAN_AMOUNT_OUT_OF_RANGE({
        params: {
          min: formatMoney(offer.min_amount_minor, product.currency),
          max: formatMoney(offer.max_amount_minor, product.currency),
        },
        details: {
          min_amount_minor: offer.min_amount_minor.toString(),
          max_amount_minor: offer.max_amount_minor.toString(),
        },
      });
    if (term < terms.min_term || term > terms.max_term)
      throw loansErrors.LOAN_TERM_OUT_OF_RANGE({
        params: { min: terms.min_term, max: terms.max_term },
        details: { min_term: terms.min_term, max_term: terms.max_term },
      });
    const lines = await loanSchedule(this.#options.db, {
      principal: amountMinor,
      currency: product.currency,
      term,
      terms,
      from: businessToday(),
    });
    const first = lines[0];
    const total = lines.reduce(
      (sum, line) => sum + line.principal_due + line.interest_due + line.fee_due,
      0n,
    );
    return {
      product_id: product.id,
      currency: product.currency,
      amount_minor: amountMinor,
      term,
      frequency: terms.frequency,
      instalment_minor: first ? first.principal_due + first.interest_due : 0n,
      total_repayable_minor: total,
      fee_minor: upfrontFee(amountMinor, terms, product.currency),
      fee_mode: terms.upfront_fee?.mode ?? null,
      disbursed_minor: amountMinor - deductedFee(amountMinor, terms, product.currency),
      first_due_date: first?.due_date ?? null,
    };
  }
}

/** Built in index.ts `create` from the modules the submission reads too (kyc tiers, wallets). */
export function buildOffers(ctx: ModuleContext, products: LoanProductsService): LoanOffersService {
  const { kyc } = ctx.use(kycModule);
  const wallets = ctx.use(walletsModule);
  return new LoanOffersService({
    db: ctx.deps.database.db,
    products,
    tierRanks: async () => new Map((await kyc.listTiers()).items.map((tier) => [tier.code, tier.rank])),
    walletOf: (customerId, currency) => wallets.findCustomerWallet(customerId, currency),
  });
}
