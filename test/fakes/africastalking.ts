/**
 * A local Africa's Talking SMS API speaking its wire format (INTEGRATIONS.md §3): form POST to
 * /version1/messaging with the `apiKey` header, the SMSMessageData answer with a statusCode per recipient,
 * plain-text HTTP errors, and unsigned form delivery reports.
 */
import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeAfricasTalkingOptions {
  username: string;
  apiKey: string;
}

export interface AtRecordedRequest {
  method: string;
  /** Path and query as sent. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body text. */
  body: string;
  /** The body read as form fields (last value wins), whatever the content type claimed. */
  form: Record<string, string>;
}

export interface FakeAtMessage {
  messageId: string;
  /** One recipient, E.164. */
  to: string;
  from: string | null;
  message: string;
}

/**
 * The next answers: an HTTP error (plain text body as AT sends, optional Retry-After), a 201 whose recipient
 * carries a refusal statusCode, or a 201 with no recipients at all and `noRecipients` as its Message.
 */
export type FakeAtFailure =
  | { httpStatus: number; body?: string; retryAfter?: string | number }
  | { recipientStatusCode: number; status: string }
  | { noRecipients: string };

export interface DeliveryReport {
  /** Sent, Submitted, Buffered, Rejected, Success, Failed. */
  status: string;
  /** Sent when given; DeliveryFailure by default for Rejected and Failed. */
  failureReason?: string;
  networkCode?: string;
  retryCount?: number;
}

export interface FakeAfricasTalking {
  /** The API root to give the client as baseUrl. */
  url: string;
  requests: AtRecordedRequest[];
  messages: FakeAtMessage[];
  failNext(count: number, failure: FakeAtFailure): void;
  /** Every later answer waits this long (0 to stop). */
  setDelay(ms: number): void;
  /** POSTs an (unsigned) delivery report and returns the HTTP status the receiver answered. */
  sendDeliveryReport(callbackUrl: string, message: FakeAtMessage, report: DeliveryReport): Promise<number>;
  close(): Promise<void>;
}

class AtHttpError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, text: string, headers: Record<string, string> = {}) {
    super(text);
    this.status = status;
    this.headers = headers;
  }
}

const COST = 'KES 0.8000';
const E164 = /^\+[1-9]\d{6,14}$/;
/** Safaricom, the default network of a delivery report. */
const DEFAULT_NETWORK_CODE = '63902';

export async function startFakeAfricasTalking(
  options: FakeAfricasTalkingOptions,
): Promise<FakeAfricasTalking> {
  const requests: AtRecordedRequest[] = [];
  const messages: FakeAtMessage[] = [];
  const failures: FakeAtFailure[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let delayMs = 0;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const text = await readText(request);
    const url = new URL(request.url ?? '/', 'http://fake.invalid');
    const recorded: AtRecordedRequest = {
      method: request.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      headers: request.headers,
      body: text,
      form: Object.fromEntries(new URLSearchParams(text)),
    };
    requests.push(recorded);
    if (delayMs > 0) await sleep(delayMs, timers);
    try {
      const failure = failures.shift();
      if (failure) return answerFailure(response, failure, recorded.form.to ?? '');
      const fields = readForm(options, request, url, text);
      const recipients = fields.to.map((number) => {
        if (!E164.test(number)) return refusedRecipient(number, 403, 'InvalidPhoneNumber');
        const message = {
          messageId: `ATXid_${randomBytes(16).toString('hex')}`,
          to: number,
          from: fields.from,
          message: fields.message,
        };
        messages.push(message);
        return { statusCode: 101, number, status: 'Success', cost: COST, messageId: message.messageId };
      });
      sendAnswer(response, request.headers, recipients);
    } catch (error) {
      if (!(error instanceof AtHttpError)) throw error;
      sendText(response, error.status, error.message, error.headers);
    }
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch(() => sendText(response, 500, 'Internal Server Error'));
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
    sendDeliveryReport,
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

/** Checks a send as AT does: resource, API key, then form fields. */
function readForm(
  options: FakeAfricasTalkingOptions,
  request: IncomingMessage,
  url: URL,
  text: string,
): { to: string[]; message: string; from: string | null } {
  if (url.pathname !== '/version1/messaging') throw new AtHttpError(404, 'Not Found');
  if (request.method !== 'POST') throw new AtHttpError(405, 'Method Not Allowed');
  if (request.headers.apikey !== options.apiKey) {
    throw new AtHttpError(401, 'The supplied authentication is invalid');
  }
  // AT reads parameters only from a form body: any other content type arrives as no parameters at all.
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const form = new URLSearchParams(contentType === 'application/x-www-form-urlencoded' ? text : '');
  const username = form.get('username');
  if (!username) throw new AtHttpError(400, "Request is missing required form field 'username'");
  if (username !== options.username) throw new AtHttpError(401, 'The supplied authentication is invalid');
  const to = form.get('to');
  if (!to) throw new AtHttpError(400, "Request is missing required form field 'to'");
  const message = form.get('message');
  if (!message) throw new AtHttpError(400, "Request is missing required form field 'message'");
  return {
    to: to
      .split(',')
      .map((number) => number.trim())
      .filter((number) => number !== ''),
    message,
    from: form.get('from') || null,
  };
}

function answerFailure(response: ServerResponse, failure: FakeAtFailure, to: string): void {
  if ('httpStatus' in failure) {
    const headers: Record<string, string> = {};
    if (failure.retryAfter !== undefined) headers['retry-after'] = String(failure.retryAfter);
    sendText(response, failure.httpStatus, failure.body ?? httpText(failure.httpStatus), headers);
    return;
  }
  if ('noRecipients' in failure) {
    sendJson(response, 201, { SMSMessageData: { Message: failure.noRecipients, Recipients: [] } });
    return;
  }
  sendJson(response, 201, {
    SMSMessageData: {
      Message: 'Sent to 0/1 Total Cost: 0',
      Recipients: [refusedRecipient(to, failure.recipientStatusCode, failure.status)],
    },
  });
}

/** A refused recipient as AT reports it: no message id ("None"), no cost. */
function refusedRecipient(number: string, statusCode: number, status: string): Record<string, unknown> {
  return { statusCode, number, status, cost: '0', messageId: 'None' };
}

/** JSON only when asked for it: AT's default answer format is XML. */
function sendAnswer(
  response: ServerResponse,
  headers: IncomingHttpHeaders,
  recipients: Record<string, unknown>[],
): void {
  const sent = recipients.filter((recipient) => recipient.statusCode === 101).length;
  const total = sent === 0 ? '0' : `KES ${(0.8 * sent).toFixed(4)}`;
  const summary = `Sent to ${sent}/${recipients.length} Total Cost: ${total}`;
  if ((headers.accept ?? '').includes('application/json')) {
    sendJson(response, 201, { SMSMessageData: { Message: summary, Recipients: recipients } });
    return;
  }
  const items = recipients
    .map(
      (recipient) =>
        `<Recipient><number>${recipient.number}</number><cost>${recipient.cost}</cost><status>${recipient.status}</status><statusCode>${recipient.statusCode}</statusCode><messageId>${recipient.messageId}</messageId></Recipient>`,
    )
    .join('');
  const xml = `<?xml version='1.0' encoding='UTF-8'?><AfricasTalkingResponse><SMSMessageData><Message>${summary}</Message><Recipients>${items}</Recipients></SMSMessageData></AfricasTalkingResponse>`;
  response.writeHead(201, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
  response.end(xml);
}

async function sendDeliveryReport(
  callbackUrl: string,
  message: FakeAtMessage,
  report: DeliveryReport,
): Promise<number> {
  const fields: Record<string, string> = {
    id: message.messageId,
    status: report.status,
    phoneNumber: message.to,
    networkCode: report.networkCode ?? DEFAULT_NETWORK_CODE,
    retryCount: String(report.retryCount ?? 0),
  };
  const failed = report.status === 'Rejected' || report.status === 'Failed';
  if (report.failureReason !== undefined || failed) {
    fields.failureReason = report.failureReason ?? 'DeliveryFailure';
  }
  const response = await fetch(callbackUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    signal: AbortSignal.timeout(15_000),
  });
  await response.arrayBuffer();
  return response.status;
}

function httpText(status: number): string {
  if (status === 401) return 'The supplied authentication is invalid';
  if (status === 400) return 'Request is missing required form field';
  if (status === 429) return 'Too Many Requests';
  if (status >= 500) return 'Internal Server Error';
  return `HTTP ${status}`;
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

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function sendText(
  response: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  if (response.destroyed || response.headersSent) return;
  response.writeHead(status, {
    ...headers,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
