import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from './errors.ts';
import {
  addMoney,
  CURRENCIES,
  CURRENCY_CODES,
  compareMoney,
  currencyByNumeric,
  currencyInfo,
  exponentOf,
  formatDecimal,
  formatMoney,
  MINOR_MAX,
  MINOR_MIN,
  minMoney,
  minorFromJson,
  minorToJson,
  money,
  moneyFromDecimal,
  moneyFromJson,
  moneyToJson,
  subtractMoney,
  toMinor,
  zeroMoney,
} from './money.ts';

function refusedWith(code: string) {
  return (error: unknown) => error instanceof AppError && error.errorCode === code;
}

describe('the ISO 4217 table', () => {
  test('holds the platform currencies and the major ones with their ISO numeric codes and exponents', () => {
    const expected: [string, string, number][] = [
      ['KES', '404', 2],
      ['UGX', '800', 0],
      ['TZS', '834', 2],
      ['RWF', '646', 0],
      ['NGN', '566', 2],
      ['GHS', '936', 2],
      ['ZAR', '710', 2],
      ['XOF', '952', 0],
      ['USD', '840', 2],
      ['EUR', '978', 2],
      ['GBP', '826', 2],
      ['JPY', '392', 0],
      ['CHF', '756', 2],
      ['CNY', '156', 2],
      ['INR', '356', 2],
      ['AUD', '036', 2],
      ['CAD', '124', 2],
      ['KWD', '414', 3],
      ['BHD', '048', 3],
    ];
    for (const [code, numeric, exponent] of expected) {
      const info = currencyInfo(code);
      assert.equal(info.numeric, numeric, code);
      assert.equal(info.exponent, exponent, code);
      assert.ok(info.name.length > 0, code);
    }
  });

  test('codes and numeric codes are unique and well formed; entries are frozen', () => {
    const numerics = new Set<string>();
    for (const [code, info] of CURRENCIES) {
      assert.match(code, /^[A-Z]{3}$/);
      assert.equal(info.code, code);
      assert.match(info.numeric, /^\d{3}$/);
      assert.ok(Number.isInteger(info.exponent) && info.exponent >= 0 && info.exponent <= 4, code);
      assert.ok(!numerics.has(info.numeric), `duplicate numeric ${info.numeric}`);
      numerics.add(info.numeric);
      assert.ok(Object.isFrozen(info));
    }
    assert.equal(CURRENCY_CODES.length, CURRENCIES.size);
  });

  test('numeric codes map back; an unknown alphabetic code is refused as unsupported', () => {
    assert.equal(currencyByNumeric('826')?.code, 'GBP');
    assert.equal(currencyByNumeric('036')?.code, 'AUD');
    assert.equal(currencyByNumeric('999'), undefined);
    assert.throws(() => currencyInfo('XYZ'), refusedWith('UNSUPPORTED_CURRENCY'));
    assert.throws(() => currencyInfo('kes'), refusedWith('UNSUPPORTED_CURRENCY'));
  });
});

describe('minor units', () => {
  test('toMinor takes bigints, safe integers and decimal integer text within int64', () => {
    assert.equal(toMinor(150000n), 150000n);
    assert.equal(toMinor(150000), 150000n);
    assert.equal(toMinor('150000'), 150000n);
    assert.equal(toMinor('-42'), -42n);
    assert.equal(toMinor(MINOR_MAX), MINOR_MAX);
    assert.equal(toMinor(MINOR_MIN.toString()), MINOR_MIN);
  });

  test('toMinor refuses fractions, unsafe numbers, other text and values outside int64', () => {
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      assert.throws(() => toMinor(bad), RangeError, String(bad));
    }
    for (const bad of ['1.50', '1e3', ' 1', '', '01', '+1', '0x10', '-0']) {
      assert.throws(() => toMinor(bad), RangeError, JSON.stringify(bad));
    }
    assert.throws(() => toMinor(MINOR_MAX + 1n), RangeError);
    assert.throws(() => toMinor(MINOR_MIN - 1n), RangeError);
  });

  test('inside jsonb an amount is a decimal string, exact beyond 2^53, and a JSON number is refused', () => {
    const large = 2n ** 60n + 1n;
    assert.equal(minorToJson(large), '1152921504606846977');
    const stored = JSON.parse(JSON.stringify({ fee_minor: minorToJson(large) })) as { fee_minor: string };
    assert.equal(typeof stored.fee_minor, 'string');
    assert.equal(minorFromJson(stored.fee_minor), large);
    assert.throws(() => minorFromJson(5 as unknown as string), TypeError);
  });
});

describe('Money', () => {
  test('money validates the currency and the minor units', () => {
    assert.deepEqual(money(150000n, 'KES'), { amount_minor: 150000n, currency: 'KES' });
    assert.deepEqual(money('2500', 'UGX'), { amount_minor: 2500n, currency: 'UGX' });
    assert.ok(Object.isFrozen(money(1n, 'KES')));
    assert.throws(() => money(1n, 'XYZ'), refusedWith('UNSUPPORTED_CURRENCY'));
    assert.throws(() => money(1.25, 'KES'), RangeError);
    assert.throws(() => money(MINOR_MAX + 1n, 'KES'), RangeError);
    assert.deepEqual(zeroMoney('USD'), { amount_minor: 0n, currency: 'USD' });
  });

  test('its exponent is its currency’s', () => {
    assert.equal(exponentOf(money(1n, 'KES')), 2);
    assert.equal(exponentOf(money(1n, 'UGX')), 0);
    assert.equal(exponentOf(money(1n, 'KWD')), 3);
  });

  test('add, subtract, compare and min within one currency', () => {
    const a = money(150000n, 'KES');
    const b = money(2500n, 'KES');
    assert.deepEqual(addMoney(a, b), money(152500n, 'KES'));
    assert.deepEqual(subtractMoney(b, a), money(-147500n, 'KES'));
    assert.equal(compareMoney(a, b), 1);
    assert.equal(compareMoney(b, a), -1);
    assert.equal(compareMoney(a, money(150000n, 'KES')), 0);
    assert.equal(minMoney(a, b), b);
  });

  test('mixed currencies are refused, not converted', () => {
    const kes = money(100n, 'KES');
    const usd = money(100n, 'USD');
    assert.throws(() => addMoney(kes, usd), refusedWith('CURRENCY_MISMATCH'));
    assert.throws(() => subtractMoney(kes, usd), refusedWith('CURRENCY_MISMATCH'));
    assert.throws(() => compareMoney(kes, usd), refusedWith('CURRENCY_MISMATCH'));
    assert.throws(() => minMoney(kes, usd), refusedWith('CURRENCY_MISMATCH'));
  });

  test('a sum beyond int64 is refused', () => {
    assert.throws(() => addMoney(money(MINOR_MAX, 'KES'), money(1n, 'KES')), RangeError);
    assert.throws(() => subtractMoney(money(MINOR_MIN, 'KES'), money(1n, 'KES')), RangeError);
  });

  test('format in major units by the exponent', () => {
    assert.equal(formatMoney(money(150000n, 'KES')), 'KES 1,500.00');
    assert.equal(formatMoney(150000n, 'KES'), 'KES 1,500.00');
    assert.equal(formatMoney(money(1500000n, 'UGX')), 'UGX 1,500,000');
    assert.equal(formatMoney(money(-5n, 'KWD')), '-KWD 0.005');
    assert.equal(formatDecimal(money(150000n, 'KES')), '1500.00');
    assert.equal(formatDecimal(7n, 'USD'), '0.07');
    assert.equal(formatDecimal(money(9n, 'JPY')), '9');
  });

  test('to and from jsonb as a decimal string of minor units', () => {
    const value = money(2n ** 62n, 'GBP');
    const stored = JSON.parse(JSON.stringify(moneyToJson(value)));
    assert.deepEqual(stored, { amount_minor: '4611686018427387904', currency: 'GBP' });
    assert.deepEqual(moneyFromJson(stored), value);
    assert.throws(() => moneyFromJson({ amount_minor: 12 as unknown as string, currency: 'GBP' }), TypeError);
  });

  test('from major-unit decimal text by the exponent', () => {
    assert.deepEqual(moneyFromDecimal('1500.00', 'KES'), money(150000n, 'KES'));
    assert.deepEqual(moneyFromDecimal('1500.5', 'KES'), money(150050n, 'KES'));
    assert.deepEqual(moneyFromDecimal('1500', 'UGX'), money(1500n, 'UGX'));
    assert.deepEqual(moneyFromDecimal('-0.001', 'KWD'), money(-1n, 'KWD'));
    assert.throws(() => moneyFromDecimal('1.001', 'KES'), RangeError);
    assert.throws(() => moneyFromDecimal('1.5', 'UGX'), RangeError);
    assert.throws(() => moneyFromDecimal('1,500.00', 'KES'), RangeError);
  });
});
