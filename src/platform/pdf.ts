/**
 * A small, dependency-free PDF 1.4 writer for receipts and statements: A4 pages, the standard-14 fonts Helvetica
 * and Helvetica-Bold in WinAnsiEncoding (every reader has them, so nothing is embedded and files stay small), text,
 * rules and a table that flows onto new pages with its header repeated and "Page X of Y" in every footer.
 *
 * Positions are in points with y measured DOWN from the top edge (the way a page is read and laid out); the
 * conversion to PDF's bottom-up space happens only where operators are written. Content streams are left
 * uncompressed: statements are small, and tests and auditors can read them as they are.
 */
import { createHash } from 'node:crypto';

export const PAGE_WIDTH = 595;
export const PAGE_HEIGHT = 842;
export const MARGIN = 50;
/** Flowing content stops here so it never runs into the footer. */
const BODY_BOTTOM = PAGE_HEIGHT - MARGIN;
const FOOTER_RULE = PAGE_HEIGHT - 40;
const FOOTER_BASELINE = PAGE_HEIGHT - 28;
const FOOTER_SIZE = 8;
const CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN;

export type PdfFont = 'Helvetica' | 'Helvetica-Bold';
export type Align = 'left' | 'right';

const FONT_RESOURCE: Record<PdfFont, string> = { Helvetica: 'F1', 'Helvetica-Bold': 'F2' };

/*
 * Advance widths (1/1000 em) of WinAnsi codes 32..255, from Adobe's Helvetica and Helvetica-Bold AFM files.
 * Codes WinAnsi leaves undefined (127, 129, 141, 143, 144, 157) are 0: the encoder never produces them.
 */
const HELVETICA_WIDTHS = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556,
  556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278,
  500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
  556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500,
  278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 0, 556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000,
  667, 333, 1000, 0, 611, 0, 0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667,
  278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333, 400, 584, 333, 333, 333,
  578, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611, 667, 667, 667, 667, 667, 667, 1000, 722, 667, 667,
  667, 667, 278, 278, 278, 278, 722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667,
  611, 556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, 556, 556, 556, 556,
  556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
];
const HELVETICA_BOLD_WIDTHS = [
  278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556,
  556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278,
  556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584,
  556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556,
  333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 0, 556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000,
  667, 333, 1000, 0, 611, 0, 0, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667,
  278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333, 400, 584, 333, 333, 333,
  611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611, 722, 722, 722, 722, 722, 722, 1000, 722, 667, 667,
  667, 667, 278, 278, 278, 278, 722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667,
  611, 556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278, 611, 611, 611, 611,
  611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,
];
const WIDTHS: Record<PdfFont, readonly number[]> = {
  Helvetica: HELVETICA_WIDTHS,
  'Helvetica-Bold': HELVETICA_BOLD_WIDTHS,
};

/** WinAnsi is Latin-1 except at 0x80..0x9F, where it places these (Windows-1252) characters instead of controls. */
const WIN_ANSI_HIGH = new Map<number, number>([
  [0x20ac, 0x80],
  [0x201a, 0x82],
  [0x0192, 0x83],
  [0x201e, 0x84],
  [0x2026, 0x85],
  [0x2020, 0x86],
  [0x2021, 0x87],
  [0x02c6, 0x88],
  [0x2030, 0x89],
  [0x0160, 0x8a],
  [0x2039, 0x8b],
  [0x0152, 0x8c],
  [0x017d, 0x8e],
  [0x2018, 0x91],
  [0x2019, 0x92],
  [0x201c, 0x93],
  [0x201d, 0x94],
  [0x2022, 0x95],
  [0x2013, 0x96],
  [0x2014, 0x97],
  [0x02dc, 0x98],
  [0x2122, 0x99],
  [0x0161, 0x9a],
  [0x203a, 0x9b],
  [0x0153, 0x9c],
  [0x017e, 0x9e],
  [0x0178, 0x9f],
]);
/** Dashes and primes that have no decomposition but an obvious stand-in; a minus must not print as '?'. */
const LOOKALIKES = new Map<number, string>([
  [0x2010, '-'],
  [0x2011, '-'],
  [0x2012, '-'],
  [0x2212, '-'],
  [0x2032, "'"],
  [0x2033, '"'],
  [0x2044, '/'],
]);
const ELLIPSIS = '\x85';
const FORMAT_CHARACTER = /^\p{Cf}$/u;
const COMBINING_MARK = /\p{M}/gu;

/** The WinAnsi byte for a printable code point, or undefined when WinAnsi has no such character. */
function printableByte(code: number): number | undefined {
  if ((code >= 0x20 && code < 0x7f) || (code >= 0xa0 && code <= 0xff && code !== 0xad)) return code;
  return WIN_ANSI_HIGH.get(code);
}

/** A character WinAnsi lacks: "ő" keeps its base letter, "ﬁ" its letters; anything else becomes '?'. */
function fallback(char: string, code: number): string {
  const lookalike = LOOKALIKES.get(code);
  if (lookalike !== undefined) return lookalike;
  const base = char.normalize('NFKD').replace(COMBINING_MARK, '');
  if (base === '' || base === char) return '?';
  let out = '';
  for (const part of base) {
    const byte = printableByte(part.codePointAt(0)!);
    if (byte === undefined) return '?';
    out += String.fromCharCode(byte);
  }
  return out;
}

function encodeCharacter(char: string): string {
  const code = char.codePointAt(0)!;
  if (code >= 0x20 && code < 0x7f) return char;
  // Line breaks and tabs separate words; dropping them would glue "Paid\nin full" into "Paidin full".
  if (code === 0x09 || code === 0x0a || code === 0x0d) return ' ';
  // Other controls and invisible format characters (soft hyphen, zero-width, bidi overrides) carry no glyph.
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || FORMAT_CHARACTER.test(char)) return '';
  const byte = printableByte(code);
  return byte === undefined ? fallback(char, code) : String.fromCharCode(byte);
}

/**
 * Text as a string of WinAnsi bytes: each char's code is the byte (so "€" becomes "\x80"), all in 0x20..0xFF.
 * Lone surrogates are made well-formed and text is composed first, so "e" + combining acute finds "é".
 */
export function toWinAnsi(text: string): string {
  let out = '';
  for (const char of text.toWellFormed().normalize('NFC')) out += encodeCharacter(char);
  return out;
}

/** Width in points of an already WinAnsi-encoded string. */
function encodedWidth(encoded: string, font: PdfFont, size: number): number {
  const widths = WIDTHS[font];
  let units = 0;
  for (let index = 0; index < encoded.length; index += 1)
    units += widths[encoded.charCodeAt(index) - 32] ?? 0;
  return (units * size) / 1000;
}

/** Width in points of text as it will be printed (after WinAnsi substitution). */
export function textWidth(text: string, font: PdfFont, size: number): number {
  return encodedWidth(toWinAnsi(text), font, size);
}

/**
 * A PDF literal string. Backslash and both parentheses are escaped (unbalanced ones would end the string early);
 * bytes above 0x7E are written as octal escapes so the whole file stays 7-bit outside its binary marker line.
 */
function literal(encoded: string): string {
  const escaped = encoded
    .replace(/[()\\]/g, '\\$&')
    .replace(/[\x7f-\xff]/g, (char) => `\\${char.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return `(${escaped})`;
}

/** A number operand; NaN or Infinity would corrupt the content stream, so they are refused. */
function num(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`PDF coordinate is not a finite number: ${value}`);
  const rounded = Math.round(value * 100) / 100;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/** Cuts an encoded string to fit a width, marking the cut with an ellipsis. */
function truncate(encoded: string, font: PdfFont, size: number, width: number): string {
  if (encodedWidth(encoded, font, size) <= width) return encoded;
  let end = encoded.length;
  while (end > 0 && encodedWidth(encoded.slice(0, end) + ELLIPSIS, font, size) > width) end -= 1;
  return encoded.slice(0, end) + ELLIPSIS;
}

/** Splits a word too wide for a line into pieces that fit (at least one character each, so it always ends). */
function breakWord(word: string, font: PdfFont, size: number, width: number): string[] {
  const pieces: string[] = [];
  let piece = '';
  for (const char of word) {
    if (piece !== '' && encodedWidth(piece + char, font, size) > width) {
      pieces.push(piece);
      piece = '';
    }
    piece += char;
  }
  pieces.push(piece);
  return pieces;
}

/** Greedy word wrap of an encoded string; never returns an empty list, so a blank cell still takes a line. */
function wrapEncoded(encoded: string, font: PdfFont, size: number, width: number): string[] {
  const lines: string[] = [];
  const space = encodedWidth(' ', font, size);
  let line = '';
  let lineWidth = 0;
  for (const word of encoded.split(' ').filter((part) => part !== '')) {
    const wordWidth = encodedWidth(word, font, size);
    if (line !== '' && lineWidth + space + wordWidth <= width) {
      line += ` ${word}`;
      lineWidth += space + wordWidth;
      continue;
    }
    if (line !== '') lines.push(line);
    const pieces = wordWidth <= width ? [word] : breakWord(word, font, size, width);
    lines.push(...pieces.slice(0, -1));
    line = pieces.at(-1)!;
    lineWidth = encodedWidth(line, font, size);
  }
  lines.push(line);
  return lines;
}

export interface TextOptions {
  font?: PdfFont;
  size?: number;
  /** With 'right' x is the right edge of the text, with 'center' its middle. */
  align?: Align | 'center';
  /** 0 is black, 1 white. */
  gray?: number;
}

export interface RuleOptions {
  from?: number;
  to?: number;
  lineWidth?: number;
  gray?: number;
}

export interface TableColumn {
  header: string;
  align: Align;
  /** Relative width: columns are scaled to fill the printable width, so points or percentages both work. */
  width: number;
  font?: PdfFont;
}

export interface TableOptions {
  fontSize?: number;
  /** Draw (and repeat on every page) the header row; default true. */
  header?: boolean;
}

export interface PdfDocumentOptions {
  title: string;
  /** Defaults to now; inject it for byte-identical output in tests. */
  creationDate?: Date;
  producer?: string;
  /** Printed at the left of every footer, e.g. "Generated 2025-01-01T00:00:00.000Z". */
  footerNote?: string;
  /** "Page X of Y" at the right of every footer; default true. */
  pageNumbers?: boolean;
}

interface ColumnLayout {
  x: number;
  width: number;
  align: Align;
  font: PdfFont;
}

interface TableLayout {
  columns: ColumnLayout[];
  size: number;
  lineHeight: number;
  padding: number;
  maxLines: number;
}

/** A cell's wrapped, encoded lines. */
type RowLines = string[][];

const CELL_PADDING = 4;

function tableLayout(columns: TableColumn[], size: number, rowFont: PdfFont): TableLayout {
  if (columns.length === 0) throw new RangeError('A table needs at least one column');
  const total = columns.reduce((sum, column) => {
    if (!(Number.isFinite(column.width) && column.width > 0))
      throw new RangeError('Column widths must be > 0');
    return sum + column.width;
  }, 0);
  let x = MARGIN;
  const layout = columns.map((column) => {
    const width = (column.width / total) * CONTENT_WIDTH;
    const cell: ColumnLayout = { x, width, align: column.align, font: column.font ?? rowFont };
    x += width;
    return cell;
  });
  const lineHeight = size * 1.25;
  // A row may not be taller than an empty page below a header row of one line.
  const maxLines = Math.max(
    1,
    Math.floor((BODY_BOTTOM - MARGIN - 2 * (lineHeight + 2 * CELL_PADDING)) / lineHeight),
  );
  return { columns: layout, size, lineHeight, padding: CELL_PADDING, maxLines };
}

export class PdfDocument {
  readonly #title: string;
  readonly #creationDate: Date;
  readonly #producer: string;
  readonly #footerNote: string;
  readonly #pageNumbers: boolean;
  readonly #pages: string[][] = [];
  #cursor = MARGIN;

  /** A new document starts with one empty page and the cursor at its top margin. */
  constructor(options: PdfDocumentOptions) {
    const creationDate = options.creationDate ?? new Date();
    if (Number.isNaN(creationDate.getTime())) throw new RangeError('creationDate is an invalid Date');
    this.#title = options.title;
    this.#creationDate = creationDate;
    this.#producer = options.producer ?? 'codeforge-suite PDF writer';
    this.#footerNote = options.footerNote ?? '';
    this.#pageNumbers = options.pageNumbers ?? true;
    this.addPage();
  }

  get pageCount(): number {
    return this.#pages.length;
  }

  /** Where flowing content (paragraph, table) goes next: y of the top of the next line, from the page top. */
  get cursor(): number {
    return this.#cursor;
  }

  addPage(): void {
    this.#pages.push([]);
    this.#cursor = MARGIN;
  }

  /** Starts a new page unless `height` more points fit above the footer (or the page is still empty). */
  ensureSpace(height: number): void {
    if (this.#cursor + height > BODY_BOTTOM && this.#cursor > MARGIN) this.addPage();
  }

  /** Moves the flowing cursor down. */
  space(points: number): void {
    this.#cursor += points;
  }

  /** One line of text with its baseline at y (from the top) on the current page. */
  text(x: number, y: number, text: string, options: TextOptions = {}): void {
    const font = options.font ?? 'Helvetica';
    const size = options.size ?? 10;
    const encoded = toWinAnsi(text);
    const width = encodedWidth(encoded, font, size);
    const left = options.align === 'right' ? x - width : options.align === 'center' ? x - width / 2 : x;
    this.#current().push(textOperators(left, y, encoded, font, size, options.gray ?? 0));
  }

  /** A horizontal line at y (from the top), across the printable width unless from/to say otherwise. */
  rule(y: number, options: RuleOptions = {}): void {
    const from = options.from ?? MARGIN;
    const to = options.to ?? PAGE_WIDTH - MARGIN;
    const pdfY = num(PAGE_HEIGHT - y);
    const style = `${num(options.lineWidth ?? 0.5)} w ${num(options.gray ?? 0)} G`;
    this.#current().push(`q ${style} ${num(from)} ${pdfY} m ${num(to)} ${pdfY} l S Q\n`);
  }

  /** Flowing text: wrapped to the printable width, continuing on a new page when the current one is full. */
  paragraph(text: string, options: TextOptions = {}): void {
    const font = options.font ?? 'Helvetica';
    const size = options.size ?? 10;
    const lineHeight = size * 1.3;
    const x =
      options.align === 'right' ? PAGE_WIDTH - MARGIN : options.align === 'center' ? PAGE_WIDTH / 2 : MARGIN;
    for (const line of wrapEncoded(toWinAnsi(text), font, size, CONTENT_WIDTH)) {
      this.ensureSpace(lineHeight);
      const width = encodedWidth(line, font, size);
      const left = options.align === 'right' ? x - width : options.align === 'center' ? x - width / 2 : x;
      this.#current().push(textOperators(left, this.#cursor + size, line, font, size, options.gray ?? 0));
      this.#cursor += lineHeight;
    }
  }

  /** A horizontal rule at the cursor, with a little air on both sides. */
  separator(): void {
    this.ensureSpace(8);
    this.rule(this.#cursor + 4, { gray: 0.6 });
    this.#cursor += 8;
  }

  /**
   * Rows laid out in columns at the cursor. Cells wrap inside their column (nothing is cut off, so an amount is
   * never shown truncated); a row that does not fit goes to a new page, which gets the header row again.
   */
  table(columns: TableColumn[], rows: readonly (readonly string[])[], options: TableOptions = {}): void {
    const layout = tableLayout(columns, options.fontSize ?? 9, 'Helvetica');
    const headerLines =
      options.header === false
        ? undefined
        : cellLines(
            layout,
            columns.map((column) => column.header),
            'Helvetica-Bold',
          );
    const header = () => {
      if (headerLines !== undefined) this.#drawRow(layout, headerLines, true);
    };
    const first = rows[0] === undefined ? undefined : cellLines(layout, rows[0]);
    // Keep the header together with the first row instead of leaving it alone at the bottom of a page.
    this.ensureSpace(rowHeight(layout, headerLines) + rowHeight(layout, first));
    header();
    for (const [index, row] of rows.entries()) {
      const lines = index === 0 && first !== undefined ? first : cellLines(layout, row);
      if (this.#cursor + rowHeight(layout, lines) > BODY_BOTTOM) {
        this.addPage();
        header();
      }
      this.#drawRow(layout, lines, false);
    }
  }

  toBuffer(): Buffer {
    const total = this.#pages.length;
    const objects: string[] = [
      '<< /Type /Catalog /Pages 2 0 R >>',
      `<< /Type /Pages /Kids [${this.#pages.map((_, index) => `${6 + 2 * index} 0 R`).join(' ')}] /Count ${total} >>`,
      fontObject('Helvetica'),
      fontObject('Helvetica-Bold'),
      this.#infoObject(),
    ];
    for (const [index, operators] of this.#pages.entries()) {
      objects.push(pageObject(7 + 2 * index));
      objects.push(streamObject(operators.join('') + this.#footer(index + 1, total)));
    }
    return serialize(objects);
  }

  #current(): string[] {
    return this.#pages.at(-1)!;
  }

  #drawRow(layout: TableLayout, lines: RowLines, isHeader: boolean): void {
    const height = rowHeight(layout, lines);
    const ops = this.#current();
    const top = this.#cursor;
    if (isHeader) {
      const y = num(PAGE_HEIGHT - top - height);
      ops.push(`q 0.92 g ${num(MARGIN)} ${y} ${num(CONTENT_WIDTH)} ${num(height)} re f Q\n`);
    }
    for (const [index, column] of layout.columns.entries()) {
      const font = isHeader ? 'Helvetica-Bold' : column.font;
      for (const [lineIndex, line] of (lines[index] ?? []).entries()) {
        const baseline = top + layout.padding + lineIndex * layout.lineHeight + layout.size;
        const x =
          column.align === 'right'
            ? column.x + column.width - layout.padding - encodedWidth(line, font, layout.size)
            : column.x + layout.padding;
        ops.push(textOperators(x, baseline, line, font, layout.size, 0));
      }
    }
    this.#cursor += height;
    this.rule(this.#cursor, { lineWidth: isHeader ? 0.75 : 0.25, gray: isHeader ? 0.4 : 0.8 });
  }

  #footer(page: number, total: number): string {
    const ops = [
      `q 0.5 w 0.6 G ${MARGIN} ${PAGE_HEIGHT - FOOTER_RULE} m ${PAGE_WIDTH - MARGIN} ${PAGE_HEIGHT - FOOTER_RULE} l S Q\n`,
    ];
    const label = this.#pageNumbers ? `Page ${page} of ${total}` : '';
    const labelWidth = encodedWidth(label, 'Helvetica', FOOTER_SIZE);
    const right = PAGE_WIDTH - MARGIN;
    if (this.#footerNote !== '') {
      const room = CONTENT_WIDTH - labelWidth - 20;
      const note = truncate(toWinAnsi(this.#footerNote), 'Helvetica', FOOTER_SIZE, room);
      ops.push(textOperators(MARGIN, FOOTER_BASELINE, note, 'Helvetica', FOOTER_SIZE, 0.35));
    }
    if (label !== '') {
      ops.push(textOperators(right - labelWidth, FOOTER_BASELINE, label, 'Helvetica', FOOTER_SIZE, 0.35));
    }
    return ops.join('');
  }

  #infoObject(): string {
    const title = textString(this.#title);
    const producer = textString(this.#producer);
    return `<< /Title ${title} /Producer ${producer} /CreationDate (${pdfDate(this.#creationDate)}) >>`;
  }
}

/** Each cell wrapped to its column, capped at what fits on a page (the last kept line then ends in "…"). */
function cellLines(layout: TableLayout, row: readonly string[], fontOverride?: PdfFont): RowLines {
  return layout.columns.map((column, index) => {
    const font = fontOverride ?? column.font;
    const width = column.width - 2 * layout.padding;
    const lines = wrapEncoded(toWinAnsi(row[index] ?? ''), font, layout.size, width);
    if (lines.length <= layout.maxLines) return lines;
    const kept = lines.slice(0, layout.maxLines);
    kept[kept.length - 1] = truncate(`${kept.at(-1)!} ${ELLIPSIS}`, font, layout.size, width);
    return kept;
  });
}

function rowHeight(layout: TableLayout, lines: RowLines | undefined): number {
  if (lines === undefined) return 0;
  const count = Math.max(1, ...lines.map((cell) => cell.length));
  return count * layout.lineHeight + 2 * layout.padding;
}

function textOperators(
  x: number,
  y: number,
  encoded: string,
  font: PdfFont,
  size: number,
  gray: number,
): string {
  const text = `BT /${FONT_RESOURCE[font]} ${num(size)} Tf ${num(x)} ${num(PAGE_HEIGHT - y)} Td ${literal(encoded)} Tj ET`;
  return gray === 0 ? `${text}\n` : `q ${num(gray)} g ${text} Q\n`;
}

function fontObject(font: PdfFont): string {
  return `<< /Type /Font /Subtype /Type1 /BaseFont /${font} /Encoding /WinAnsiEncoding >>`;
}

function pageObject(contents: number): string {
  const resources = `<< /Font << /F1 3 0 R /F2 4 0 R >> >>`;
  return `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${PAGE_WIDTH} ${PAGE_HEIGHT}] /Resources ${resources} /Contents ${contents} 0 R >>`;
}

/** Content streams hold only 7-bit text (see literal), so the string length is the byte length. */
function streamObject(data: string): string {
  return `<< /Length ${data.length} >>\nstream\n${data}\nendstream`;
}

/** A document-information string as UTF-16BE with a byte-order mark: any title survives, nothing to escape. */
function textString(value: string): string {
  const clean = value.toWellFormed().replace(/\p{Cc}/gu, '');
  return `<${Buffer.from(`\ufeff${clean}`, 'utf16le').swap16().toString('hex').toUpperCase()}>`;
}

/** PDF date in UTC: D:YYYYMMDDHHmmSSZ. */
function pdfDate(date: Date): string {
  return `D:${date.toISOString().slice(0, 19).replace(/[-:T]/g, '')}Z`;
}

/**
 * Header, numbered objects, cross-reference table and trailer. Offsets are counted in bytes while writing, so
 * every xref entry points exactly at its "N 0 obj". Entries are 20 bytes ("nnnnnnnnnn ggggg n" + space + LF).
 * The /ID is a digest of the body: stable for identical documents, different for different ones.
 */
function serialize(objects: string[]): Buffer {
  // The comment line of bytes above 0x7F tells transfer tools the file is binary.
  const chunks = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  const digest = createHash('md5');
  const offsets: number[] = [];
  let offset = chunks[0]!.length;
  for (const [index, body] of objects.entries()) {
    const chunk = Buffer.from(`${index + 1} 0 obj\n${body}\nendobj\n`, 'latin1');
    offsets.push(offset);
    chunks.push(chunk);
    digest.update(chunk);
    offset += chunk.length;
  }
  const id = digest.digest('hex');
  const entries = offsets.map((value) => `${String(value).padStart(10, '0')} 00000 n \n`).join('');
  const size = objects.length + 1;
  const tail =
    `xref\n0 ${size}\n0000000000 65535 f \n${entries}` +
    `trailer\n<< /Size ${size} /Root 1 0 R /Info 5 0 R /ID [<${id}> <${id}>] >>\n` +
    `startxref\n${offset}\n%%EOF\n`;
  chunks.push(Buffer.from(tail, 'latin1'));
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------------------------------------------
// Documents the wallet module renders. Callers format amounts; these only lay them out.
// ---------------------------------------------------------------------------------------------------------------

export interface ReceiptPdfInput {
  institution: string;
  title: string;
  reference: string;
  status: string;
  occurredAt: Date;
  lines: Array<{ label: string; value: string }>;
}

export interface StatementPdfInput {
  institution: string;
  title: string;
  accountLabel: string;
  period: string;
  openingBalance: string;
  closingBalance: string;
  columns: TableColumn[];
  rows: string[][];
}

export interface RenderOptions {
  /** When the document was produced: footer "Generated …" and /CreationDate. Defaults to now. */
  generatedAt?: Date;
}

function documentFor(title: string, options: RenderOptions): PdfDocument {
  const generatedAt = options.generatedAt ?? new Date();
  return new PdfDocument({
    title,
    creationDate: generatedAt,
    footerNote: `Generated ${isoTime(generatedAt)}`,
  });
}

function isoTime(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('Invalid Date in PDF document');
  return date.toISOString();
}

function letterhead(doc: PdfDocument, institution: string, title: string): void {
  doc.paragraph(institution, { font: 'Helvetica-Bold', size: 16 });
  doc.space(2);
  doc.paragraph(title, { font: 'Helvetica-Bold', size: 12, gray: 0.25 });
  doc.space(4);
  doc.separator();
  doc.space(6);
}

/** A label/value list: bold labels on the left, values wrapping in the wider right column. */
function keyValues(doc: PdfDocument, pairs: Array<{ label: string; value: string }>): void {
  const columns: TableColumn[] = [
    { header: '', align: 'left', width: 35, font: 'Helvetica-Bold' },
    { header: '', align: 'left', width: 65 },
  ];
  doc.table(
    columns,
    pairs.map((pair) => [pair.label, pair.value]),
    { header: false, fontSize: 10 },
  );
}

export function renderReceiptPdf(receipt: ReceiptPdfInput, options: RenderOptions = {}): Buffer {
  const doc = documentFor(`${receipt.title} ${receipt.reference}`, options);
  letterhead(doc, receipt.institution, receipt.title);
  keyValues(doc, [
    { label: 'Reference', value: receipt.reference },
    { label: 'Status', value: receipt.status },
    { label: 'Date', value: isoTime(receipt.occurredAt) },
    ...receipt.lines,
  ]);
  return doc.toBuffer();
}

export function renderStatementPdf(statement: StatementPdfInput, options: RenderOptions = {}): Buffer {
  const doc = documentFor(`${statement.title} ${statement.accountLabel} ${statement.period}`, options);
  letterhead(doc, statement.institution, statement.title);
  keyValues(doc, [
    { label: 'Account', value: statement.accountLabel },
    { label: 'Period', value: statement.period },
    { label: 'Opening balance', value: statement.openingBalance },
    { label: 'Closing balance', value: statement.closingBalance },
  ]);
  doc.space(14);
  doc.table(statement.columns, statement.rows);
  if (statement.rows.length === 0) {
    doc.space(6);
    doc.paragraph('No transactions in this period.', { gray: 0.35 });
  }
  doc.space(8);
  doc.paragraph(`Closing balance: ${statement.closingBalance}`, { font: 'Helvetica-Bold', align: 'right' });
  return doc.toBuffer();
}
