/**
 * The PDF active-content filter (issue 14, F2): a byte pattern missed escaped names and compressed object streams;
 * the parser-based check finds them, and its parse is bounded in time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { PDFDocument, PDFName, PDFString } from '@cantoo/pdf-lib';
import { inspectDocument } from './documents.inspect.ts';
import { MAX_CONCURRENT_PDF_SCANS, pdfScansRunning } from './documents.pdf.ts';

/** A PDF with a classic cross-reference table whose offsets are right. */
function classicPdf(objects: string[], trailerExtra = ''): Buffer {
  let body = '%PDF-1.7\n';
  const offsets: number[] = [];
  objects.forEach((object, index) => {
    offsets.push(Buffer.byteLength(body, 'latin1'));
    body += `${index + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body, 'latin1');
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) body += `${String(offset).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R${trailerExtra} >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

const CATALOG = '<< /Type /Catalog /Pages 2 0 R >>';
const PAGES = '<< /Type /Pages /Kids [] /Count 0 >>';

/** An object stream (Flate) holding object 3 (or the given decoded bytes): the raw bytes show only compressed data. */
function objectStreamPdf(hidden: string | Buffer, extra = ''): Buffer {
  const header = '3 0 ';
  const content = typeof hidden === 'string' ? Buffer.from(header + hidden, 'latin1') : hidden;
  const compressed = deflateSync(content);
  const stream = Buffer.concat([
    Buffer.from(
      `<< /Type /ObjStm /N 1 /First ${header.length} /Filter /FlateDecode${extra} /Length ${compressed.length} >>\nstream\n`,
      'latin1',
    ),
    compressed,
    Buffer.from('\nendstream', 'latin1'),
  ]);
  const head = classicPdf([CATALOG, PAGES]).toString('latin1').split('xref\n')[0]!;
  const streamOffset = Buffer.byteLength(head, 'latin1');
  const tail = `\nendobj\ntrailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n${streamOffset}\n%%EOF\n`;
  return Buffer.concat([Buffer.from(`${head}4 0 obj\n`, 'latin1'), stream, Buffer.from(tail, 'latin1')]);
}

async function pdfLibDocument(withJavaScript: boolean): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage([200, 200]);
  if (withJavaScript) {
    const action = doc.context.obj({ S: PDFName.of('JavaScript'), JS: PDFString.of('app.alert(1)') });
    // Referenced under an innocent key: the action itself is packed into a compressed object stream.
    doc.catalog.set(PDFName.of('Extra'), doc.context.register(action));
  }
  return Buffer.from(await doc.save({ useObjectStreams: true }));
}

const refused = async (data: Buffer, reason: RegExp) => {
  const result = await inspectDocument(data);
  assert.equal(result.ok, false, 'the file is refused');
  if (!result.ok) assert.match(result.reason, reason);
};

describe('PDF inspection with a parser', () => {
  test('clean PDFs pass: a hand-written one and one written with object streams', async () => {
    const handWritten = await inspectDocument(classicPdf([CATALOG, PAGES]));
    assert.deepEqual(handWritten, { ok: true, mime: 'application/pdf', extension: 'pdf' });
    const packed = await inspectDocument(await pdfLibDocument(false));
    assert.equal(packed.ok, true);
    const inStream = await inspectDocument(objectStreamPdf('<< /Type /Annot /Subtype /Text >>'));
    assert.equal(inStream.ok, true);
  });

  test('names written with #xx escapes are decoded before the check', async () => {
    const escaped = classicPdf([
      '<< /Type /Catalog /Pages 2 0 R /Open#41ction 3 0 R >>',
      PAGES,
      '<< /S /J#61vaScript /J#53 (app.alert(1)) >>',
    ]);
    assert.doesNotMatch(escaped.toString('latin1'), /JavaScript|OpenAction/, 'the raw bytes hide the names');
    await refused(escaped, /active content \(\/(OpenAction|JavaScript|JS)\)/);
    await refused(
      classicPdf(['<< /Type /Catalog /Pages 2 0 R /Foo 3 0 R >>', PAGES, '<< /S /#4caunch /F (cmd.exe) >>']),
      /active content \(\/Launch\)/,
    );
    await refused(
      classicPdf(['<< /Type /Catalog /Pages 2 0 R /Names << /#45mbeddedFiles 3 0 R >> >>', PAGES, '<< >>']),
      /active content \(\/EmbeddedFiles\)/,
    );
  });

  test('active content inside a compressed object stream is found', async () => {
    const hidden = objectStreamPdf('<< /S /JavaScript /JS (app.alert(1)) >>');
    assert.doesNotMatch(hidden.toString('latin1'), /JavaScript/);
    await refused(hidden, /active content \(\/(JavaScript|JS)\)/);
    const packed = await pdfLibDocument(true);
    assert.doesNotMatch(packed.toString('latin1'), /JavaScript/, 'pdf-lib packed the action');
    await refused(packed, /active content/);
    for (const name of ['AA', 'RichMedia', 'XFA']) {
      await refused(objectStreamPdf(`<< /${name} << >> >>`), new RegExp(`\\(/${name}\\)`));
    }
  });

  test('encrypted and unreadable PDFs are refused', async () => {
    await refused(
      classicPdf([CATALOG, PAGES, '<< /Filter /Standard /V 1 /R 2 >>'], ' /Encrypt 3 0 R'),
      /encrypted/,
    );
    await refused(
      Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n'),
      /cannot be read/,
    );
  });

  test('an object stream the parser cannot read as a reader would is refused, not skipped', async () => {
    const active = '<< /S /JavaScript /JS (app.alert(1)) >>';
    // /N claims two objects but the stream holds one: the parser gave up on the stream and kept it as opaque bytes.
    const header = '3 0 ';
    const miscounted = objectStreamPdf(active).toString('latin1').replace('/N 1 /First', '/N 2 /First');
    await refused(Buffer.from(miscounted, 'latin1'), /cannot be read/);
    // A PNG predictor (what readers apply) that the parser ignores: it saw bytes interleaved with row tags.
    const raw = Buffer.from(
      header + active.padEnd(Math.ceil((header.length + active.length) / 8) * 8 - header.length),
    );
    const rows: Buffer[] = [];
    for (let at = 0; at < raw.length; at += 8) rows.push(Buffer.from([0]), raw.subarray(at, at + 8));
    const predicted = objectStreamPdf(Buffer.concat(rows), '/DecodeParms << /Predictor 12 /Columns 8 >>');
    assert.doesNotMatch(predicted.toString('latin1'), /JavaScript/);
    await refused(predicted, /cannot be (inspected|read)/);
  });

  test('a decompression bomb is refused at a bounded decoded size, not after the deadline', async () => {
    // 128 MiB of blanks after one object: about 130 kB compressed.
    const content = Buffer.alloc(128 * 1024 * 1024, 0x20);
    content.write('3 0 << /Type /Annot >>', 0, 'latin1');
    const bomb = objectStreamPdf(content);
    assert.ok(bomb.length < 1024 * 1024);
    const started = Date.now();
    await refused(bomb, /expands too much/);
    assert.ok(Date.now() - started < 5_000, 'refused well before the 10 s deadline');
  });

  test('uploads arriving together parse at most MAX_CONCURRENT_PDF_SCANS at a time, and all get their answer', async () => {
    const file = await pdfLibDocument(false);
    let most = 0;
    const sampler = setInterval(() => {
      most = Math.max(most, pdfScansRunning());
    }, 1);
    const results = await Promise.all(
      Array.from({ length: MAX_CONCURRENT_PDF_SCANS + 3 }, () => inspectDocument(file)),
    );
    clearInterval(sampler);
    assert.ok(results.every((result) => result.ok));
    assert.ok(
      most >= 1 && most <= MAX_CONCURRENT_PDF_SCANS,
      `at most ${MAX_CONCURRENT_PDF_SCANS}, saw ${most}`,
    );
    assert.equal(pdfScansRunning(), 0, 'every slot is given back');
  });

  test('the parse is bounded in time: past the deadline the file is refused', async () => {
    const result = await inspectDocument(await pdfLibDocument(false), { timeoutMs: 1, maxHeapMb: 64 });
    assert.deepEqual(result, { ok: false, reason: 'the PDF took too long to inspect' });
  });
});
