/**
 * The GSMA Open Gateway / CAMARA SIM Swap API (v2), as mobile operators and aggregators expose it, for AML's
 * SIM-swap signal. The wire format (test/fakes/camara-sim-swap.ts speaks it):
 *
 *   POST {tokenUrl}                               OAuth2 client credentials, HTTP Basic client authentication
 *   Content-Type: application/x-www-form-urlencoded
 *   grant_type=client_credentials&scope=<scope>
 *   200 {"access_token": "…", "token_type": "Bearer", "expires_in": 3600}
 *
 *   POST {apiRoot}/sim-swap/v2/retrieve-date     Authorization: Bearer <token>, x-correlator: <uuid>
 *   {"phoneNumber": "+254712345678"}
 *   200 {"latestSimChange": "2026-11-30T08:00:00Z" | null, "monitoredPeriod"?: <days>}
 *
 *   POST {apiRoot}/sim-swap/v2/check
 *   {"phoneNumber": "+254712345678", "maxAge": <hours, 1..2400>}
 *   200 {"swapped": true | false}
 *
 *   errors: {"status": 4xx/5xx, "code": "INVALID_ARGUMENT" | "OUT_OF_RANGE" | "UNAUTHENTICATED" |
 *            "PERMISSION_DENIED" | "IDENTIFIER_NOT_FOUND" | "SERVICE_NOT_APPLICABLE" | "QUOTA_EXCEEDED" | …,
 *            "message": "…"}   (CAMARA ErrorInfo)
 *
 * `latestSimChange` null means no SIM change is known; with `monitoredPeriod` present, none within that many days
 * (the operator only keeps that much history). Every request carries an `x-correlator`, which the answer echoes.
 * The token is cached until shortly before it expires; an API 401 drops it and retries once with a fresh one.
 * Only the phone number leaves the bank.
 */
import { randomUUID } from 'node:crypto';
import { errorText, isTimeout, retryAfterSeconds } from '../http.ts';

/** What a SIM-swap source answers: the last SIM change on the number, if any is known. */
export interface SimSwapDate {
  latestSimChange: Date | null;
  /** Days of history the operator keeps (null: not said); a null change means none within it. */
  monitoredPeriodDays: number | null;
}

/** The port AML calls; the CAMARA client implements it. */
export interface SimSwapSource {
  retrieveDate(phoneNumber: string): Promise<SimSwapDate>;
  check(phoneNumber: string, maxAgeHours: number): Promise<boolean>;
  /** The readiness probe: a token can be had (cached or fresh). */
  ping(): Promise<void>;
}

/**
 * `not_applicable`: an answer, not a failure (IDENTIFIER_NOT_FOUND: the operator has no such subscriber;
 * SERVICE_NOT_APPLICABLE: the service does not cover the number); `invalid`: the request was refused as malformed
 * (INVALID_ARGUMENT, OUT_OF_RANGE, MISSING_IDENTIFIER, UNNECESSARY_IDENTIFIER); `unauthorized`: the credentials or
 * the token (401, also from the token endpoint) or the consent/scope (403); `rate_limited`: 429 (QUOTA_EXCEEDED,
 * TOO_MANY_REQUESTS); `unavailable`: a timeout, the network, 5xx, a malformed answer or a correlator mismatch.
 */
export type SimSwapErrorKind = 'not_applicable' | 'invalid' | 'unauthorized' | 'rate_limited' | 'unavailable';

export class SimSwapError extends Error {
  readonly kind: SimSwapErrorKind;
  /** The CAMARA code (e.g. IDENTIFIER_NOT_FOUND), or ours: TIMEOUT, NETWORK, MALFORMED, CORRELATOR, HTTP_<status>. */
  readonly code: string;
  readonly httpStatus: number | undefined;
  /** Seconds to wait (429 with Retry-After). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    kind: SimSwapErrorKind,
    code: string,
    message: string,
    httpStatus?: number,
    retryAfter?: number,
  ) {
    super(message);
    this.name = 'SimSwapError';
    this.kind = kind;
    this.code = code;
    this.httpStatus = httpStatus;
    this.retryAfterSeconds = retryAfter;
  }

  /** Worth trying again later (the job retries); the others will not change by waiting. */
  get transient(): boolean {
    return this.kind === 'unavailable' || this.kind === 'rate_limited';
  }
}

export interface CamaraSimSwapClientOptions {
  /** The API root, e.g. https://api.operator.example (the client adds /sim-swap/v2/...). */
  apiRoot: string;
  /** The OAuth2 token endpoint. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Scopes asked for; default the two SIM Swap v2 operations. */
  scope?: string;
  timeoutMs?: number;
  /** A token is renewed this long before `expires_in` runs out. */
  refreshMarginMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

export const SIM_SWAP_SCOPE = 'sim-swap:check sim-swap:retrieve-date';

interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

export class CamaraSimSwapClient implements SimSwapSource {
  readonly #apiRoot: string;
  readonly #tokenUrl: string;
  readonly #basic: string;
  readonly #scope: string;
  readonly #timeoutMs: number;
  readonly #marginMs: number;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  #token: { value: string; expiresAt: number } | null = null;
  #pending: Promise<string> | null = null;

  constructor(options: CamaraSimSwapClientOptions) {
    this.#apiRoot = options.apiRoot.replace(/\/+$/, '');
    this.#tokenUrl = options.tokenUrl;
    // RFC 6749 2.3.1: the id and secret are form-encoded before the Basic encoding.
    const id = encodeURIComponent(options.clientId);
    const secret = encodeURIComponent(options.clientSecret);
    this.#basic = Buffer.from(`${id}:${secret}`).toString('base64');
    this.#scope = options.scope ?? SIM_SWAP_SCOPE;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#marginMs = options.refreshMarginMs ?? 60_000;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#now = options.now ?? Date.now;
  }

  async retrieveDate(phoneNumber: string): Promise<SimSwapDate> {
    const body = await this.#call('/sim-swap/v2/retrieve-date', { phoneNumber });
    const latest = body.latestSimChange;
    if (latest !== null && (typeof latest !== 'string' || Number.isNaN(Date.parse(latest))))
      throw malformed('latestSimChange is not a date-time or null');
    const period = body.monitoredPeriod;
    if (period !== undefined && (typeof period !== 'number' || !Number.isInteger(period) || period < 0))
      throw malformed('monitoredPeriod is not a whole number of days');
    return {
      latestSimChange: latest === null ? null : new Date(latest),
      monitoredPeriodDays: period ?? null,
    };
  }

  async check(phoneNumber: string, maxAgeHours: number): Promise<boolean> {
    if (!Number.isInteger(maxAgeHours) || maxAgeHours < 1 || maxAgeHours > 2400)
      throw new SimSwapError('invalid', 'OUT_OF_RANGE', 'maxAge must be a whole number of hours, 1..2400');
    const body = await this.#call('/sim-swap/v2/check', { phoneNumber, maxAge: maxAgeHours });
    if (typeof body.swapped !== 'boolean') throw malformed('swapped is not a boolean');
    return body.swapped;
  }

  async ping(): Promise<void> {
    await this.#accessToken();
  }

  async #call(path: string, payload: object): Promise<Record<string, unknown>> {
    let answer = await this.#post(path, payload, await this.#accessToken());
    if (answer.status === 401) {
      // The token was revoked or expired early: once with a fresh one.
      this.#token = null;
      answer = await this.#post(path, payload, await this.#accessToken());
    }
    if (answer.status !== 200) throw refusal('SIM Swap API', answer);
    return objectOf(answer.text);
  }

  async #post(path: string, payload: object, token: string): Promise<Answer> {
    const correlator = randomUUID();
    const answer = await this.#send(`${this.#apiRoot}${path}`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        Accept: 'application/json',
        'x-correlator': correlator,
      },
      body: JSON.stringify(payload),
    });
    const echoed = answer.headers.get('x-correlator');
    if (echoed !== null && echoed !== correlator)
      throw new SimSwapError(
        'unavailable',
        'CORRELATOR',
        `SIM Swap API answered with x-correlator ${echoed.slice(0, 80)} to ${correlator}`,
        answer.status,
      );
    return answer;
  }

  #accessToken(): Promise<string> {
    if (this.#token && this.#now() < this.#token.expiresAt) return Promise.resolve(this.#token.value);
    // Concurrent calls share one token request.
    this.#pending ??= this.#fetchToken().finally(() => {
      this.#pending = null;
    });
    return this.#pending;
  }

  async #fetchToken(): Promise<string> {
    const answer = await this.#send(this.#tokenUrl, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${this.#basic}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: this.#scope }).toString(),
    });
    if (answer.status !== 200) throw refusal('SIM Swap token endpoint', answer);
    const body = objectOf(answer.text);
    if (typeof body.access_token !== 'string' || body.access_token === '')
      throw malformed('the token answer has no access_token');
    if (typeof body.token_type === 'string' && body.token_type.toLowerCase() !== 'bearer')
      throw malformed(`token_type ${body.token_type.slice(0, 40)} is not Bearer`);
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 300;
    const lifetime = seconds * 1000;
    // Renewed `margin` early, but never a token cached for less than half its life (a short-lived token).
    const early = Math.min(this.#marginMs, lifetime / 2);
    this.#token = { value: body.access_token, expiresAt: this.#now() + lifetime - early };
    return body.access_token;
  }

  async #send(url: string, init: RequestInit): Promise<Answer> {
    try {
      const response = await this.#fetch(url, { ...init, signal: AbortSignal.timeout(this.#timeoutMs) });
      return { status: response.status, text: await response.text(), headers: response.headers };
    } catch (error) {
      const code = isTimeout(error) ? 'TIMEOUT' : 'NETWORK';
      throw new SimSwapError('unavailable', code, `SIM Swap provider: ${errorText(error)}`);
    }
  }
}

function objectOf(text: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw malformed('the answer is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw malformed('the answer is not an object');
  return body as Record<string, unknown>;
}

function malformed(message: string): SimSwapError {
  return new SimSwapError('unavailable', 'MALFORMED', `SIM Swap provider: ${message}`, 200);
}

const NOT_APPLICABLE = new Set(['IDENTIFIER_NOT_FOUND', 'SERVICE_NOT_APPLICABLE']);

function refusal(what: string, answer: Answer): SimSwapError {
  const token = what.endsWith('token endpoint');
  const { status, text } = answer;
  let code = `HTTP_${status}`;
  let message = text.slice(0, 200);
  try {
    const error = JSON.parse(text) as { code?: unknown; message?: unknown; error?: unknown };
    if (typeof error.code === 'string') code = error.code;
    // The token endpoint answers RFC 6749 errors ({"error": "invalid_client"}).
    else if (typeof error.error === 'string') code = error.error;
    if (typeof error.message === 'string') message = error.message;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const kind: SimSwapErrorKind =
    status === 429
      ? 'rate_limited'
      : status >= 500
        ? 'unavailable'
        : status === 401 || status === 403
          ? 'unauthorized'
          : token
            ? 'unauthorized' // the token endpoint refusing the client (invalid_client, invalid_scope)
            : status === 404 || NOT_APPLICABLE.has(code)
              ? 'not_applicable'
              : 'invalid';
  return new SimSwapError(
    kind,
    code,
    `${what} answered ${status} ${code}: ${message}`,
    status,
    status === 429 ? retryAfterSeconds(answer.headers.get('retry-after')) : undefined,
  );
}
