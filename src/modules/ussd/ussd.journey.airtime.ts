/**
 * Buy airtime, for the caller's own number or another: the network's airtime biller (the caller's network as the
 * gateway reports it, or picked from the list when it is another number or a network not recognised), the amount
 * (the biller's range and the payment engine's checks, before the PIN), then a confirmation that takes the PIN. An
 * airtime purchase is a bill payment whose account is the phone number.
 */
import { defineJourney } from './ussd.menu.ts';
import { customerOf, MONEY_PHRASES, MONEY_VALUES, sessionCurrency } from './ussd.money.screens.ts';
import { amountEntry, billerPicked, paymentConfirmation } from './ussd.money.states.ts';
import type { UssdServices } from './ussd.ports.ts';

export const airtimeJourney = defineJourney<UssdServices>({
  id: 'airtime',
  start: 'whom',
  values: { ...MONEY_VALUES, network: 20, phone: 16 },
  phrases: {
    ...MONEY_PHRASES,
    whom: { en: 'Buy airtime for', fr: 'Acheter du credit pour', sw: 'Nunua muda wa maongezi kwa' },
    'whom.me': { en: 'My number', fr: 'Mon numero', sw: 'Namba yangu' },
    'whom.other': { en: 'Other number', fr: 'Autre numero', sw: 'Namba nyingine' },
    phone: {
      en: 'Enter the phone number',
      fr: 'Entrez le numero de telephone',
      sw: 'Weka namba ya simu',
    },
    network: { en: 'Choose the network', fr: 'Choisissez le reseau', sw: 'Chagua mtandao' },
    none: {
      en: 'Airtime cannot be bought here yet. 0 Back',
      fr: 'Achat de credit indisponible ici. 0 Retour',
      sw: 'Muda wa maongezi haupatikani hapa bado. 0 Rudi',
    },
    amount: {
      en: 'Airtime {network} for {phone}\nEnter amount ({currency})',
      fr: 'Credit {network} pour {phone}\nEntrez le montant ({currency})',
      sw: 'Muda {network} kwa {phone}\nWeka kiasi ({currency})',
    },
    confirm: {
      en: 'Buy {amount} airtime for {phone} ({network}) Fee {fee}. Enter PIN to confirm, 0 to cancel',
      fr: 'Credit de {amount} pour {phone} ({network}) frais {fee}. PIN pour confirmer, 0 annuler',
      sw: 'Nunua muda wa {amount} kwa {phone} ({network}) Ada {fee}. Weka PIN kuthibitisha, 0 kughairi',
    },
    done: {
      en: 'Bought {amount} airtime for {phone}. Fee {fee}. Ref {reference}',
      fr: 'Credit de {amount} achete pour {phone}. Frais {fee}. Ref {reference}',
      sw: 'Umenunua muda wa {amount} kwa {phone}. Ada {fee}. Kumb {reference}',
    },
  },
  states: {
    whom: {
      async screen(ctx) {
        await sessionCurrency(ctx);
        return {
          phrase: 'whom',
          options: [
            { key: '1', label: { phrase: 'whom.me' }, value: 'me' },
            { key: '2', label: { phrase: 'whom.other' }, value: 'other' },
          ],
        };
      },
      input: { type: 'choice' },
      async next(whom, ctx) {
        if (whom === 'other') return { go: 'phone' };
        ctx.set('phone', ctx.msisdn);
        const customerId = customerOf(ctx);
        const currency = ctx.get('currency');
        if (!customerId || !currency) return { end: { phrase: 'money.no_wallet' } };
        const biller = await ctx.services.money.airtimeBiller(customerId, ctx.network, currency);
        if (!biller) return { go: 'network' };
        ctx.set('biller', biller.code);
        ctx.set('biller_name', biller.name);
        return { go: 'amount' };
      },
    },
    phone: {
      screen: () => ({ phrase: 'phone' }),
      input: { type: 'phone' },
      next(phone, ctx) {
        ctx.set('phone', phone);
        return { go: 'network' };
      },
    },
    network: {
      async screen(ctx) {
        const customerId = customerOf(ctx);
        const currency = ctx.get('currency');
        const billers =
          customerId && currency ? await ctx.services.money.airtimeBillers(customerId, currency) : [];
        if (billers.length === 0) return { phrase: 'none', options: [] };
        return {
          phrase: 'network',
          options: billers.map((biller) => ({ label: { text: biller.name }, value: biller.code })),
        };
      },
      input: { type: 'choice' },
      next: billerPicked('amount'),
    },
    amount: amountEntry({
      currencyKey: 'pay_currency',
      needs: ['biller', 'phone'],
      shows: { network: 'biller_name', phone: 'phone' },
      quote: (ctx, customerId, { biller, phone }, amount) =>
        ctx.services.money.quoteBill(customerId, { billerCode: biller, account: phone, amount }),
      // The number is the account: a number the network's biller does not take is refused here.
      refused: (refusal) =>
        refusal.code === 'INVALID_BILL_REFERENCE'
          ? { end: { phrase: 'money.payee_unavailable' } }
          : undefined,
    }),
    confirm: paymentConfirmation({
      action: 'airtime',
      currencyKey: 'pay_currency',
      needs: ['biller', 'phone'],
      shows: { phone: 'phone', network: 'biller_name' },
      pay: (ctx, call, { biller, phone }, amount, pin) =>
        ctx.services.money.payBill(call, { billerCode: biller, account: phone, amount, pin }),
      done: { phrase: 'done', shows: { phone: 'phone' } },
    }),
  },
});
