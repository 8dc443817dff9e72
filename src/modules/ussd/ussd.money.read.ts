/** What the money journeys show of people and of the customer's history: masked names and the mini-statement. */
import { ussdPrincipal } from './ussd.claims.ts';
import type { MoneyApis } from './ussd.money.apis.ts';

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function firstGrapheme(word: string): string {
  for (const { segment } of graphemes.segment(word)) return segment;
  return '';
}

/**
 * "J*** M***" for "John Kamau Mwangi": the first letter of the first and of the last name, enough for the sender to
 * recognise the person they meant, without telling anyone who types a number whose it is.
 */
export function maskName(full: string): string {
  const words = full.trim().split(/\s+/u).filter(Boolean);
  if (words.length === 0) return '***';
  const shown = words.length === 1 ? words : [words[0]!, words[words.length - 1]!];
  return shown.map((word) => `${firstGrapheme(word).toLocaleUpperCase()}***`).join(' ');
}

export type StatementKind =
  | 'sent'
  | 'received'
  | 'bill'
  | 'airtime'
  | 'merchant'
  | 'deposit'
  | 'withdrawal'
  | 'refund'
  | 'other';

export interface StatementLine {
  at: Date;
  /** The customer's time zone (the statement's dates are local to it). */
  timeZone: string;
  kind: StatementKind;
  /** Signed: what left the wallet (amount, fee and duty) is negative, what came in positive. */
  amount: bigint;
  currency: string;
  reference: string;
}

/** Only what happened to the money: a refused or unfinished attempt is not a line. */
const SHOWN = new Set(['completed', 'reversed']);

export async function statementLines(
  apis: MoneyApis,
  customerId: string,
  count: number,
): Promise<StatementLine[]> {
  const principal = ussdPrincipal(customerId);
  const page = await apis.transactions.list({ limit: Math.min(100, count * 4) }, principal);
  const shown = page.items.filter((item) => SHOWN.has(item.status)).slice(0, count);
  const timeZone = await apis.wallets.documents.timeZoneFor(customerId);
  const categories = new Map<string, string>();
  for (const item of shown) {
    if (!item.biller_id || categories.has(item.biller_id)) continue;
    const biller = await apis.bills.get(item.biller_id, principal).catch(() => null);
    categories.set(item.biller_id, biller?.category ?? '');
  }
  return shown.map((item) => {
    // The payer's view names the customer as its `customer_id`; a payee's view hides it.
    const outgoing = item.customer_id === customerId;
    let kind: StatementKind;
    if (item.type === 'p2p') kind = outgoing ? 'sent' : 'received';
    else if (item.type === 'bill')
      kind = item.biller_id && categories.get(item.biller_id) === 'airtime' ? 'airtime' : 'bill';
    else if (item.type === 'merchant') kind = outgoing ? 'merchant' : 'received';
    else if (item.type === 'cash_deposit' || item.type === 'bank_topup') kind = 'deposit';
    else if (item.type === 'cash_withdrawal' || item.type === 'bank_withdrawal') kind = 'withdrawal';
    else if (item.type === 'reversal' || item.type === 'refund') kind = 'refund';
    else kind = 'other';
    const incoming = item.type === 'cash_deposit' || item.type === 'bank_topup' || !outgoing;
    return {
      at: new Date(item.completed_at ?? item.created_at),
      timeZone,
      kind,
      amount: incoming ? item.total : -item.total,
      currency: item.currency,
      reference: item.reference,
    };
  });
}
