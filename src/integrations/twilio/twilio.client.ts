/**
 * Twilio Programmable Messaging as an SMS provider (INTEGRATIONS.md §3): one form-urlencoded POST per message
 * to the Messages resource with HTTP Basic auth, mapped onto SendResult / ProviderError.
 *
 * A timeout leaves the outcome unknown (Twilio may have accepted the message), yet it is reported retryable:
 * for notification SMS a rare duplicate is preferred to a lost message.
 */

import { errorText, isTimeout, retryAfterSeconds } from '../http.ts';
import { ProviderError, type SendResult, type SmsMessage, type SmsProvider } from '../ports.ts';

export interface TwilioSmsClientOptions {
  /** The API root without path, e.g. `https://api.twilio.com`. */
  baseUrl: string;
  accountSid: string;
  authToken: string;
  /** The sender (E.164 number, short code or alphanumeric id); exactly one of this and `messagingServiceSid`. */
  from?: string;
  /** A Messaging Service (MG…) that picks the sender; exactly one of this and `from`. */
  messagingServiceSid?: string;
  timeoutMs: number;
}

export class TwilioSmsClient implements SmsProvider {
  readonly name = 'twilio' as const;
  readonly #url: string;
  readonly #authorization: string;
  readonly #authToken: string;
  readonly #sender: { field: 'From' | 'MessagingServiceSid'; value: string };
  readonly #timeoutMs: number;

  constructor(options: TwilioSmsClientOptions) {
    const { from, messagingServiceSid } = options;
    if (Boolean(from) === Boolean(messagingServiceSid)) {
      throw new RangeError('Twilio needs exactly one of from and messagingServiceSid');
    }
    const base = options.baseUrl.replace(/\/+$/, '');
    this.#url = `${base}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`;
    this.#authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
    this.#authToken = options.authToken;
    this.#sender = messagingServiceSid
      ? { field: 'MessagingServiceSid', value: messagingServiceSid }
      : { field: 'From', value: from ?? '' };
    this.#timeoutMs = options.timeoutMs;
  }

  async send(message: SmsMessage): Promise<SendResult> {
    const form = new URLSearchParams();
    form.set('To', message.to);
    form.set(this.#sender.field, this.#sender.value);
    form.set('Body', message.body);
    if (message.statusCallbackUrl) form.set('StatusCallback', message.statusCallbackUrl);
    const { status, headers, text } = await this.#exchange(form);
    if (status >= 200 && status < 300) return readCreated(text);
    throw this.#refusal(status, headers, text);
  }

  /** Anything that keeps an answer from arriving (refused connection, reset, timeout) is retryable. */
  async #exchange(form: URLSearchParams): Promise<{ status: number; headers: Headers; text: string }> {
    try {
      const response = await fetch(this.#url, {
        method: 'POST',
        headers: {
          Authorization: this.#authorization,
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
        },
        body: form.toString(),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      return { status: response.status, headers: response.headers, text: await response.text() };
    } catch (error) {
      if (isTimeout(error)) {
        throw new ProviderError('twilio', 'TIMEOUT', `Twilio did not answer within ${this.#timeoutMs} ms`, {
          retryable: true,
        });
      }
      throw new ProviderError(
        'twilio',
        'NETWORK',
        `Twilio could not be reached: ${this.#redact(errorText(error))}`,
        {
          retryable: true,
        },
      );
    }
  }

  /** Twilio's error body `{code, message, more_info, status}`; a proxy's HTML page yields HTTP_<status>. */
  #refusal(status: number, headers: Headers, text: string): ProviderError {
    const body = parseObject(text);
    const code =
      typeof body?.code === 'number' || (typeof body?.code === 'string' && body.code !== '')
        ? String(body.code)
        : `HTTP_${status}`;
    const detail = typeof body?.message === 'string' ? body.message : `HTTP ${status}`;
    const retryable = status === 429 || status >= 500;
    return new ProviderError(
      'twilio',
      code,
      this.#redact(`Twilio refused the message (HTTP ${status}, code ${code}): ${detail}`),
      {
        retryable,
        httpStatus: status,
        retryAfterSeconds: retryable ? retryAfterSeconds(headers.get('retry-after')) : undefined,
      },
    );
  }

  /** The auth token never leaves in an error, even if an answer were to echo it. */
  #redact(text: string): string {
    return this.#authToken ? text.replaceAll(this.#authToken, '[redacted]') : text;
  }
}

function readCreated(text: string): SendResult {
  const body = parseObject(text);
  const sid = body?.sid;
  const status = body?.status;
  if (typeof sid !== 'string' || sid === '' || typeof status !== 'string') {
    // Twilio may have accepted it; retrying risks a duplicate, not retrying risks a lost message.
    throw new ProviderError('twilio', 'MALFORMED_RESPONSE', 'Twilio answered 2xx without a message sid', {
      retryable: true,
    });
  }
  const segments = Number(body?.num_segments);
  return {
    provider: 'twilio',
    providerMessageId: sid,
    providerStatus: status,
    ...(Number.isInteger(segments) && segments > 0 ? { segments } : {}),
  };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
