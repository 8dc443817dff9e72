/**
 * Didit webhook signatures (INTEGRATIONS.md §1). Every delivery carries `X-Timestamp` (unix seconds) and up to three
 * HMAC-SHA256 signatures (lowercase hex, key = the destination's shared secret):
 * - `X-Signature-V2`: over the canonical JSON of the parsed body (the recommended one: it survives re-encoding);
 * - `X-Signature` (V1): over the raw body bytes (breaks when anything re-encodes the body);
 * - `X-Signature-Simple`: over `"{timestamp}:{session_id}:{status}:{webhook_type}"` from the body. It does not cover
 *   `decision`, so a delivery verified by it alone is a hint to fetch the decision, never the decision itself.
 * During a secret rotation (24 h) deliveries also carry `X-Signature-Previous`, `X-Signature-V2-Previous` and
 * `X-Signature-Simple-Previous`, signed with the old secret. Every configured secret is tried against every header.
 *
 * Canonical JSON equals Python's `json.dumps(x, sort_keys=True, separators=(",",":"), ensure_ascii=False)` after
 * whole-number floats became ints: keys sorted by code point (recursively; arrays keep their order), no spaces,
 * non-ASCII as is, integers in full (also beyond 2^53: `parseDiditJson` keeps their digits), other floats as
 * Python's `repr` writes them (`1e-05`, not JavaScript's `0.00001`).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const DIDIT_TIMESTAMP_HEADER = 'x-timestamp';
export const DIDIT_SIGNATURE_HEADERS = {
  v2: 'x-signature-v2',
  v1: 'x-signature',
  simple: 'x-signature-simple',
} as const;
export const DIDIT_PREVIOUS_SIGNATURE_HEADERS = {
  v2: 'x-signature-v2-previous',
  v1: 'x-signature-previous',
  simple: 'x-signature-simple-previous',
} as const;

/** How far `X-Timestamp` may be from now (seconds). */
export const DIDIT_TIMESTAMP_TOLERANCE_SECONDS = 300;

export type DiditSignatureScheme = keyof typeof DIDIT_SIGNATURE_HEADERS;

/**
 * JSON.parse that keeps integer literals beyond 2^53 exact (as bigint), so their canonical form is the digits Didit
 * signed rather than a rounded double.
 */
export function parseDiditJson(raw: string): unknown {
  return JSON.parse(raw, (_key, value: unknown, context?: { source?: string }) => {
    if (typeof value !== 'number' || Number.isSafeInteger(value)) return value;
    const source = context?.source;
    if (source && /^-?\d+$/.test(source)) return BigInt(source);
    return value;
  });
}

/** Python's str ordering: by code point (JavaScript's default sort compares UTF-16 code units). */
function byCodePoint(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index += 1) {
    const difference = (left[index]!.codePointAt(0) ?? 0) - (right[index]!.codePointAt(0) ?? 0);
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

/** A number as Python's json.dumps writes it once whole-number floats are ints. */
function canonicalNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (Number.isInteger(value)) return BigInt(value).toString();
  const exponential = value.toExponential();
  const [mantissa, exponent] = exponential.split('e') as [string, string];
  const power = Number(exponent);
  // Python's repr switches to scientific notation below 1e-4 (JavaScript only below 1e-6); non-whole doubles are
  // always below 2^52, so the upper switch (1e16) never applies to them.
  if (power < -4) return `${mantissa}e-${String(-power).padStart(2, '0')}`;
  return String(value);
}

/** The canonical JSON text of a parsed body (see the file comment). */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return canonicalNumber(value);
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort(byCodePoint);
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
  }
  throw new TypeError(`A ${typeof value} has no JSON form`);
}

export function hmacHex(secret: string, payload: string | Buffer): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

/** X-Signature-V2: HMAC of the canonical JSON of the parsed body. */
export function signatureV2(secret: string, body: unknown): string {
  return hmacHex(secret, Buffer.from(canonicalJson(body), 'utf8'));
}

/** X-Signature (V1): HMAC of the raw body bytes exactly as sent. */
export function signatureV1(secret: string, rawBody: string | Buffer): string {
  return hmacHex(secret, typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody);
}

function field(body: unknown, key: string): string {
  if (!body || typeof body !== 'object') return '';
  const value = (body as Record<string, unknown>)[key];
  return value === undefined || value === null ? '' : String(value);
}

/** The text X-Signature-Simple signs: `{timestamp}:{session_id}:{status}:{webhook_type}` from the body. */
export function simpleSignedText(body: unknown): string {
  return ['timestamp', 'session_id', 'status', 'webhook_type'].map((key) => field(body, key)).join(':');
}

export function signatureSimple(secret: string, body: unknown): string {
  return hmacHex(secret, simpleSignedText(body));
}

/** Whether a hex signature from a header equals the expected one (constant time; false for anything malformed). */
export function sameSignature(given: unknown, expected: string): boolean {
  if (typeof given !== 'string' || !/^[0-9a-fA-F]{64}$/.test(given.trim())) return false;
  const a = Buffer.from(given.trim().toLowerCase(), 'hex');
  const b = Buffer.from(expected, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export type DiditHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifyDiditWebhookInput {
  headers: DiditHeaders;
  /** The body exactly as received (V1 signs these bytes; V2 and Simple sign what they parse to). */
  rawBody: string | Buffer;
  /** The current secret first, then the previous one during a rotation. */
  secrets: readonly string[];
  /** Unix seconds (tests pin it). */
  nowSeconds?: number;
  toleranceSeconds?: number;
}

export type DiditWebhookVerification =
  | {
      ok: true;
      body: Record<string, unknown>;
      /** The strongest scheme that verified: v2 or v1 cover the whole body; simple covers no decision. */
      scheme: DiditSignatureScheme;
      /** Whether the decision in the body is covered by a verified signature. */
      decisionTrusted: boolean;
      timestamp: number;
    }
  | { ok: false; reason: 'malformed_body' | 'missing_timestamp' | 'stale_timestamp' | 'bad_signature' };

function header(headers: DiditHeaders, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

function secondsOf(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  return /^\d{1,12}$/.test(text) ? Number(text) : undefined;
}

/**
 * Verifies a delivery: `X-Timestamp` within the tolerance of now (and the body's own `timestamp`, which V2 signs,
 * too, so a captured delivery cannot be re-sent with a fresh header), then the signatures, strongest first. Every
 * secret is tried against the current and the previous-secret headers.
 */
export function verifyDiditWebhook(input: VerifyDiditWebhookInput): DiditWebhookVerification {
  const tolerance = input.toleranceSeconds ?? DIDIT_TIMESTAMP_TOLERANCE_SECONDS;
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  const raw = typeof input.rawBody === 'string' ? input.rawBody : input.rawBody.toString('utf8');
  let body: unknown;
  try {
    body = parseDiditJson(raw);
  } catch {
    return { ok: false, reason: 'malformed_body' };
  }
  if (!body || typeof body !== 'object' || Array.isArray(body))
    return { ok: false, reason: 'malformed_body' };
  const record = body as Record<string, unknown>;
  const timestamp = secondsOf(header(input.headers, DIDIT_TIMESTAMP_HEADER));
  if (timestamp === undefined) return { ok: false, reason: 'missing_timestamp' };
  if (Math.abs(now - timestamp) > tolerance) return { ok: false, reason: 'stale_timestamp' };
  const bodyTimestamp = secondsOf(record.timestamp);
  if (
    record.timestamp !== undefined &&
    (bodyTimestamp === undefined || Math.abs(now - bodyTimestamp) > tolerance)
  )
    return { ok: false, reason: 'stale_timestamp' };
  const secrets = input.secrets.filter((secret) => secret.length > 0);
  const expected = {
    v2: secrets.map((secret) => signatureV2(secret, record)),
    v1: secrets.map((secret) => signatureV1(secret, raw)),
    simple: secrets.map((secret) => signatureSimple(secret, record)),
  };
  for (const scheme of ['v2', 'v1', 'simple'] as const) {
    const given = [
      header(input.headers, DIDIT_SIGNATURE_HEADERS[scheme]),
      header(input.headers, DIDIT_PREVIOUS_SIGNATURE_HEADERS[scheme]),
    ];
    // Every pair is compared (no early exit), so timing does not tell which secret nearly matched.
    const matches = given.flatMap((value) =>
      expected[scheme].map((signature) => sameSignature(value, signature)),
    );
    if (matches.includes(true))
      return { ok: true, body: record, scheme, decisionTrusted: scheme !== 'simple', timestamp };
  }
  return { ok: false, reason: 'bad_signature' };
}

export interface SignDiditWebhookInput {
  secret: string;
  body: Record<string, unknown>;
  /** The exact text that will be sent (V1 signs it); defaults to JSON.stringify(body). */
  rawBody?: string;
  /** The old secret during a rotation: adds the three `-Previous` headers. */
  previousSecret?: string;
  /** Unix seconds for X-Timestamp; defaults to body.timestamp or now. */
  timestamp?: number;
}

/** The headers Didit sends with a delivery (the fake server and tests sign with it). */
export function signDiditWebhook(input: SignDiditWebhookInput): Record<string, string> {
  const raw = input.rawBody ?? JSON.stringify(input.body);
  const timestamp = input.timestamp ?? secondsOf(input.body.timestamp) ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'DiditWebhook/2.0',
    [DIDIT_TIMESTAMP_HEADER]: String(timestamp),
    [DIDIT_SIGNATURE_HEADERS.v2]: signatureV2(input.secret, input.body),
    [DIDIT_SIGNATURE_HEADERS.v1]: signatureV1(input.secret, raw),
    [DIDIT_SIGNATURE_HEADERS.simple]: signatureSimple(input.secret, input.body),
  };
  if (input.previousSecret) {
    headers[DIDIT_PREVIOUS_SIGNATURE_HEADERS.v2] = signatureV2(input.previousSecret, input.body);
    headers[DIDIT_PREVIOUS_SIGNATURE_HEADERS.v1] = signatureV1(input.previousSecret, raw);
    headers[DIDIT_PREVIOUS_SIGNATURE_HEADERS.simple] = signatureSimple(input.previousSecret, input.body);
  }
  return headers;
}
