/**
 * Pay a bill: a category, a biller of it (the lists page themselves), the account number (checked by the biller's
 * rules before anything else), the amount (the biller's range, then the payment engine's checks and the one-time-code
 * threshold, all before the PIN), then a confirmation with amount, fee and biller that takes the PIN.
 */
import { defineJourney, type Option } from './ussd.menu.ts';
import {
  customerOf,
  MONEY_PHRASES,
  MONEY_VALUES,
  refusalScreen,
  sessionCurrency,
} from './ussd.money.screens.ts';
import { amountEntry, billerPicked, paymentConfirmation } from './ussd.money.states.ts';
import type { UssdServices } from './ussd.ports.ts';

/** Categories with a name of their own; any other shows as the registry spells it. */
const CATEGORIES = ['electricity', 'water', 'tv', 'internet', 'education', 'government'] as const;

export const billJourney = defineJourney<UssdServices>({
  id: 'bill',
  start: 'category',
  values: { ...MONEY_VALUES, biller: 20, account: 20 },
  phrases: {
    ...MONEY_PHRASES,
    category: { en: 'Pay bill', fr: 'Payer une facture', sw: 'Lipa bili' },
    'category.electricity': { en: 'Electricity', fr: 'Electricite', sw: 'Umeme' },
    'category.water': { en: 'Water', fr: 'Eau', sw: 'Maji' },
    'category.tv': { en: 'TV', fr: 'Television', sw: 'Televisheni' },
    'category.internet': { en: 'Internet', fr: 'Internet', sw: 'Intaneti' },
    'category.education': { en: 'School fees', fr: 'Frais scolaires', sw: 'Ada ya shule' },
    'category.government': { en: 'Government', fr: 'Etat', sw: 'Serikali' },
    none: {
      en: 'No billers can be paid here yet. 0 Back',
      fr: 'Aucun facturier disponible ici. 0 Retour',
      sw: 'Hakuna wafanyabiashara wa bili hapa bado. 0 Rudi',
    },
    biller: { en: 'Choose the biller', fr: 'Choisissez le facturier', sw: 'Chagua mtoa bili' },
    account: {
      en: '{biller}\nEnter your account number',
      fr: '{biller}\nEntrez votre numero de compte',
      sw: '{biller}\nWeka namba yako ya akaunti',
    },
    bad_account: {
      en: 'That account number is not valid for this biller.',
      fr: 'Ce numero de compte n est pas valide pour ce facturier.',
      sw: 'Namba hiyo ya akaunti si sahihi kwa mtoa bili huyu.',
    },
    amount: {
      en: '{biller} acc {account}\nEnter amount ({currency})',
      fr: '{biller} compte {account}\nEntrez le montant ({currency})',
      sw: '{biller} akaunti {account}\nWeka kiasi ({currency})',
    },
    confirm: {
      en: 'Pay {amount} to {biller} ({account}) Fee {fee}. Enter PIN to confirm, 0 to cancel',
      fr: 'Payer {amount} a {biller} ({account}) frais {fee}. PIN pour confirmer, 0 annuler',
      sw: 'Lipa {amount} kwa {biller} ({account}) Ada {fee}. Weka PIN kuthibitisha, 0 kughairi',
    },
    paid: {
      en: 'Paid {amount} to {biller} ({account}). Fee {fee}. Ref {reference}',
      fr: '{amount} paye a {biller} ({account}). Frais {fee}. Ref {reference}',
      sw: 'Umelipa {amount} kwa {biller} ({account}). Ada {fee}. Kumb {reference}',
    },
  },
  states: {
    category: {
      async screen(ctx) {
        const customerId = customerOf(ctx);
        const currency = await sessionCurrency(ctx);
        if (!customerId || !currency) return { phrase: 'none', options: [] };
        const categories = await ctx.services.money.billCategories(customerId, currency);
        if (categories.length === 0) return { phrase: 'none', options: [] };
        const options: Option[] = categories.map((category) => ({
          label: (CATEGORIES as readonly string[]).includes(category)
            ? { phrase: `category.${category}` }
            : { text: category },
          value: category,
        }));
        return { phrase: 'category', options };
      },
      input: { type: 'choice' },
      next(category, ctx) {
        ctx.set('category', category);
        return { go: 'biller' };
      },
    },
    biller: {
      async screen(ctx) {
        const customerId = customerOf(ctx);
        const currency = ctx.get('currency');
        const category = ctx.get('category');
        if (!customerId || !currency || !category) return { phrase: 'none', options: [] };
        const billers = await ctx.services.money.billers(customerId, { category, currency });
        return {
          phrase: 'biller',
          options: billers.map((biller) => ({ label: { text: biller.name }, value: biller.code })),
        };
      },
      input: { type: 'choice' },
      next: billerPicked('account'),
    },
    account: {
      screen: (ctx) => ({ phrase: 'account', values: { biller: ctx.get('biller_name') ?? '' } }),
      input: { type: 'code', min: 2, max: 24 },
      async next(account, ctx) {
        const customerId = customerOf(ctx);
        const billerCode = ctx.get('biller');
        if (!customerId || !billerCode) return { end: { phrase: 'common.error' } };
        const checked = await ctx.services.money.checkBillAccount(customerId, { billerCode, account });
        if ('refused' in checked) {
          if (checked.refused === 'INVALID_BILL_REFERENCE') return { retry: { phrase: 'bad_account' } };
          return refusalScreen({ kind: 'refused', code: checked.refused, details: {} }, 'pay');
        }
        ctx.set('account', checked.account);
        return { go: 'amount' };
      },
    },
    amount: amountEntry({
      currencyKey: 'pay_currency',
      needs: ['biller', 'account'],
      shows: { biller: 'biller_name', account: 'account' },
      quote: (ctx, customerId, { biller, account }, amount) =>
        ctx.services.money.quoteBill(customerId, { billerCode: biller, account, amount }),
    }),
    confirm: paymentConfirmation({
      action: 'bill',
      currencyKey: 'pay_currency',
      needs: ['biller', 'account'],
      shows: { biller: 'biller_name', account: 'account' },
      pay: (ctx, call, { biller, account }, amount, pin) =>
        ctx.services.money.payBill(call, { billerCode: biller, account, amount, pin }),
      done: { phrase: 'paid', shows: { biller: 'biller_name', account: 'account' } },
    }),
  },
});
