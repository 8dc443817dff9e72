/**
 * Multi-currency: mid rates per pair as exact fractions, a customer spread, and conversion between a customer's own
 * wallets posted through the FX position accounts (each currency balances on its own: KES leaves the KES wallet for
 * the KES position, USD leaves the USD position for the USD wallet).
 */
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';

import type { Principal } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { currencyInfo, formatMoney, positiveAmount } from '../../platform/money.ts';
import type { LedgerService, Leg } from '../ledger/index.ts';
import type { Authorization } from './transactions.authorize.ts';
import { fxErrors, transactionErrors } from './transactions.errors.ts';
import {
  fxRateBetween,
  fxRateRows,
  type FxRateRow as RateRow,
  upsertFxRate,
} from './transactions.repository.ts';
import type { TransactionsService } from './transactions.service.ts';

/** "129.5" → 1295/10, exactly. */
export function parseRate(text: string): { numerator: bigint; denominator: bigint } {
  const match = /^(\d{1,12})(?:\.(\d{1,8}))?$/.exec(text);
  if (!match) throw fxErrors.badRate();
  const fraction = match[2] ?? '';
  const numerator = BigInt(`${match[1]}${fraction}`);
  if (numerator === 0n) throw fxErrors.badRate();
  return { numerator, denominator: 10n ** BigInt(fraction.length) };
}

function rateText(row: RateRow): string {
  const scale = 8;
  const scaled = (row.rateNumerator * 10n ** BigInt(scale)) / row.rateDenominator;
  const digits = scaled.toString().padStart(scale + 1, '0');
  return `${digits.slice(0, -scale)}.${digits.slice(-scale)}`.replace(/\.?0+$/, '');
}

export function rateView(row: RateRow) {
  return {
    base_currency: row.baseCurrency,
    quote_currency: row.quoteCurrency,
    rate: rateText(row),
    spread_bps: row.spreadBps,
    updated_at: row.updatedAt.toISOString(),
  };
}

/**
 * What the customer receives for `amount` minor units of `from`: the mid rate less the spread, rounded down to the
 * target's minor unit (never more than the rate gives). Works on either direction of a stored pair.
 */
export function convertAmount(amount: bigint, from: string, to: string, row: RateRow): bigint {
  const direct = row.baseCurrency === from;
  const [numerator, denominator] = direct
    ? [row.rateNumerator, row.rateDenominator]
    : [row.rateDenominator, row.rateNumerator];
  const scaleFrom = 10n ** BigInt(currencyInfo(from).exponent);
  const scaleTo = 10n ** BigInt(currencyInfo(to).exponent);
  const keep = 10_000n - BigInt(row.spreadBps);
  return (amount * scaleTo * numerator * keep) / (scaleFrom * denominator * 10_000n);
}

export class FxService {
  readonly #db: Executor;
  readonly #ledger: LedgerService;
  readonly #transactions: TransactionsService;

  constructor(db: Executor, ledger: LedgerService, transactions: TransactionsService) {
    this.#db = db;
    this.#ledger = ledger;
    this.#transactions = transactions;
  }

  async list() {
    const rows = await fxRateRows(this.#db);
    return { items: rows.map(rateView) };
  }

  async setRate(
    input: { base_currency: string; quote_currency: string; rate: string; spread_bps: number },
    context: RequestContext,
  ) {
    currencyInfo(input.base_currency);
    currencyInfo(input.quote_currency);
    if (input.base_currency === input.quote_currency) throw fxErrors.sameCurrency();
    const { numerator, denominator } = parseRate(input.rate);
    return inTransaction(this.#db, async (tx) => {
      const row = await upsertFxRate(tx, {
        id: uuidv7(),
        baseCurrency: input.base_currency,
        quoteCurrency: input.quote_currency,
        rateNumerator: numerator,
        rateDenominator: denominator,
        spreadBps: input.spread_bps,
      });
      const view = rateView(row);
      await writeAudit(tx, context, {
        action: 'fx.rate_set',
        entityType: 'fx_rate',
        entityId: row.id,
        after: view,
      });
      return view;
    });
  }

  async #rate(from: string, to: string): Promise<RateRow> {
    if (from === to) throw fxErrors.sameCurrency();
    const row = await fxRateBetween(this.#db, from, to);
    if (!row) throw fxErrors.noRate(from, to);
    return row;
  }

  async quote(input: { from_currency: string; to_currency: string; amount: number }) {
    currencyInfo(input.from_currency);
    currencyInfo(input.to_currency);
    const amount = positiveAmount(input.amount);
    const row = await this.#rate(input.from_currency, input.to_currency);
    const received = convertAmount(amount, input.from_currency, input.to_currency, row);
    if (received <= 0n) throw fxErrors.tooSmall();
    return {
      from_currency: input.from_currency,
      to_currency: input.to_currency,
      amount,
      destination_amount: received,
      destination_amount_display: formatMoney(received, input.to_currency),
      mid_rate: rateView(row).rate,
      base_currency: row.baseCurrency,
      spread_bps: row.spreadBps,
    };
  }

  /** Converts between two of a customer's wallets (staff: name the customer). */
  async convert(
    principal: Principal,
    input: Authorization & {
      customer_id?: string;
      from_currency: string;
      to_currency: string;
      amount: number;
      channel: string;
    },
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ) {
    const customerId = principal.type === 'customer' ? principal.id : input.customer_id;
    if (!customerId) throw transactionErrors.customerRequired();
    const quote = await this.quote(input);
    const source = await this.#transactions.wallets.customerWallet(customerId, input.from_currency);
    const destination = await this.#transactions.wallets.customerWallet(customerId, input.to_currency);
    const fromPosition = await this.#ledger.houseAccount(`fx_position:${input.from_currency}`);
    const toPosition = await this.#ledger.houseAccount(`fx_position:${input.to_currency}`);
    const feeIncome = await this.#ledger.houseAccount(`fee_income:${input.from_currency}`);
    const taxPayable = await this.#ledger.houseAccount(`tax_payable:${input.from_currency}`);
    return this.#transactions.run(
      {
        type: 'fx',
        channel: input.channel,
        initiator: { type: principal.type, id: principal.id },
        source: { kind: 'wallet', walletId: source.id },
        destination: { kind: 'wallet', walletId: destination.id },
        amount: quote.amount,
        currency: input.from_currency,
        destinationAmount: quote.destination_amount,
        destinationCurrency: input.to_currency,
        feature: 'fx_conversion',
        feeRule: 'fx',
        metadata: {
          mid_rate: quote.mid_rate,
          base_currency: quote.base_currency,
          spread_bps: quote.spread_bps,
        },
        legs: (fees) => {
          const legs: Leg[] = [
            { debit: source.id, credit: fromPosition, amount: quote.amount, code: 'fx' },
            { debit: toPosition, credit: destination.id, amount: quote.destination_amount, code: 'fx' },
          ];
          if (fees.fee > 0n)
            legs.push({ debit: source.id, credit: feeIncome, amount: fees.fee, code: 'fee' });
          if (fees.tax > 0n)
            legs.push({ debit: source.id, credit: taxPayable, amount: fees.tax, code: 'tax' });
          return legs;
        },
        claim,
      },
      principal,
      input,
      context,
    );
  }
}
