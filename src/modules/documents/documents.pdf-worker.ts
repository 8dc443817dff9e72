/** Worker entry of scanPdf (documents.pdf.ts): parse the PDF it was given and post the verdict. */
import { parentPort, workerData } from 'node:worker_threads';
import { PDFDocument } from '@cantoo/pdf-lib';
import { findActiveName, findUninspectable, limitDecodedBytes, type PdfScan } from './documents.pdf.ts';

const { bytes, maxDecodedBytes } = workerData as { bytes: Uint8Array; maxDecodedBytes: number };
const decodeLimitHit = limitDecodedBytes(maxDecodedBytes);

async function scan(bytes: Uint8Array): Promise<PdfScan> {
  let doc: PDFDocument;
  try {
    doc = await PDFDocument.load(bytes, {
      ignoreEncryption: true,
      updateMetadata: false,
      throwOnInvalidObject: false,
    });
  } catch {
    if (decodeLimitHit()) return { ok: false, reason: 'the PDF expands too much to inspect' };
    return { ok: false, reason: 'the PDF cannot be read' };
  }
  if (decodeLimitHit()) return { ok: false, reason: 'the PDF expands too much to inspect' };
  // An encrypted file hides its object streams and strings from this check and from the reviewer alike.
  if (doc.isEncrypted) return { ok: false, reason: 'the PDF is encrypted' };
  const uninspectable = findUninspectable(doc);
  if (uninspectable) return { ok: false, reason: uninspectable };
  const active = findActiveName(doc);
  return active ? { ok: false, reason: `the PDF contains active content (/${active})` } : { ok: true };
}

parentPort?.postMessage(await scan(bytes));
