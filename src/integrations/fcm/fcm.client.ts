/**
 * Push through Firebase Cloud Messaging HTTP v1 (INTEGRATIONS.md §4). Access tokens come from Google's OAuth2
 * token endpoint by the service-account JWT bearer grant (an RS256 assertion signed with the service account's
 * key); one token serves every send until a minute before it expires, concurrent sends wait on the same token
 * request, and a 401 from FCM drops the token and fetches one more. FCM's `errorCode` decides retries and whether
 * the registration token is dead.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import { retryAfterSeconds } from '../http.ts';
import { ProviderError, type PushMessage, type PushProvider, type SendResult } from '../ports.ts';

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
export const FCM_BASE_URL = 'https://fcm.googleapis.com';
/** FCM's limit on a message's payload (notification and data) sent to a device token. */
export const FCM_MAX_PAYLOAD_BYTES = 4096;

const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ASSERTION_LIFETIME_SECONDS = 3600;
/** A token is replaced this long before Google says it expires. */
const TOKEN_EXPIRY_MARGIN_SECONDS = 60;
const FCM_ERROR_TYPE = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
/** Data keys FCM refuses (reserved words and prefixes). */
const RESERVED_DATA_KEYS = new Set(['from', 'message_type', 'collapse_key', 'notification']);

/** The fields of a Google service-account key file that the JWT grant needs. */
export interface FcmServiceAccount {
  client_email: string;
  private_key: string;
  private_key_id: string;
  token_uri?: string;
  project_id?: string;
}

export interface FcmPushClientOptions {
  projectId: string;
  serviceAccount: FcmServiceAccount;
  /** Defaults to https://fcm.googleapis.com. */
  baseUrl?: string;
  timeoutMs: number;
  /** Milliseconds since the epoch; the clock for the assertion's iat/exp and for the token cache. */
  now?: () => number;
  fetch?: typeof fetch;
}

/** FCM's message as this client sends it. */
export interface FcmSendBody {
  message: {
    token: string;
    notification: { title: string; body: string };
    data?: Record<string, string>;
    android: { priority: 'HIGH' };
    apns: { headers: { 'apns-priority': '10' } };
  };
}

interface CachedToken {
  value: string;
  /** When the cache stops handing it out (expires_in less the margin), in `now()` milliseconds. */
  refreshAtMs: number;
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

interface GoogleErrorBody {
  code?: unknown;
  message?: unknown;
  status?: unknown;
  details?: unknown;
}

export class FcmPushClient implements PushProvider {
  readonly name = 'fcm' as const;
  readonly #sendUrl: string;
  readonly #tokenUri: string;
  readonly #clientEmail: string;
  readonly #keyId: string;
  readonly #key: KeyObject;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #fetch: typeof fetch;
  #token: CachedToken | undefined;
  #pendingToken: Promise<CachedToken> | undefined;

  constructor(options: FcmPushClientOptions) {
    const account = options.serviceAccount;
    const baseUrl = (options.baseUrl ?? FCM_BASE_URL).replace(/\/+$/, '');
    this.#sendUrl = `${baseUrl}/v1/projects/${encodeURIComponent(options.projectId)}/messages:send`;
    this.#tokenUri = account.token_uri ?? GOOGLE_TOKEN_URI;
    this.#clientEmail = account.client_email;
    this.#keyId = account.private_key_id;
    this.#key = rsaPrivateKey(account.private_key);
    this.#timeoutMs = options.timeoutMs;
    this.#now = options.now ?? Date.now;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  async send(message: PushMessage): Promise<SendResult> {
    const body = JSON.stringify(sendBody(message));
    let token = await this.#accessToken();
    let answer = await this.#post(body, token);
    if (answer.status === 401 && errorCodeOf(parseError(answer.text)) !== 'THIRD_PARTY_AUTH_ERROR') {
      // Revoked or expired early: one fresh token, one more try.
      this.#forget(token);
      token = await this.#accessToken();
      answer = await this.#post(body, token);
    }
    if (answer.status >= 200 && answer.status < 300) {
      const name = readName(answer.text);
      return { provider: 'fcm', providerMessageId: name, providerStatus: String(answer.status) };
    }
    throw fcmError(answer);
  }

  /** The cached token, or the one being fetched, or a new one: never two token requests at once. */
  async #accessToken(): Promise<string> {
    const cached = this.#token;
    if (cached && this.#now() < cached.refreshAtMs) return cached.value;
    this.#pendingToken ??= this.#refreshToken();
    return (await this.#pendingToken).value;
  }

  async #refreshToken(): Promise<CachedToken> {
    try {
      const token = await this.#requestToken();
      this.#token = token;
      return token;
    } finally {
      this.#pendingToken = undefined;
    }
  }

  #forget(token: string): void {
    if (this.#token?.value === token) this.#token = undefined;
  }

  async #requestToken(): Promise<CachedToken> {
    const issuedAtMs = this.#now();
    const iat = Math.floor(issuedAtMs / 1000);
    const assertion = await new SignJWT({ scope: FCM_SCOPE })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.#keyId })
      .setIssuer(this.#clientEmail)
      .setAudience(this.#tokenUri)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ASSERTION_LIFETIME_SECONDS)
      .sign(this.#key);
    const form = new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion });
    const answer = await this.#exchange(this.#tokenUri, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: form.toString(),
    });
    if (answer.status < 200 || answer.status >= 300) throw tokenError(answer);
    const granted = parseObject(answer.text);
    const accessToken = granted?.access_token;
    const expiresIn = granted?.expires_in;
    if (typeof accessToken !== 'string' || accessToken.length === 0 || typeof expiresIn !== 'number') {
      throw new ProviderError(
        'fcm',
        'OAUTH_MALFORMED',
        'The token endpoint answered without a usable token',
        {
          retryable: true,
          httpStatus: answer.status,
        },
      );
    }
    const lifetimeSeconds = Math.max(0, expiresIn - TOKEN_EXPIRY_MARGIN_SECONDS);
    return { value: accessToken, refreshAtMs: issuedAtMs + lifetimeSeconds * 1000 };
  }

  #post(body: string, accessToken: string): Promise<Answer> {
    return this.#exchange(this.#sendUrl, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${accessToken}`,
        'Content-Type': 'application/json; charset=UTF-8',
        Accept: 'application/json',
      },
      body,
    });
  }

  async #exchange(url: string, init: RequestInit): Promise<Answer> {
    try {
      const response = await this.#fetch(url, { ...init, signal: AbortSignal.timeout(this.#timeoutMs) });
      return { status: response.status, headers: response.headers, text: await response.text() };
    } catch (error) {
      throw networkError(error);
    }
  }
}

/** The service account from its JSON text or from the path of its JSON file (the form Google hands out). */
export function loadServiceAccount(valueOrPath: string): FcmServiceAccount {
  const inline = valueOrPath.trimStart().startsWith('{');
  let text: string;
  if (inline) {
    text = valueOrPath;
  } else {
    try {
      text = readFileSync(valueOrPath.trim(), 'utf8');
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'unreadable';
      throw new Error(`The FCM service account file ${valueOrPath.trim()} cannot be read (${code})`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse quotes the input in its message, and the input holds a private key.
    throw new Error(`The FCM service account ${inline ? 'JSON' : 'file'} is not valid JSON`);
  }
  const record = (parsed !== null && typeof parsed === 'object' ? parsed : {}) as Record<string, unknown>;
  const missing = ['client_email', 'private_key', 'private_key_id'].filter(
    (field) => typeof record[field] !== 'string' || (record[field] as string).length === 0,
  );
  if (missing.length > 0) throw new Error(`The FCM service account lacks ${missing.join(', ')}`);
  const account: FcmServiceAccount = {
    client_email: record.client_email as string,
    private_key: record.private_key as string,
    private_key_id: record.private_key_id as string,
  };
  if (typeof record.token_uri === 'string' && record.token_uri.length > 0)
    account.token_uri = record.token_uri;
  if (typeof record.project_id === 'string' && record.project_id.length > 0) {
    account.project_id = record.project_id;
  }
  return account;
}

function rsaPrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error('The FCM service account private_key is not a readable PEM private key');
  }
  if (key.asymmetricKeyType !== 'rsa')
    throw new Error('The FCM service account private_key is not an RSA key');
  return key;
}

/** The request body, or a local INVALID_ARGUMENT refusal that FCM would answer anyway. */
export function sendBody(message: PushMessage): FcmSendBody {
  const invalid = (detail: string) =>
    new ProviderError('fcm', 'INVALID_ARGUMENT', detail, { retryable: false });
  if (typeof message.token !== 'string' || message.token.trim().length === 0) {
    throw invalid('The registration token is empty');
  }
  const notification = { title: message.title, body: message.body };
  if (message.data !== undefined) {
    for (const [key, value] of Object.entries(message.data)) {
      if (typeof value !== 'string')
        throw invalid(`data.${key} is not a string (FCM data is string to string)`);
      if (RESERVED_DATA_KEYS.has(key) || key.startsWith('google.') || key.startsWith('gcm.')) {
        throw invalid(`data.${key} uses a key reserved by FCM`);
      }
    }
  }
  const payloadBytes = Buffer.byteLength(
    JSON.stringify(message.data === undefined ? { notification } : { notification, data: message.data }),
  );
  if (payloadBytes > FCM_MAX_PAYLOAD_BYTES) {
    throw invalid(`The payload is ${payloadBytes} bytes; FCM allows ${FCM_MAX_PAYLOAD_BYTES}`);
  }
  return {
    message: {
      token: message.token,
      notification,
      ...(message.data === undefined ? {} : { data: { ...message.data } }),
      android: { priority: 'HIGH' },
      apns: { headers: { 'apns-priority': '10' } },
    },
  };
}

function fcmError(answer: Answer): ProviderError {
  const error = parseError(answer.text);
  const status = answer.status;
  const code = errorCodeOf(error) ?? statusWord(error) ?? `HTTP ${status}`;
  const message =
    typeof error?.message === 'string' && error.message.length > 0 ? error.message : `FCM answered ${status}`;
  const base = { httpStatus: status };
  switch (code) {
    case 'UNREGISTERED':
      return new ProviderError('fcm', code, message, { ...base, retryable: false, addressGone: true });
    case 'INVALID_ARGUMENT':
      return new ProviderError('fcm', code, message, {
        ...base,
        retryable: false,
        addressGone: /registration[ -]?token/i.test(message),
      });
    case 'SENDER_ID_MISMATCH':
    case 'THIRD_PARTY_AUTH_ERROR':
      return new ProviderError('fcm', code, message, { ...base, retryable: false });
    case 'QUOTA_EXCEEDED':
    case 'UNAVAILABLE':
    case 'INTERNAL':
      return new ProviderError('fcm', code, message, {
        ...base,
        retryable: true,
        retryAfterSeconds: retryAfterSeconds(answer.headers.get('retry-after')),
      });
    default: {
      const retryable = status === 408 || status === 429 || status >= 500;
      return new ProviderError('fcm', code, message, {
        ...base,
        retryable,
        retryAfterSeconds: retryable ? retryAfterSeconds(answer.headers.get('retry-after')) : undefined,
      });
    }
  }
}

/** Google's OAuth errors: `{error, error_description}`; a refused grant will be refused again. */
function tokenError(answer: Answer): ProviderError {
  const body = parseObject(answer.text);
  const word = typeof body?.error === 'string' ? body.error : `HTTP ${answer.status}`;
  const description = typeof body?.error_description === 'string' ? `: ${body.error_description}` : '';
  const message = `The OAuth2 token request was refused (${answer.status} ${word})${description}`;
  const retryable = answer.status === 408 || answer.status === 429 || answer.status >= 500;
  return new ProviderError('fcm', `OAUTH ${word}`, message, {
    retryable,
    httpStatus: answer.status,
    retryAfterSeconds: retryable ? retryAfterSeconds(answer.headers.get('retry-after')) : undefined,
  });
}

function parseError(text: string): GoogleErrorBody | undefined {
  const error = parseObject(text)?.error;
  return error !== null && typeof error === 'object' ? (error as GoogleErrorBody) : undefined;
}

/** The FcmError detail's errorCode (UNREGISTERED, QUOTA_EXCEEDED, …), when the answer carries one. */
function errorCodeOf(error: GoogleErrorBody | undefined): string | undefined {
  if (!Array.isArray(error?.details)) return undefined;
  for (const detail of error.details as unknown[]) {
    const record = detail !== null && typeof detail === 'object' ? (detail as Record<string, unknown>) : {};
    if (record['@type'] === FCM_ERROR_TYPE && typeof record.errorCode === 'string') return record.errorCode;
  }
  return undefined;
}

function statusWord(error: GoogleErrorBody | undefined): string | undefined {
  return typeof error?.status === 'string' && error.status.length > 0 ? error.status : undefined;
}

function readName(text: string): string {
  const name = parseObject(text)?.name;
  return typeof name === 'string' ? name : '';
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

function networkError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const name = error instanceof Error ? error.name : '';
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  const detail = error instanceof Error ? `${error.message}${cause}` : String(error);
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new ProviderError('fcm', 'TIMEOUT', `Google did not answer in time: ${detail}`, {
      retryable: true,
    });
  }
  return new ProviderError('fcm', 'NETWORK', `Google unreachable: ${detail}`, { retryable: true });
}
