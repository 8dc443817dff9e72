/**
 * Loans: 1 Check offer, 2 Apply, 3 Repay, 4 Balance & next due. The offer and the application use the loans module's
 * own eligibility rules and pipeline through the loans port; a repayment is the app's customer repayment from the
 * wallet. Apply: product (when more than one) → amount (within the product's range) → term (a choice when the range
 * is short, else a number) → summary (amount, term, instalment, total, fee) → PIN → the decision. Repay: loan (when
 * more than one) → next due, full payoff or another amount → PIN → the outcome. An amount that needs a one-time
 * code is refused before the PIN screen (no code issued, no PIN try spent): the customer is sent to the app.
 */
import { pinRefusal } from './ussd.journey.home.ts';
import { type Frequency, LOANS_PHRASES, LOANS_VALUES, termText, unitText } from './ussd.loans.phrases.ts';
import {
  applyScreen,
  balanceScreen,
  loanOptions,
  money,
  pinCheckOf,
  productOptions,
  repayScreen,
} from './ussd.loans.screens.ts';
import type { UssdLoanOffer, UssdLoanSummary } from './ussd.loans.ts';
import { defineJourney, type Option, type Outcome, type StateContext } from './ussd.menu.ts';
import type { UssdServices } from './ussd.ports.ts';

type Ctx = StateContext<UssdServices>;

const HOME: Outcome = { journey: 'home' };
/** Up to this many terms are offered as a list; a longer range is typed as a number. */
const TERM_CHOICES = 6;

/** Session keys (never a PIN): what the customer chose so far. */
const K = {
  product: 'loans.product',
  name: 'loans.product_name',
  min: 'loans.min',
  max: 'loans.max',
  minTerm: 'loans.min_term',
  maxTerm: 'loans.max_term',
  frequency: 'loans.frequency',
  amount: 'loans.amount',
  term: 'loans.term',
  loan: 'loans.loan',
  pay: 'loans.pay',
} as const;

function customerOf(ctx: Ctx): string | null {
  return ctx.signedIn ? ctx.customerId : null;
}

function signedIn(ctx: Ctx): string {
  const customerId = customerOf(ctx);
  if (!customerId) throw new Error('the loans menu needs a signed-in customer');
  return customerId;
}

const currencyOf = (ctx: Ctx) => ctx.get('currency') ?? 'KES';
/** Keeps the chosen product's ranges and goes on to the amount (the amount is typed in its currency). */
function choose(ctx: Ctx, offer: UssdLoanOffer): Outcome {
  ctx.set(K.product, offer.productId);
  ctx.set(K.name, offer.name);
  ctx.set('currency', offer.currency);
  ctx.set(K.min, offer.minAmountMinor.toString());
  ctx.set(K.max, offer.maxAmountMinor.toString());
  ctx.set(K.minTerm, String(offer.minTerm));
  ctx.set(K.maxTerm, String(offer.maxTerm));
  ctx.set(K.frequency, offer.frequency);
  return { go: 'amount' };
}

async function chooseById(ctx: Ctx, productId: string): Promise<Outcome> {
  const { offers } = await ctx.services.loans.offers(signedIn(ctx));
  const offer = offers.find((candidate) => candidate.productId === productId);
  return offer ? choose(ctx, offer) : { end: { phrase: 'unavailable' } };
}

const frequencyOf = (ctx: Ctx) => (ctx.get(K.frequency) ?? 'monthly') as Frequency;

const activeLoans = async (ctx: Ctx) =>
  (await ctx.services.loans.loans(signedIn(ctx))).filter((loan) => loan.status === 'active');

async function selectedLoan(ctx: Ctx): Promise<UssdLoanSummary | undefined> {
  const id = ctx.get(K.loan);
  return (await activeLoans(ctx)).find((loan) => loan.loanId === id);
}

/** Keeps the amount to pay, unless it needs a one-time code (refused here, before any PIN). */
async function toPin(ctx: Ctx, loan: UssdLoanSummary, amount: bigint): Promise<Outcome> {
  if (await ctx.services.loans.needsApp(loan.currency, amount)) return { end: { phrase: 'use_app' } };
  ctx.set(K.pay, amount.toString());
  return { go: 'repay_pin' };
}

export const loansJourney = defineJourney<UssdServices>({
  id: 'loans',
  start: 'menu',
  values: LOANS_VALUES,
  phrases: LOANS_PHRASES,
  states: {
    menu: {
      screen: () => ({
        phrase: 'menu',
        options: (['offer', 'apply', 'repay', 'balance'] as const).map((entry) => ({
          label: { phrase: `menu.${entry}` },
          value: entry,
        })),
      }),
      input: { type: 'choice' },
      async next(entry, ctx) {
        const customerId = customerOf(ctx);
        if (!customerId) return HOME;
        if (entry === 'offer' || entry === 'apply') {
          const { offers, refusal } = await ctx.services.loans.offers(customerId);
          if (offers.length === 0) return { end: { phrase: `refusal.${refusal ?? 'NO_PRODUCTS'}` } };
          if (entry === 'offer') return { go: 'offers' };
          return offers.length === 1 ? choose(ctx, offers[0]!) : { go: 'product' };
        }
        const loans = entry === 'repay' ? await activeLoans(ctx) : await ctx.services.loans.loans(customerId);
        if (loans.length === 0) return { end: { phrase: entry === 'repay' ? 'no_loans' : 'no_active' } };
        if (entry === 'balance')
          return loans.length === 1 ? { end: balanceScreen(loans[0]!) } : { go: 'balance_loan' };
        if (loans.length > 1) return { go: 'repay_loan' };
        ctx.set(K.loan, loans[0]!.loanId);
        return { go: 'repay_amount' };
      },
    },
    offers: {
      async screen(ctx) {
        return {
          phrase: 'offers',
          options: productOptions((await ctx.services.loans.offers(signedIn(ctx))).offers),
        };
      },
      input: { type: 'choice' },
      next: (productId, ctx) => (customerOf(ctx) ? chooseById(ctx, productId) : HOME),
    },
    product: {
      async screen(ctx) {
        return {
          phrase: 'product',
          options: productOptions((await ctx.services.loans.offers(signedIn(ctx))).offers),
        };
      },
      input: { type: 'choice' },
      next: (productId, ctx) => (customerOf(ctx) ? chooseById(ctx, productId) : HOME),
    },
    amount: {
      screen(ctx) {
        const currency = currencyOf(ctx);
        return {
          phrase: 'amount',
          values: {
            product: ctx.get(K.name) ?? '',
            min: money(ctx.get(K.min) ?? '0', currency),
            max: money(ctx.get(K.max) ?? '0', currency),
          },
        };
      },
      input: { type: 'amount' },
      next(minor, ctx) {
        if (!customerOf(ctx) || !ctx.get(K.product)) return HOME;
        const currency = currencyOf(ctx);
        const [min, max] = [BigInt(ctx.get(K.min) ?? '0'), BigInt(ctx.get(K.max) ?? '0')];
        const amount = BigInt(minor);
        if (amount < min || amount > max)
          return {
            retry: {
              phrase: 'amount_range',
              values: { min: money(min, currency), max: money(max, currency) },
            },
          };
        ctx.set(K.amount, amount.toString());
        const [minTerm, maxTerm] = [Number(ctx.get(K.minTerm)), Number(ctx.get(K.maxTerm))];
        if (minTerm === maxTerm) {
          ctx.set(K.term, String(minTerm));
          return { go: 'summary' };
        }
        return { go: maxTerm - minTerm + 1 <= TERM_CHOICES ? 'term_choice' : 'term_number' };
      },
    },
    term_choice: {
      screen(ctx) {
        const [minTerm, maxTerm] = [Number(ctx.get(K.minTerm)), Number(ctx.get(K.maxTerm))];
        const terms = Array.from(
          { length: Math.max(0, maxTerm - minTerm + 1) },
          (_, index) => minTerm + index,
        );
        return {
          phrase: 'term_choice',
          options: terms.map((term) => ({
            label: {
              phrase: 'term_option',
              values: { term: termText(ctx.language, frequencyOf(ctx), term) },
            },
            value: String(term),
          })),
        };
      },
      input: { type: 'choice' },
      next(term, ctx) {
        if (!customerOf(ctx) || !ctx.get(K.amount)) return HOME;
        ctx.set(K.term, term);
        return { go: 'summary' };
      },
    },
    term_number: {
      screen: (ctx) => ({
        phrase: 'term_number',
        values: {
          unit: unitText(ctx.language, frequencyOf(ctx)),
          min_term: ctx.get(K.minTerm) ?? '',
          max_term: ctx.get(K.maxTerm) ?? '',
        },
      }),
      input: { type: 'number', maxDigits: 3 },
      next(typed, ctx) {
        if (!customerOf(ctx) || !ctx.get(K.amount)) return HOME;
        const term = Number(typed);
        const [minTerm, maxTerm] = [Number(ctx.get(K.minTerm)), Number(ctx.get(K.maxTerm))];
        if (term < minTerm || term > maxTerm)
          return { retry: { phrase: 'term_range', values: { min_term: minTerm, max_term: maxTerm } } };
        ctx.set(K.term, String(term));
        return { go: 'summary' };
      },
    },
    summary: {
      async screen(ctx) {
        const quote = await ctx.services.loans.quote(
          ctx.get(K.product) ?? '',
          BigInt(ctx.get(K.amount) ?? '0'),
          Number(ctx.get(K.term)),
        );
        return {
          phrase: 'summary',
          values: {
            amount: money(quote.amount_minor, quote.currency),
            term: termText(ctx.language, quote.frequency, quote.term),
            instalment: money(quote.instalment_minor, quote.currency),
            total: money(quote.total_repayable_minor, quote.currency),
            fee: money(quote.fee_minor, quote.currency),
          },
          options: [{ label: { phrase: 'accept' }, value: 'accept' }],
        };
      },
      input: { type: 'choice' },
      next: (_accept, ctx) => (customerOf(ctx) && ctx.get(K.term) ? { go: 'apply_pin' } : HOME),
    },
    apply_pin: {
      screen: (ctx) => ({
        phrase: 'apply_pin',
        values: { amount: money(ctx.get(K.amount) ?? '0', currencyOf(ctx)) },
      }),
      input: { type: 'pin' },
      async next(pin, ctx) {
        const customerId = customerOf(ctx);
        const [productId, amount, term] = [ctx.get(K.product), ctx.get(K.amount), ctx.get(K.term)];
        if (!customerId || !productId || !amount || !term) return HOME;
        try {
          const outcome = await ctx.services.loans.apply(
            customerId,
            { productId, amountMinor: BigInt(amount), term: Number(term), pin },
            // One application per session, product, amount and term: a redelivered step gets the same decision.
            ctx.idempotencyKey(`apply:${productId}:${amount}:${term}`),
            { gateway: ctx.gateway, sessionId: ctx.sessionId },
          );
          return { end: applyScreen(outcome) };
        } catch (error) {
          const check = pinCheckOf(error);
          if (check) return pinRefusal(check) ?? { end: { phrase: 'common.error' } };
          throw error;
        }
      },
    },
    repay_loan: {
      async screen(ctx) {
        return { phrase: 'which_loan', options: loanOptions(await activeLoans(ctx)) };
      },
      input: { type: 'choice' },
      next(loanId, ctx) {
        if (!customerOf(ctx)) return HOME;
        ctx.set(K.loan, loanId);
        return { go: 'repay_amount' };
      },
    },
    repay_amount: {
      async screen(ctx) {
        const loan = await selectedLoan(ctx);
        if (!loan) return { phrase: 'no_loans', options: [] };
        const payoff = await ctx.services.loans.payoff(signedIn(ctx), loan.loanId);
        const options: Option[] = [];
        if (loan.nextDueMinor !== null)
          options.push({
            label: { phrase: 'pay_due', values: { due: money(loan.nextDueMinor, loan.currency) } },
            value: 'due',
          });
        options.push(
          {
            label: { phrase: 'pay_full', values: { payoff: money(payoff.totalMinor, payoff.currency) } },
            value: 'full',
          },
          { label: { phrase: 'pay_other' }, value: 'other' },
        );
        return {
          phrase: 'repay_amount',
          values: { loan: loan.number, outstanding: money(loan.outstandingMinor, loan.currency) },
          options,
        };
      },
      input: { type: 'choice' },
      async next(choice, ctx) {
        const customerId = customerOf(ctx);
        if (!customerId) return HOME;
        const loan = await selectedLoan(ctx);
        if (!loan) return { end: { phrase: 'no_loans' } };
        ctx.set('currency', loan.currency);
        if (choice === 'other') return { go: 'repay_other' };
        if (choice === 'due' && loan.nextDueMinor !== null) return toPin(ctx, loan, loan.nextDueMinor);
        return toPin(ctx, loan, (await ctx.services.loans.payoff(customerId, loan.loanId)).totalMinor);
      },
    },
    repay_other: {
      screen: () => ({ phrase: 'repay_other' }),
      input: { type: 'amount' },
      async next(minor, ctx) {
        if (!customerOf(ctx)) return HOME;
        const loan = await selectedLoan(ctx);
        if (!loan) return { end: { phrase: 'no_loans' } };
        return toPin(ctx, loan, BigInt(minor));
      },
    },
    repay_pin: {
      async screen(ctx) {
        const loan = await selectedLoan(ctx);
        return {
          phrase: 'repay_pin',
          values: { amount: money(ctx.get(K.pay) ?? '0', currencyOf(ctx)), loan: loan?.number ?? '' },
        };
      },
      input: { type: 'pin' },
      async next(pin, ctx) {
        const customerId = customerOf(ctx);
        const [loanId, amount] = [ctx.get(K.loan), ctx.get(K.pay)];
        if (!customerId || !loanId || !amount) return HOME;
        try {
          const outcome = await ctx.services.loans.repay(
            customerId,
            { loanId, amountMinor: BigInt(amount), pin },
            // One repayment per session, loan and amount: a redelivered step gets the same outcome.
            ctx.idempotencyKey(`repay:${loanId}:${amount}`),
            { gateway: ctx.gateway, sessionId: ctx.sessionId },
          );
          return { end: repayScreen(outcome) };
        } catch (error) {
          const check = pinCheckOf(error);
          if (check) return pinRefusal(check) ?? { end: { phrase: 'common.error' } };
          throw error;
        }
      },
    },
    balance_loan: {
      async screen(ctx) {
        return { phrase: 'which_loan', options: loanOptions(await ctx.services.loans.loans(signedIn(ctx))) };
      },
      input: { type: 'choice' },
      async next(loanId, ctx) {
        const customerId = customerOf(ctx);
        if (!customerId) return HOME;
        const loan = (await ctx.services.loans.loans(customerId)).find(
          (candidate) => candidate.loanId === loanId,
        );
        return loan ? { end: balanceScreen(loan) } : { end: { phrase: 'no_active' } };
      },
    },
  },
});
