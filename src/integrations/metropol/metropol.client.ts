/**
 * Metropol CRB (Kenya) as the credit bureau (INTEGRATIONS.md §7): the consumer score and the delinquency status of
 * a person by their identity document. Every request is a POST of JSON signed with three headers: the public key, a
 * UTC timestamp `yyyyMMddHHmmss` + microseconds (every part zero-padded), and
 * `sha256hex(privateKey + body + publicKey + timestamp)` over the exact body sent. An answer with `has_error: true`
 * is a MetropolError (the bureau's `api_code` and description); no answer (refused connection, timeout, 5xx,
 * a body that is not Metropol's) is a DependencyUnavailableError('metropol'). The private key never appears in an
 * error message.
 */
import { createHash } from 'node:crypto';
import { DependencyUnavailableError } from '../../platform/errors.ts';
import { errorText, isTimeout } from '../http.ts';

/** Metropol's identity types: national ID, passport, service ID, alien ID, company registration. */
export const METROPOL_IDENTITY_TYPES = ['001', '002', '003', '004', '005'] as const;
export type MetropolIdentityType = (typeof METROPOL_IDENTITY_TYPES)[number];

export interface ConsumerScore {
  identityNumber: string;
  identityType: string;
  /** Metropol's credit score (its scale runs roughly 200–900; higher is better). */
  creditScore: number;
}

export interface DelinquencyStatus {
  identityNumber: string;
  identityType: string;
  /** Metropol's delinquency code, e.g. "004" (see `delinquencyClass` in the loans module's scorecard). */
  delinquencyCode: string;
  delinquencySummary: string | null;
  /** Metropol's id of the inquiry, when it gives one. */
  trxId: string | null;
}

/** What the loans module needs of a credit bureau (a fake server stands in for it in tests). */
export interface CreditBureau {
  consumerScore(identityNumber: string, identityType: MetropolIdentityType): Promise<ConsumerScore>;
  /** `loanAmount` in whole units of the currency (Metropol takes the amount asked for as an integer). */
  delinquencyStatus(
    identityNumber: string,
    identityType: MetropolIdentityType,
    loanAmount: number,
  ): Promise<DelinquencyStatus>;
  /** Resolves when the bureau answers HTTP at all (without spending a paid inquiry); throws otherwise. */
  ping(): Promise<void>;
}

/** The bureau answered `has_error: true` (or refused the request with an HTTP error and its own code). */
export class MetropolError extends Error {
  readonly status: number;
  readonly apiCode: string | null;
  readonly description: string;
  constructor(status: number, apiCode: string | null, description: string) {
    super(`Metropol answered ${status} ${apiCode ?? '(no code)'}: ${description}`);
    this.name = 'MetropolError';
    this.status = status;
    this.apiCode = apiCode;
    this.description = description;
  }
}

export interface MetropolClientOptions {
  /** The API root with its version, e.g. `https://api.metropol.co.ke:5555/v2_1`. */
  baseUrl: string;
  publicKey: string;
  privateKey: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Microseconds since the epoch (tests pin it); defaults to the high-resolution clock. */
  clock?: () => bigint;
}

/** Microseconds since the epoch from the high-resolution clock. */
export function epochMicros(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
}

/** `yyyyMMddHHmmss` in UTC followed by the six-digit microsecond, every part zero-padded (20 digits). */
export function metropolTimestamp(micros: bigint): string {
  const seconds = micros / 1_000_000n;
  const fraction = micros % 1_000_000n;
  const at = new Date(Number(seconds) * 1000);
  const two = (value: number) => String(value).padStart(2, '0');
  return (
    String(at.getUTCFullYear()).padStart(4, '0') +
    two(at.getUTCMonth() + 1) +
    two(at.getUTCDate()) +
    two(at.getUTCHours()) +
    two(at.getUTCMinutes()) +
    two(at.getUTCSeconds()) +
    String(fraction).padStart(6, '0')
  );
}

/** The request signature: sha256 hex of private key + exact body + public key + timestamp. */
export function metropolHash(privateKey: string, body: string, publicKey: string, timestamp: string): string {
  return createHash('sha256').update(`${privateKey}${body}${publicKey}${timestamp}`, 'utf8').digest('hex');
}

export class MetropolClient implements CreditBureau {
  readonly #baseUrl: string;
  readonly #publicKey: string;
  readonly #privateKey: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #clock: () => bigint;

  constructor(options: MetropolClientOptions) {
    if (!options.publicKey || !options.privateKey) throw new RangeError('Metropol needs both API keys');
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#publicKey = options.publicKey;
    this.#privateKey = options.privateKey;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#clock = options.clock ?? epochMicros;
  }

  async consumerScore(identityNumber: string, identityType: MetropolIdentityType): Promise<ConsumerScore> {
    const answer = await this.#post('/score/consumer', {
      report_type: 3,
      identity_number: identityNumber,
      identity_type: identityType,
    });
    return {
      identityNumber: stringOr(answer.identity_number, identityNumber),
      identityType: stringOr(answer.identity_type, identityType),
      creditScore: integerField(answer, 'credit_score'),
    };
  }

  async delinquencyStatus(
    identityNumber: string,
    identityType: MetropolIdentityType,
    loanAmount: number,
  ): Promise<DelinquencyStatus> {
    if (!Number.isSafeInteger(loanAmount) || loanAmount < 0)
      throw new RangeError('The loan amount must be a whole, non-negative number of currency units');
    const answer = await this.#post('/deliquency/status', {
      report_type: 2,
      identity_number: identityNumber,
      identity_type: identityType,
      loan_amount: loanAmount,
    });
    const code = answer.delinquency_code;
    if (typeof code !== 'string' && typeof code !== 'number') throw malformed('delinquency_code is missing');
    return {
      identityNumber: stringOr(answer.identity_number, identityNumber),
      identityType: stringOr(answer.identity_type, identityType),
      delinquencyCode: String(code).padStart(3, '0'),
      delinquencySummary: typeof answer.delinquency_summary === 'string' ? answer.delinquency_summary : null,
      trxId: typeof answer.trx_id === 'string' ? answer.trx_id : null,
    };
  }

  async ping(): Promise<void> {
    try {
      const response = await this.#fetch(this.#baseUrl, {
        method: 'GET',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      await response.arrayBuffer();
      if (response.status >= 500) throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      throw new DependencyUnavailableError('metropol', new Error(this.#redact(errorText(error))));
    }
  }

  /** Sends `payload` as the exact JSON text that is signed; returns the answer when has_error is false. */
  async #post(path: string, payload: Record<string, string | number>): Promise<Record<string, unknown>> {
    const body = JSON.stringify(payload);
    const timestamp = metropolTimestamp(this.#clock());
    let status: number;
    let text: string;
    try {
      const response = await this.#fetch(`${this.#baseUrl}${path}`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'X-METROPOL-REST-API-KEY': this.#publicKey,
          'X-METROPOL-REST-API-TIMESTAMP': timestamp,
          'X-METROPOL-REST-API-HASH': metropolHash(this.#privateKey, body, this.#publicKey, timestamp),
        },
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      // A timeout keeps its name (TimeoutError) on the cause, so callers can tell it from a refused connection.
      const cause = isTimeout(error) ? error : new Error(this.#redact(errorText(error)));
      throw new DependencyUnavailableError('metropol', cause);
    }
    const answer = parseObject(text);
    if (answer && answer.has_error === true) {
      throw new MetropolError(
        status,
        answer.api_code === null || answer.api_code === undefined ? null : String(answer.api_code),
        this.#redact(stringOr(answer.api_code_description, 'Metropol reported an error')),
      );
    }
    if (status >= 500 || status === 408 || status === 429)
      throw new DependencyUnavailableError('metropol', new Error(`HTTP ${status}`));
    if (status < 200 || status >= 300) throw new MetropolError(status, `http.${status}`, `HTTP ${status}`);
    if (answer?.has_error !== false) throw malformed('the answer is not a Metropol response');
    return answer;
  }

  #redact(text: string): string {
    return text.replaceAll(this.#privateKey, '[redacted]');
  }
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' && value.length > 0 ? value : fallback;
}

/** Metropol sends numbers as strings ("567"); either form is accepted, nothing else. */
function integerField(record: Record<string, unknown>, key: string): number {
  const value = record[key];
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^\d{1,6}$/.test(text.trim())) throw malformed(`${key} is not a number`);
  return Number(text.trim());
}

function malformed(what: string): DependencyUnavailableError {
  return new DependencyUnavailableError('metropol', new Error(`Metropol answered malformed JSON: ${what}`));
}
