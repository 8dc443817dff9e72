/**
 * Money is a bigint count of the currency's minor units plus its ISO 4217 code; never a float. `Money` carries the
 * two together; its currency's exponent comes from the one ISO 4217 table below (alpha code, numeric code — the
 * EMVCo QR tag 53 —, exponent, name). An unknown code is refused rather than guessed. Inside jsonb an amount is a
 * decimal string of minor units (`minorToJson`), never a JSON number.
 */
import { Type } from 'typebox';
import { platformErrorCatalogue as platform } from './errors.ts';

export interface CurrencyInfo {
  /** ISO 4217 alphabetic code, e.g. KES. */
  code: string;
  /** ISO 4217 numeric code, three digits with leading zeros, e.g. 036 for AUD. */
  numeric: string;
  /** Minor-unit digits: 2 for KES (cents), 0 for UGX, 3 for KWD. */
  exponent: number;
  name: string;
}

/** ISO 4217 (current list): the currencies the platform serves and the major ones, sorted by code. */
const TABLE: readonly CurrencyInfo[] = [
  { code: 'AED', numeric: '784', exponent: 2, name: 'UAE dirham' },
  { code: 'AUD', numeric: '036', exponent: 2, name: 'Australian dollar' },
  { code: 'BHD', numeric: '048', exponent: 3, name: 'Bahraini dinar' },
  { code: 'BIF', numeric: '108', exponent: 0, name: 'Burundian franc' },
  { code: 'BRL', numeric: '986', exponent: 2, name: 'Brazilian real' },
  { code: 'BWP', numeric: '072', exponent: 2, name: 'Botswana pula' },
  { code: 'CAD', numeric: '124', exponent: 2, name: 'Canadian dollar' },
  { code: 'CDF', numeric: '976', exponent: 2, name: 'Congolese franc' },
  { code: 'CHF', numeric: '756', exponent: 2, name: 'Swiss franc' },
  { code: 'CNY', numeric: '156', exponent: 2, name: 'Chinese yuan renminbi' },
  { code: 'DKK', numeric: '208', exponent: 2, name: 'Danish krone' },
  { code: 'EGP', numeric: '818', exponent: 2, name: 'Egyptian pound' },
  { code: 'ETB', numeric: '230', exponent: 2, name: 'Ethiopian birr' },
  { code: 'EUR', numeric: '978', exponent: 2, name: 'Euro' },
  { code: 'GBP', numeric: '826', exponent: 2, name: 'Pound sterling' },
  { code: 'GHS', numeric: '936', exponent: 2, name: 'Ghanaian cedi' },
  { code: 'HKD', numeric: '344', exponent: 2, name: 'Hong Kong dollar' },
  { code: 'INR', numeric: '356', exponent: 2, name: 'Indian rupee' },
  { code: 'JOD', numeric: '400', exponent: 3, name: 'Jordanian dinar' },
  { code: 'JPY', numeric: '392', exponent: 0, name: 'Japanese yen' },
  { code: 'KES', numeric: '404', exponent: 2, name: 'Kenyan shilling' },
  { code: 'KRW', numeric: '410', exponent: 0, name: 'South Korean won' },
  { code: 'KWD', numeric: '414', exponent: 3, name: 'Kuwaiti dinar' },
  { code: 'MAD', numeric: '504', exponent: 2, name: 'Moroccan dirham' },
  { code: 'MUR', numeric: '480', exponent: 2, name: 'Mauritian rupee' },
  { code: 'MWK', numeric: '454', exponent: 2, name: 'Malawian kwacha' },
  { code: 'MXN', numeric: '484', exponent: 2, name: 'Mexican peso' },
  { code: 'MZN', numeric: '943', exponent: 2, name: 'Mozambican metical' },
  { code: 'NGN', numeric: '566', exponent: 2, name: 'Nigerian naira' },
  { code: 'NOK', numeric: '578', exponent: 2, name: 'Norwegian krone' },
  { code: 'NZD', numeric: '554', exponent: 2, name: 'New Zealand dollar' },
  { code: 'OMR', numeric: '512', exponent: 3, name: 'Omani rial' },
  { code: 'PLN', numeric: '985', exponent: 2, name: 'Polish zloty' },
  { code: 'QAR', numeric: '634', exponent: 2, name: 'Qatari riyal' },
  { code: 'RWF', numeric: '646', exponent: 0, name: 'Rwandan franc' },
  { code: 'SAR', numeric: '682', exponent: 2, name: 'Saudi riyal' },
  { code: 'SEK', numeric: '752', exponent: 2, name: 'Swedish krona' },
  { code: 'SGD', numeric: '702', exponent: 2, name: 'Singapore dollar' },
  { code: 'SSP', numeric: '728', exponent: 2, name: 'South Sudanese pound' },
  { code: 'TND', numeric: '788', exponent: 3, name: 'Tunisian dinar' },
  { code: 'TRY', numeric: '949', exponent: 2, name: 'Turkish lira' },
  { code: 'TZS', numeric: '834', exponent: 2, name: 'Tanzanian shilling' },
  { code: 'UGX', numeric: '800', exponent: 0, name: 'Ugandan shilling' },
  { code: 'USD', numeric: '840', exponent: 2, name: 'US dollar' },
  { code: 'XAF', numeric: '950', exponent: 0, name: 'Central African CFA franc' },
  { code: 'XOF', numeric: '952', exponent: 0, name: 'West African CFA franc' },
  { code: 'ZAR', numeric: '710', exponent: 2, name: 'South African rand' },
  { code: 'ZMW', numeric: '967', exponent: 2, name: 'Zambian kwacha' },
];

export const CURRENCIES: ReadonlyMap<string, Readonly<CurrencyInfo>> = new Map(
  TABLE.map((entry) => [entry.code, Object.freeze(entry)]),
);
const BY_NUMERIC: ReadonlyMap<string, Readonly<CurrencyInfo>> = new Map(
  TABLE.map((entry) => [entry.numeric, entry]),
);
export const CURRENCY_CODES: readonly string[] = TABLE.map((entry) => entry.code);

/** The range of the int64 columns amounts are stored in. */
export const MINOR_MIN = -(2n ** 63n);
export const MINOR_MAX = 2n ** 63n - 1n;

export const moneyErrors = {
  unknownCurrency: (code: string) =>
    platform.UNSUPPORTED_CURRENCY({
      params: { currency: code },
      details: { currency: code, supported: CURRENCY_CODES },
    }),
  notPositive: (field = 'amount') =>
    platform.VALIDATION_ERROR({
      message: `${field} must be a positive whole number of minor units`,
      details: { field },
    }),
  mixedCurrencies: (expected: string, actual: string) =>
    platform.CURRENCY_MISMATCH({
      message: `Cannot combine ${expected} with ${actual}`,
      details: { expected, actual },
    }),
};

export function currencyInfo(code: string): Readonly<CurrencyInfo> {
  const info = CURRENCIES.get(code);
  if (!info) throw moneyErrors.unknownCurrency(code);
  return info;
}

/** The currency of an ISO 4217 numeric code ("404" → KES), or undefined for a code the table does not hold. */
export function currencyByNumeric(numeric: string): Readonly<CurrencyInfo> | undefined {
  return BY_NUMERIC.get(numeric);
}

// ---------------------------------------------------------------------------------------------------------
// Minor units

const INTEGER_TEXT = /^(0|-?[1-9][0-9]*)$/;

/**
 * A whole number of minor units from a bigint, a safe-integer number or a decimal integer string ("150000"); refuses
 * fractions, unsafe numbers, other text and values outside int64. The error is a programming or data error (500):
 * request amounts are validated by their schemas first.
 */
export function toMinor(value: bigint | number | string): bigint {
  let amount: bigint;
  if (typeof value === 'bigint') amount = value;
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw new RangeError(`${value} is not a whole number of minor units within 2^53 - 1`);
    amount = BigInt(value);
  } else {
    if (!INTEGER_TEXT.test(value)) throw new RangeError(`"${value}" is not a decimal integer of minor units`);
    amount = BigInt(value);
  }
  if (amount < MINOR_MIN || amount > MINOR_MAX)
    throw new RangeError(`${amount} minor units is outside int64`);
  return amount;
}

/** An amount as stored inside jsonb: a decimal string of minor units ("150000"), never a JSON number. */
export function minorToJson(amountMinor: bigint): string {
  return toMinor(amountMinor).toString();
}

/** An amount read back from jsonb: a decimal string of minor units (see `minorToJson`). */
export function minorFromJson(text: string): bigint {
  if (typeof text !== 'string')
    throw new TypeError(`A jsonb amount must be a decimal string, not ${typeof text}`);
  return toMinor(text);
}

// ---------------------------------------------------------------------------------------------------------
// Money

/** An amount with its currency. Plain data (frozen), so it can be logged and compared; build it with `money`. */
export interface Money {
  readonly amount_minor: bigint;
  readonly currency: string;
}

/** Money of a known currency and a whole number of minor units within int64 (see `toMinor`). */
export function money(amountMinor: bigint | number | string, currency: string): Money {
  currencyInfo(currency);
  return Object.freeze({ amount_minor: toMinor(amountMinor), currency });
}

/** Zero of a currency. */
export function zeroMoney(currency: string): Money {
  return money(0n, currency);
}

/** The exponent (minor-unit digits) of the money's currency. */
export function exponentOf(value: Money): number {
  return currencyInfo(value.currency).exponent;
}

function sameCurrency(left: Money, right: Money): void {
  if (left.currency !== right.currency) throw moneyErrors.mixedCurrencies(left.currency, right.currency);
}

/** left + right, both of one currency; refuses mixed currencies (422 CURRENCY_MISMATCH) and an int64 overflow. */
export function addMoney(left: Money, right: Money): Money {
  sameCurrency(left, right);
  return money(left.amount_minor + right.amount_minor, left.currency);
}

/** left − right, both of one currency; refuses mixed currencies (422 CURRENCY_MISMATCH) and an int64 overflow. */
export function subtractMoney(left: Money, right: Money): Money {
  sameCurrency(left, right);
  return money(left.amount_minor - right.amount_minor, left.currency);
}

/** -1, 0 or 1 as left is less than, equal to or greater than right; refuses mixed currencies. */
export function compareMoney(left: Money, right: Money): -1 | 0 | 1 {
  sameCurrency(left, right);
  return left.amount_minor < right.amount_minor ? -1 : left.amount_minor > right.amount_minor ? 1 : 0;
}

/** The lesser of two amounts of one currency. */
export function minMoney(left: Money, right: Money): Money {
  return compareMoney(left, right) <= 0 ? left : right;
}

/** Money as stored inside jsonb: `{amount_minor: "150000", currency: "KES"}`. */
export function moneyToJson(value: Money): { amount_minor: string; currency: string } {
  return { amount_minor: minorToJson(value.amount_minor), currency: value.currency };
}

/** Money read back from jsonb (see `moneyToJson`); a JSON-number amount is refused. */
export function moneyFromJson(value: { amount_minor: string; currency: string }): Money {
  return money(minorFromJson(value.amount_minor), value.currency);
}

/** Money from major-unit decimal text ("1500.00" KES → 150000 minor); more fraction digits than the exponent is refused. */
export function moneyFromDecimal(text: string, currency: string): Money {
  const { exponent } = currencyInfo(currency);
  const match = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/.exec(text);
  if (!match) throw new RangeError(`"${text}" is not a decimal amount`);
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > exponent)
    throw new RangeError(`${currency} has ${exponent} decimal places; "${text}" has ${fraction.length}`);
  return money(BigInt(`${sign}${whole}${fraction.padEnd(exponent, '0')}`), currency);
}

function decimalDigits(
  amountMinor: bigint,
  exponent: number,
): { negative: boolean; whole: string; fraction: string } {
  const negative = amountMinor < 0n;
  const digits = (negative ? -amountMinor : amountMinor).toString().padStart(exponent + 1, '0');
  return {
    negative,
    whole: digits.slice(0, digits.length - exponent),
    fraction: exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : '',
  };
}

/** "KES 1,500.00" for 150000n KES; exact for any bigint. */
export function formatMoney(value: Money): string;
export function formatMoney(amountMinor: bigint, currency: string): string;
export function formatMoney(value: Money | bigint, currencyCode?: string): string {
  const [amountMinor, currency] =
    typeof value === 'bigint' ? [value, currencyCode as string] : [value.amount_minor, value.currency];
  const { negative, whole, fraction } = decimalDigits(amountMinor, currencyInfo(currency).exponent);
  return `${negative ? '-' : ''}${currency} ${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${fraction}`;
}

/** "1500.00" for 150000n KES: plain decimal in major units, for CSV and QR codes. */
export function formatDecimal(value: Money): string;
export function formatDecimal(amountMinor: bigint, currency: string): string;
export function formatDecimal(value: Money | bigint, currencyCode?: string): string {
  const [amountMinor, currency] =
    typeof value === 'bigint' ? [value, currencyCode as string] : [value.amount_minor, value.currency];
  const { negative, whole, fraction } = decimalDigits(amountMinor, currencyInfo(currency).exponent);
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
