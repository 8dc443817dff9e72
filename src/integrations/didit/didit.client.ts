/**
 * Didit v3 identity verification (INTEGRATIONS.md §1): create a session (`POST /v3/session/`) and retrieve its
 * decision (`GET /v3/session/{id}/decision/`), authenticated with `x-api-key`. Creating a session is idempotent at
 * Didit per `vendor_data` while the session is unfinished (the same session comes back, still 201).
 *
 * Failures: a 4xx answer is a DiditError with Didit's `detail` and `code` (its bodies are not uniform; a 429 carries
 * Retry-After in seconds); no answer, a timeout, a 5xx or a body that is not Didit's is a
 * DependencyUnavailableError('didit'). The API key never appears in an error message.
 */
import { DependencyUnavailableError } from '../../platform/errors.ts';
import { errorText, isTimeout, retryAfterSeconds } from '../http.ts';

/** Session statuses (v3). */
export const DIDIT_STATUSES = [
  'Not Started',
  'In Progress',
  'Awaiting User',
  'In Review',
  'Approved',
  'Declined',
  'Resubmitted',
  'Expired',
  'Kyc Expired',
  'Abandoned',
] as const;
export type DiditStatus = (typeof DIDIT_STATUSES)[number];

export interface DiditExpectedDetails {
  first_name?: string;
  last_name?: string;
  date_of_birth?: string;
  nationality?: string;
  identification_number?: string;
}

export interface CreateDiditSession {
  vendorData: string;
  callback?: string;
  callbackMethod?: 'initiator' | 'completer' | 'both';
  language?: string;
  metadata?: Record<string, unknown>;
  contactDetails?: {
    email?: string;
    phone?: string;
    send_notification_emails?: boolean;
    email_lang?: string;
  };
  expectedDetails?: DiditExpectedDetails;
}

export interface DiditSession {
  sessionId: string;
  sessionNumber: number | null;
  sessionToken: string | null;
  vendorData: string | null;
  status: string;
  workflowId: string | null;
  /** Where the person verifies (a browser or the SDK). */
  url: string;
}

/** A per-feature result: an array of items carrying `node_id` and `status`, or null until the feature has run. */
export type DiditFeatureResults = Record<string, unknown>[] | null;

/** The decision (the retrieve endpoint's answer, also the webhook's `decision`), as received. */
export interface DiditDecision {
  session_id: string;
  status: string;
  vendor_data?: string | null;
  workflow_id?: string | null;
  features?: unknown;
  expected_details?: Record<string, unknown> | null;
  id_verifications?: DiditFeatureResults;
  liveness_checks?: DiditFeatureResults;
  face_matches?: DiditFeatureResults;
  [key: string]: unknown;
}

/** What the onboarding module needs of Didit (the fake server stands in for it in tests). */
export interface IdentityVerifier {
  createSession(input: CreateDiditSession): Promise<DiditSession>;
  decision(sessionId: string): Promise<DiditDecision>;
  /** Resolves when Didit answers HTTP at all; throws otherwise. */
  ping(): Promise<void>;
}

/** Didit refused the request (4xx). */
export class DiditError extends Error {
  readonly status: number;
  readonly code: string | null;
  readonly detail: string;
  /** Seconds to wait before retrying (429 only). */
  readonly retryAfterSeconds: number | undefined;
  constructor(status: number, code: string | null, detail: string, retryAfter?: number) {
    super(`Didit answered ${status}${code ? ` ${code}` : ''}: ${detail}`);
    this.name = 'DiditError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.retryAfterSeconds = retryAfter;
  }
}

export interface DiditClientOptions {
  /** e.g. `https://verification.didit.me`. */
  baseUrl: string;
  apiKey: string;
  workflowId: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class DiditClient implements IdentityVerifier {
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #workflowId: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: DiditClientOptions) {
    if (!options.apiKey) throw new RangeError('Didit needs an API key');
    if (!options.workflowId) throw new RangeError('Didit needs a workflow id');
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#workflowId = options.workflowId;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  async createSession(input: CreateDiditSession): Promise<DiditSession> {
    const payload: Record<string, unknown> = { workflow_id: this.#workflowId, vendor_data: input.vendorData };
    if (input.callback) payload.callback = input.callback;
    if (input.callbackMethod) payload.callback_method = input.callbackMethod;
    if (input.language) payload.language = input.language;
    if (input.metadata) payload.metadata = input.metadata;
    if (input.contactDetails) payload.contact_details = input.contactDetails;
    if (input.expectedDetails) payload.expected_details = withoutEmpty(input.expectedDetails);
    const answer = await this.#request('POST', '/v3/session/', payload);
    const sessionId = answer.session_id;
    const url = answer.url;
    if (typeof sessionId !== 'string' || sessionId === '' || typeof url !== 'string' || url === '')
      throw malformed('session_id or url is missing');
    return {
      sessionId,
      sessionNumber: typeof answer.session_number === 'number' ? answer.session_number : null,
      sessionToken: typeof answer.session_token === 'string' ? answer.session_token : null,
      vendorData: typeof answer.vendor_data === 'string' ? answer.vendor_data : null,
      status: typeof answer.status === 'string' ? answer.status : 'Not Started',
      workflowId: typeof answer.workflow_id === 'string' ? answer.workflow_id : null,
      url,
    };
  }

  async decision(sessionId: string): Promise<DiditDecision> {
    if (!/^[A-Za-z0-9-]{1,100}$/.test(sessionId)) throw new RangeError('Not a Didit session id');
    const answer = await this.#request('GET', `/v3/session/${sessionId}/decision/`);
    if (typeof answer.status !== 'string') throw malformed('status is missing');
    return {
      ...answer,
      session_id: typeof answer.session_id === 'string' ? answer.session_id : sessionId,
    } as DiditDecision;
  }

  async ping(): Promise<void> {
    try {
      const response = await this.#fetch(`${this.#baseUrl}/`, {
        method: 'GET',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      await response.arrayBuffer();
      if (response.status >= 500) throw new Error(`HTTP ${response.status}`);
    } catch (error) {
      throw new DependencyUnavailableError('didit', new Error(this.#redact(errorText(error))));
    }
  }

  async #request(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<Record<string, unknown>> {
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const response = await this.#fetch(`${this.#baseUrl}${path}`, {
        method,
        headers: {
          Accept: 'application/json',
          'x-api-key': this.#apiKey,
          ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: payload === undefined ? undefined : JSON.stringify(payload),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      text = await response.text();
    } catch (error) {
      const cause = isTimeout(error) ? error : new Error(this.#redact(errorText(error)));
      throw new DependencyUnavailableError('didit', cause);
    }
    const answer = parseObject(text);
    if (status >= 500) throw new DependencyUnavailableError('didit', new Error(`HTTP ${status}`));
    if (status >= 400) {
      const detail = answer ? errorDetail(answer) : text.trim().slice(0, 200);
      const code = answer && typeof answer.code === 'string' ? answer.code : null;
      throw new DiditError(
        status,
        code,
        this.#redact(detail || `HTTP ${status}`),
        status === 429 ? (retryAfterSeconds(retryAfter) ?? 60) : undefined,
      );
    }
    if (status < 200 || status >= 300 || !answer) throw malformed(`HTTP ${status} without a JSON object`);
    return answer;
  }

  #redact(text: string): string {
    return text.replaceAll(this.#apiKey, '[redacted]');
  }
}

/** Didit's error bodies vary: `{detail, code}`, `{error}`, `{message}`, or field errors `{field: ["..."]}`. */
function errorDetail(answer: Record<string, unknown>): string {
  for (const key of ['detail', 'error', 'message']) {
    const value = answer[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  const fields = Object.entries(answer)
    .filter(([, value]) => Array.isArray(value))
    .map(([key, value]) => `${key}: ${(value as unknown[]).map(String).join(' ')}`);
  return fields.join('; ');
}

function withoutEmpty(details: DiditExpectedDetails): DiditExpectedDetails {
  return Object.fromEntries(
    Object.entries(details).filter(([, value]) => typeof value === 'string' && value !== ''),
  ) as DiditExpectedDetails;
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

function malformed(what: string): DependencyUnavailableError {
  return new DependencyUnavailableError('didit', new Error(`Didit answered malformed JSON: ${what}`));
}
