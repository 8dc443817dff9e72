/**
 * Reading produced PDFs back in tests with a real parser (Mozilla's pdf.js): the text a reader extracts, the
 * operators drawn, and the QR code decoded by an independent reader (jsQR) from the squares the page draws.
 */
import jsQRModule from 'jsqr';
import { getDocument, OPS } from 'pdfjs-dist/legacy/build/pdf.mjs';

// jsqr is CommonJS whose typings declare an ES default export: at run time the module itself is the function.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default;

export interface ReadPdf {
  pages: string[];
  /** Operators per page (pdf.js OPS codes). */
  operators: number[][];
  /** The path data (pdf.js draw ops: 0 moveTo x y, 1 lineTo x y, 4 closePath) of each constructPath, per page. */
  paths: number[][][];
}

export async function readPdf(bytes: Buffer): Promise<ReadPdf> {
  const document = await getDocument({ data: new Uint8Array(bytes), verbosity: 0 }).promise;
  const pages: string[] = [];
  const operators: number[][] = [];
  const paths: number[][][] = [];
  for (let number = 1; number <= document.numPages; number += 1) {
    const page = await document.getPage(number);
    const content = await page.getTextContent();
    pages.push(
      content.items
        .map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : ' ') : ''))
        .join('')
        .replace(/[ \t]+/g, ' '),
    );
    const list = await page.getOperatorList();
    operators.push(list.fnArray);
    paths.push(
      list.fnArray.flatMap((op, index) =>
        op === OPS.constructPath
          ? [Array.from((list.argsArray[index] as [number, number[][]])[1][0] ?? [])]
          : [],
      ),
    );
  }
  await document.destroy();
  return { pages, operators, paths };
}

/**
 * Finds the QR code among a page's paths (the one made of many squares), paints its squares into a bitmap and
 * decodes that with jsQR, an independent QR reader: what a phone camera would read from the printed receipt.
 */
export function decodeQr(paths: number[][]): string | null {
  const squares = paths.reduce((most, path) => (path.length > most.length ? path : most), [] as number[]);
  const corners: Array<[number, number]> = [];
  let size = Number.POSITIVE_INFINITY;
  for (let index = 0; index < squares.length; ) {
    const op = squares[index++]!;
    if (op === 0) {
      const x = squares[index++]!;
      const y = squares[index++]!;
      corners.push([x, y]);
      if (squares[index] === 1) size = Math.min(size, Math.abs(squares[index + 1]! - x));
    } else if (op === 1) index += 2;
    else if (op !== 4) return null;
  }
  if (corners.length < 50) return null;
  const minX = Math.min(...corners.map(([x]) => x));
  const minY = Math.min(...corners.map(([, y]) => y));
  const cells = corners.map(
    ([x, y]) => [Math.round((x - minX) / size), Math.round((y - minY) / size)] as const,
  );
  const modules = Math.max(...cells.flat()) + 1;
  const scale = 4;
  const quiet = 4;
  const side = (modules + 2 * quiet) * scale;
  const pixels = new Uint8ClampedArray(side * side * 4).fill(255);
  for (const [column, row] of cells)
    for (let dy = 0; dy < scale; dy += 1)
      for (let dx = 0; dx < scale; dx += 1) {
        const offset = (((row + quiet) * scale + dy) * side + (column + quiet) * scale + dx) * 4;
        pixels[offset] = 0;
        pixels[offset + 1] = 0;
        pixels[offset + 2] = 0;
      }
  return jsQR(pixels, side, side)?.data ?? null;
}
