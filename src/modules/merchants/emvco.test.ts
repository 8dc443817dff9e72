import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  crc16CcittFalse,
  currencyAlphaOf,
  currencyNumericOf,
  EmvcoError,
  encodeMerchantQr,
  formatQrAmount,
  type MerchantQrInput,
  merchantQrPng,
  parseMerchantQr,
  parseQrAmount,
} from './emvco.ts';

// The static vector from shared/INTEGRATIONS.md §8, checked there against an independent CRC implementation.
const STATIC_VECTOR =
  '00020101021126350017ke.co.examplebank011001234567895204541153034045802KE5911ACME STORES6007NAIROBI6304F952';

const staticInput: MerchantQrInput = {
  mode: 'static',
  merchantAccount: { globallyUniqueId: 'ke.co.examplebank', merchantId: '0123456789' },
  mcc: '5411',
  currencyNumeric: '404',
  countryCode: 'KE',
  merchantName: 'ACME STORES',
  merchantCity: 'NAIROBI',
};

/** Appends a valid CRC so a test can reach the checks that run after the CRC one. */
function sign(body: string): string {
  return `${body}6304${crc16CcittFalse(`${body}6304`)}`;
}

/** Asserts an EmvcoError for `field` whose message matches `message`. */
function throwsEmvco(fn: () => unknown, field: string, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof EmvcoError, `expected EmvcoError, got ${String(error)}`);
    assert.equal(error.field, field);
    if (message) assert.match(error.message, message);
    return true;
  });
}

const STATIC_BODY = STATIC_VECTOR.slice(0, -8);
const HEAD = '000201010211';
const ACCOUNT = '26350017ke.co.examplebank01100123456789';

describe('crc16CcittFalse', () => {
  it('matches the CRC-16/CCITT-FALSE check value', () => {
    assert.equal(crc16CcittFalse('123456789'), '29B1');
  });

  it('returns the init value for empty input and pads to four digits', () => {
    assert.equal(crc16CcittFalse(''), 'FFFF');
    assert.match(crc16CcittFalse('A'), /^[0-9A-F]{4}$/);
  });
});

describe('encodeMerchantQr', () => {
  it('reproduces the static test vector exactly', () => {
    assert.equal(encodeMerchantQr(staticInput), STATIC_VECTOR);
  });

  it('writes tags in spec order with the dynamic marker, amount, postal code and tag 62', () => {
    const payload = encodeMerchantQr({
      ...staticInput,
      mode: 'dynamic',
      amount: '150.00',
      postalCode: '00100',
      additional: { billNumber: 'INV-7', referenceLabel: 'ORD123', terminalLabel: 'T1' },
    });
    const body =
      `000201010212${ACCOUNT}5204541153034045406150.005802KE5911ACME STORES6007NAIROBI610500100` +
      '62250105INV-70506ORD1230702T1';
    assert.equal(payload, sign(body));
  });

  it('omits tag 62 when the additional data is empty', () => {
    assert.equal(encodeMerchantQr({ ...staticInput, additional: {} }), STATIC_VECTOR);
  });

  it('enforces field limits', () => {
    throwsEmvco(() => encodeMerchantQr({ ...staticInput, merchantName: 'A'.repeat(26) }), 'merchantName');
    assert.ok(
      encodeMerchantQr({ ...staticInput, merchantName: 'A'.repeat(25) }).includes(`5925${'A'.repeat(25)}`),
    );
    throwsEmvco(() => encodeMerchantQr({ ...staticInput, merchantName: '' }), 'merchantName');
    throwsEmvco(() => encodeMerchantQr({ ...staticInput, merchantCity: 'C'.repeat(16) }), 'merchantCity');
    throwsEmvco(() => encodeMerchantQr({ ...staticInput, postalCode: '12345678901' }), 'postalCode');
    throwsEmvco(
      () => encodeMerchantQr({ ...staticInput, additional: { referenceLabel: 'R'.repeat(26) } }),
      'additional.referenceLabel',
    );
  });

  it('refuses characters outside printable ASCII', () => {
    throwsEmvco(() => encodeMerchantQr({ ...staticInput, merchantName: 'CAFÉ' }), 'merchantName', /ASCII/);
    throwsEmvco(() => encodeMerchantQr({ ...staticInput, merchantCity: 'NAIROBI\n' }), 'merchantCity');
  });

  it('validates codes and the amount', () => {
    throwsEmvco(() => encodeMerchantQr({ ...staticInput, mcc: '541' }), 'mcc');
    throwsEmvco(() => encodeMerchantQr({ ...staticInput, mcc: 'ABCD' }), 'mcc');
    throwsEmvco(() => encodeMerchantQr({ ...staticInput, currencyNumeric: 'KES' }), 'currencyNumeric');
    throwsEmvco(() => encodeMerchantQr({ ...staticInput, countryCode: 'ke' }), 'countryCode');
    throwsEmvco(() => encodeMerchantQr({ ...staticInput, amount: '1,50' }), 'amount');
    throwsEmvco(() => encodeMerchantQr({ ...staticInput, amount: '-1.00' }), 'amount');
    throwsEmvco(() => encodeMerchantQr({ ...staticInput, amount: '12345678901.00' }), 'amount');
  });

  it('validates the mode and merchant account', () => {
    throwsEmvco(() => encodeMerchantQr({ ...staticInput, mode: 'once' as 'static' }), 'mode');
    throwsEmvco(
      () => encodeMerchantQr({ ...staticInput, merchantAccount: { globallyUniqueId: '', merchantId: '1' } }),
      'merchantAccount.globallyUniqueId',
    );
    throwsEmvco(
      () =>
        encodeMerchantQr({
          ...staticInput,
          merchantAccount: { globallyUniqueId: 'g'.repeat(32), merchantId: '1'.repeat(70) },
        }),
      'merchantAccount',
      /99/,
    );
  });
});

describe('parseMerchantQr', () => {
  it('parses the static test vector into its fields', () => {
    const parsed = parseMerchantQr(STATIC_VECTOR);
    assert.equal(parsed.mode, 'static');
    assert.equal(parsed.payloadFormat, '01');
    assert.deepEqual(parsed.merchantAccounts, { '26': { '00': 'ke.co.examplebank', '01': '0123456789' } });
    assert.equal(parsed.mcc, '5411');
    assert.equal(parsed.currencyNumeric, '404');
    assert.equal(parsed.amount, undefined);
    assert.equal(parsed.countryCode, 'KE');
    assert.equal(parsed.merchantName, 'ACME STORES');
    assert.equal(parsed.merchantCity, 'NAIROBI');
    assert.equal(parsed.postalCode, undefined);
    assert.deepEqual(parsed.additional, {});
    assert.equal(parsed.raw['63'], 'F952');
    assert.equal(Object.keys(parsed.raw).length, 9);
  });

  it('round-trips a dynamic code with an amount and a reference label', () => {
    const input: MerchantQrInput = {
      ...staticInput,
      mode: 'dynamic',
      currencyNumeric: currencyNumericOf('KES'),
      amount: formatQrAmount(15000n, 2),
      postalCode: '00100',
      additional: { referenceLabel: 'ORD-2024-0001', storeLabel: 'Westlands', purpose: 'Groceries' },
    };
    const parsed = parseMerchantQr(encodeMerchantQr(input));
    assert.equal(parsed.mode, 'dynamic');
    assert.equal(parsed.amount, '150.00');
    assert.equal(parseQrAmount(parsed.amount ?? '', 2), 15000n);
    assert.equal(parsed.postalCode, '00100');
    assert.deepEqual(parsed.additional, input.additional);
    assert.equal(parsed.raw['62'], '0309Westlands0513ORD-2024-00010809Groceries');
  });

  it('rejects a payload with one character changed', () => {
    const tampered = STATIC_VECTOR.replace('ACME STORES', 'ACME STORFS');
    throwsEmvco(() => parseMerchantQr(tampered), 'crc', /CRC mismatch/);
    throwsEmvco(() => parseMerchantQr(`${STATIC_VECTOR.slice(0, -1)}3`), 'crc', /CRC mismatch/);
  });

  it('accepts a lowercase CRC', () => {
    const lower = `${STATIC_VECTOR.slice(0, -4)}f952`;
    assert.equal(parseMerchantQr(lower).merchantName, 'ACME STORES');
  });

  it('rejects truncated TLV', () => {
    throwsEmvco(() => parseMerchantQr(STATIC_VECTOR.slice(0, -10)), 'payload', /declares length 7/);
    throwsEmvco(() => parseMerchantQr('0002010'), 'payload', /Truncated/);
    throwsEmvco(() => parseMerchantQr(''), 'payloadFormat');
  });

  it('rejects bad IDs and lengths', () => {
    throwsEmvco(() => parseMerchantQr(`0X${STATIC_VECTOR.slice(2)}`), 'payload', /ID "0X"/);
    throwsEmvco(() => parseMerchantQr(`00A201${STATIC_VECTOR.slice(6)}`), 'payload', /Length "A2"/);
    throwsEmvco(() => parseMerchantQr(sign(`${HEAD}0100${ACCOUNT}`)), 'payload', /zero length/);
  });

  it('requires 00 first, 63 last with length 04', () => {
    throwsEmvco(
      () => parseMerchantQr(sign(`010211000201${STATIC_BODY.slice(12)}`)),
      'payloadFormat',
      /start/,
    );
    throwsEmvco(() => parseMerchantQr(sign(`000202${STATIC_BODY.slice(6)}`)), 'payloadFormat', /format/);
    throwsEmvco(() => parseMerchantQr(`${STATIC_VECTOR}9901X`), 'crc', /end with/);
    throwsEmvco(() => parseMerchantQr(`${STATIC_BODY}6303F95`), 'crc', /length 04/);
  });

  it('rejects duplicate tags, including inside templates', () => {
    throwsEmvco(
      () => parseMerchantQr(sign(`${STATIC_BODY}5911ACME STORES`)),
      'payload',
      /ID 59 .*more than once/,
    );
    const dupSub = sign(STATIC_BODY.replace(ACCOUNT, '26120002ab0002cd'));
    throwsEmvco(() => parseMerchantQr(dupSub), 'merchantAccount.26', /ID 00/);
  });

  it('reports each missing mandatory tag', () => {
    const cases: Array<[string, string]> = [
      ['52045411', 'mcc'],
      ['5303404', 'currencyNumeric'],
      ['5802KE', 'countryCode'],
      ['5911ACME STORES', 'merchantName'],
      ['6007NAIROBI', 'merchantCity'],
      [ACCOUNT, 'merchantAccount'],
    ];
    for (const [object, field] of cases) {
      throwsEmvco(
        () => parseMerchantQr(sign(STATIC_BODY.replace(object, ''))),
        field,
        /missing|At least one/,
      );
    }
  });

  it('treats ID 01 as optional but validates it when present', () => {
    const withoutMode = parseMerchantQr(sign(STATIC_BODY.replace('010211', '')));
    assert.equal(withoutMode.mode, undefined);
    assert.equal(withoutMode.merchantName, 'ACME STORES');
    throwsEmvco(() => parseMerchantQr(sign(STATIC_BODY.replace('010211', '010213'))), 'mode', /11 or 12/);
  });

  it('accepts a scheme-only merchant account (IDs 02-25) and keeps it in raw', () => {
    const parsed = parseMerchantQr(sign(STATIC_BODY.replace(ACCOUNT, '02164111111111111111')));
    assert.deepEqual(parsed.merchantAccounts, {});
    assert.equal(parsed.raw['02'], '4111111111111111');
  });

  it('validates interpreted values', () => {
    throwsEmvco(() => parseMerchantQr(sign(STATIC_BODY.replace('5802KE', '5802ke'))), 'countryCode');
    throwsEmvco(() => parseMerchantQr(sign(STATIC_BODY.replace('5303404', '5303KES'))), 'currencyNumeric');
    const longName = STATIC_BODY.replace('5911ACME STORES', `5926${'N'.repeat(26)}`);
    throwsEmvco(() => parseMerchantQr(sign(longName)), 'merchantName');
    const badAmount = STATIC_BODY.replace('5802KE', '54041,505802KE');
    throwsEmvco(() => parseMerchantQr(sign(badAmount)), 'amount');
    throwsEmvco(() => parseMerchantQr(sign(`${STATIC_BODY}62040105`)), 'additional', /declares/);
  });

  it('keeps uninterpreted tags in raw', () => {
    const parsed = parseMerchantQr(sign(`${STATIC_BODY}55020180041234`));
    assert.equal(parsed.raw['55'], '01');
    assert.equal(parsed.raw['80'], '1234');
  });

  it('rejects payloads over 512 characters', () => {
    const filler = `99${'99'}${'x'.repeat(99)}`.repeat(5);
    throwsEmvco(() => parseMerchantQr(sign(`${STATIC_BODY}${filler}`)), 'payload', /512/);
  });
});

describe('amounts', () => {
  it('formats minor units', () => {
    assert.equal(formatQrAmount(15000n, 2), '150.00');
    assert.equal(formatQrAmount(500n, 0), '500');
    assert.equal(formatQrAmount(5n, 2), '0.05');
    assert.equal(formatQrAmount(0n, 2), '0.00');
    assert.equal(formatQrAmount(1234n, 3), '1.234');
    assert.equal(formatQrAmount(999_999_999_999n, 2), '9999999999.99');
  });

  it('refuses negative, oversized or badly scaled amounts when formatting', () => {
    throwsEmvco(() => formatQrAmount(-1n, 2), 'amount', /negative/);
    throwsEmvco(() => formatQrAmount(10n ** 13n, 0), 'amount', /13/);
    throwsEmvco(() => formatQrAmount(1n, 5), 'exponent');
    throwsEmvco(() => formatQrAmount(1n, 1.5), 'exponent');
  });

  it('parses decimal text strictly', () => {
    assert.equal(parseQrAmount('150.00', 2), 15000n);
    assert.equal(parseQrAmount('150.5', 2), 15050n);
    assert.equal(parseQrAmount('150', 2), 15000n);
    assert.equal(parseQrAmount('500', 0), 500n);
    assert.equal(parseQrAmount('0.05', 2), 5n);
    assert.equal(parseQrAmount('007', 0), 7n);
  });

  it('rejects malformed amount text', () => {
    for (const text of [
      '',
      '-1',
      '+1',
      '1e3',
      '1.',
      '.5',
      ' 1',
      '1 ',
      '1,000',
      '1.2.3',
      'NaN',
      '12345678901234',
    ]) {
      throwsEmvco(() => parseQrAmount(text, 2), 'amount');
    }
    throwsEmvco(() => parseQrAmount('500.0', 0), 'amount', /0 decimal/);
    throwsEmvco(() => parseQrAmount('1.234', 2), 'amount', /2 decimal/);
    throwsEmvco(() => parseQrAmount('1', -1), 'exponent');
  });

  it('round-trips through format and parse', () => {
    for (const [minor, exponent] of [
      [0n, 0],
      [1n, 2],
      [123456789n, 2],
      [42n, 3],
      [10n, 4],
    ] as const) {
      assert.equal(parseQrAmount(formatQrAmount(minor, exponent), exponent), minor);
    }
  });
});

describe('tag 53 from the ISO 4217 table', () => {
  it('maps alphabetic codes to numeric ones, GBP included, keeping leading zeros', () => {
    assert.equal(currencyNumericOf('KES'), '404');
    assert.equal(currencyNumericOf('UGX'), '800');
    assert.equal(currencyNumericOf('XOF'), '952');
    assert.equal(currencyNumericOf('GBP'), '826');
    assert.equal(currencyNumericOf('AUD'), '036');
  });

  it('maps numeric codes back, and knows no code outside the table', () => {
    assert.equal(currencyAlphaOf('404'), 'KES');
    assert.equal(currencyAlphaOf('826'), 'GBP');
    assert.equal(currencyAlphaOf('999'), undefined);
  });

  it('refuses a currency the table does not hold', () => {
    throwsEmvco(() => currencyNumericOf('XYZ'), 'currency');
  });

  it('a GBP code round-trips through build and parse', () => {
    const parsed = parseMerchantQr(
      encodeMerchantQr({ ...staticInput, currencyNumeric: currencyNumericOf('GBP') }),
    );
    assert.equal(parsed.currencyNumeric, '826');
    assert.equal(currencyAlphaOf(parsed.currencyNumeric), 'GBP');
  });
});

describe('merchantQrPng', () => {
  it('renders a PNG', async () => {
    const png = await merchantQrPng(STATIC_VECTOR);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.ok(png.length > 200);
  });

  it('refuses to render an invalid payload', async () => {
    await assert.rejects(merchantQrPng('not a qr payload'), EmvcoError);
  });
});
