/**
 * A local SendGrid v3 Mail Send endpoint (INTEGRATIONS.md §5): Bearer API key, JSON only, SendGrid's validation of
 * personalizations/from/subject/content with its `errors[{message, field, help}]` bodies, 202 with X-Message-Id.
 * It also plays SendGrid's Event Webhook: it owns an ECDSA P-256 key pair and signs event batches the way SendGrid
 * does (signature over timestamp + raw body, base64 DER, in the X-Twilio-Email-Event-Webhook-* headers).
 */
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSendGridOptions {
  apiKey: string;
}

export interface SendGridRecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body text. */
  text: string;
  /** The parsed JSON body, undefined when it is not JSON. */
  body: unknown;
  /** What the fake answered. */
  status: number;
}

export interface SendGridAcceptedMessage {
  messageId: string;
  to: Array<{ email: string; name?: string }>;
  from: { email: string; name?: string };
  subject: string;
  text: string | undefined;
  html: string | undefined;
  body: unknown;
}

export interface SendGridFailure {
  status: number;
  message: string;
  /** Sent as a Retry-After header (seconds). */
  retryAfter?: number;
}

export interface SendGridWebhookEvent {
  email: string;
  timestamp: number;
  event: string;
  sg_event_id: string;
  sg_message_id: string;
  [field: string]: unknown;
}

export interface SignedEvents {
  body: string;
  headers: Record<string, string>;
}

export interface PostEventsOptions {
  /** Change the body after signing it (as a man in the middle would). */
  tamper?: boolean;
  /** Shift the signed timestamp from now by this many seconds. */
  timestampOffsetSeconds?: number;
}

export interface FakeSendGrid {
  url: string;
  requests: SendGridRecordedRequest[];
  messages: SendGridAcceptedMessage[];
  /** The next `count` well-authenticated requests get this status and SendGrid's error body. */
  failNext(count: number, failure: SendGridFailure): void;
  /** The webhook verification key as SendGrid's console shows it: base64 of the DER SPKI. */
  publicKeyBase64: string;
  signEvents(events: SendGridWebhookEvent[], options?: PostEventsOptions): SignedEvents;
  postEvents(
    callbackUrl: string,
    events: SendGridWebhookEvent[],
    options?: PostEventsOptions,
  ): Promise<number>;
  close(): Promise<void>;
}

const HELP = 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html';

interface FieldError {
  message: string;
  field: string | null;
  help?: string | null;
}

class FakeHttpError extends Error {
  readonly status: number;
  readonly errors: FieldError[];
  constructor(status: number, errors: FieldError[]) {
    super(`fake SendGrid ${status}`);
    this.status = status;
    this.errors = errors;
  }
}

export async function startFakeSendGrid(options: FakeSendGridOptions): Promise<FakeSendGrid> {
  const requests: SendGridRecordedRequest[] = [];
  const messages: SendGridAcceptedMessage[] = [];
  const failures: SendGridFailure[] = [];
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicKeyBase64 = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const text = await readText(request);
    const record: SendGridRecordedRequest = {
      method: request.method ?? 'GET',
      path: request.url ?? '/',
      headers: request.headers,
      text,
      body: parseJson(text),
      status: 0,
    };
    requests.push(record);
    const answer = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      const payload = body === undefined ? '' : JSON.stringify(body);
      response.writeHead(status, {
        ...headers,
        ...(payload ? { 'content-type': 'application/json' } : {}),
        'content-length': String(Buffer.byteLength(payload)),
      });
      response.end(payload);
    };
    try {
      const url = new URL(record.path, 'http://fake.invalid');
      if (url.pathname !== '/v3/mail/send')
        throw new FakeHttpError(404, [{ message: 'Not Found', field: null }]);
      if (record.method !== 'POST') {
        throw new FakeHttpError(405, [{ message: 'Method Not Allowed', field: null }]);
      }
      if (request.headers.authorization !== `Bearer ${options.apiKey}`) {
        throw new FakeHttpError(401, [
          {
            message: 'The provided authorization grant is invalid, expired, or revoked',
            field: null,
            help: null,
          },
        ]);
      }
      const failure = failures.shift();
      if (failure) {
        const headers: Record<string, string> = {};
        if (failure.retryAfter !== undefined) headers['retry-after'] = String(failure.retryAfter);
        answer(failure.status, { errors: [{ message: failure.message, field: null, help: null }] }, headers);
        return;
      }
      if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
        throw new FakeHttpError(415, [{ message: 'Content-Type should be application/json.', field: null }]);
      }
      const message = validateMail(record.body);
      const messageId = randomBytes(16).toString('base64url').slice(0, 22);
      messages.push({ ...message, messageId });
      answer(202, undefined, { 'x-message-id': messageId });
    } catch (error) {
      if (error instanceof FakeHttpError) answer(error.status, { errors: error.errors });
      else answer(500, { errors: [{ message: String(error), field: null, help: null }] });
    }
  };

  const server: Server = createServer((request, response) => {
    void handle(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;

  const signEvents = (events: SendGridWebhookEvent[], signOptions: PostEventsOptions = {}): SignedEvents =>
    signedEvents(privateKey, events, signOptions);

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    messages,
    failNext(count, failure) {
      for (let index = 0; index < count; index += 1) failures.push(failure);
    },
    publicKeyBase64,
    signEvents,
    async postEvents(callbackUrl, events, postOptions = {}) {
      const signed = signEvents(events, postOptions);
      const response = await fetch(callbackUrl, {
        method: 'POST',
        headers: signed.headers,
        body: signed.body,
        signal: AbortSignal.timeout(5_000),
      });
      await response.arrayBuffer();
      return response.status;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}

/**
 * SendGrid posts the batch as a JSON array followed by CRLF and signs `timestamp + body` with ECDSA P-256 and
 * SHA-256; the signature is the base64 of its DER encoding.
 */
function signedEvents(
  privateKey: KeyObject,
  events: SendGridWebhookEvent[],
  options: PostEventsOptions,
): SignedEvents {
  const signedBody = `${JSON.stringify(events)}\r\n`;
  const timestamp = String(Math.floor(Date.now() / 1000) + (options.timestampOffsetSeconds ?? 0));
  const signature = sign('sha256', Buffer.from(timestamp + signedBody, 'utf8'), {
    key: privateKey,
    dsaEncoding: 'der',
  }).toString('base64');
  const body = options.tamper ? tamperWith(signedBody) : signedBody;
  return {
    body,
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': 'SendGrid Event API',
      'X-Twilio-Email-Event-Webhook-Signature': signature,
      'X-Twilio-Email-Event-Webhook-Timestamp': timestamp,
    },
  };
}

/** The smallest meaningful change: the first event now claims delivery (or, failing that, one byte differs). */
function tamperWith(body: string): string {
  const changed = body.replace(/"event":"[a-z_]+"/, '"event":"delivered"');
  return changed !== body ? changed : body.replace(/\r\n$/, ' \r\n');
}

function validateMail(body: unknown): Omit<SendGridAcceptedMessage, 'messageId'> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new FakeHttpError(400, [{ message: 'Bad Request', field: null, help: null }]);
  }
  const mail = body as Record<string, unknown>;
  const errors: FieldError[] = [];
  const problem = (field: string, message: string, anchor: string) =>
    errors.push({ message, field, help: `${HELP}#message.${anchor}` });

  const personalizations = mail.personalizations;
  const to: Array<{ email: string; name?: string }> = [];
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    problem(
      'personalizations',
      'The personalizations field is required and must have at least one personalization.',
      'personalizations',
    );
  } else {
    if (personalizations.length > 1000) {
      problem(
        'personalizations',
        'The personalizations field is limited to 1000 objects.',
        'personalizations',
      );
    }
    personalizations.forEach((personalization: unknown, index) => {
      const recipients = (personalization as Record<string, unknown> | null)?.to;
      if (!Array.isArray(recipients) || recipients.length === 0) {
        problem(
          `personalizations.${index}.to`,
          'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
          'personalizations.to',
        );
        return;
      }
      recipients.forEach((recipient: unknown, position) => {
        const address = readAddress(recipient);
        if (!address) {
          problem(
            `personalizations.${index}.to.${position}.email`,
            'Does not contain a valid address.',
            'personalizations.to',
          );
        } else to.push(address);
      });
    });
  }

  const from = readAddress(mail.from);
  if (!from) {
    problem(
      'from.email',
      'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.  e.g. {"email" : "example@example.com"}  or {"email" : "example@example.com", "name" : "Example Recipient"}.',
      'from.email',
    );
  }

  const subject = mail.subject;
  if (typeof subject !== 'string' || subject.length === 0) {
    problem(
      'subject',
      'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.',
      'subject',
    );
  }

  const content = mail.content;
  let text: string | undefined;
  let html: string | undefined;
  if (!Array.isArray(content) || content.length === 0) {
    problem(
      'content',
      'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.',
      'content',
    );
  } else {
    content.forEach((block: unknown, index) => {
      const { type, value } = (block ?? {}) as Record<string, unknown>;
      if (typeof type !== 'string' || type.length === 0) {
        problem(`content.${index}.type`, 'The content type cannot be blank.', 'content.type');
      }
      if (typeof value !== 'string' || value.length === 0) {
        problem(
          `content.${index}.value`,
          'The content value must be a string at least one character in length.',
          'content.value',
        );
      }
      if (type === 'text/plain' && typeof value === 'string') {
        if (index !== 0) {
          problem(
            'content',
            'The text/plain content type must be first, followed by any other content types.',
            'content',
          );
        }
        text = value;
      }
      if (type === 'text/html' && typeof value === 'string') html = value;
    });
  }

  if (errors.length > 0 || !from) throw new FakeHttpError(400, errors);
  return { to, from, subject: subject as string, text, html, body };
}

function readAddress(value: unknown): { email: string; name?: string } | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { email, name } = value as Record<string, unknown>;
  if (typeof email !== 'string' || !/^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$/.test(email)) return undefined;
  if (name !== undefined && typeof name !== 'string') return undefined;
  return name === undefined ? { email } : { email, name };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function readText(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
