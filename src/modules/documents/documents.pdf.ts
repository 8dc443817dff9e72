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

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  decodePDFRawStream,
  PDFArray,
  PDFContext,
  PDFDict,
  type PDFDocument,
  PDFInvalidObject,
  PDFName,
  PDFNumber,
  PDFRawStream,
  PDFStream,
} from '@cantoo/pdf-lib';

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

/**
 * Why the parser may not have seen what a reader sees, or null. An object the parser could not read is kept as
 * opaque bytes (an object stream whose header lies, say, hides every object in it), and pdf-lib ignores a Flate
 * predictor that readers apply, so it reads other bytes than they do: both are refused rather than passed unseen.
 */
export function findUninspectable(doc: PDFDocument): string | null {
  for (const [, object] of doc.context.enumerateIndirectObjects()) {
    if (object instanceof PDFInvalidObject) return 'the PDF has an object that cannot be read';
    if (
      object instanceof PDFRawStream &&
      object.dict.lookup(PDFName.of('Type')) === PDFName.of('ObjStm') &&
      hasPredictor(object.dict.lookup(PDFName.of('DecodeParms')))
    ) {
      return 'the PDF has an object stream that cannot be inspected';
    }
  }
  return null;
}

function hasPredictor(parms: unknown): boolean {
  if (parms instanceof PDFArray) return parms.asArray().some((entry) => hasPredictor(entry));
  if (!(parms instanceof PDFDict)) return false;
  const predictor = parms.get(PDFName.of('Predictor'));
  return !(predictor === undefined || (predictor instanceof PDFNumber && predictor.asNumber() <= 1));
}

/** Thrown when decoding streams went past the limit (pdf-lib swallows it; the flag below says it happened). */
export class DecodeLimitExceeded extends Error {}

/**
 * Bounds the bytes pdf-lib's stream decoders (Flate, LZW, RunLength, ASCII85/Hex, all one DecodeStream class) may
 * produce in this thread. Decoded buffers are ArrayBuffers outside the V8 heap, so the worker's heap cap does not
 * bound them: a 1 MB object stream inflating to gigabytes would otherwise grow the whole process. Returns whether the
 * limit was hit.
 */
export function limitDecodedBytes(maxBytes: number): () => boolean {
  const probe = decodePDFRawStream(
    PDFRawStream.of(PDFContext.create().obj({ Filter: 'RunLengthDecode' }), new Uint8Array(0)),
  );
  const decodeStream = Object.getPrototypeOf(Object.getPrototypeOf(probe)) as {
    ensureBuffer(this: { buffer: Uint8Array }, requested: number): Uint8Array;
  };
  const ensureBuffer = decodeStream.ensureBuffer;
  // Fail closed if a pdf-lib update renames what this wraps: no scan then, rather than an unbounded one.
  if (typeof ensureBuffer !== 'function')
    throw new Error('pdf-lib decoders changed: cannot bound decoded size');
  let decoded = 0;
  let exceeded = false;
  decodeStream.ensureBuffer = function (requested) {
    // Checked before allocating: the buffer doubles, so the next one is at least `requested` bytes.
    if (requested > this.buffer.byteLength && decoded + requested > maxBytes) {
      exceeded = true;
      throw new DecodeLimitExceeded('decoded streams exceed the limit');
    }
    const before = this.buffer.byteLength;
    const buffer = ensureBuffer.call(this, requested);
    decoded += buffer.byteLength - before;
    return buffer;
  };
  return () => exceeded;
}

export type PdfScanLimits = { timeoutMs: number; maxHeapMb: number; maxDecodedMb?: number };

export const DEFAULT_PDF_SCAN_LIMITS: PdfScanLimits = { timeoutMs: 10_000, maxHeapMb: 256, maxDecodedMb: 64 };

const WORKER_URL = new URL('./documents.pdf-worker.ts', import.meta.url);

/**
 * Workers parsing at once: each may take its heap cap and decoded-bytes limit, so uploads arriving together wait for
 * a slot instead of multiplying the process's memory by the number of concurrent requests.
 */
export const MAX_CONCURRENT_PDF_SCANS = Math.max(1, availableParallelism());
let scansRunning = 0;
const waitingScans: Array<() => void> = [];

/** How many PDF workers run now (never more than MAX_CONCURRENT_PDF_SCANS). */
export function pdfScansRunning(): number {
  return scansRunning;
}

async function scanSlot(): Promise<() => void> {
  if (scansRunning < MAX_CONCURRENT_PDF_SCANS) scansRunning += 1;
  else await new Promise<void>((resolve) => waitingScans.push(resolve)); // the slot is handed over as is
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const next = waitingScans.shift();
    if (next) next();
    else scansRunning -= 1;
  };
}

/** Parses `data` in a worker bounded in time and heap, and says whether the PDF may be stored. */
export async function scanPdf(
  data: Buffer,
  limits: PdfScanLimits = DEFAULT_PDF_SCAN_LIMITS,
): Promise<PdfScan> {
  const release = await scanSlot();
  try {
    return await scanInWorker(data, limits);
  } finally {
    release();
  }
}

function scanInWorker(data: Buffer, limits: PdfScanLimits): Promise<PdfScan> {
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
      workerData: {
        bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        maxDecodedBytes: (limits.maxDecodedMb ?? 64) * 1024 * 1024,
      },
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
