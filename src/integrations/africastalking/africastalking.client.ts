/**
 * Africa's Talking bulk SMS as an SMS provider (INTEGRATIONS.md §3): one form POST per message with the
 * `apiKey` header, answered with a per-recipient statusCode that decides success or the kind of refusal.
 * AT does not report segments, so they are counted locally from the body.
 *
 * A timeout leaves the outcome unknown (AT may have accepted the message), yet it is reported retryable:
 * for notification SMS a rare duplicate is preferred to a lost message.
 */

import { errorText, isTimeout, retryAfterSeconds } from '../http.ts';
import { ProviderError, type SendResult, type SmsMessage, type SmsProvider } from '../ports.ts';
import { countSmsSegments } from '../sms.ts';

export interface AfricasTalkingSmsClientOptions {
  /** The API root without path, e.g. `https://api.africastalking.com` (sandbox `https://api.sandbox.africastalking.com`). */
  baseUrl: string;
  username: string;
  apiKey: string;
  /** A registered alphanumeric sender id or short code; AT's shared sender when absent. */
  senderId?: string;
  timeoutMs: number;
}

/** 100 Processed, 101 Sent, 102 Queued. */
const ACCEPTED_CODES = new Set([100, 101, 102]);
/**
 * Refusals that may pass later or elsewhere: 405 InsufficientBalance (top-up or another provider),
 * 500 InternalServerError, 501 GatewayError, 502 RejectedByGateway. 401–409 otherwise are about the message,
 * the sender or the number and will not change on retry.
 */
const RETRYABLE_CODES = new Set([405, 500, 501, 502]);

export class AfricasTalkingSmsClient implements SmsProvider {
  readonly name = 'africastalking' as const;
  readonly #url: string;
  readonly #username: string;
  readonly #apiKey: string;
  readonly #senderId: string | undefined;
  readonly #timeoutMs: number;

  constructor(options: AfricasTalkingSmsClientOptions) {
    this.#url = `${options.baseUrl.replace(/\/+$/, '')}/version1/messaging`;
    this.#username = options.username;
    this.#apiKey = options.apiKey;
    this.#senderId = options.senderId || undefined;
    this.#timeoutMs = options.timeoutMs;
  }

  async send(message: SmsMessage): Promise<SendResult> {
    const form = new URLSearchParams();
    form.set('username', this.#username);
    form.set('to', message.to);
    form.set('message', message.body);
    if (this.#senderId) form.set('from', this.#senderId);
    const { status, headers, text } = await this.#exchange(form);
    if (status < 200 || status >= 300) throw this.#httpRefusal(status, headers, text);
    const recipient = this.#recipient(text);
    const statusCode = Number(recipient.statusCode);
    const statusWord = typeof recipient.status === 'string' ? recipient.status : '';
    if (!Number.isInteger(statusCode)) throw malformed('a recipient without a statusCode');
    if (ACCEPTED_CODES.has(statusCode)) {
      if (typeof recipient.messageId !== 'string' || recipient.messageId === '') {
        throw malformed(`recipient ${statusCode} ${statusWord} has no messageId`);
      }
      return {
        provider: 'africastalking',
        providerMessageId: recipient.messageId,
        providerStatus: statusWord,
        segments: countSmsSegments(message.body).segments,
      };
    }
    const code = `${statusCode} ${statusWord}`.trim();
    // The HTTP status was a success; the refusal is the recipient's, so no httpStatus is reported.
    throw new ProviderError('africastalking', code, `Africa's Talking refused the message: ${code}`, {
      retryable: RETRYABLE_CODES.has(statusCode) || statusCode >= 500,
    });
  }

  /** `SMSMessageData.Recipients[0]`; none at all means AT refused the whole request (its Message says why). */
  #recipient(text: string): Record<string, unknown> {
    const data = asObject(asObject(parseJson(text))?.SMSMessageData);
    const recipients = data?.Recipients;
    if (!data || !Array.isArray(recipients)) throw malformed('no SMSMessageData.Recipients');
    const first = asObject(recipients[0]);
    if (first) return first;
    const said = typeof data.Message === 'string' && data.Message !== '' ? data.Message : 'no reason given';
    throw new ProviderError(
      'africastalking',
      'NO_RECIPIENTS',
      this.#redact(`Africa's Talking sent to no recipient: ${said}`),
      { retryable: false },
    );
  }

  /** Anything that keeps an answer from arriving (refused connection, reset, timeout) is retryable. */
  async #exchange(form: URLSearchParams): Promise<{ status: number; headers: Headers; text: string }> {
    try {
      const response = await fetch(this.#url, {
        method: 'POST',
        headers: {
          apiKey: this.#apiKey,
          Accept: 'application/json',
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: form.toString(),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      return { status: response.status, headers: response.headers, text: await response.text() };
    } catch (error) {
      if (isTimeout(error)) {
        throw new ProviderError(
          'africastalking',
          'TIMEOUT',
          `Africa's Talking did not answer within ${this.#timeoutMs} ms`,
          { retryable: true },
        );
      }
      throw new ProviderError(
        'africastalking',
        'NETWORK',
        `Africa's Talking could not be reached: ${this.#redact(errorText(error))}`,
        { retryable: true },
      );
    }
  }

  /** AT answers HTTP errors in plain text (401 "The supplied authentication is invalid", 400 missing fields). */
  #httpRefusal(status: number, headers: Headers, text: string): ProviderError {
    const retryable = status === 429 || status >= 500;
    const detail = text.trim().slice(0, 200) || `HTTP ${status}`;
    return new ProviderError(
      'africastalking',
      `HTTP_${status}`,
      this.#redact(`Africa's Talking refused the request (HTTP ${status}): ${detail}`),
      {
        retryable,
        httpStatus: status,
        retryAfterSeconds: retryable ? retryAfterSeconds(headers.get('retry-after')) : undefined,
      },
    );
  }

  /** The API key never leaves in an error, even if an answer were to echo it. */
  #redact(text: string): string {
    return this.#apiKey ? text.replaceAll(this.#apiKey, '[redacted]') : text;
  }
}

function malformed(what: string): ProviderError {
  // AT may have accepted it; retrying risks a duplicate, not retrying risks a lost message.
  return new ProviderError(
    'africastalking',
    'MALFORMED_RESPONSE',
    `Africa's Talking answered 2xx with ${what}`,
    {
      retryable: true,
    },
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
