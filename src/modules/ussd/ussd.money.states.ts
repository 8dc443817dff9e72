/**
 * The two states every money journey ends with. The amount: typed in the session's currency, quoted by the port (the
 * payment engine's checks and the one-time-code threshold, before any PIN) and kept with its fee. The confirmation:
 * it shows the journey's `confirm` phrase (amount, fee and whom it pays), takes the PIN, makes the payment under the
 * step's idempotency key and shows the receipt. A journey says which session values a state needs, which it shows,
 * and which port call quotes or pays; the rest (a session missing a value, refusals, the receipt's amount, fee and
 * reference) is the same for every journey, so it lives here once.
 */
import type { MenuState, Outcome, StateContext } from './ussd.menu.ts';
import { customerOf, money, moneyCall, refusalScreen } from './ussd.money.screens.ts';
import type { MoneyCall, MoneyOutcome, Quote } from './ussd.money.ts';
import type { UssdServices } from './ussd.ports.ts';

type Ctx = StateContext<UssdServices>;

/** Placeholder name → the session key its value is read from (an absent key shows as nothing). */
type Shown = Readonly<Record<string, string>>;

/** The session values a state needs, or null (with no signed-in customer either) when one is missing. */
function needed<K extends string>(
  ctx: Ctx,
  needs: readonly K[],
): { customerId: string; got: Readonly<Record<K, string>> } | null {
  const customerId = customerOf(ctx);
  const got: Partial<Record<K, string>> = {};
  for (const key of needs) got[key] = ctx.get(key);
  if (!customerId || needs.some((key) => !got[key])) return null;
  return { customerId, got: got as Record<K, string> };
}

/**
 * The `next` of a state listing billers: the one picked is kept (code and name) for the later states, or the session
 * ends when it can no longer be paid.
 */
export function billerPicked(then: string): NonNullable<MenuState<UssdServices>['next']> {
  return async (code, ctx) => {
    const customerId = customerOf(ctx);
    if (!customerId) return { end: { phrase: 'common.error' } };
    const biller = await ctx.services.money.biller(customerId, code);
    if (!biller) return { end: { phrase: 'money.payee_unavailable' } };
    ctx.set('biller', biller.code);
    ctx.set('biller_name', biller.name);
    return { go: then };
  };
}

export interface AmountEntry<K extends string> {
  /** `pay_currency`: the quote's currency is kept for the confirmation (a biller's or merchant's, not the session's). */
  currencyKey: 'currency' | 'pay_currency';
  /** Session keys the quote needs: a session without one ends with the generic error. */
  needs: readonly K[];
  /** What the amount screen shows besides the currency. */
  shows: Shown;
  quote(ctx: Ctx, customerId: string, got: Readonly<Record<K, string>>, amount: bigint): Promise<Quote>;
  /** A refusal the journey words itself; undefined leaves it to the shared refusal screens. */
  refused?(refusal: Extract<Quote, { kind: 'refused' }>): Outcome | undefined;
}

/** The journey's `amount` phrase; the amount quoted, it goes to `confirm` with the amount and fee kept. */
export function amountEntry<const K extends string>(spec: AmountEntry<K>): MenuState<UssdServices> {
  return {
    screen: (ctx) => ({
      phrase: 'amount',
      values: { ...shown(ctx, spec.shows), currency: ctx.get('currency') ?? '' },
    }),
    input: { type: 'amount' },
    async next(amount, ctx) {
      const found = needed(ctx, spec.needs);
      if (!found) return { end: { phrase: 'common.error' } };
      const quote = await spec.quote(ctx, found.customerId, found.got, BigInt(amount));
      if (quote.kind === 'refused') return spec.refused?.(quote) ?? refusalScreen(quote, 'quote');
      ctx.set('amount', amount);
      ctx.set('fee', quote.charges.toString());
      if (spec.currencyKey === 'pay_currency') ctx.set('pay_currency', quote.currency);
      return { go: 'confirm' };
    },
  };
}

export interface PaymentConfirmation<K extends string> {
  /** The idempotency action name (`ctx.idempotencyKey(action)`): one payment per session step. */
  action: string;
  /** The session key holding the currency the quoted amount and fee are shown in. */
  currencyKey: 'currency' | 'pay_currency';
  /** Session keys the payment needs besides `amount`: a session without one ends with the generic error. */
  needs: readonly K[];
  /** What the confirmation shows besides amount and fee. */
  shows: Shown;
  pay(
    ctx: Ctx,
    call: MoneyCall,
    got: Readonly<Record<K, string>>,
    amount: bigint,
    pin: string,
  ): Promise<MoneyOutcome>;
  /** The receipt: its phrase, and what it shows besides amount, fee and reference. */
  done: { phrase: string; shows: Shown };
}

function shown(ctx: Ctx, values: Shown): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([name, key]) => [name, ctx.get(key) ?? '']));
}

export function paymentConfirmation<const K extends string>(
  spec: PaymentConfirmation<K>,
): MenuState<UssdServices> {
  return {
    screen: (ctx) => ({
      phrase: 'confirm',
      values: {
        amount: money(ctx.get('amount'), ctx.get(spec.currencyKey)),
        ...shown(ctx, spec.shows),
        fee: money(ctx.get('fee'), ctx.get(spec.currencyKey)),
      },
    }),
    input: { type: 'pin' },
    async next(pin, ctx) {
      const found = needed(ctx, spec.needs);
      const amount = ctx.get('amount');
      if (!found || !amount) return { end: { phrase: 'common.error' } };
      const call = moneyCall(ctx, found.customerId, spec.action);
      const outcome = await spec.pay(ctx, call, found.got, BigInt(amount), pin);
      if (outcome.kind === 'refused') return refusalScreen(outcome, 'pay');
      if (outcome.held)
        return {
          end: {
            phrase: 'money.held',
            values: { amount: money(outcome.amount, outcome.currency), reference: outcome.reference },
          },
        };
      return {
        end: {
          phrase: spec.done.phrase,
          values: {
            amount: money(outcome.amount, outcome.currency),
            ...shown(ctx, spec.done.shows),
            fee: money(outcome.charges, outcome.currency),
            reference: outcome.reference,
          },
        },
      };
    },
  };
}
