/**
 * Mini-statement: the last five movements of the customer's money (date, what it was, signed amount), then the
 * session ends. Amounts in the main currency show without its code (the header names it).
 */
import { formatMoney } from '../../platform/money.ts';
import { defineJourney, type Language, type Phrase } from './ussd.menu.ts';
import { customerOf, sessionCurrency } from './ussd.money.screens.ts';
import type { StatementLine } from './ussd.money.ts';
import type { UssdServices } from './ussd.ports.ts';
import { cut, fill } from './ussd.render.ts';

/** One line: "07/12 Airtime -1,000,000.00" (5 + 1 + 7 + 1 + 13), five of them with their line breaks. */
const LINE_MAX = 27;
const LINES_MAX = LINE_MAX * 5 + 4;

function date(line: StatementLine): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: line.timeZone,
    day: '2-digit',
    month: '2-digit',
  }).formatToParts(line.at);
  const part = (type: string) => parts.find((item) => item.type === type)?.value ?? '';
  return `${part('day')}/${part('month')}`;
}

function amount(line: StatementLine, main: string): string {
  const sign = line.amount < 0n ? '-' : '+';
  const text = formatMoney(line.amount < 0n ? -line.amount : line.amount, line.currency);
  return line.currency === main ? `${sign}${text.slice(main.length + 1)}` : `${sign}${text}`;
}

const PHRASES = {
  show: {
    en: 'Last 5 ({currency}):\n{lines}',
    fr: 'Releve ({currency}):\n{lines}',
    sw: 'Miamala ({currency}):\n{lines}',
  },
  none: {
    en: 'No transactions yet.',
    fr: 'Aucune operation pour le moment.',
    sw: 'Bado hakuna miamala.',
  },
  // At most 7 characters each: a line must stay within LINE_MAX.
  'kind.sent': { en: 'Sent', fr: 'Envoi', sw: 'Tuma' },
  'kind.received': { en: 'Recd', fr: 'Recu', sw: 'Pokea' },
  'kind.bill': { en: 'Bill', fr: 'Facture', sw: 'Bili' },
  'kind.airtime': { en: 'Airtime', fr: 'Credit', sw: 'Muda' },
  'kind.merchant': { en: 'Till', fr: 'Achat', sw: 'Duka' },
  'kind.deposit': { en: 'Deposit', fr: 'Depot', sw: 'Weka' },
  'kind.withdrawal': { en: 'Withdr', fr: 'Retrait', sw: 'Toa' },
  'kind.refund': { en: 'Refund', fr: 'Rembt', sw: 'Rejesho' },
  'kind.other': { en: 'Other', fr: 'Autre', sw: 'Mengine' },
} satisfies Record<string, Phrase>;

/** Fills one of this journey's phrases (for the lines built in code). */
const phrase = (key: string, language: Language, values?: Record<string, string>) =>
  fill({ id: 'statement', phrases: PHRASES, values: {} }, key, language, values);

export const statementJourney = defineJourney<UssdServices>({
  id: 'statement',
  start: 'show',
  values: { lines: LINES_MAX, currency: 3 },
  phrases: PHRASES,
  states: {
    show: {
      async screen(ctx) {
        const customerId = customerOf(ctx);
        if (!customerId) return { phrase: 'common.error' };
        const main = (await sessionCurrency(ctx)) ?? '';
        const lines = await ctx.services.money.miniStatement(customerId, 5);
        if (lines.length === 0) return { phrase: 'none' };
        const text = lines.map((line) =>
          cut(`${date(line)} ${phrase(`kind.${line.kind}`, ctx.language)} ${amount(line, main)}`, LINE_MAX),
        );
        return { phrase: 'show', values: { currency: main, lines: text.join('\n') } };
      },
    },
  },
});
