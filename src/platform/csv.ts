/**
 * RFC 4180 CSV for exports (statements, reports): CRLF record ends, fields quoted only when they must be, and
 * protection against CSV/formula injection for files that will be opened in a spreadsheet.
 */

export type CsvCell = string | number | bigint | null;

export interface CsvOptions {
  /** Start with a UTF-8 byte-order mark: Excel otherwise reads UTF-8 as the local code page ("Ã©" for "é"). */
  bom?: boolean;
}

const CRLF = '\r\n';
const NEEDS_QUOTES = /[",\r\n]/;
/** OWASP's list: a spreadsheet evaluates a cell that starts with one of these as a formula (or DDE command). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One field. Strings that a spreadsheet would run as a formula get a leading apostrophe, which makes it show
 * the text instead. Numbers and bigints are exempt on purpose: they come from our own typed values, not from
 * user input, so "-1" there is a plain negative amount, and prefixing it would turn every debit into text that
 * no longer sums. A *string* "-1" still gets the prefix: a string may carry "-1+cmd|' /C calc'!A0".
 */
export function csvField(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    // NaN or Infinity in an export is a bug upstream; writing "NaN" into a bank file would hide it.
    if (!Number.isFinite(value)) throw new RangeError(`CSV cell is not a finite number: ${value}`);
    return String(value);
  }
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function record(cells: readonly CsvCell[]): string {
  // A one-column record holding an empty field would be a blank line, which readers skip; quoting keeps it.
  if (cells.length === 1 && csvField(cells[0]!) === '') return '""';
  return cells.map(csvField).join(',');
}

/**
 * A whole file: the header record, then one record per row, every record ending in CRLF. Rows must have as
 * many cells as the header; a ragged row would shift values under the wrong column, so it is refused.
 */
export function toCsv(
  header: string[],
  rows: readonly (readonly CsvCell[])[],
  options: CsvOptions = {},
): string {
  if (header.length === 0) throw new RangeError('CSV needs at least one column');
  const records = [record(header)];
  for (const [index, row] of rows.entries()) {
    if (row.length !== header.length) {
      throw new RangeError(`CSV row ${index + 1} has ${row.length} cells; the header has ${header.length}`);
    }
    records.push(record(row));
  }
  return `${options.bom ? '\ufeff' : ''}${records.join(CRLF)}${CRLF}`;
}
