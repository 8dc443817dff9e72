/** Worker entry of scanPdf (documents.pdf.ts): parse the PDF it was given and post the verdict. */
import { parentPort, workerData } from 'node:worker_threads';
import { PDFDocument } from '@cantoo/pdf-lib';
import { findActiveName, type PdfScan } from './documents.pdf.ts';

async function scan(bytes: Uint8Array): Promise<PdfScan> {
  let doc: PDFDocument;
  try {
    doc = await PDFDocument.load(bytes, {
      ignoreEncryption: true,
      updateMetadata: false,
      throwOnInvalidObject: false,
    });
  } catch {
    return { ok: false, reason: 'the PDF cannot be read' };
  }
  // An encrypted file hides its object streams and strings from this check and from the reviewer alike.
  if (doc.isEncrypted) return { ok: false, reason: 'the PDF is encrypted' };
  const active = findActiveName(doc);
  return active ? { ok: false, reason: `the PDF contains active content (/${active})` } : { ok: true };
}

parentPort?.postMessage(await scan(workerData as Uint8Array));
