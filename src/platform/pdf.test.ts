import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MARGIN,
  PAGE_WIDTH,
  PdfDocument,
  renderReceiptPdf,
  renderStatementPdf,
  type StatementPdfInput,
  textWidth,
  toWinAnsi,
} from './pdf.ts';

const CREATED = new Date('2024-01-02T03:04:05.000Z');

interface TextOp {
  font: string;
  size: number;
  x: number;
  y: number;
  /** Decoded from WinAnsi by an independent decoder, so it also checks the encoder's mapping. */
  text: string;
}

const winAnsi = new TextDecoder('windows-1252');

/** Undoes PDF literal-string escapes (\\, \(, \), \ddd octal) into bytes, then decodes them as WinAnsi. */
function unescapeLiteral(raw: string): string {
  const bytes: number[] = [];
  for (let index = 0; index < raw.length; index += 1) {
    const char = raw[index]!;
    if (char !== '\\') {
      bytes.push(char.charCodeAt(0));
      continue;
    }
    const octal = /^[0-7]{1,3}/.exec(raw.slice(index + 1));
    if (octal) {
      bytes.push(Number.parseInt(octal[0], 8));
      index += octal[0].length;
    } else {
      bytes.push(raw.charCodeAt(index + 1));
      index += 1;
    }
  }
  return winAnsi.decode(Uint8Array.from(bytes));
}

const TEXT_OP = /BT \/(F\d) ([\d.]+) Tf (-?[\d.]+) (-?[\d.]+) Td \(((?:\\[\s\S]|[^\\)])*)\) Tj ET/g;

function textOps(stream: string): TextOp[] {
  return [...stream.matchAll(TEXT_OP)].map((match) => ({
    font: match[1]!,
    size: Number(match[2]),
    x: Number(match[3]),
    y: Number(match[4]),
    text: unescapeLiteral(match[5]!),
  }));
}

/**
 * The structural checks every document must pass: header, binary marker, every xref entry pointing exactly at
 * its "N 0 obj", startxref pointing at "xref", trailer /Size, every stream's /Length exact, and %%EOF at the end.
 * Returns the content streams in object order.
 */
function assertWellFormed(pdf: Buffer): string[] {
  const text = pdf.toString('latin1');
  assert.ok(text.startsWith('%PDF-1.4\n%'), 'header');
  assert.ok(pdf[10]! > 0x7f, 'binary marker comment');
  assert.ok(text.endsWith('%%EOF\n'), 'ends with %%EOF');

  const startxref = /startxref\n(\d+)\n%%EOF\n$/.exec(text);
  assert.ok(startxref, 'startxref');
  const xrefAt = Number(startxref[1]);
  const head = /^xref\n0 (\d+)\n/.exec(text.slice(xrefAt));
  assert.ok(head, 'startxref points at the xref keyword');
  const size = Number(head[1]);
  const entriesAt = xrefAt + head[0].length;
  assert.equal(text.slice(entriesAt, entriesAt + 20), '0000000000 65535 f \n');
  for (let number = 1; number < size; number += 1) {
    const entry = text.slice(entriesAt + 20 * number, entriesAt + 20 * (number + 1));
    const match = /^(\d{10}) 00000 n \n$/.exec(entry);
    assert.ok(match, `xref entry ${number} is 20 bytes: ${JSON.stringify(entry)}`);
    const offset = Number(match[1]);
    assert.equal(
      text.slice(offset, offset + `${number} 0 obj\n`.length),
      `${number} 0 obj\n`,
      `object ${number}`,
    );
    assert.equal(text[offset - 1], '\n');
  }
  assert.equal([...text.matchAll(/^\d+ 0 obj$/gm)].length, size - 1, 'one xref entry per object');
  const trailer = text.slice(entriesAt + 20 * size);
  assert.match(
    trailer,
    new RegExp(`^trailer\\n<< /Size ${size} /Root 1 0 R /Info 5 0 R /ID \\[<[0-9a-f]{32}> <`),
  );

  const streams: string[] = [];
  for (const match of text.matchAll(/<< \/Length (\d+) >>\nstream\n/g)) {
    const start = match.index + match[0].length;
    const end = start + Number(match[1]);
    assert.equal(text.slice(end, end + 10), '\nendstream', '/Length is exact');
    streams.push(text.slice(start, end));
  }
  return streams;
}

function pageCount(pdf: Buffer): number {
  const text = pdf.toString('latin1');
  const count = Number(/\/Type \/Pages \/Kids \[[^\]]*\] \/Count (\d+)/.exec(text)?.[1]);
  assert.equal([...text.matchAll(/\/Type \/Page\b(?!s)/g)].length, count, '/Count matches the page objects');
  return count;
}

function statement(rowCount: number): StatementPdfInput {
  const rows = Array.from({ length: rowCount }, (_, index) => [
    `2024-01-${String((index % 28) + 1).padStart(2, '0')}`,
    `REF${String(index).padStart(5, '0')}`,
    `Payment to merchant number ${index}`,
    index % 2 === 0 ? `-${index},000.50` : `${index}.00`,
    `${1000 + index},000.00`,
  ]);
  return {
    institution: 'CodeForge Bank',
    title: 'Account statement',
    accountLabel: 'Main wallet W1234567890',
    period: '2024-01-01 to 2024-01-31',
    openingBalance: 'KES 1,000.00',
    closingBalance: 'KES 2,500.00',
    columns: [
      { header: 'Date', align: 'left', width: 70 },
      { header: 'Reference', align: 'left', width: 80 },
      { header: 'Description', align: 'left', width: 165 },
      { header: 'Amount', align: 'right', width: 90 },
      { header: 'Balance', align: 'right', width: 90 },
    ],
    rows,
  };
}

describe('PdfDocument', () => {
  test('a small document is well formed, with Info and deterministic bytes', () => {
    const build = () => {
      const doc = new PdfDocument({ title: 'Test — Zoë', creationDate: CREATED });
      doc.text(MARGIN, 100, 'Hello', { font: 'Helvetica-Bold', size: 14 });
      doc.rule(110);
      return doc.toBuffer();
    };
    const pdf = build();
    const [content] = assertWellFormed(pdf);
    assert.deepEqual(build(), pdf);
    const text = pdf.toString('latin1');
    assert.match(text, /\/CreationDate \(D:20240102030405Z\)/);
    // The title is UTF-16BE with a BOM, so characters outside WinAnsi survive in the metadata.
    const title = Buffer.from('\ufeffTest — Zoë', 'utf16le').swap16().toString('hex').toUpperCase();
    assert.ok(text.includes(`/Title <${title}>`));
    assert.match(text, /\/Producer <FEFF/);
    assert.match(text, /\/BaseFont \/Helvetica \/Encoding \/WinAnsiEncoding/);
    assert.match(text, /\/BaseFont \/Helvetica-Bold \/Encoding \/WinAnsiEncoding/);
    assert.match(text, /\/MediaBox \[0 0 595 842\]/);
    assert.deepEqual(
      textOps(content!).map((op) => [op.font, op.size, op.x, op.y, op.text]),
      [
        ['F2', 14, 50, 742, 'Hello'],
        ['F1', 8, textOps(content!)[1]!.x, 28, 'Page 1 of 1'],
      ],
    );
  });

  test('parentheses and backslashes are escaped and round-trip through the content stream', () => {
    const tricky = 'Paid (in full) \\ back\\slash ((( ) \\) end';
    const doc = new PdfDocument({ title: tricky, creationDate: CREATED });
    doc.text(MARGIN, 100, tricky);
    const [content] = assertWellFormed(doc.toBuffer());
    assert.ok(content!.includes('(Paid \\(in full\\) \\\\ back\\\\slash \\(\\(\\( \\) \\\\\\) end) Tj'));
    assert.equal(textOps(content!)[0]!.text, tricky);
  });

  test('text outside WinAnsi is substituted and controls are stripped, never corrupting the file', () => {
    const input = 'Zürich €5 – “ok” 北京 😀 ő ﬁ −3 \u0000\u0007bell\ttab\u200b\ud800!';
    const doc = new PdfDocument({ title: input, creationDate: CREATED, footerNote: input });
    doc.text(MARGIN, 100, input);
    doc.paragraph(input);
    doc.table([{ header: input, align: 'left', width: 1 }], [[input]]);
    const streams = assertWellFormed(doc.toBuffer());
    const expected = 'Zürich €5 – “ok” ?? ? o fi -3 bell tab?!';
    const texts = textOps(streams[0]!).map((op) => op.text);
    assert.equal(texts[0], expected);
    assert.ok(texts.filter((text) => text === expected).length >= 4, 'paragraph, header and cell too');
    // Every byte in the content stream is printable 7-bit ASCII or a line feed.
    assert.match(streams[0]!, /^[\x20-\x7e\n]*$/);
  });

  test('toWinAnsi maps the Windows-1252 specials and composes combining marks', () => {
    assert.equal(
      toWinAnsi('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ'),
      '\x80\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8e\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9e\x9f',
    );
    assert.equal(toWinAnsi('e\u0301'), '\xe9');
    assert.equal(toWinAnsi('\u0085\u009f\u007f\u00ad'), '');
    assert.equal(toWinAnsi('a\r\nb'), 'a  b');
  });

  test('text widths come from the Helvetica AFM metrics of the printed characters', () => {
    assert.equal(textWidth('Hello', 'Helvetica', 10), 22.78);
    assert.equal(textWidth('W€à', 'Helvetica', 1000), 944 + 556 + 556);
    assert.equal(textWidth('W€à', 'Helvetica-Bold', 1000), 944 + 556 + 556);
    assert.equal(textWidth('ab', 'Helvetica-Bold', 1000), 556 + 611);
    // Substituted characters are measured as printed: "北" is a '?'.
    assert.equal(textWidth('北', 'Helvetica', 1000), textWidth('?', 'Helvetica', 1000));
  });

  test('non-finite coordinates and bad tables are refused instead of writing a broken file', () => {
    const doc = new PdfDocument({ title: 't', creationDate: CREATED });
    assert.throws(() => doc.text(Number.NaN, 10, 'x'), RangeError);
    assert.throws(() => doc.table([], []), RangeError);
    assert.throws(() => doc.table([{ header: 'a', align: 'left', width: 0 }], []), RangeError);
    assert.throws(() => new PdfDocument({ title: 't', creationDate: new Date('nope') }), RangeError);
  });

  test('long cells wrap inside their column instead of overflowing or being cut', () => {
    const doc = new PdfDocument({ title: 't', creationDate: CREATED });
    const long = 'word '.repeat(60).trim();
    const unbroken = 'X'.repeat(200);
    doc.table(
      [
        { header: 'Narrow', align: 'left', width: 1 },
        { header: 'Wide', align: 'left', width: 3 },
      ],
      [[long, unbroken]],
    );
    const ops = textOps(assertWellFormed(doc.toBuffer())[0]!).filter((op) => op.size === 9);
    const narrowRight = MARGIN + (PAGE_WIDTH - 2 * MARGIN) / 4;
    const narrow = ops.filter((op) => op.x < narrowRight && op.text.startsWith('word'));
    assert.ok(narrow.length > 1, 'wrapped onto several lines');
    for (const op of narrow) assert.ok(op.x + textWidth(op.text, 'Helvetica', 9) <= narrowRight);
    assert.equal(narrow.map((op) => op.text).join(' '), long);
    const wide = ops.filter((op) => op.text.startsWith('X'));
    assert.ok(wide.length > 1);
    assert.equal(wide.map((op) => op.text).join(''), unbroken);
  });
});

describe('renderStatementPdf', () => {
  test('500 rows flow over several pages with header rows and "Page X of Y" on each', () => {
    const input = statement(500);
    const pdf = renderStatementPdf(input, { generatedAt: CREATED });
    const streams = assertWellFormed(pdf);
    const pages = pageCount(pdf);
    assert.ok(pages > 5, `expected several pages, got ${pages}`);
    assert.equal(streams.length, pages);

    const references: string[] = [];
    for (const [index, stream] of streams.entries()) {
      const texts = textOps(stream).map((op) => op.text);
      assert.ok(texts.includes(`Page ${index + 1} of ${pages}`), `page number on page ${index + 1}`);
      assert.ok(texts.includes('Generated 2024-01-02T03:04:05.000Z'));
      for (const header of ['Date', 'Reference', 'Description', 'Amount', 'Balance']) {
        assert.equal(
          texts.filter((text) => text === header).length,
          1,
          `${header} header on page ${index + 1}`,
        );
      }
      references.push(...texts.filter((text) => /^REF\d{5}$/.test(text)));
    }
    assert.deepEqual(
      references,
      input.rows.map((row) => row[1]),
      'every row once, in order',
    );
    const last = textOps(streams.at(-1)!).map((op) => op.text);
    assert.ok(last.includes('Closing balance: KES 2,500.00'));
  });

  test('right-aligned amounts end at the same x whatever their width', () => {
    const pdf = renderStatementPdf(statement(40), { generatedAt: CREATED });
    const ops = textOps(assertWellFormed(pdf)[0]!);
    const rightEdges = (pattern: RegExp) => {
      const matching = ops.filter((op) => pattern.test(op.text));
      assert.ok(matching.length > 10);
      return [...new Set(matching.map((op) => Math.round(op.x + textWidth(op.text, 'Helvetica', op.size))))];
    };
    // Amount is the fourth of five columns (widths 70+80+165+90 of 495 points); 4 points of cell padding.
    assert.deepEqual(rightEdges(/^-?\d+(,000\.50|\.00)$/), [MARGIN + 405 - 4]);
    assert.deepEqual(rightEdges(/^\d{4},000\.00$/), [PAGE_WIDTH - MARGIN - 4]);
  });

  test('thousands of rows render in reasonable time', () => {
    const started = performance.now();
    const pdf = renderStatementPdf(statement(5000), { generatedAt: CREATED });
    const elapsed = performance.now() - started;
    assertWellFormed(pdf);
    assert.ok(pageCount(pdf) > 50);
    assert.ok(elapsed < 5000, `took ${elapsed} ms`);
  });

  test('an empty statement still has its summary and a single page', () => {
    const pdf = renderStatementPdf({ ...statement(0), rows: [] }, { generatedAt: CREATED });
    const [content] = assertWellFormed(pdf);
    assert.equal(pageCount(pdf), 1);
    const texts = textOps(content!).map((op) => op.text);
    for (const text of [
      'Opening balance',
      'KES 1,000.00',
      'No transactions in this period.',
      'Page 1 of 1',
    ]) {
      assert.ok(texts.includes(text), text);
    }
  });
});

describe('renderReceiptPdf', () => {
  test('lays out the header, label/value lines and the generated footer', () => {
    const pdf = renderReceiptPdf(
      {
        institution: 'CodeForge Bank',
        title: 'Transfer receipt',
        reference: 'TX(2024)\\01',
        status: 'COMPLETED',
        occurredAt: new Date('2024-01-01T10:00:00.000Z'),
        lines: [
          { label: 'Amount', value: 'KES 1,250.00' },
          { label: 'Recipient', value: 'Zoë Wanjiru — 北京' },
        ],
      },
      { generatedAt: CREATED },
    );
    const [content] = assertWellFormed(pdf);
    assert.equal(pageCount(pdf), 1);
    const texts = textOps(content!).map((op) => op.text);
    for (const text of [
      'CodeForge Bank',
      'Transfer receipt',
      'Reference',
      'TX(2024)\\01',
      'COMPLETED',
      '2024-01-01T10:00:00.000Z',
      'Amount',
      'KES 1,250.00',
      'Zoë Wanjiru — ??',
      'Generated 2024-01-02T03:04:05.000Z',
      'Page 1 of 1',
    ]) {
      assert.ok(texts.includes(text), `${text} in ${JSON.stringify(texts)}`);
    }
  });
});
