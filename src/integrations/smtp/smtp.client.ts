/**
 * Email over SMTP with nodemailer (INTEGRATIONS.md §5). One connection per message (no pool), so nothing stays
 * open between sends and `close()` leaves no handle behind. The SMTP reply code decides retries: 4yz is transient,
 * 5yz permanent; a connection that fails or stalls is transient.
 */
import { createTransport } from 'nodemailer';
import { type EmailMessage, type EmailProvider, ProviderError, type SendResult } from '../ports.ts';

export interface SmtpEmailClientOptions {
  host: string;
  port: number;
  /** true for implicit TLS (465); false for a plain connection upgraded by STARTTLS when offered (587). */
  secure: boolean;
  username?: string;
  password?: string;
  /** The sender address, e.g. no-reply@bank.example. */
  from: string;
  fromName: string;
  /** Limit for each phase: connecting, the greeting, and any silence from the server afterwards. */
  timeoutMs: number;
}

/** What nodemailer attaches to the errors it raises. */
interface NodemailerError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

/** Connection-level failures: the message was not refused, it just did not get through this time. */
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ESOCKET', 'EDNS', 'ETIMEDOUT', 'EABORT', 'EPROTOCOL']);

type SmtpTransport = ReturnType<typeof createSmtpTransport>;

function createSmtpTransport(options: SmtpEmailClientOptions) {
  const auth =
    options.username !== undefined ? { user: options.username, pass: options.password ?? '' } : undefined;
  return createTransport({
    host: options.host,
    port: options.port,
    secure: options.secure,
    auth,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    dnsTimeout: options.timeoutMs,
  });
}

export class SmtpEmailClient implements EmailProvider {
  readonly name = 'smtp' as const;
  readonly #transport: SmtpTransport;
  readonly #from: string;
  readonly #fromName: string;

  constructor(options: SmtpEmailClientOptions) {
    if (!isPlainAddress(options.from)) throw new RangeError(`${options.from} is not a plain email address`);
    this.#transport = createSmtpTransport(options);
    this.#from = options.from;
    this.#fromName = headerText(options.fromName);
  }

  async send(message: EmailMessage): Promise<SendResult> {
    // One address only: a comma or angle bracket here would otherwise reach more mailboxes than the one asked for.
    if (!isPlainAddress(message.to)) {
      throw new ProviderError('smtp', 'INVALID_ADDRESS', `${JSON.stringify(message.to)} is not one address`, {
        retryable: false,
      });
    }
    const to = message.toName ? { name: headerText(message.toName), address: message.to } : message.to;
    let info: { messageId: string; response: string; rejected: unknown[] };
    try {
      info = await this.#transport.sendMail({
        from: { name: this.#fromName, address: this.#from },
        to,
        envelope: { from: this.#from, to: [message.to] },
        subject: headerText(message.subject),
        text: message.text,
        ...(message.html !== undefined ? { html: message.html } : {}),
      });
    } catch (error) {
      throw smtpError(error);
    }
    if (info.rejected.length > 0) {
      throw new ProviderError('smtp', 'SMTP_RECIPIENT_REJECTED', `${message.to} was rejected`, {
        retryable: false,
      });
    }
    return { provider: 'smtp', providerMessageId: info.messageId, providerStatus: info.response };
  }

  async close(): Promise<void> {
    this.#transport.close();
  }
}

/** A header value on one line: CR and LF (and the other line breaks) become spaces, so nothing can add a header. */
export function headerText(value: string): string {
  return value
    .replace(/[\r\n\u0085\u2028\u2029]+/g, ' ')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

function isPlainAddress(value: string): boolean {
  return /^[^\s@<>,;:"()[\]\\]+@[^\s@<>,;:"()[\]\\]+$/.test(value);
}

export function smtpError(error: unknown): ProviderError {
  const failure = (error ?? {}) as NodemailerError;
  const detail = failure.response ?? failure.message ?? String(error);
  const responseCode = typeof failure.responseCode === 'number' ? failure.responseCode : undefined;
  if (responseCode !== undefined && responseCode >= 400 && responseCode < 500) {
    return new ProviderError('smtp', `SMTP ${responseCode}`, detail, { retryable: true });
  }
  if (responseCode !== undefined && responseCode >= 500 && responseCode < 600) {
    return new ProviderError('smtp', `SMTP ${responseCode}`, detail, { retryable: false });
  }
  if (failure.code === 'ETIMEDOUT' || failure.name === 'TimeoutError') {
    return new ProviderError('smtp', 'TIMEOUT', detail, { retryable: true });
  }
  if (failure.code !== undefined && TRANSIENT_CODES.has(failure.code)) {
    return new ProviderError('smtp', 'NETWORK', detail, { retryable: true });
  }
  if (failure.code === 'EENVELOPE') {
    return new ProviderError('smtp', 'SMTP_RECIPIENT_REJECTED', detail, { retryable: false });
  }
  // Anything else (bad credentials without a reply code, TLS refused, a malformed message) will fail again.
  return new ProviderError('smtp', failure.code ?? 'SMTP', detail, { retryable: false });
}
