/**
 * SMS segment counting (GSM 03.38 septets vs UCS-2 units, multipart headers, no split characters) and E.164.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { countSmsSegments, toE164 } from './sms.ts';

describe('countSmsSegments', () => {
  test('an empty body is one GSM-7 segment', () => {
    assert.deepEqual(countSmsSegments(''), { encoding: 'GSM-7', segments: 1, units: 0 });
  });

  test('160 GSM characters fit one segment, 161 need two', () => {
    assert.deepEqual(countSmsSegments('a'.repeat(160)), { encoding: 'GSM-7', segments: 1, units: 160 });
    assert.deepEqual(countSmsSegments('a'.repeat(161)), { encoding: 'GSM-7', segments: 2, units: 161 });
  });

  test('multipart GSM-7 segments hold 153 septets: 306 is two, 307 is three', () => {
    assert.equal(countSmsSegments('b'.repeat(306)).segments, 2);
    assert.equal(countSmsSegments('b'.repeat(307)).segments, 3);
  });

  test('the whole GSM 03.38 basic set stays GSM-7 at one septet each', () => {
    const basic =
      '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
    assert.deepEqual(countSmsSegments(basic), { encoding: 'GSM-7', segments: 1, units: 127 });
  });

  test('extension characters (€ and friends) count two septets and keep GSM-7', () => {
    assert.deepEqual(countSmsSegments('€'), { encoding: 'GSM-7', segments: 1, units: 2 });
    assert.deepEqual(countSmsSegments('\f^{}\\[~]|€'), { encoding: 'GSM-7', segments: 1, units: 20 });
    // 159 + 2 septets no longer fits a single segment.
    assert.deepEqual(countSmsSegments(`${'a'.repeat(158)}€`), { encoding: 'GSM-7', segments: 1, units: 160 });
    assert.deepEqual(countSmsSegments(`${'a'.repeat(159)}€`), { encoding: 'GSM-7', segments: 2, units: 161 });
  });

  test('an extension character is not split across segments', () => {
    // 152 + 2 + 152 = 306 septets would be two segments if the € could straddle the boundary.
    const body = `${'a'.repeat(152)}€${'a'.repeat(152)}`;
    assert.deepEqual(countSmsSegments(body), { encoding: 'GSM-7', segments: 3, units: 306 });
    // Ending exactly at a boundary still fits: 151 + 2 = 153, then 153.
    assert.equal(countSmsSegments(`${'a'.repeat(151)}€${'a'.repeat(153)}`).segments, 2);
  });

  test('one character outside GSM 03.38 makes the body UCS-2 at 70 / 67 units', () => {
    assert.deepEqual(countSmsSegments(`ç${'a'.repeat(69)}`), { encoding: 'UCS-2', segments: 1, units: 70 });
    assert.deepEqual(countSmsSegments(`ç${'a'.repeat(70)}`), { encoding: 'UCS-2', segments: 2, units: 71 });
    assert.equal(countSmsSegments(`ç${'a'.repeat(133)}`).segments, 2);
    assert.equal(countSmsSegments(`ç${'a'.repeat(134)}`).segments, 3);
  });

  test('an emoji makes it UCS-2 and counts two units (a surrogate pair)', () => {
    assert.deepEqual(countSmsSegments('😀'), { encoding: 'UCS-2', segments: 1, units: 2 });
    assert.deepEqual(countSmsSegments(`😀${'a'.repeat(68)}`), { encoding: 'UCS-2', segments: 1, units: 70 });
    assert.deepEqual(countSmsSegments(`😀${'a'.repeat(69)}`), { encoding: 'UCS-2', segments: 2, units: 71 });
  });

  test('a surrogate pair is not split across segments', () => {
    const body = `${'a'.repeat(66)}😀${'a'.repeat(66)}`;
    assert.deepEqual(countSmsSegments(body), { encoding: 'UCS-2', segments: 3, units: 134 });
  });

  test('in UCS-2 the GSM extension characters are single units', () => {
    assert.deepEqual(countSmsSegments('ç€'), { encoding: 'UCS-2', segments: 1, units: 2 });
  });
});

describe('toE164', () => {
  test('a Kenyan national number with the KE default becomes E.164', () => {
    assert.equal(toE164('0712345678', 'KE'), '+254712345678');
    assert.equal(toE164(' 0712 345 678 ', 'KE'), '+254712345678');
  });

  test('an international number needs no default country', () => {
    assert.equal(toE164('+254 712 345 678'), '+254712345678');
    assert.equal(toE164('+256772123456', 'KE'), '+256772123456');
  });

  test('garbage, a too-short number and a national number without a country are null', () => {
    assert.equal(toE164('not a phone'), null);
    assert.equal(toE164('', 'KE'), null);
    assert.equal(toE164('07123', 'KE'), null);
    assert.equal(toE164('0712345678'), null);
  });
});
