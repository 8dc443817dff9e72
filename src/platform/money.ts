/**
 * Money is a bigint count of the currency's minor units plus its ISO 4217 code; never a float. The exponent table
 * is the ISO one for the currencies the platform serves; an unknown code is refused rather than guessed.
 */
import { Type } from 'typebox';
import { AppError } from './errors.ts';

export interface CurrencyInfo {
  code: string;
  numeric: string;
  exponent: number;
  name: string;
}

const TABLE: CurrencyInfo[] = [
  { code: 'KES', numeric: '404', exponent: 2, name: 'Kenyan shilling' },
  { code: 'UGX', numeric: '800', exponent: 0, name: 'Ugandan shilling' },
  { code: 'TZS', numeric: '834', exponent: 2, name: 'Tanzanian shilling' },
  { code: 'RWF', numeric: '646', exponent: 0, name: 'Rwandan franc' },
  { code: 'NGN', numeric: '566', exponent: 2, name: 'Nigerian naira' },
  { code: 'GHS', numeric: '936', exponent: 2, name: 'Ghanaian cedi' },
  { code: 'ZAR', numeric: '710', exponent: 2, name: 'South African rand' },
  { code: 'XOF', numeric: '952', exponent: 0, name: 'West African CFA franc' },
  { code: 'USD', numeric: '840', exponent: 2, name: 'US dollar' },
  { code: 'EUR', numeric: '978', exponent: 2, name: 'Euro' },
  { code: 'GBP', numeric: '826', exponent: 2, name: 'Pound sterling' },
];

export const CURRENCIES: ReadonlyMap<string, CurrencyInfo> = new Map(
  TABLE.map((entry) => [entry.code, entry]),
);
export const CURRENCY_CODES = TABLE.map((entry) => entry.code);

export const moneyErrors = {
  unknownCurrency: (code: string) =>
    new AppError(422, 'UNSUPPORTED_CURRENCY', `Currency ${code} is not supported`, {
      currency: code,
      supported: CURRENCY_CODES,
    }),
  notPositive: (field = 'amount') =>
    new AppError(422, 'VALIDATION_ERROR', `${field} must be a positive whole number of minor units`, {
      field,
    }),
};

export function currencyInfo(code: string): CurrencyInfo {
  const info = CURRENCIES.get(code);
  if (!info) throw moneyErrors.unknownCurrency(code);
  return info;
}

/** "KES 1,500.00" for 150000n KES; exact for any bigint. */
export function formatMoney(amountMinor: bigint, currency: string): string {
  const { exponent } = currencyInfo(currency);
  const negative = amountMinor < 0n;
  const digits = (negative ? -amountMinor : amountMinor).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : '';
  return `${negative ? '-' : ''}${currency} ${whole}${fraction}`;
}

/** "1500.00" for 150000n KES: plain decimal, for CSV and QR codes. */
export function formatDecimal(amountMinor: bigint, currency: string): string {
  const { exponent } = currencyInfo(currency);
  const negative = amountMinor < 0n;
  const digits = (negative ? -amountMinor : amountMinor).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/** A positive request amount in minor units, refused when zero or negative. */
export function positiveAmount(value: number | bigint, field = 'amount'): bigint {
  const amount = BigInt(value);
  if (amount <= 0n) throw moneyErrors.notPositive(field);
  return amount;
}

/** a × numerator / denominator rounded half-up (amounts are non-negative here); exact in bigint. */
export function mulDivRound(amount: bigint, numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new Error('denominator must be positive');
  return (amount * numerator * 2n + denominator) / (denominator * 2n);
}

/** Request amounts: whole minor units, exact in a JSON number (≤ 2^53 − 1). */
export const MoneyIn = Type.Integer({
  format: 'int64',
  minimum: 1,
  maximum: Number.MAX_SAFE_INTEGER,
  description: 'Minor units (KES 1,500.00 is 150000)',
});
/** Response amounts: bigint serialised exactly as a JSON integer. */
export const MoneyOut = Type.Unsafe<bigint>({ type: 'integer', format: 'int64' });
export const CurrencyCode = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, e.g. KES' });
