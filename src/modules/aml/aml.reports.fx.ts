/** Amounts in goAML's local currency (`amount_local`): another currency at the payment engine's mid rate. */
import { AppError } from '../../platform/error-catalogue.ts';
import { currencyInfo, formatDecimal, mulDivRound } from '../../platform/money.ts';
import type { TransactionsApi } from '../transactions/index.ts';
import { amlErrors } from './aml.errors.ts';
import type { ToLocal } from './aml.reports.parties.ts';

/**
 * The local amount of each transaction: the same amount in the local currency; another currency at the mid rate (no
 * customer spread), rounded half-up to the local minor unit, with the rate reported (local units per foreign unit, six
 * decimals). No rate between the two: AML_REPORT_FX_RATE_MISSING.
 */
export function toLocal(fx: TransactionsApi['fx'], local: string): ToLocal {
  return async (amount, currency) => {
    if (currency === local) return { amountLocal: formatDecimal(amount, currency), rate: null };
    let quote: Awaited<ReturnType<TransactionsApi['fx']['quote']>>;
    try {
      quote = await fx.quote({ from_currency: currency, to_currency: local, amount: Number(amount) });
    } catch (error) {
      if (error instanceof AppError)
        throw amlErrors.AML_REPORT_FX_RATE_MISSING({
          params: { currency, local },
          details: { currency, local },
        });
      throw error;
    }
    // mid_rate is quote units per base unit, a decimal string.
    const [whole = '0', fraction = ''] = quote.mid_rate.split('.');
    const scale = 10n ** BigInt(fraction.length);
    const mid = BigInt(`${whole}${fraction}`);
    const [numerator, denominator] = quote.base_currency === currency ? [mid, scale] : [scale, mid];
    const localScale = 10n ** BigInt(currencyInfo(local).exponent);
    const foreignScale = 10n ** BigInt(currencyInfo(currency).exponent);
    const converted = mulDivRound(amount * localScale, numerator, denominator * foreignScale);
    const digits = mulDivRound(1_000_000n, numerator, denominator).toString().padStart(7, '0');
    return {
      amountLocal: formatDecimal(converted, local),
      rate: `${digits.slice(0, -6)}.${digits.slice(-6)}`,
    };
  };
}
