import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { csvField, toCsv } from './csv.ts';

describe('toCsv', () => {
  test('records end in CRLF, including the last one', () => {
    assert.equal(
      toCsv(
        ['a', 'b'],
        [
          ['1', '2'],
          ['3', '4'],
        ],
      ),
      'a,b\r\n1,2\r\n3,4\r\n',
    );
    assert.equal(toCsv(['only'], []), 'only\r\n');
  });

  test('fields with a comma, quote, CR or LF are quoted, with quotes doubled', () => {
    const csv = toCsv(['x'], [['a,b'], ['say "hi"'], ['line1\nline2'], ['cr\rhere'], ['plain']]);
    assert.equal(csv, 'x\r\n"a,b"\r\n"say ""hi"""\r\n"line1\nline2"\r\n"cr\rhere"\r\nplain\r\n');
  });

  test('null is an empty field; numbers and bigints are written as they are', () => {
    assert.equal(
      toCsv(['a', 'b', 'c', 'd'], [[null, 12.5, 123456789012345678901234567890n, 0]]),
      'a,b,c,d\r\n,12.5,123456789012345678901234567890,0\r\n',
    );
  });

  test('a one-column row with an empty field is quoted so it is not a blank line', () => {
    assert.equal(toCsv(['note'], [[''], [null]]), 'note\r\n""\r\n""\r\n');
  });

  test('formula injection: strings starting with = + - @ tab CR get an apostrophe', () => {
    assert.equal(csvField("=cmd|' /C calc'!A0"), `'=cmd|' /C calc'!A0`);
    assert.equal(csvField('@SUM(1)'), "'@SUM(1)");
    assert.equal(csvField('+1'), "'+1");
    assert.equal(csvField('-1'), "'-1");
    assert.equal(csvField('\tx'), "'\tx");
    // The prefix goes inside the quotes, so the spreadsheet sees it as the first character of the cell.
    assert.equal(csvField('\r=1+1'), `"'\r=1+1"`);
    assert.equal(csvField('=HYPERLINK("http://x","y")'), `"'=HYPERLINK(""http://x"",""y"")"`);
  });

  test('negative numbers passed as number or bigint are not prefixed', () => {
    assert.equal(csvField(-1), '-1');
    assert.equal(csvField(-250n), '-250');
    assert.equal(toCsv(['amount', 'memo'], [[-1, '-1']]), "amount,memo\r\n-1,'-1\r\n");
  });

  test('text that merely contains a formula character later is left alone', () => {
    assert.equal(csvField('a=b'), 'a=b');
    assert.equal(csvField('user@example.com'), 'user@example.com');
    assert.equal(csvField(' =1'), ' =1');
  });

  test('header cells are protected too', () => {
    assert.equal(toCsv(['=1+1'], [['x']]), "'=1+1\r\nx\r\n");
  });

  test('bom option prefixes a UTF-8 byte-order mark', () => {
    const csv = toCsv(['name'], [['Zoë']], { bom: true });
    assert.ok(csv.startsWith('\ufeffname\r\n'));
    assert.deepEqual([...Buffer.from(csv, 'utf8').subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    assert.ok(!toCsv(['name'], []).startsWith('\ufeff'));
  });

  test('ragged rows, empty headers and non-finite numbers are refused', () => {
    assert.throws(() => toCsv(['a', 'b'], [['1']]), /row 1 has 1 cells; the header has 2/);
    assert.throws(() => toCsv([], []), RangeError);
    assert.throws(() => toCsv(['a'], [[Number.NaN]]), /not a finite number/);
    assert.throws(() => toCsv(['a'], [[Number.POSITIVE_INFINITY]]), RangeError);
  });
});
