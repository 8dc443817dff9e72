/**
 * A local Metropol CRB speaking its wire format (INTEGRATIONS.md §7). Every POST must carry the three signature
 * headers: the public key, a 20-digit UTC timestamp (yyyyMMddHHmmss + microseconds, zero-padded) within five minutes
 * of now, and sha256hex(privateKey + body + publicKey + timestamp) over the exact bytes received; anything else is
 * refused with 401 and `has_error: true`. It answers `/score/consumer` and `/deliquency/status` per identity number
 * from what the test told it: a score, a delinquency code, a `has_error` answer, or a delay (for timeouts).
 * It computes the hash itself so a signing bug in the client cannot hide behind a shared helper.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const METROPOL_BASE_PATH = '/v2_1';

export interface FakePerson {
  /** The consumer score, sent back as a string as Metropol does. */
  score?: number;
  /** The delinquency code and summary (default "002", "Not delinquent"). */
  delinquencyCode?: string;
  delinquencySummary?: string;
  /** Every call about this identity answers has_error with this code and description. */
  error?: { code: string; description: string };
  /** Waits this long before answering (a client with a shorter timeout gives up). */
  delayMs?: number;
}

export interface RecordedMetropolRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body exactly as received. */
  raw: string;
  body: unknown;
  /** Whether the signature headers verified. */
  signed: boolean;
}

export interface FakeMetropolOptions {
  publicKey?: string;
  privateKey?: string;
  /** What an identity number nobody set answers (development: every applicant has a file); default "no record". */
  everyoneElse?: FakePerson;
}

export class FakeMetropol {
  readonly publicKey: string;
  readonly privateKey: string;
  readonly requests: RecordedMetropolRequest[] = [];
  readonly #people = new Map<string, FakePerson>();
  readonly #everyoneElse: FakePerson | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  #server: Server | undefined;

  constructor(options: FakeMetropolOptions = {}) {
    this.publicKey = options.publicKey ?? 'metropol-public-test-key';
    this.privateKey = options.privateKey ?? 'metropol-private-test-key';
    this.#everyoneElse = options.everyoneElse;
  }

  /** What the bureau knows about an identity number (any type). Unknown numbers answer "no record found". */
  setPerson(identityNumber: string, person: FakePerson): void {
    this.#people.set(identityNumber, person);
  }

  async start(listenPort = 0): Promise<{ baseUrl: string; close: () => Promise<void> }> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        this.#handle(request.method ?? 'GET', request.url ?? '/', request.headers, raw, response);
      });
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { baseUrl: `http://127.0.0.1:${port}${METROPOL_BASE_PATH}`, close: () => this.close() };
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #handle(
    method: string,
    url: string,
    headers: IncomingHttpHeaders,
    raw: string,
    response: ServerResponse,
  ): void {
    const path = new URL(url, 'http://fake.invalid').pathname;
    const body = parse(raw);
    const signed = method === 'POST' && this.#verify(headers, raw);
    this.requests.push({ method, path, headers, raw, body, signed });
    if (method !== 'POST') {
      send(response, 404, { message: 'Not found' });
      return;
    }
    if (!signed) {
      send(response, 401, errorBody('401', 'Invalid API hash or timestamp'));
      return;
    }
    if (!body || typeof body !== 'object') {
      send(response, 400, errorBody('400', 'Invalid JSON'));
      return;
    }
    const request = body as Record<string, unknown>;
    const identity = typeof request.identity_number === 'string' ? request.identity_number : '';
    const person = this.#people.get(identity) ?? this.#everyoneElse;
    const answer = () => send(response, 200, this.#answer(path, request, identity, person));
    if (person?.delayMs) {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (!response.destroyed) answer();
      }, person.delayMs);
      this.#timers.add(timer);
      return;
    }
    answer();
  }

  #answer(
    path: string,
    request: Record<string, unknown>,
    identity: string,
    person: FakePerson | undefined,
  ): Record<string, unknown> {
    if (!person) return errorBody('404', 'No record found for the identity');
    if (person.error) return errorBody(person.error.code, person.error.description);
    const identityType = typeof request.identity_type === 'string' ? request.identity_type : '001';
    const common = {
      has_error: false,
      api_code: null,
      api_code_description: null,
      identity_number: identity,
      identity_type: identityType,
    };
    if (path === `${METROPOL_BASE_PATH}/score/consumer` && request.report_type === 3)
      return { ...common, credit_score: String(person.score ?? 500) };
    if (path === `${METROPOL_BASE_PATH}/deliquency/status` && request.report_type === 2)
      return {
        ...common,
        trx_id: `trx-${this.requests.length}`,
        loan_amount: request.loan_amount,
        delinquency_code: person.delinquencyCode ?? '002',
        delinquency_summary: person.delinquencySummary ?? 'Not delinquent',
      };
    return errorBody('405', `Unknown report ${String(request.report_type)} at ${path}`);
  }

  #verify(headers: IncomingHttpHeaders, raw: string): boolean {
    const key = headers['x-metropol-rest-api-key'];
    const timestamp = headers['x-metropol-rest-api-timestamp'];
    const hash = headers['x-metropol-rest-api-hash'];
    if (key !== this.publicKey || typeof timestamp !== 'string' || typeof hash !== 'string') return false;
    const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{6})$/.exec(timestamp);
    if (!match) return false;
    const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as number[];
    const at = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!);
    const back = new Date(at);
    if (back.getUTCMonth() !== month! - 1 || back.getUTCDate() !== day! || back.getUTCHours() !== hour!)
      return false;
    if (Math.abs(Date.now() - at) > 5 * 60_000) return false;
    const expected = createHash('sha256')
      .update(this.privateKey + raw + this.publicKey + timestamp)
      .digest('hex');
    return hash === expected;
  }
}

function errorBody(code: string, description: string) {
  return { has_error: true, api_code: code, api_code_description: description };
}

function parse(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
