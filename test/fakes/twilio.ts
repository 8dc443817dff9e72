/**
 * A local Twilio Messages API speaking its wire format (INTEGRATIONS.md §3): form-urlencoded POST to
 * /2010-04-01/Accounts/{AccountSid}/Messages.json with Basic auth, Twilio's 201 message resource and its
 * `{code, message, more_info, status}` errors, and status callbacks signed with X-Twilio-Signature.
 * It keeps its own segment count and HMAC so a bug in the client's helpers cannot hide behind a shared one.
 */
import { createHmac, randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export const TWILIO_API_VERSION = '2010-04-01';

/** The number a Messaging Service picks as sender when a message is sent through one. */
export const FAKE_SERVICE_SENDER = '+15005550006';

export interface FakeTwilioOptions {
  accountSid: string;
  authToken: string;
}

export interface TwilioRecordedRequest {
  method: string;
  /** Path and query as sent. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body text. */
  body: string;
  /** The body read as form fields (last value wins), whatever the content type claimed. */
  form: Record<string, string>;
}

export interface FakeTwilioMessage {
  sid: string;
  to: string;
  /** Null when sent through a Messaging Service (the service picks the sender later). */
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  statusCallback: string | null;
  status: string;
  numSegments: number;
  dateCreated: string;
}

export interface FakeTwilioFailure {
  status: number;
  code: number;
  message: string;
  /** Sent verbatim as the Retry-After header. */
  retryAfter?: string | number;
}

export interface StatusCallbackExtra {
  /** ErrorCode for failed/undelivered (default 30008, Twilio's "unknown error"); ignored for other statuses. */
  errorCode?: string | number;
  /** Further fields, as Twilio adds without notice (they are signed like the rest). */
  params?: Record<string, string>;
  /** Sent instead of the correct signature; null omits the header. */
  signature?: string | null;
}

export interface FakeTwilio {
  /** The API root to give the client as baseUrl. */
  url: string;
  requests: TwilioRecordedRequest[];
  messages: FakeTwilioMessage[];
  failNext(count: number, failure: FakeTwilioFailure): void;
  /** Every later answer waits this long (0 to stop). */
  setDelay(ms: number): void;
  /**
   * POSTs a status callback for `message` to its StatusCallback URL, signed as Twilio signs, and returns the
   * HTTP status the receiver answered. It may be called again for the same status (at-least-once delivery).
   */
  sendStatusCallback(
    message: FakeTwilioMessage,
    status: string,
    extra?: StatusCallbackExtra,
  ): Promise<number>;
  close(): Promise<void>;
}

class TwilioHttpError extends Error {
  readonly status: number;
  readonly code: number;
  readonly headers: Record<string, string>;
  constructor(status: number, code: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

const E164 = /^\+[1-9]\d{6,14}$/;
const SHORT_CODE = /^\d{3,8}$/;
const ALPHANUMERIC_SENDER = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;
const MESSAGING_SERVICE_SID = /^MG[0-9a-f]{32}$/;
const MAX_BODY = 1600;

export async function startFakeTwilio(options: FakeTwilioOptions): Promise<FakeTwilio> {
  const requests: TwilioRecordedRequest[] = [];
  const messages: FakeTwilioMessage[] = [];
  const failures: FakeTwilioFailure[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let delayMs = 0;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const text = await readText(request);
    const url = new URL(request.url ?? '/', 'http://fake.invalid');
    requests.push({
      method: request.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      headers: request.headers,
      body: text,
      form: Object.fromEntries(new URLSearchParams(text)),
    });
    if (delayMs > 0) await sleep(delayMs, timers);
    const failure = failures.shift();
    if (failure) {
      const headers: Record<string, string> = {};
      if (failure.retryAfter !== undefined) headers['retry-after'] = String(failure.retryAfter);
      return sendError(response, new TwilioHttpError(failure.status, failure.code, failure.message, headers));
    }
    try {
      const message = accept(options, request, url, text);
      messages.push(message);
      sendJson(response, 201, messageResource(options.accountSid, message));
    } catch (error) {
      if (!(error instanceof TwilioHttpError)) throw error;
      sendError(response, error);
    }
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent || response.destroyed) return;
      sendError(response, new TwilioHttpError(500, 20500, `Internal Server Error: ${String(error)}`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed = false;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    messages,
    failNext(count, failure) {
      for (let index = 0; index < count; index += 1) failures.push(failure);
    },
    setDelay(ms) {
      delayMs = ms;
    },
    sendStatusCallback: (message, status, extra = {}) => sendStatusCallback(options, message, status, extra),
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Validates a send the way Twilio does, in its order: resource, credentials, method, parameters. */
function accept(
  options: FakeTwilioOptions,
  request: IncomingMessage,
  url: URL,
  text: string,
): FakeTwilioMessage {
  const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(url.pathname);
  if (!match) {
    throw new TwilioHttpError(404, 20404, `The requested resource ${url.pathname} was not found`);
  }
  authenticate(options, request.headers);
  if (decodeURIComponent(match[1] ?? '') !== options.accountSid) {
    throw new TwilioHttpError(404, 20404, `The requested resource ${url.pathname} was not found`);
  }
  if (request.method !== 'POST') {
    throw new TwilioHttpError(405, 20004, 'Method not allowed');
  }
  // Twilio reads parameters only from a form body: any other content type arrives as no parameters at all.
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const form = new URLSearchParams(contentType === 'application/x-www-form-urlencoded' ? text : '');
  const to = form.get('To');
  const from = form.get('From');
  const service = form.get('MessagingServiceSid');
  const body = form.get('Body');
  const statusCallback = form.get('StatusCallback');
  if (!to) throw new TwilioHttpError(400, 21604, "A 'To' phone number is required.");
  if (!E164.test(to)) {
    throw new TwilioHttpError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
  }
  if (!from && !service) throw new TwilioHttpError(400, 21603, "A 'From' phone number is required.");
  if (from && service) {
    throw new TwilioHttpError(
      400,
      21603,
      "Specify either a 'From' phone number or a MessagingServiceSid, not both.",
    );
  }
  if (from && !(E164.test(from) || SHORT_CODE.test(from) || ALPHANUMERIC_SENDER.test(from))) {
    throw new TwilioHttpError(
      400,
      21212,
      `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`,
    );
  }
  if (service && !MESSAGING_SERVICE_SID.test(service)) {
    throw new TwilioHttpError(400, 21701, `The Messaging Service Sid ${service} is invalid.`);
  }
  if (!body) throw new TwilioHttpError(400, 21602, 'Message body is required.');
  if (Array.from(body).length > MAX_BODY) {
    throw new TwilioHttpError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
  }
  if (statusCallback !== null && !isHttpUrl(statusCallback)) {
    throw new TwilioHttpError(400, 21609, `The StatusCallback URL ${statusCallback} is not a valid URL.`);
  }
  return {
    sid: `SM${randomBytes(16).toString('hex')}`,
    to,
    from: from || null,
    messagingServiceSid: service || null,
    body,
    statusCallback: statusCallback || null,
    // Through a Messaging Service the message is first "accepted" (sender not yet chosen), else "queued".
    status: service ? 'accepted' : 'queued',
    numSegments: segmentsOf(body),
    dateCreated: rfc2822(new Date()),
  };
}

function authenticate(options: FakeTwilioOptions, headers: IncomingHttpHeaders): void {
  const expected = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  if (headers.authorization !== expected) {
    throw new TwilioHttpError(401, 20003, 'Authenticate', { 'www-authenticate': 'Basic realm="Twilio API"' });
  }
}

/** The message resource as Twilio answers a create (num_segments and num_media are strings there). */
function messageResource(accountSid: string, message: FakeTwilioMessage): Record<string, unknown> {
  const uri = `/${TWILIO_API_VERSION}/Accounts/${accountSid}/Messages/${message.sid}`;
  return {
    account_sid: accountSid,
    api_version: TWILIO_API_VERSION,
    body: message.body,
    date_created: message.dateCreated,
    date_sent: null,
    date_updated: message.dateCreated,
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: message.from,
    messaging_service_sid: message.messagingServiceSid,
    num_media: '0',
    num_segments: String(message.numSegments),
    price: null,
    price_unit: 'USD',
    sid: message.sid,
    status: message.status,
    subresource_uris: { media: `${uri}/Media.json` },
    to: message.to,
    uri: `${uri}.json`,
  };
}

async function sendStatusCallback(
  options: FakeTwilioOptions,
  message: FakeTwilioMessage,
  status: string,
  extra: StatusCallbackExtra,
): Promise<number> {
  if (!message.statusCallback) throw new Error(`fake Twilio: message ${message.sid} has no StatusCallback`);
  const params: Record<string, string> = {
    MessageSid: message.sid,
    SmsSid: message.sid,
    MessageStatus: status,
    SmsStatus: status,
    AccountSid: options.accountSid,
    From: message.from ?? FAKE_SERVICE_SENDER,
    To: message.to,
    ApiVersion: TWILIO_API_VERSION,
    ...(message.messagingServiceSid ? { MessagingServiceSid: message.messagingServiceSid } : {}),
    ...(status === 'failed' || status === 'undelivered'
      ? { ErrorCode: String(extra.errorCode ?? 30008) }
      : {}),
    ...extra.params,
  };
  const signature =
    extra.signature === undefined ? sign(options.authToken, message.statusCallback, params) : extra.signature;
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8',
    'User-Agent': 'TwilioProxy/1.1',
    'I-Twilio-Idempotency-Token': randomBytes(16).toString('hex'),
  };
  if (signature !== null) headers['X-Twilio-Signature'] = signature;
  message.status = status;
  const response = await fetch(message.statusCallback, {
    method: 'POST',
    headers,
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(15_000),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Twilio's webhook signature, over the exact URL posted to: the fake's own, independent of the client's. */
function sign(authToken: string, url: string, params: Record<string, string>): string {
  const hmac = createHmac('sha1', authToken);
  hmac.update(url, 'utf8');
  for (const key of Object.keys(params).sort()) hmac.update(`${key}${params[key]}`, 'utf8');
  return hmac.digest('base64');
}

const GSM_CHARACTERS =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_ESCAPED = '\f^{}\\[~]|€';

/** Twilio's count: GSM-7 153 septets per part (160 alone), else UCS-2 67 units (70 alone), nothing split. */
function segmentsOf(body: string): number {
  const characters = Array.from(body);
  const gsm = characters.every((c) => GSM_CHARACTERS.includes(c) || GSM_ESCAPED.includes(c));
  const width = (c: string): number => (gsm ? (GSM_ESCAPED.includes(c) ? 2 : 1) : c.length);
  const total = characters.reduce((sum, c) => sum + width(c), 0);
  if (total <= (gsm ? 160 : 70)) return 1;
  const part = gsm ? 153 : 67;
  let segments = 1;
  let room = part;
  for (const c of characters) {
    if (width(c) > room) {
      segments += 1;
      room = part;
    }
    room -= width(c);
  }
  return segments;
}

/** RFC 2822 as Twilio writes it: "Thu, 24 Aug 2023 05:01:45 +0000". */
function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function sleep(ms: number, timers: Set<NodeJS.Timeout>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      resolve();
    }, ms);
    timers.add(timer);
  });
}

async function readText(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendError(response: ServerResponse, error: TwilioHttpError): void {
  sendJson(
    response,
    error.status,
    {
      code: error.code,
      message: error.message,
      more_info: `https://www.twilio.com/docs/errors/${error.code}`,
      status: error.status,
    },
    error.headers,
  );
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json;charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'twilio-request-id': `RQ${randomBytes(16).toString('hex')}`,
  });
  response.end(text);
}
