/**
 * A local SMTP server (smtp-server) that accepts mail the way a relay would and keeps every message: the envelope,
 * the raw RFC 5322 text, and the header and body fields a test asserts on, decoded from their MIME form
 * (encoded words, quoted-printable, base64, multipart/alternative). It can refuse the next recipients with a
 * permanent (550) or transient (451) reply.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';

export interface FakeSmtpOptions {
  /** With credentials, the server requires AUTH (PLAIN/LOGIN over the plain connection); without, it has no AUTH. */
  username?: string;
  password?: string;
}

export interface CapturedEmail {
  envelopeFrom: string;
  envelopeTo: string[];
  /** The user that authenticated, when the server requires credentials. */
  user: string | undefined;
  /** The message as received after DATA (dot-unstuffed), CRLF line ends. */
  raw: string;
  /** Header fields by lower-case name, unfolded, encoded words decoded; one entry per occurrence. */
  headers: Map<string, string[]>;
  subject: string | undefined;
  from: string | undefined;
  to: string | undefined;
  /** The decoded text/plain part (or the whole body when it is a single text/plain part). */
  text: string | undefined;
  /** The decoded text/html part. */
  html: string | undefined;
}

export type RcptRejection = 550 | 451;

export interface FakeSmtp {
  host: string;
  port: number;
  messages: CapturedEmail[];
  /** Every RCPT TO address the server saw, accepted or not. */
  recipientsSeen: string[];
  /** The next `count` RCPT TO commands are refused with this reply code. */
  rejectNextRcpt(count: number, code: RcptRejection): void;
  close(): Promise<void>;
}

interface SmtpReplyError extends Error {
  responseCode?: number;
}

function replyError(code: number, message: string): SmtpReplyError {
  const error: SmtpReplyError = new Error(message);
  error.responseCode = code;
  return error;
}

export async function startFakeSmtp(options: FakeSmtpOptions = {}): Promise<FakeSmtp> {
  const messages: CapturedEmail[] = [];
  const recipientsSeen: string[] = [];
  const rejections: RcptRejection[] = [];
  const requireAuth = options.username !== undefined;

  const server = new SMTPServer({
    secure: false,
    name: 'fake-smtp.test',
    logger: false,
    disableReverseLookup: true,
    authOptional: !requireAuth,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    disabledCommands: requireAuth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    closeTimeout: 200,
    socketTimeout: 10_000,
    onAuth(auth, _session, callback) {
      if (auth.username === options.username && auth.password === (options.password ?? '')) {
        callback(null, { user: auth.username });
        return;
      }
      callback(replyError(535, '5.7.8 Authentication credentials invalid'));
    },
    onRcptTo(address, _session, callback) {
      recipientsSeen.push(address.address);
      const code = rejections.shift();
      if (code === 550) {
        callback(replyError(550, `5.1.1 <${address.address}>: Recipient address rejected: User unknown`));
        return;
      }
      if (code === 451) {
        callback(replyError(451, `4.7.1 <${address.address}>: Recipient address rejected: Try again later`));
        return;
      }
      callback();
    },
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (error: Error) => callback(error));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const mailFrom = session.envelope.mailFrom;
        messages.push({
          envelopeFrom: mailFrom ? mailFrom.address : '',
          envelopeTo: session.envelope.rcptTo.map((recipient) => recipient.address),
          user: typeof session.user === 'string' ? session.user : undefined,
          raw,
          ...parseEmail(raw),
        });
        callback(null, 'OK: message queued');
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // An SMTP client that drops the connection mid-session must not crash the test process.
  server.on('error', () => {});
  const { port } = server.server.address() as AddressInfo;
  let closed: Promise<void> | undefined;

  return {
    host: '127.0.0.1',
    port,
    messages,
    recipientsSeen,
    rejectNextRcpt(count, code) {
      for (let index = 0; index < count; index += 1) rejections.push(code);
    },
    close() {
      closed ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return closed;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// A small MIME reader: enough to read what a mail client composes, independent of the library that composed it.

interface MimePart {
  headers: Map<string, string[]>;
  body: string;
}

export function parseEmail(
  raw: string,
): Pick<CapturedEmail, 'headers' | 'subject' | 'from' | 'to' | 'text' | 'html'> {
  const part = splitPart(raw);
  // The CRLF ending the last line is how DATA ends, not part of a single-part body.
  if (part.body.endsWith('\r\n')) part.body = part.body.slice(0, -2);
  const headers = new Map<string, string[]>();
  for (const [name, values] of part.headers) headers.set(name, values.map(decodeEncodedWords));
  const found: { text?: string; html?: string } = {};
  collectBodies(part, found);
  return {
    headers,
    subject: headers.get('subject')?.[0],
    from: headers.get('from')?.[0],
    to: headers.get('to')?.[0],
    text: found.text,
    html: found.html,
  };
}

function splitPart(raw: string): MimePart {
  const text = raw.replace(/\r?\n/g, '\r\n');
  const end = text.indexOf('\r\n\r\n');
  const headerBlock = end === -1 ? text : text.slice(0, end);
  const body = end === -1 ? '' : text.slice(end + 4);
  const headers = new Map<string, string[]>();
  // Unfolding: a line break followed by white space continues the previous field.
  for (const line of headerBlock.replace(/\r\n(?=[ \t])/g, '').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, [...(headers.get(name) ?? []), value]);
  }
  return { headers, body };
}

function collectBodies(part: MimePart, found: { text?: string; html?: string }): void {
  const contentType = parseContentType(part.headers.get('content-type')?.[0] ?? 'text/plain');
  const disposition = (part.headers.get('content-disposition')?.[0] ?? '').toLowerCase();
  if (contentType.type.startsWith('multipart/')) {
    const boundary = contentType.params.get('boundary');
    if (!boundary) return;
    for (const child of multipartChildren(part.body, boundary)) collectBodies(splitPart(child), found);
    return;
  }
  if (disposition.startsWith('attachment')) return;
  const charset = contentType.params.get('charset') ?? 'utf-8';
  const encoding = (part.headers.get('content-transfer-encoding')?.[0] ?? '7bit').toLowerCase();
  if (contentType.type === 'text/plain' && found.text === undefined) {
    found.text = decodeBody(part.body, encoding, charset);
  } else if (contentType.type === 'text/html' && found.html === undefined) {
    found.html = decodeBody(part.body, encoding, charset);
  }
}

function multipartChildren(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`;
  const children: string[] = [];
  const lines = body.split('\r\n');
  let current: string[] | undefined;
  for (const line of lines) {
    const trimmed = line.trimEnd();
    if (trimmed === delimiter || trimmed === `${delimiter}--`) {
      if (current) children.push(current.join('\r\n'));
      current = trimmed === delimiter ? [] : undefined;
      if (trimmed !== delimiter) break;
      continue;
    }
    current?.push(line);
  }
  return children;
}

function parseContentType(value: string): { type: string; params: Map<string, string> } {
  const [type = '', ...rest] = value.split(';');
  const params = new Map<string, string>();
  for (const piece of rest) {
    const equals = piece.indexOf('=');
    if (equals === -1) continue;
    const name = piece.slice(0, equals).trim().toLowerCase();
    let paramValue = piece.slice(equals + 1).trim();
    if (paramValue.startsWith('"') && paramValue.endsWith('"')) paramValue = paramValue.slice(1, -1);
    params.set(name, paramValue);
  }
  return { type: type.trim().toLowerCase(), params };
}

function decodeBody(body: string, encoding: string, charset: string): string {
  if (encoding === 'base64') return decodeCharset(Buffer.from(body.replace(/\s+/g, ''), 'base64'), charset);
  if (encoding === 'quoted-printable') return decodeCharset(decodeQuotedPrintable(body), charset);
  return body;
}

function decodeQuotedPrintable(text: string): Buffer {
  const unwrapped = text.replace(/[ \t]+\r\n/g, '\r\n').replace(/=\r\n/g, '');
  const bytes: number[] = [];
  for (let index = 0; index < unwrapped.length; index += 1) {
    const char = unwrapped[index] as string;
    const hex = unwrapped.slice(index + 1, index + 3);
    if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      index += 2;
    } else {
      bytes.push(...Buffer.from(char, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

/** RFC 2047 encoded words (=?charset?B|Q?…?=); white space between two adjacent encoded words disappears. */
function decodeEncodedWords(value: string): string {
  const word = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
  const joined = value.replace(/(\?=)\s+(?==\?)/g, '$1');
  return joined.replace(word, (_match, charset: string, kind: string, payload: string) => {
    const bytes =
      kind.toUpperCase() === 'B'
        ? Buffer.from(payload, 'base64')
        : decodeQuotedPrintable(payload.replace(/_/g, ' '));
    return decodeCharset(bytes, charset.split('*')[0] ?? 'utf-8');
  });
}

function decodeCharset(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}
