/**
 * Pay a merchant by till number (the 8 digits of its merchant number M12345678; the M is optional): the till shows
 * the merchant's name, the amount is checked by the payment engine and the one-time-code threshold before the PIN,
 * then a confirmation with amount, fee and merchant takes the PIN.
 */
import { defineJourney } from './ussd.menu.ts';
import { MONEY_PHRASES, MONEY_VALUES, sessionCurrency } from './ussd.money.screens.ts';
import { amountEntry, paymentConfirmation } from './ussd.money.states.ts';
import type { UssdServices } from './ussd.ports.ts';

export const merchantJourney = defineJourney<UssdServices>({
  id: 'merchant',
  start: 'till',
  values: { ...MONEY_VALUES, merchant: 20, till: 9 },
  phrases: {
    ...MONEY_PHRASES,
    till: {
      en: 'Pay merchant\nEnter the till number',
      fr: 'Payer un marchand\nEntrez le numero de caisse',
      sw: 'Lipa mfanyabiashara\nWeka namba ya till',
    },
    unknown: {
      en: 'No merchant with that till number.',
      fr: 'Aucun marchand avec ce numero de caisse.',
      sw: 'Hakuna mfanyabiashara mwenye namba hiyo ya till.',
    },
    amount: {
      en: 'Pay {merchant} ({till})\nEnter amount ({currency})',
      fr: 'Payer {merchant} ({till})\nEntrez le montant ({currency})',
      sw: 'Lipa {merchant} ({till})\nWeka kiasi ({currency})',
    },
    confirm: {
      en: 'Pay {amount} to {merchant} ({till}) Fee {fee}. Enter PIN to confirm, 0 to cancel',
      fr: 'Payer {amount} a {merchant} ({till}) frais {fee}. PIN pour confirmer, 0 annuler',
      sw: 'Lipa {amount} kwa {merchant} ({till}) Ada {fee}. Weka PIN kuthibitisha, 0 kughairi',
    },
    paid: {
      en: 'Paid {amount} to {merchant}. Fee {fee}. Ref {reference}',
      fr: '{amount} paye a {merchant}. Frais {fee}. Ref {reference}',
      sw: 'Umelipa {amount} kwa {merchant}. Ada {fee}. Kumb {reference}',
    },
  },
  states: {
    till: {
      async screen(ctx) {
        await sessionCurrency(ctx);
        return { phrase: 'till' };
      },
      input: { type: 'code', min: 8, max: 9 },
      async next(till, ctx) {
        const merchant = await ctx.services.money.merchantByTill(till);
        if (!merchant) return { retry: { phrase: 'unknown' } };
        ctx.set('till', merchant.number);
        ctx.set('merchant', merchant.name);
        return { go: 'amount' };
      },
    },
    amount: amountEntry({
      currencyKey: 'pay_currency',
      needs: ['till'],
      shows: { merchant: 'merchant', till: 'till' },
      quote: (ctx, customerId, { till }, amount) =>
        ctx.services.money.quoteMerchant(customerId, { till, amount }),
    }),
    confirm: paymentConfirmation({
      action: 'merchant',
      currencyKey: 'pay_currency',
      needs: ['till'],
      shows: { merchant: 'merchant', till: 'till' },
      pay: (ctx, call, { till }, amount, pin) => ctx.services.money.payMerchant(call, { till, amount, pin }),
      done: { phrase: 'paid', shows: { merchant: 'merchant' } },
    }),
  },
});
