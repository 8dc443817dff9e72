/**
 * Active content in a PDF, found by a real parser instead of a byte pattern (issue 14, F2).
 *
 * A pattern over the raw bytes misses names written with `#xx` escapes (`/J#61vaScript`, `/Open#41ction`) and
 * anything inside a compressed object stream. `@cantoo/pdf-lib` (the maintained fork of pdf-lib, see ADR 0017) reads
 * every indirect object of the file, opens object streams (Flate and the other standard filters), and decodes name
 * escapes; we then walk every dictionary, array and stream dictionary, keys and values alike, and refuse the file
 * when any name is one of ACTIVE_NAMES.
 *
 * Parsing a hostile file is work an attacker chooses: a small object stream can inflate to gigabytes, and a crafted
 * file can make a parser loop. So the parse runs in a worker thread with a heap cap and a deadline; a worker that
 * runs out of memory or time is terminated and the file is refused.
 */
import { Worker } from 'node:worker_threads';
import { PDFArray, PDFDict, type PDFDocument, PDFName, PDFStream } from '@cantoo/pdf-lib';

/** Names that make a PDF do something when opened or clicked, or carry another file. */
export const ACTIVE_NAMES: ReadonlySet<string> = new Set([
  'JavaScript',
  'JS',
  'OpenAction',
  'AA',
  'Launch',
  'EmbeddedFile',
  'EmbeddedFiles',
  'RichMedia',
  'XFA',
]);

export type PdfScan = { ok: true } | { ok: false; reason: string };

/** The first active name anywhere in the document's objects (and its trailer), or null. */
export function findActiveName(doc: PDFDocument): string | null {
  const seen = new Set<unknown>();
  const stack: unknown[] = [];
  for (const [, object] of doc.context.enumerateIndirectObjects()) stack.push(object);
  const trailer = doc.context.trailerInfo;
  stack.push(trailer.Root, trailer.Info);
  while (stack.length > 0) {
    const object = stack.pop();
    if (object === undefined || object === null || seen.has(object)) continue;
    seen.add(object);
    if (object instanceof PDFName) {
      const name = object.decodeText();
      if (ACTIVE_NAMES.has(name)) return name;
    } else if (object instanceof PDFDict) {
      for (const [key, value] of object.entries()) stack.push(key, value);
    } else if (object instanceof PDFArray) {
      for (const value of object.asArray()) stack.push(value);
    } else if (object instanceof PDFStream) {
      stack.push(object.dict);
    }
  }
  return null;
}

export type PdfScanLimits = { timeoutMs: number; maxHeapMb: number };

export const DEFAULT_PDF_SCAN_LIMITS: PdfScanLimits = { timeoutMs: 10_000, maxHeapMb: 256 };

const WORKER_URL = new URL('./documents.pdf-worker.ts', import.meta.url);

/** Parses `data` in a worker bounded in time and heap, and says whether the PDF may be stored. */
export function scanPdf(data: Buffer, limits: PdfScanLimits = DEFAULT_PDF_SCAN_LIMITS): Promise<PdfScan> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: PdfScan) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(result);
    };
    const worker = new Worker(WORKER_URL, {
      workerData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      resourceLimits: { maxOldGenerationSizeMb: limits.maxHeapMb, maxYoungGenerationSizeMb: 32 },
      stdout: true,
      stderr: true,
    });
    const timer = setTimeout(
      () => finish({ ok: false, reason: 'the PDF took too long to inspect' }),
      limits.timeoutMs,
    );
    worker.once('message', (message: PdfScan) => finish(message));
    worker.once('error', (error: Error & { code?: string }) =>
      finish({
        ok: false,
        reason:
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? 'the PDF needs too much memory to inspect'
            : 'the PDF cannot be read',
      }),
    );
    worker.once('exit', () => finish({ ok: false, reason: 'the PDF cannot be read' }));
  });
}
