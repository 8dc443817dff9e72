/**
 * Email through SendGrid's v3 Mail Send API (INTEGRATIONS.md §5): one personalization with one recipient, the text
 * part first and the html part second, as SendGrid requires. A 202 carries the message id in X-Message-Id; the
 * event webhook later reports on it as the prefix of `sg_message_id`.
 */

import { retryAfterSeconds } from '../http.ts';
import { type EmailMessage, type EmailProvider, ProviderError, type SendResult } from '../ports.ts';

export interface SendGridEmailClientOptions {
  /** https://api.sendgrid.com, or https://api.eu.sendgrid.com for EU-pinned subusers. */
  baseUrl: string;
  apiKey: string;
  from: string;
  fromName: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

interface SendGridAddress {
  email: string;
  name?: string;
}

/** The body of POST /v3/mail/send as this client sends it. */
export interface SendGridMailBody {
  personalizations: [{ to: [SendGridAddress] }];
  from: SendGridAddress;
  subject: string;
  content: Array<{ type: 'text/plain' | 'text/html'; value: string }>;
}

/** Refusals that the same request will meet again. */
const PERMANENT_STATUSES = new Set([400, 401, 403, 404, 405, 413, 415]);

export class SendGridEmailClient implements EmailProvider {
  readonly name = 'sendgrid' as const;
  readonly #url: string;
  readonly #authorization: string;
  readonly #from: SendGridAddress;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: SendGridEmailClientOptions) {
    this.#url = `${options.baseUrl.replace(/\/+$/, '')}/v3/mail/send`;
    this.#authorization = `Bearer ${options.apiKey}`;
    this.#from = { email: options.from, name: oneLine(options.fromName) };
    this.#timeoutMs = options.timeoutMs;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  async send(message: EmailMessage): Promise<SendResult> {
    const { status, headers, text } = await this.#exchange(mailBody(this.#from, message));
    if (status >= 200 && status < 300) {
      return {
        provider: 'sendgrid',
        providerMessageId: headers.get('x-message-id') ?? '',
        providerStatus: String(status),
      };
    }
    throw sendGridError(status, headers, text);
  }

  async #exchange(body: SendGridMailBody): Promise<{ status: number; headers: Headers; text: string }> {
    try {
      const response = await this.#fetch(this.#url, {
        method: 'POST',
        headers: {
          Authorization: this.#authorization,
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      return { status: response.status, headers: response.headers, text: await response.text() };
    } catch (error) {
      throw networkError(error);
    }
  }
}

export function mailBody(from: SendGridAddress, message: EmailMessage): SendGridMailBody {
  const to: SendGridAddress = { email: message.to };
  if (message.toName) to.name = oneLine(message.toName);
  const content: SendGridMailBody['content'] = [{ type: 'text/plain', value: message.text }];
  if (message.html !== undefined && message.html.length > 0) {
    content.push({ type: 'text/html', value: message.html });
  }
  return { personalizations: [{ to: [to] }], from, subject: oneLine(message.subject), content };
}

function oneLine(value: string): string {
  return value
    .replace(/[\r\n\u0085\u2028\u2029]+/g, ' ')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

function sendGridError(status: number, headers: Headers, text: string): ProviderError {
  const message = firstErrorMessage(text) ?? `SendGrid answered ${status}`;
  const code = `HTTP ${status}`;
  if (PERMANENT_STATUSES.has(status) || (status >= 400 && status < 500 && status !== 408 && status !== 429)) {
    return new ProviderError('sendgrid', code, message, { retryable: false, httpStatus: status });
  }
  return new ProviderError('sendgrid', code, message, {
    retryable: true,
    httpStatus: status,
    retryAfterSeconds: retryAfterSeconds(headers.get('retry-after')),
  });
}

function firstErrorMessage(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { errors?: Array<{ message?: unknown }> };
    const first = Array.isArray(body.errors) ? body.errors[0] : undefined;
    return typeof first?.message === 'string' && first.message.length > 0 ? first.message : undefined;
  } catch {
    return undefined;
  }
}

function networkError(error: unknown): ProviderError {
  const name = error instanceof Error ? error.name : '';
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  const detail = error instanceof Error ? `${error.message}${cause}` : String(error);
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new ProviderError('sendgrid', 'TIMEOUT', `SendGrid did not answer in time: ${detail}`, {
      retryable: true,
    });
  }
  return new ProviderError('sendgrid', 'NETWORK', `SendGrid unreachable: ${detail}`, { retryable: true });
}
