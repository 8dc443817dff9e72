/**
 * What a file really is, by its bytes (never by name or claimed type), and whether it carries something hostile.
 * Only PDF, JPEG and PNG are accepted; each must also end as its format ends, so appended payloads (polyglots:
 * JPEG+ZIP, PNG+HTML) are refused, and PDFs with active content (JavaScript, launch actions, embedded files) too.
 * A PDF is also parsed (documents.pdf.ts): escaped names and compressed object streams cannot hide active content.
 */
import { DEFAULT_PDF_SCAN_LIMITS, type PdfScanLimits, scanPdf } from './documents.pdf.ts';

export type DocumentMime = 'application/pdf' | 'image/jpeg' | 'image/png';

export type Inspection = { ok: true; mime: DocumentMime; extension: string } | { ok: false; reason: string };

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_END = Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
const EICAR = 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE';
const MARKUP = /<\s*(script|svg|html|iframe|object|embed)\b|<\?php|javascript:/i;
const PDF_ACTIVE = /\/(JavaScript|JS|Launch|EmbeddedFile|RichMedia|OpenAction|AA|XFA)\b/;

function contains(data: Buffer, needle: string | Buffer, from = 0): boolean {
  return data.indexOf(needle, from) >= 0;
}

export async function inspectDocument(
  data: Buffer,
  pdfLimits: PdfScanLimits = DEFAULT_PDF_SCAN_LIMITS,
): Promise<Inspection> {
  if (data.length === 0) return { ok: false, reason: 'the file is empty' };
  const latin = data.toString('latin1');
  if (latin.includes(EICAR)) return { ok: false, reason: 'the file matches a malware signature' };
  // A ZIP local header past the start means another archive rides inside (JAR/ZIP polyglots, zip bombs).
  if (contains(data, Buffer.from([0x50, 0x4b, 0x03, 0x04])))
    return { ok: false, reason: 'the file contains an archive' };

  if (data.subarray(0, 5).toString('latin1') === '%PDF-') {
    const tail = data.subarray(Math.max(0, data.length - 1024)).toString('latin1');
    if (!tail.includes('%%EOF'))
      return { ok: false, reason: 'the PDF is truncated or has data after its end' };
    const afterEof = tail.slice(tail.lastIndexOf('%%EOF') + 5);
    if (afterEof.trim().length > 0) return { ok: false, reason: 'the PDF has data after its end' };
    if (PDF_ACTIVE.test(latin)) return { ok: false, reason: 'the PDF contains active content' };
    if (MARKUP.test(latin)) return { ok: false, reason: 'the PDF contains markup or script' };
    const scan = await scanPdf(data, pdfLimits);
    if (!scan.ok) return { ok: false, reason: scan.reason };
    return { ok: true, mime: 'application/pdf', extension: 'pdf' };
  }

  if (data.length >= 4 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) {
    if (data[data.length - 2] !== 0xff || data[data.length - 1] !== 0xd9) {
      return { ok: false, reason: 'the JPEG has data after its end' };
    }
    if (MARKUP.test(latin)) return { ok: false, reason: 'the image contains markup or script' };
    return { ok: true, mime: 'image/jpeg', extension: 'jpg' };
  }

  if (data.length >= 16 && data.subarray(0, 8).equals(PNG_SIGNATURE)) {
    if (!data.subarray(data.length - 8).equals(PNG_END))
      return { ok: false, reason: 'the PNG has data after its end' };
    if (MARKUP.test(latin)) return { ok: false, reason: 'the image contains markup or script' };
    return { ok: true, mime: 'image/png', extension: 'png' };
  }

  return { ok: false, reason: 'only PDF, JPEG and PNG files are accepted' };
}
