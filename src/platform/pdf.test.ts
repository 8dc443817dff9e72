/**
 * The PDF writer, checked by reading its output back with a real PDF parser (Mozilla's pdf.js): the text a reader
 * extracts, the embedded font, the pages, the logo image and the QR code's squares.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import { OPS } from 'pdfjs-dist/legacy/build/pdf.mjs';
import QRCode from 'qrcode';
import { decodeQr, readPdf } from '../../test/helpers/pdf.ts';
import {
  formatLocalTime,
  type Institution,
  LOGO_MAX_SIDE,
  localIsoTime,
  logoProblem,
  renderReceiptPdf,
  renderStatementPdf,
  type StatementPdfInput,
} from './pdf.ts';

const GENERATED = new Date('2026-12-06T22:56:00.000Z');
const NAMES = ['Wanjikũ Kamau', 'Nguyễn Thị Minh', 'Ωμέγα Παπαδοπούλου', 'Алия Нурланова'];

async function institution(withLogo: boolean): Promise<Institution> {
  return {
    name: 'Benki ya Wananchi Ltd',
    registration: 'Licensed by the Central Bank of Kenya · Reg. No. PVT-2026-0042',
    logo: withLogo ? await QRCode.toBuffer('logo', { type: 'png', width: 64 }) : null,
  };
}

describe('PDF receipts and statements (pdfkit, DejaVu Sans)', () => {
  test('a receipt prints names beyond Latin-1, fee and excise duty lines, biller and merchant, letterhead and QR', async () => {
    const pdf = await renderReceiptPdf({
      institution: await institution(true),
      title: 'Transaction receipt',
      reference: 'AB23CD45EF',
      status: 'completed',
      occurredAt: formatLocalTime(new Date('2026-12-06T22:55:00Z'), 'Africa/Nairobi'),
      lines: [
        { label: 'From', value: `${NAMES[0]} (700000000001)` },
        { label: 'To', value: `${NAMES[1]} (700000000002)` },
        { label: 'Paid to', value: `${NAMES[2]} Duka` },
        { label: 'Biller', value: 'Kenya Power Prepaid' },
        { label: 'Meter / account number', value: '37150012345' },
        { label: 'Amount', value: 'KES 1,000.00' },
        { label: 'Fee', value: 'KES 10.00' },
        { label: 'Excise duty', value: 'KES 1.50' },
        { label: 'Total', value: 'KES 1,011.50' },
        { label: 'Narration', value: NAMES[3]! },
      ],
      verification: {
        url: 'https://bank.example/verify/receipt/AB23CD45EF',
        caption: 'Scan to check this receipt',
      },
      footer: 'Generated 7 Dec 2026',
      generatedAt: GENERATED,
    });
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    const read = await readPdf(pdf);
    assert.equal(read.pages.length, 1);
    const text = read.pages[0]!;
    for (const name of NAMES) assert.ok(text.includes(name), `${name} in ${text}`);
    for (const expected of [
      'Benki ya Wananchi Ltd',
      'Licensed by the Central Bank of Kenya · Reg. No. PVT-2026-0042',
      'Transaction receipt',
      'AB23CD45EF',
      'Fee',
      'KES 10.00',
      'Excise duty',
      'KES 1.50',
      'Kenya Power Prepaid',
      '37150012345',
      '7 Dec 2026, 01:55',
      'https://bank.example/verify/receipt/AB23CD45EF',
      'Page 1 of 1',
    ])
      assert.ok(text.includes(expected), `"${expected}" in ${text}`);
    // The font is embedded (a subset of DejaVu Sans), not a standard-14 font that cannot show "ũ" or "Ω".
    const raw = pdf.toString('latin1');
    assert.match(raw, /\/BaseFont \/[A-Z]{6}\+DejaVuSans\b/);
    assert.match(raw, /\/FontFile2/);
    assert.doesNotMatch(raw, /\/BaseFont \/Helvetica/);
    const ops = read.operators[0]!;
    assert.ok(ops.includes(OPS.paintImageXObject), 'the logo is drawn');
    assert.equal(decodeQr(read.paths[0]!), 'https://bank.example/verify/receipt/AB23CD45EF');
  });

  test('without a logo or registration line the letterhead is the name alone; no QR when none is asked', async () => {
    const pdf = await renderReceiptPdf({
      institution: { name: 'Ωμέγα Microfinance', registration: '', logo: null },
      title: 'Transaction receipt',
      reference: 'ZZ23CD45EF',
      status: 'failed',
      occurredAt: '1 Jan 2026, 00:00 UTC',
      lines: [],
      verification: null,
      footer: '',
      generatedAt: GENERATED,
    });
    const read = await readPdf(pdf);
    assert.ok(read.pages[0]!.includes('Ωμέγα Microfinance'));
    assert.ok(!read.operators[0]!.includes(OPS.paintImageXObject));
    assert.equal(decodeQr(read.paths[0]!), null);
  });

  test('a long statement flows over pages with the header row again and "Page X of Y" on each', async () => {
    const rows = Array.from({ length: 140 }, (_, index) => [
      `6 Dec 2026, 10:${String(index % 60).padStart(2, '0')}`,
      `REF${String(index).padStart(7, '0')}`,
      index % 3 === 0 ? 'Fee' : index % 3 === 1 ? 'Excise duty' : `Transfer to ${NAMES[index % 4]}`,
      `-${index}.00`,
      `${1000 - index}.00`,
    ]);
    const input: StatementPdfInput = {
      institution: await institution(false),
      title: 'Wallet statement',
      accountLabel: 'Wallet 700000000001 (KES)',
      holder: NAMES[0]!,
      period: '1 Dec 2026 to 6 Dec 2026',
      timeZone: 'Africa/Nairobi',
      openingBalance: 'KES 1,000.00',
      closingBalance: 'KES 861.00',
      columns: [
        { header: 'Date', align: 'left', width: 20 },
        { header: 'Reference', align: 'left', width: 16 },
        { header: 'Details', align: 'left', width: 32 },
        { header: 'Amount', align: 'right', width: 16 },
        { header: 'Balance', align: 'right', width: 16 },
      ],
      rows,
      footer: 'Generated 7 Dec 2026, 01:56 GMT+3',
      generatedAt: GENERATED,
    };
    const read = await readPdf(await renderStatementPdf(input));
    assert.ok(read.pages.length >= 3, `pages: ${read.pages.length}`);
    for (const [index, page] of read.pages.entries()) {
      assert.ok(page.includes(`Page ${index + 1} of ${read.pages.length}`), `footer of page ${index + 1}`);
      assert.ok(page.includes('Reference') && page.includes('Balance'), `header row on page ${index + 1}`);
    }
    const all = read.pages.join('\n');
    for (const row of rows) assert.ok(all.includes(row[1]!), `${row[1]} printed`);
    for (const name of NAMES) assert.ok(all.includes(name), name);
    assert.ok(all.includes('Excise duty') && all.includes('Fee'));
    assert.ok(read.pages.at(-1)!.includes('Closing balance: KES 861.00'));
  });

  test('an empty statement says so', async () => {
    const read = await readPdf(
      await renderStatementPdf({
        institution: await institution(false),
        title: 'Wallet statement',
        accountLabel: 'Wallet 700000000001 (KES)',
        holder: 'A',
        period: 'p',
        timeZone: 'UTC',
        openingBalance: 'KES 0.00',
        closingBalance: 'KES 0.00',
        columns: [{ header: 'Date', align: 'left', width: 1 }],
        rows: [],
        footer: '',
        generatedAt: GENERATED,
      }),
    );
    assert.ok(read.pages[0]!.includes('No transactions in this period.'));
  });

  test('times are written in the given zone, with its offset', () => {
    const at = new Date('2026-12-06T22:55:03.120Z');
    assert.equal(localIsoTime(at, 'Africa/Nairobi'), '2026-12-07T01:55:03.120+03:00');
    assert.equal(localIsoTime(at, 'UTC'), '2026-12-06T22:55:03.120+00:00');
    assert.equal(localIsoTime(at, 'America/St_Johns'), '2026-12-06T19:25:03.120-03:30');
    assert.equal(localIsoTime(at, 'Asia/Kathmandu'), '2026-12-07T04:40:03.120+05:45');
    assert.match(formatLocalTime(at, 'Africa/Nairobi'), /^7 Dec 2026, 01:55 GMT\+3$/);
    assert.match(formatLocalTime(at, 'Europe/London'), /^6 Dec 2026, 22:55 GMT$/);
    assert.equal(formatLocalTime(at, 'Africa/Nairobi', { zoneName: false }), '7 Dec 2026, 01:55');
    assert.throws(() => formatLocalTime(at, 'Mars/Olympus'), RangeError);
    assert.throws(() => localIsoTime(new Date(Number.NaN), 'UTC'), RangeError);
  });

  test('a logo pdfkit cannot embed safely is left out, not a crash or a hung process', async () => {
    const chunk = (type: string, data: Buffer) => {
      const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
      const sized = Buffer.alloc(4);
      sized.writeUInt32BE(data.length);
      const sum = Buffer.alloc(4);
      sum.writeUInt32BE(crc32(body));
      return Buffer.concat([sized, body, sum]);
    };
    /** An RGBA PNG (pdfkit inflates those in a zlib callback to split the alpha channel off). */
    const png = (width: number, height: number, data: Buffer) => {
      const header = Buffer.alloc(13);
      header.writeUInt32BE(width, 0);
      header.writeUInt32BE(height, 4);
      header[8] = 8;
      header[9] = 6;
      return Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk('IHDR', header),
        chunk('IDAT', data),
        chunk('IEND', Buffer.alloc(0)),
      ]);
    };
    const good = png(2, 2, deflateSync(Buffer.alloc(2 * (1 + 2 * 4))));
    const hostile = {
      // Its data is not zlib: pdfkit's inflate callback threw, an uncaught exception that ended the process.
      'corrupt data': png(4, 4, Buffer.from('not zlib data at all')),
      // A 60000 × 60000 header over ten bytes: pdfkit allocated 14 GB and looped over it, holding the event loop.
      'huge header': png(60_000, 60_000, deflateSync(Buffer.alloc(10))),
      // ~60 KB (an 83 KB data URI) inflating to 64 MB: seconds and hundreds of MB for every receipt.
      'decompression bomb': png(4000, 4000, deflateSync(Buffer.alloc(4000 * (1 + 4000 * 4)), { level: 9 })),
      'more data than its size': png(2, 2, deflateSync(Buffer.alloc(100))),
      'an SVG': Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
      'a truncated JPEG': Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00]),
    };
    assert.equal(logoProblem(good), null);
    assert.equal(logoProblem(await QRCode.toBuffer('logo', { type: 'png', width: 64 })), null);
    const side = LOGO_MAX_SIDE + 1;
    assert.match(logoProblem(png(side, 1, deflateSync(Buffer.alloc(1 + side * 4)))) ?? '', /at most 1024/);
    for (const [name, logo] of Object.entries(hostile)) {
      assert.ok(logoProblem(logo), name);
      const started = Date.now();
      const pdf = await renderReceiptPdf({
        institution: { name: 'Benki', registration: '', logo },
        title: 'Transaction receipt',
        reference: 'AB23CD45EF',
        status: 'completed',
        occurredAt: '1 Jan 2026, 00:00 UTC',
        lines: [],
        verification: null,
        footer: '',
        generatedAt: GENERATED,
      });
      assert.ok(Date.now() - started < 2000, `${name}: ${Date.now() - started} ms`);
      const read = await readPdf(pdf);
      assert.ok(read.pages[0]!.includes('Benki'), name);
      assert.ok(!read.operators[0]!.includes(OPS.paintImageXObject), `${name}: no image drawn`);
    }
  });

  /** A statement of `count` lines (an export holds up to 10,000). */
  async function longStatement(count: number): Promise<StatementPdfInput> {
    return {
      institution: await institution(false),
      title: 'Wallet statement',
      accountLabel: 'Wallet 700000000001 (KES)',
      holder: NAMES[0]!,
      period: '1 Dec 2026 to 6 Dec 2026',
      timeZone: 'Africa/Nairobi',
      openingBalance: 'KES 0.00',
      closingBalance: 'KES 0.00',
      columns: [
        { header: 'Date', align: 'left', width: 20 },
        { header: 'Reference', align: 'left', width: 16 },
        { header: 'Details', align: 'left', width: 32 },
        { header: 'Amount', align: 'right', width: 16 },
        { header: 'Balance', align: 'right', width: 16 },
      ],
      rows: Array.from({ length: count }, (_, index) => [
        '6 Dec 2026, 10:00',
        `REF${String(index).padStart(7, '0')}`,
        `Transfer to ${NAMES[index % 4]}`,
        `-${index}.00`,
        `${index}.00`,
      ]),
      footer: '',
      generatedAt: GENERATED,
    };
  }

  test('a long statement leaves the event loop free while it is written (other requests go on)', async () => {
    await renderStatementPdf(await longStatement(1)); // fonts parsed once per process, before timing
    const input = await longStatement(1200);
    let running = true;
    let turns = 0;
    let last = performance.now();
    let longest = 0;
    const turn = () => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      turns += 1;
      if (running) setImmediate(turn);
    };
    const started = performance.now();
    setImmediate(turn);
    const pdf = await renderStatementPdf(input);
    running = false;
    const total = performance.now() - started;
    // Written in one go, the loop turned no time at all until the whole document was done.
    assert.ok(turns >= 10, `event loop turns while writing: ${turns}`);
    assert.ok(longest < total / 3, `longest wait ${Math.round(longest)} ms of ${Math.round(total)} ms`);
    const read = await readPdf(pdf);
    assert.ok(read.pages.join('\n').includes('REF0001199'), 'the last line is printed');
  });

  test('statements are written one at a time: the first of two finishes before the second starts its pages', async () => {
    await renderStatementPdf(await longStatement(1));
    const [first, second] = [await longStatement(500), await longStatement(500)];
    const started = performance.now();
    const finished: number[] = [];
    await Promise.all(
      [first, second].map((input, index) =>
        renderStatementPdf(input).then(() => {
          finished[index] = performance.now() - started;
        }),
      ),
    );
    // Interleaved, both would end together near the end (each holding its pages in memory all along).
    assert.ok(finished[0]! < finished[1]! * 0.75, `finished at ${finished.map(Math.round).join(' and ')} ms`);
  });
});
