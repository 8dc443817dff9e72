/**
 * Receipts and statements as PDF, written with pdfkit and an embedded DejaVu Sans (regular and bold, subset to the
 * glyphs used), so every name prints as it is spelled — "Wanjikũ", "Nguyễn", "Ωμέγα", "Алия" — instead of the
 * standard-14 fonts' Latin-1 (docs/adr/0017-pdf-receipts-with-pdfkit-and-dejavu.md). Each document carries the
 * institution's letterhead (name, logo, registration line); a receipt also carries a QR code of its verification
 * URL. Callers format amounts and times; these functions only lay them out.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { inflateSync } from 'node:zlib';
import * as fontkit from 'fontkit';
import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';

const require = createRequire(import.meta.url);

type ParsedFont = ReturnType<typeof fontkit.create>;

/**
 * Read and parsed once per process (~1.4 MB of TrueType), then subset into each document. Handing pdfkit the parsed
 * font instead of the file keeps what fontkit learns of the font (its kerning and substitution tables) between
 * documents: a receipt took ~200 ms when each document parsed the file again, ~30 ms with the fonts kept.
 */
let fonts: { regular: ParsedFont; bold: ParsedFont } | null = null;
function parsedFonts(): { regular: ParsedFont; bold: ParsedFont } {
  const load = (file: string) =>
    fontkit.create(readFileSync(require.resolve(`dejavu-fonts-ttf/ttf/${file}`)));
  fonts ??= { regular: load('DejaVuSans.ttf'), bold: load('DejaVuSans-Bold.ttf') };
  return fonts;
}

const REGULAR = 'Body';
const BOLD = 'Body-Bold';
const MARGIN = 50;
const FOOTER_SPACE = 40;
const GREY = '#555555';
/**
 * Rows (and footers of pages) written between two turns of the event loop. pdfkit writes synchronously, ~1-2 ms a
 * row: a 10,000-line statement written in one go held the process for 10-25 s, every other request waiting.
 */
const ROWS_PER_TURN = 100;
const PAGES_PER_TURN = 20;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const RULE = '#bbbbbb';

/** The letterhead printed on every receipt and statement (settings `institution.*`). */
export interface Institution {
  name: string;
  /** e.g. "Licensed by the Central Bank of Kenya · Reg. No. PVT-123"; empty for none. */
  registration: string;
  /** A PNG or JPEG image, or null for none; one `logoProblem` refuses is left out. */
  logo: Buffer | null;
}

/** A logo prints 56 pt wide: 1024 pixels a side is ample, and bounds what a PNG decodes to (4 MiB at RGBA). */
export const LOGO_MAX_SIDE = 1024;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Channels per PNG colour type, and the bit depths each allows (PNG spec, table 11.1). */
const PNG_COLOUR_TYPES: Record<number, { channels: number; depths: number[] }> = {
  0: { channels: 1, depths: [1, 2, 4, 8, 16] },
  2: { channels: 3, depths: [8, 16] },
  3: { channels: 1, depths: [1, 2, 4, 8] },
  4: { channels: 2, depths: [8, 16] },
  6: { channels: 4, depths: [8, 16] },
};
/** Adam7 passes: x0, y0, dx, dy. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;
/** The start-of-frame markers pdfkit looks for (where a JPEG's size and components are). */
const JPEG_SOF = new Set([
  0xffc0, 0xffc1, 0xffc2, 0xffc3, 0xffc5, 0xffc6, 0xffc7, 0xffc8, 0xffc9, 0xffca, 0xffcb, 0xffcc, 0xffcd,
  0xffce, 0xffcf,
]);

function sideProblem(width: number, height: number): string | null {
  if (!(width >= 1 && height >= 1)) return 'has no width or height';
  if (width > LOGO_MAX_SIDE || height > LOGO_MAX_SIDE)
    return `is ${width}×${height} pixels; at most ${LOGO_MAX_SIDE}×${LOGO_MAX_SIDE} is allowed`;
  return null;
}

/**
 * Reads a PNG as pdfkit will: its header, and its image data inflated to exactly the size the header implies.
 * pdfkit inflates a PNG with transparency in a zlib callback that throws on bad data (an uncaught exception: the
 * process exits) and allocates width × height × channels from the header before it looks at the data (a 60000 ×
 * 60000 header with a few bytes of data held the event loop for good).
 */
function pngProblem(image: Buffer): string | null {
  let offset = PNG_SIGNATURE.length;
  let header: {
    width: number;
    height: number;
    depth: number;
    colourType: number;
    interlaced: boolean;
  } | null = null;
  let palette = false;
  const data: Buffer[] = [];
  while (offset + 12 <= image.length) {
    const length = image.readUInt32BE(offset);
    const type = image.toString('latin1', offset + 4, offset + 8);
    const start = offset + 8;
    if (start + length + 4 > image.length) return 'is truncated';
    const body = image.subarray(start, start + length);
    if (header === null && type !== 'IHDR') return 'does not start with its header';
    if (type === 'IHDR') {
      if (header !== null || length !== 13) return 'has a broken header';
      header = {
        width: body.readUInt32BE(0),
        height: body.readUInt32BE(4),
        depth: body[8]!,
        colourType: body[9]!,
        interlaced: body[12] === 1,
      };
      if (body[10] !== 0 || body[11] !== 0 || body[12]! > 1) return 'has a broken header';
    } else if (type === 'PLTE') palette = true;
    else if (type === 'IDAT') data.push(body);
    else if (type === 'IEND') break;
    offset = start + length + 4;
  }
  if (header === null) return 'is truncated';
  const colour = PNG_COLOUR_TYPES[header.colourType];
  if (!colour?.depths.includes(header.depth)) return 'has an unknown colour type or bit depth';
  if (header.colourType === 3 && !palette) return 'has no palette';
  const side = sideProblem(header.width, header.height);
  if (side) return side;
  if (data.length === 0) return 'has no image data';
  const bits = colour.channels * header.depth;
  const rows = (width: number, height: number) =>
    width > 0 && height > 0 ? height * (1 + Math.ceil((width * bits) / 8)) : 0;
  const expected = header.interlaced
    ? ADAM7.reduce(
        (sum, [x0, y0, dx, dy]) =>
          sum + rows(Math.ceil((header.width - x0) / dx), Math.ceil((header.height - y0) / dy)),
        0,
      )
    : rows(header.width, header.height);
  try {
    // One byte over the expected size proves there is more: inflating stops there, whatever the data holds.
    const pixels = inflateSync(Buffer.concat(data), { maxOutputLength: expected + 1 });
    if (pixels.length !== expected) return 'has image data of the wrong size';
  } catch {
    return 'has image data that cannot be read';
  }
  return null;
}

/** Finds the frame header where pdfkit does and checks what pdfkit copies from it into the document. */
function jpegProblem(image: Buffer): string | null {
  let position = 2;
  let marker = 0;
  while (position < image.length) {
    while (position < image.length && image[position] !== 0xff) position += 1;
    if (position + 4 > image.length) return 'is truncated';
    marker = image.readUInt16BE(position);
    position += 2;
    if (JPEG_SOF.has(marker)) break;
    position += image.readUInt16BE(position);
  }
  if (!JPEG_SOF.has(marker)) return 'has no frame header';
  if (position + 8 > image.length) return 'is truncated';
  const bits = image[position + 2];
  const components = image[position + 7]!;
  if (bits !== 8 || ![1, 3, 4].includes(components)) return 'has an unsupported colour format';
  return sideProblem(image.readUInt16BE(position + 5), image.readUInt16BE(position + 3));
}

/**
 * Why an image cannot be the letterhead logo (null when it can): a PNG or a JPEG (by its bytes, whatever the data
 * URI said) that pdfkit can embed safely, at most LOGO_MAX_SIDE pixels a side. Settings refuse such a logo when it
 * is set; documents leave out one stored before.
 */
export function logoProblem(image: Buffer): string | null {
  if (image.length >= 8 && image.subarray(0, 8).equals(PNG_SIGNATURE)) return pngProblem(image);
  if (image.length >= 3 && image[0] === 0xff && image[1] === 0xd8 && image[2] === 0xff)
    return jpegProblem(image);
  return 'is not a PNG or JPEG image';
}

export interface TableColumn {
  header: string;
  align: 'left' | 'right';
  /** Relative width: columns are scaled to the printable width. */
  width: number;
}

export interface ReceiptPdfInput {
  institution: Institution;
  title: string;
  reference: string;
  status: string;
  /** Already in the customer's time zone, e.g. "7 Dec 2026, 01:55 (Africa/Nairobi)". */
  occurredAt: string;
  lines: Array<{ label: string; value: string }>;
  /** The QR code's content (the verification URL) and the text printed under it; null for no code. */
  verification: { url: string; caption: string } | null;
  /** Footer text, e.g. "Generated 7 Dec 2026, 01:56 (Africa/Nairobi)". */
  footer: string;
  /** PDF /CreationDate. */
  generatedAt: Date;
}

export interface StatementPdfInput {
  institution: Institution;
  title: string;
  accountLabel: string;
  holder: string;
  period: string;
  timeZone: string;
  openingBalance: string;
  closingBalance: string;
  columns: TableColumn[];
  rows: string[][];
  footer: string;
  generatedAt: Date;
}

type Doc = PDFKit.PDFDocument;

function newDocument(title: string, generatedAt: Date): Doc {
  if (Number.isNaN(generatedAt.getTime())) throw new RangeError('generatedAt is an invalid Date');
  const parsed = parsedFonts();
  const doc = new PDFDocument({
    size: 'A4',
    // No default font: pdfkit's Helvetica would load its metrics file for every document, unused; and starting in
    // the DejaVu font object (unnamed, so never cached) made every later switch to the registered name open a new
    // embedded font and compare the two fonts' name tables as JSON — most of a long statement's time.
    font: null as unknown as string,
    margins: { top: MARGIN, left: MARGIN, right: MARGIN, bottom: MARGIN + FOOTER_SPACE / 2 },
    bufferPages: true,
    info: { Title: title, Producer: 'codeforge-suite (pdfkit)', CreationDate: generatedAt },
    lang: 'en',
    displayTitle: true,
  });
  // pdfkit takes a fontkit font where its typings only name a path or bytes.
  doc.registerFont(REGULAR, parsed.regular as unknown as Buffer);
  doc.registerFont(BOLD, parsed.bold as unknown as Buffer);
  doc.font(REGULAR);
  return doc;
}

function contentWidth(doc: Doc): number {
  return doc.page.width - doc.page.margins.left - doc.page.margins.right;
}

function bottom(doc: Doc): number {
  return doc.page.height - doc.page.margins.bottom;
}

/** Collects the document's bytes: pdfkit streams them while it writes. */
async function finish(doc: Doc, footer: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  await drawFooters(doc, footer);
  doc.end();
  return done;
}

/** "Page X of Y" and the footer note on every page, written once all pages exist. */
async function drawFooters(doc: Doc, note: string): Promise<void> {
  const range = doc.bufferedPageRange();
  for (let index = range.start; index < range.start + range.count; index += 1) {
    if (index > range.start && (index - range.start) % PAGES_PER_TURN === 0) await nextTurn();
    doc.switchToPage(index);
    // Text below the bottom margin would otherwise open a new page.
    const margin = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const y = doc.page.height - MARGIN + 10;
    const left = doc.page.margins.left;
    const width = contentWidth(doc);
    doc
      .moveTo(left, y - 6)
      .lineTo(left + width, y - 6)
      .lineWidth(0.5)
      .strokeColor(RULE)
      .stroke();
    doc.font(REGULAR).fontSize(7.5).fillColor(GREY);
    doc.text(note, left, y, { width: width * 0.75, lineBreak: false, ellipsis: true });
    doc.text(`Page ${index - range.start + 1} of ${range.count}`, left, y, {
      width,
      align: 'right',
      lineBreak: false,
    });
    doc.page.margins.bottom = margin;
  }
  doc.fillColor('black');
}

/** Logo (when set) at the left, name and registration line beside it, the document title below, then a rule. */
function letterhead(doc: Doc, institution: Institution, title: string): void {
  const left = doc.page.margins.left;
  const top = doc.y;
  let textLeft = left;
  if (institution.logo && logoProblem(institution.logo) === null) {
    try {
      doc.image(institution.logo, left, top, { fit: [56, 56] });
      textLeft = left + 68;
    } catch {
      // A logo pdfkit cannot read (settings validate the data URI, not the image inside) is left out.
    }
  }
  const width = contentWidth(doc) - (textLeft - left);
  doc.font(BOLD).fontSize(16).fillColor('black').text(institution.name, textLeft, top, { width });
  if (institution.registration !== '')
    doc
      .font(REGULAR)
      .fontSize(8)
      .fillColor(GREY)
      .text(institution.registration, textLeft, doc.y + 2, { width });
  doc.y = Math.max(doc.y, textLeft !== left ? top + 56 : doc.y) + 10;
  doc
    .font(BOLD)
    .fontSize(12)
    .fillColor('#333333')
    .text(title, left, doc.y, { width: contentWidth(doc) });
  doc.y += 6;
  rule(doc);
  doc.y += 8;
  doc.fillColor('black');
}

function rule(doc: Doc, color = RULE, width = 0.75): void {
  const left = doc.page.margins.left;
  doc
    .moveTo(left, doc.y)
    .lineTo(left + contentWidth(doc), doc.y)
    .lineWidth(width)
    .strokeColor(color)
    .stroke();
}

/** Label/value pairs: bold labels in a narrow column, values wrapping beside them. */
function keyValues(doc: Doc, pairs: Array<{ label: string; value: string }>, fontSize = 10): void {
  const left = doc.page.margins.left;
  const labelWidth = contentWidth(doc) * 0.32;
  const valueWidth = contentWidth(doc) - labelWidth;
  for (const pair of pairs) {
    doc.fontSize(fontSize);
    const height = Math.max(
      doc.font(BOLD).heightOfString(pair.label, { width: labelWidth - 8 }),
      doc.font(REGULAR).heightOfString(pair.value, { width: valueWidth }),
    );
    if (doc.y + height > bottom(doc)) doc.addPage();
    const y = doc.y;
    doc.font(BOLD).text(pair.label, left, y, { width: labelWidth - 8 });
    doc.font(REGULAR).text(pair.value, left + labelWidth, y, { width: valueWidth });
    doc.y = y + height + 4;
  }
}

/** A QR code drawn as vector squares (sharp at any zoom, a few hundred bytes). */
function qrCode(doc: Doc, text: string, x: number, y: number, size: number): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const count = qr.modules.size;
  const quiet = 2;
  const cell = size / (count + 2 * quiet);
  doc.save();
  doc.rect(x, y, size, size).fill('white');
  for (let row = 0; row < count; row += 1)
    for (let column = 0; column < count; column += 1)
      if (qr.modules.get(row, column))
        doc.rect(x + (column + quiet) * cell, y + (row + quiet) * cell, cell, cell);
  doc.fill('black');
  doc.restore();
}

export async function renderReceiptPdf(receipt: ReceiptPdfInput): Promise<Buffer> {
  const doc = newDocument(`${receipt.title} ${receipt.reference}`, receipt.generatedAt);
  letterhead(doc, receipt.institution, receipt.title);
  keyValues(doc, [
    { label: 'Reference', value: receipt.reference },
    { label: 'Status', value: receipt.status },
    { label: 'Date', value: receipt.occurredAt },
    ...receipt.lines,
  ]);
  if (receipt.verification) {
    const size = 110;
    if (doc.y + size + 30 > bottom(doc)) doc.addPage();
    doc.y += 10;
    const left = doc.page.margins.left;
    const y = doc.y;
    qrCode(doc, receipt.verification.url, left, y, size);
    doc
      .font(REGULAR)
      .fontSize(8)
      .fillColor(GREY)
      .text(receipt.verification.caption, left + size + 14, y + 8, { width: contentWidth(doc) - size - 14 });
    doc
      .fontSize(7.5)
      .text(receipt.verification.url, left + size + 14, doc.y + 4, { width: contentWidth(doc) - size - 14 });
    doc.fillColor('black');
    doc.y = Math.max(doc.y, y + size);
  }
  return finish(doc, receipt.footer);
}

interface ColumnLayout {
  x: number;
  width: number;
  align: 'left' | 'right';
}

const CELL_PADDING = 3;

function layoutColumns(doc: Doc, columns: TableColumn[]): ColumnLayout[] {
  if (columns.length === 0) throw new RangeError('A table needs at least one column');
  const total = columns.reduce((sum, column) => {
    if (!(Number.isFinite(column.width) && column.width > 0))
      throw new RangeError('Column widths must be > 0');
    return sum + column.width;
  }, 0);
  let x = doc.page.margins.left;
  return columns.map((column) => {
    const width = (column.width / total) * contentWidth(doc);
    const cell = { x, width, align: column.align };
    x += width;
    return cell;
  });
}

function rowHeight(doc: Doc, layout: ColumnLayout[], cells: readonly string[], font: string): number {
  doc.font(font);
  return (
    Math.max(
      ...layout.map((column, index) =>
        doc.heightOfString(cells[index] ?? '', { width: column.width - 2 * CELL_PADDING }),
      ),
    ) +
    2 * CELL_PADDING
  );
}

function drawRow(
  doc: Doc,
  layout: ColumnLayout[],
  cells: readonly string[],
  options: { header: boolean; height?: number },
): void {
  const font = options.header ? BOLD : REGULAR;
  const height = options.height ?? rowHeight(doc, layout, cells, font);
  const top = doc.y;
  const left = doc.page.margins.left;
  if (options.header) doc.rect(left, top, contentWidth(doc), height).fill('#ececec');
  doc.fillColor('black').font(font);
  for (const [index, column] of layout.entries())
    doc.text(cells[index] ?? '', column.x + CELL_PADDING, top + CELL_PADDING, {
      width: column.width - 2 * CELL_PADDING,
      align: column.align,
    });
  doc.y = top + height;
  rule(doc, options.header ? '#777777' : '#dddddd', options.header ? 0.75 : 0.25);
}

/** Rows in columns; a row that does not fit goes to a new page, which gets the header row again. */
async function table(
  doc: Doc,
  columns: TableColumn[],
  rows: readonly (readonly string[])[],
  fontSize = 8.5,
): Promise<void> {
  const layout = layoutColumns(doc, columns);
  const headers = columns.map((column) => column.header);
  doc.fontSize(fontSize);
  const first = rows[0];
  // Keep the header with the first row instead of alone at the bottom of a page.
  const needed = rowHeight(doc, layout, headers, BOLD) + (first ? rowHeight(doc, layout, first, REGULAR) : 0);
  if (doc.y + needed > bottom(doc)) doc.addPage();
  drawRow(doc, layout, headers, { header: true });
  for (const [index, row] of rows.entries()) {
    if (index > 0 && index % ROWS_PER_TURN === 0) await nextTurn();
    doc.fontSize(fontSize);
    // Measured once: laying a row's text out is most of the time a statement takes.
    const height = rowHeight(doc, layout, row, REGULAR);
    if (doc.y + height > bottom(doc)) {
      doc.addPage();
      doc.fontSize(fontSize);
      drawRow(doc, layout, headers, { header: true });
    }
    doc.fontSize(fontSize);
    drawRow(doc, layout, row, { header: false, height });
  }
}

/** Statements are written one at a time per process: each holds its pages in memory until it ends (~30 KB a row). */
let statementQueue: Promise<unknown> = Promise.resolve();

function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const result = statementQueue.then(work, work);
  statementQueue = result.catch(() => undefined);
  return result;
}

export function renderStatementPdf(statement: StatementPdfInput): Promise<Buffer> {
  return oneAtATime(() => writeStatement(statement));
}

async function writeStatement(statement: StatementPdfInput): Promise<Buffer> {
  const doc = newDocument(
    `${statement.title} ${statement.accountLabel} ${statement.period}`,
    statement.generatedAt,
  );
  letterhead(doc, statement.institution, statement.title);
  keyValues(doc, [
    { label: 'Account holder', value: statement.holder },
    { label: 'Account', value: statement.accountLabel },
    { label: 'Period', value: statement.period },
    { label: 'Times shown in', value: statement.timeZone },
    { label: 'Opening balance', value: statement.openingBalance },
    { label: 'Closing balance', value: statement.closingBalance },
  ]);
  doc.y += 10;
  await table(doc, statement.columns, statement.rows);
  const left = doc.page.margins.left;
  if (statement.rows.length === 0) {
    doc.y += 6;
    doc.font(REGULAR).fontSize(9).fillColor(GREY).text('No transactions in this period.', left, doc.y);
    doc.fillColor('black');
  }
  doc.y += 8;
  if (doc.y + 20 > bottom(doc)) doc.addPage();
  doc
    .font(BOLD)
    .fontSize(10)
    .text(`Closing balance: ${statement.closingBalance}`, left, doc.y, {
      width: contentWidth(doc),
      align: 'right',
    });
  return finish(doc, statement.footer);
}

/**
 * A time as people read it in a zone: "7 Dec 2026, 01:55 GMT+3" (the zone's short name in en-GB, often its GMT
 * offset); without the zone name where the page already says which zone its times are in. Throws RangeError for
 * an unknown zone.
 */
export function formatLocalTime(date: Date, timeZone: string, options: { zoneName?: boolean } = {}): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('Invalid Date');
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    ...(options.zoneName === false ? {} : { timeZoneName: 'short' as const }),
  }).format(date);
}

/** ISO 8601 with the zone's offset at that instant: "2026-12-07T01:55:03.120+03:00" (machine-readable, local). */
export function localIsoTime(date: Date, timeZone: string): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('Invalid Date');
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      fractionalSecondDigits: 3,
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    })
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  );
  // "GMT+03:00", "GMT-05:30", or plain "GMT" for UTC.
  const offset = String(parts.timeZoneName).replace('GMT', '') || '+00:00';
  const time = `${parts.hour}:${parts.minute}:${parts.second}.${parts.fractionalSecond}`;
  return `${parts.year}-${parts.month}-${parts.day}T${time}${offset}`;
}
