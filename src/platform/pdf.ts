/**
 * Receipts and statements as PDF, written with pdfkit and an embedded DejaVu Sans (regular and bold, subset to the
 * glyphs used), so every name prints as it is spelled — "Wanjikũ", "Nguyễn", "Ωμέγα", "Алия" — instead of the
 * standard-14 fonts' Latin-1 (docs/adr/0017-pdf-receipts-with-pdfkit-and-dejavu.md). Each document carries the
 * institution's letterhead (name, logo, registration line); a receipt also carries a QR code of its verification
 * URL. Callers format amounts and times; these functions only lay them out.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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
const RULE = '#bbbbbb';

/** The letterhead printed on every receipt and statement (settings `institution.*`). */
export interface Institution {
  name: string;
  /** e.g. "Licensed by the Central Bank of Kenya · Reg. No. PVT-123"; empty for none. */
  registration: string;
  /** A PNG or JPEG image, or null for none. */
  logo: Buffer | null;
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
    // Start in DejaVu: the default (Helvetica) would load its metrics file for every document, unused.
    font: parsed.regular as unknown as string,
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
function finish(doc: Doc, footer: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  drawFooters(doc, footer);
  doc.end();
  return done;
}

/** "Page X of Y" and the footer note on every page, written once all pages exist. */
function drawFooters(doc: Doc, note: string): void {
  const range = doc.bufferedPageRange();
  for (let index = range.start; index < range.start + range.count; index += 1) {
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
  if (institution.logo) {
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
  doc.y = Math.max(doc.y, institution.logo && textLeft !== left ? top + 56 : doc.y) + 10;
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
  options: { header: boolean },
): void {
  const font = options.header ? BOLD : REGULAR;
  const height = rowHeight(doc, layout, cells, font);
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
function table(doc: Doc, columns: TableColumn[], rows: readonly (readonly string[])[], fontSize = 8.5): void {
  const layout = layoutColumns(doc, columns);
  const headers = columns.map((column) => column.header);
  doc.fontSize(fontSize);
  const first = rows[0];
  // Keep the header with the first row instead of alone at the bottom of a page.
  const needed = rowHeight(doc, layout, headers, BOLD) + (first ? rowHeight(doc, layout, first, REGULAR) : 0);
  if (doc.y + needed > bottom(doc)) doc.addPage();
  drawRow(doc, layout, headers, { header: true });
  for (const row of rows) {
    doc.fontSize(fontSize);
    if (doc.y + rowHeight(doc, layout, row, REGULAR) > bottom(doc)) {
      doc.addPage();
      doc.fontSize(fontSize);
      drawRow(doc, layout, headers, { header: true });
    }
    doc.fontSize(fontSize);
    drawRow(doc, layout, row, { header: false });
  }
}

export async function renderStatementPdf(statement: StatementPdfInput): Promise<Buffer> {
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
  table(doc, statement.columns, statement.rows);
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
