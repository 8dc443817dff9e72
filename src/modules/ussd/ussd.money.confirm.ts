/**
 * The confirmation state every money journey ends with: it shows the journey's `confirm` phrase (amount, fee and
 * whom it pays), takes the PIN, makes the payment under the step's idempotency key and shows the receipt. A journey
 * says which session values the payment needs, which it shows, and which port call pays; the rest (a session missing
 * a value, refusals, the receipt's amount, fee and reference) is the same for every journey, so it lives here once.
 */
import type { MenuState, StateContext } from './ussd.menu.ts';
import { customerOf, money, moneyCall, refusalScreen } from './ussd.money.screens.ts';
import type { MoneyCall, MoneyOutcome } from './ussd.money.ts';
import type { UssdServices } from './ussd.ports.ts';

type Ctx = StateContext<UssdServices>;

/** Placeholder name → the session key its value is read from (an absent key shows as nothing). */
type Shown = Readonly<Record<string, string>>;

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
      const customerId = customerOf(ctx);
      const amount = ctx.get('amount');
      const got: Partial<Record<K, string>> = {};
      for (const key of spec.needs) got[key] = ctx.get(key);
      if (!customerId || !amount || spec.needs.some((key) => !got[key]))
        return { end: { phrase: 'common.error' } };
      const call = moneyCall(ctx, customerId, spec.action);
      const outcome = await spec.pay(ctx, call, got as Record<K, string>, BigInt(amount), pin);
      if (outcome.kind === 'refused') return refusalScreen(outcome, 'pay');
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
