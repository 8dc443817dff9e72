/** Balance: the customer's wallets, the main one first (the PIN was entered at sign-in), then the session ends. */
import { formatMoney } from '../../platform/money.ts';
import { defineJourney, type Language, type Phrase } from './ussd.menu.ts';
import { customerOf } from './ussd.money.screens.ts';
import type { UssdServices } from './ussd.ports.ts';
import { fill } from './ussd.render.ts';

/** Wallets shown: a customer rarely holds more than a few currencies, and the screen takes three. */
const SHOWN = 3;

const PHRASES = {
  show: {
    en: 'Your balance:\n{lines}',
    fr: 'Votre solde:\n{lines}',
    sw: 'Salio lako:\n{lines}',
  },
  available: {
    en: 'free {amount}',
    fr: 'dispo {amount}',
    sw: 'huru {amount}',
  },
  frozen: { en: 'frozen', fr: 'bloque', sw: 'imezuiwa' },
  none: {
    en: 'You have no wallet yet.',
    fr: 'Vous n avez pas encore de portefeuille.',
    sw: 'Bado huna pochi.',
  },
} satisfies Record<string, Phrase>;

/** Fills one of this journey's phrases (for the lines built in code). */
const phrase = (key: string, language: Language, values?: Record<string, string>) =>
  fill({ id: 'balance', phrases: PHRASES, values: {} }, key, language, values);

export const balanceJourney = defineJourney<UssdServices>({
  id: 'balance',
  start: 'show',
  // Three wallets of "KES 1,000,000.00 (free 1,000,000.00)" fit under the header.
  values: { lines: 140, amount: 13 },
  phrases: PHRASES,
  states: {
    show: {
      async screen(ctx) {
        const customerId = customerOf(ctx);
        if (!customerId) return { phrase: 'common.error' };
        const wallets = (await ctx.services.money.balance(customerId)).slice(0, SHOWN);
        if (wallets.length === 0) return { phrase: 'none' };
        const lines = wallets.map((wallet) => {
          let line = formatMoney(wallet.balance, wallet.currency);
          if (wallet.status !== 'active') line += ` (${phrase('frozen', ctx.language)})`;
          else if (wallet.available !== wallet.balance)
            line += ` (${phrase('available', ctx.language, {
              amount: formatMoney(wallet.available, wallet.currency).slice(wallet.currency.length + 1),
            })})`;
          return line;
        });
        return { phrase: 'show', values: { lines: lines.join('\n') } };
      },
    },
  },
});
