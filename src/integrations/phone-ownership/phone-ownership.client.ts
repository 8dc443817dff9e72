/**
 * Phone-ownership verification through a mobile operator's (or aggregator's) JSON API, for the loans fraud rules:
 * does the subscriber registered on a number carry the applicant's name, and when were the SIM and the handset last
 * changed. The wire format (our contract with the provider; test/fakes/phone-ownership.ts speaks it):
 *
 *   POST {base}/v1/phone/ownership
 *   X-Api-Key: <key>                       (401 {"error":{"code":"UNAUTHORIZED",…}} when missing or wrong)
 *   Content-Type: application/json
 *   {"msisdn": "+254712345678", "first_name": "Amina", "last_name": "Otieno"}
 *
 *   200 {"msisdn": "+254712345678", "owner_match": true | false | null,
 *        "sim_swap_at": "2026-11-30T08:00:00Z" | null, "device_change_at": "…" | null}
 *   404 {"error": {"code": "UNKNOWN_MSISDN", "message": "…"}}   the operator has no subscriber on the number
 *   400 {"error": {"code": "INVALID_REQUEST", "message": "…"}}; 429 / 5xx: try later
 *
 * `owner_match` is null when the operator holds no name for the subscriber; the times are the last SIM swap and the
 * last change of handset (IMEI) on the number, null when none is known. Only the number and the applicant's names
 * leave the bank: no national ID, so nothing sent can be turned back into one.
 */
import { errorText, isTimeout } from '../http.ts';

export interface PhoneOwnershipQuery {
  /** E.164, e.g. +254712345678. */
  msisdn: string;
  firstName: string;
  lastName: string;
}

export interface PhoneOwnershipAnswer {
  /** The registered subscriber carries these names; null when the operator holds no name. */
  ownerMatch: boolean | null;
  simSwapAt: Date | null;
  deviceChangeAt: Date | null;
}

/** The port the fraud rules call; a provider client implements it. */
export interface PhoneOwnership {
  check(query: PhoneOwnershipQuery): Promise<PhoneOwnershipAnswer>;
}

/**
 * `unknown_number`: the operator has no subscriber on it (an answer, not a failure); `rejected`: the request was
 * refused (bad key, malformed); `unavailable`: timeout, network, 429 or 5xx.
 */
export type PhoneOwnershipErrorKind = 'unknown_number' | 'rejected' | 'unavailable';

export class PhoneOwnershipError extends Error {
  readonly kind: PhoneOwnershipErrorKind;
  readonly code: string;
  readonly httpStatus: number | undefined;

  constructor(kind: PhoneOwnershipErrorKind, code: string, message: string, httpStatus?: number) {
    super(message);
    this.name = 'PhoneOwnershipError';
    this.kind = kind;
    this.code = code;
    this.httpStatus = httpStatus;
  }
}

export interface PhoneOwnershipClientOptions {
  /** The API root, e.g. https://ownership.operator.example (the client adds /v1/phone/ownership). */
  baseUrl: string;
  apiKey: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class PhoneOwnershipClient implements PhoneOwnership {
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: PhoneOwnershipClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  async check(query: PhoneOwnershipQuery): Promise<PhoneOwnershipAnswer> {
    let status: number;
    let text: string;
    try {
      const response = await this.#fetch(`${this.#baseUrl}/v1/phone/ownership`, {
        method: 'POST',
        headers: {
          'X-Api-Key': this.#apiKey,
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
        body: JSON.stringify({
          msisdn: query.msisdn,
          first_name: query.firstName,
          last_name: query.lastName,
        }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      const code = isTimeout(error) ? 'TIMEOUT' : 'NETWORK';
      throw new PhoneOwnershipError('unavailable', code, `phone-ownership provider: ${errorText(error)}`);
    }
    if (status === 200) return readAnswer(text);
    throw refusal(status, text);
  }
}

function readAnswer(text: string): PhoneOwnershipAnswer {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw malformed('the answer is not JSON');
  }
  if (typeof body !== 'object' || body === null) throw malformed('the answer is not an object');
  const record = body as Record<string, unknown>;
  const ownerMatch = record.owner_match;
  if (ownerMatch !== null && ownerMatch !== undefined && typeof ownerMatch !== 'boolean')
    throw malformed('owner_match is not a boolean');
  return {
    ownerMatch: ownerMatch ?? null,
    simSwapAt: timeField(record, 'sim_swap_at'),
    deviceChangeAt: timeField(record, 'device_change_at'),
  };
}

function timeField(record: Record<string, unknown>, name: string): Date | null {
  const value = record[name];
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw malformed(`${name} is not a time`);
  return new Date(value);
}

function malformed(message: string): PhoneOwnershipError {
  return new PhoneOwnershipError('unavailable', 'MALFORMED', `phone-ownership provider: ${message}`, 200);
}

function refusal(status: number, text: string): PhoneOwnershipError {
  let code = `HTTP_${status}`;
  let message = text.slice(0, 200);
  try {
    const error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
    if (typeof error?.code === 'string') code = error.code;
    if (typeof error?.message === 'string') message = error.message;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const kind: PhoneOwnershipErrorKind =
    status === 404 ? 'unknown_number' : status === 429 || status >= 500 ? 'unavailable' : 'rejected';
  return new PhoneOwnershipError(
    kind,
    code,
    `phone-ownership provider answered ${status} ${code}: ${message}`,
    status,
  );
}
