/**
 * Send money to a phone number: the number (its holder's masked name confirms it), the amount (checked by the payment
 * engine before any PIN: balance, limits, the one-time-code threshold), then a confirmation with amount, fee and
 * recipient that takes the PIN. One transfer per session step, however often the gateway delivers it.
 */
import { defineJourney } from './ussd.menu.ts';
import { customerOf, MONEY_PHRASES, MONEY_VALUES, sessionCurrency } from './ussd.money.screens.ts';
import { amountEntry, paymentConfirmation } from './ussd.money.states.ts';
import type { UssdServices } from './ussd.ports.ts';

export const sendJourney = defineJourney<UssdServices>({
  id: 'send',
  start: 'phone',
  values: { ...MONEY_VALUES, name: 12, phone: 16 },
  phrases: {
    ...MONEY_PHRASES,
    phone: {
      en: 'Send money\nEnter the phone number',
      fr: 'Envoyer de l argent\nEntrez le numero de telephone',
      sw: 'Tuma pesa\nWeka namba ya simu',
    },
    unknown: {
      en: 'No customer with that number.',
      fr: 'Aucun client avec ce numero.',
      sw: 'Hakuna mteja mwenye namba hiyo.',
    },
    amount: {
      en: 'Send to {name} ({phone})\nEnter amount ({currency})',
      fr: 'Envoi a {name} ({phone})\nEntrez le montant ({currency})',
      sw: 'Tuma kwa {name} ({phone})\nWeka kiasi ({currency})',
    },
    confirm: {
      en: 'Send {amount} to {name} ({phone}) Fee {fee}. Enter PIN to confirm, 0 to cancel',
      fr: 'Envoyer {amount} a {name} ({phone}), frais {fee}. PIN pour confirmer, 0 pour annuler',
      sw: 'Tuma {amount} kwa {name} ({phone}) Ada {fee}. Weka PIN kuthibitisha, 0 kughairi',
    },
    sent: {
      en: 'Sent {amount} to {name}. Fee {fee}. Ref {reference}',
      fr: '{amount} envoye a {name}. Frais {fee}. Ref {reference}',
      sw: 'Umetuma {amount} kwa {name}. Ada {fee}. Kumb {reference}',
    },
  },
  states: {
    phone: {
      async screen(ctx) {
        await sessionCurrency(ctx);
        return { phrase: 'phone' };
      },
      input: { type: 'phone' },
      async next(phone, ctx) {
        const customerId = customerOf(ctx);
        const currency = await sessionCurrency(ctx);
        if (!customerId) return { end: { phrase: 'common.error' } };
        if (!currency) return { end: { phrase: 'money.no_wallet' } };
        const recipient = await ctx.services.money.recipient(customerId, phone, currency);
        if (!recipient) return { retry: { phrase: 'unknown' } };
        ctx.set('to', phone);
        ctx.set('name', recipient.maskedName);
        return { go: 'amount' };
      },
    },
    amount: amountEntry({
      currencyKey: 'currency',
      needs: ['to', 'currency'],
      shows: { name: 'name', phone: 'to' },
      quote: (ctx, customerId, { to, currency }, amount) =>
        ctx.services.money.quoteTransfer(customerId, { phone: to, amount, currency }),
    }),
    confirm: paymentConfirmation({
      action: 'send',
      currencyKey: 'currency',
      needs: ['to', 'currency'],
      shows: { name: 'name', phone: 'to' },
      pay: (ctx, call, { to, currency }, amount, pin) =>
        ctx.services.money.transfer(call, { phone: to, amount, currency, pin }),
      done: { phrase: 'sent', shows: { name: 'name' } },
    }),
  },
});
