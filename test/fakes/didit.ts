/**
 * A local Didit v3 (INTEGRATIONS.md §1). It speaks the wire format: `POST /v3/session/` with `x-api-key` (missing:
 * 403, wrong: 401, no workflow_id: 400 with field errors), idempotent per `vendor_data` while the session is
 * unfinished (the same session again, still 201), and `GET /v3/session/{id}/decision/`. A controller sets a
 * session's status and what the document showed, and delivers signed webhooks to a URL (or through a test's own
 * sender): V2 over canonical JSON, V1 over the raw bytes (written as Didit's Python does: `", "` separators, ASCII
 * escapes, `95.0` for float scores), Simple over `timestamp:session_id:status:webhook_type`, the `-Previous` headers
 * during a secret rotation, and on request bad signatures, stale timestamps, re-serialised bodies and replays;
 * several events each delivered 1–5 times in a shuffled (seeded) order; and a reviewer's correction of the data
 * (`correctData`, or `POST /__fake/sessions/{id}/data`), delivered as `data.updated`.
 * The verification page at `url` lets a person pick the outcome in a browser (`npm run fake:didit`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  decisionOf,
  type FakeDiditPerson,
  type FakeDiditSession,
  type FakeDiditWarning,
  FINISHED_STATUSES,
  personFrom,
  STATUSES_WITH_DECISION,
  seededRandom,
  shuffle,
} from './didit.decision.ts';
import { type DeliveryOptions, type DiditDelivery, signedDelivery } from './didit.delivery.ts';
import { verificationPage } from './didit.page.ts';

export type { FakeDiditPerson, FakeDiditSession, FakeDiditWarning } from './didit.decision.ts';
export type { DeliveryOptions, DiditDelivery } from './didit.delivery.ts';

export interface RecordedDiditRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface DeliveryOutcome {
  status: number;
  body: string;
}

/** Delivers one webhook; the default posts to `webhookUrl`. Tests pass `app.inject`-based senders. */
export type DiditSender = (delivery: DiditDelivery) => Promise<DeliveryOutcome>;

export interface FakeDiditOptions {
  apiKey?: string;
  workflowId?: string;
  webhookSecret?: string;
  /** Where `deliver` posts when no sender is given (the standalone fake: the API's webhook URL). */
  webhookUrl?: string;
  /** Deliver a webhook on every status change made through the verification page or the control routes. */
  autoDeliver?: boolean;
}

export class FakeDidit {
  readonly apiKey: string;
  readonly workflowId: string;
  webhookSecret: string;
  /** The old secret during a rotation: deliveries then carry the `-Previous` headers. */
  previousWebhookSecret: string | undefined;
  webhookUrl: string | undefined;
  autoDeliver: boolean;
  readonly requests: RecordedDiditRequest[] = [];
  /** Every delivery made (with the receiver's answer). */
  readonly deliveries: { delivery: DiditDelivery; outcome: DeliveryOutcome }[] = [];
  readonly #sessions = new Map<string, FakeDiditSession>();
  readonly #failures: { status: number; body: string; retryAfter?: string }[] = [];
  #baseUrl = '';
  #server: Server | undefined;

  constructor(options: FakeDiditOptions = {}) {
    this.apiKey = options.apiKey ?? 'didit-test-api-key';
    this.workflowId = options.workflowId ?? '9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f';
    this.webhookSecret = options.webhookSecret ?? 'didit-test-webhook-secret';
    this.webhookUrl = options.webhookUrl;
    this.autoDeliver = options.autoDeliver ?? false;
  }

  get baseUrl(): string {
    return this.#baseUrl;
  }

  async start(port = 0): Promise<{ baseUrl: string; close: () => Promise<void> }> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        this.#handle(request.method ?? 'GET', request.url ?? '/', request.headers, raw, response).catch(
          (error: unknown) => send(response, 500, { detail: String(error) }),
        );
      });
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.#baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { baseUrl: this.#baseUrl, close: () => this.close() };
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The next `count` API calls answer this status (e.g. 429 with Retry-After, 500 without a body). */
  failNext(count: number, status: number, body = '', retryAfter?: string): void {
    for (let index = 0; index < count; index += 1) this.#failures.push({ status, body, retryAfter });
  }

  /** Starts a rotation: deliveries are signed with `secret` and carry the old secret's `-Previous` headers. */
  rotateSecret(secret: string): void {
    this.previousWebhookSecret = this.webhookSecret;
    this.webhookSecret = secret;
  }

  sessions(): FakeDiditSession[] {
    return [...this.#sessions.values()];
  }

  session(sessionId: string): FakeDiditSession {
    const session = this.#sessions.get(sessionId);
    if (!session) throw new Error(`The fake has no Didit session ${sessionId}`);
    return session;
  }

  /** The latest session created for this vendor_data. */
  sessionFor(vendorData: string): FakeDiditSession {
    const found = this.sessions().filter((session) => session.vendor_data === vendorData);
    const session = found.at(-1);
    if (!session) throw new Error(`The fake has no Didit session for ${vendorData}`);
    return session;
  }

  /**
   * The controller: sets the status, and optionally what the document showed (a mismatch with the declared details)
   * and the warnings of the feature that declined or went to review.
   */
  setStatus(
    sessionId: string,
    status: string,
    change: {
      person?: Partial<FakeDiditPerson>;
      warnings?: FakeDiditWarning[];
      failedFeature?: FakeDiditSession['failedFeature'];
    } = {},
  ): FakeDiditSession {
    const session = this.session(sessionId);
    session.status = status;
    if (change.person) session.person = { ...session.person, ...change.person };
    if (change.warnings) session.warnings = change.warnings;
    if (change.failedFeature) session.failedFeature = change.failedFeature;
    return session;
  }

  /**
   * A reviewer at Didit corrects what the document showed: the decision changes, the status stays, and Didit sends
   * `data.updated` (signed as every delivery), here `times` times (1–5: at-least-once redelivery).
   */
  async correctData(
    sessionId: string,
    person: Partial<FakeDiditPerson>,
    options: DeliveryOptions & { times?: number } = {},
    sender?: DiditSender,
  ): Promise<DeliveryOutcome[]> {
    const session = this.session(sessionId);
    session.person = { ...session.person, ...person };
    const delivery = this.buildDelivery(sessionId, { ...options, webhookType: 'data.updated' });
    const outcomes: DeliveryOutcome[] = [];
    for (let index = 0; index < (options.times ?? 1); index += 1)
      outcomes.push(await this.#send(delivery, sender));
    return outcomes;
  }

  decision(sessionId: string): Record<string, unknown> {
    return decisionOf(this.session(sessionId), this.#baseUrl);
  }

  /** The webhook body for the session's current status (decision included where Didit includes it). */
  webhookBody(
    sessionId: string,
    webhookType: DeliveryOptions['webhookType'] = 'status.updated',
    timestamp = Math.floor(Date.now() / 1000),
  ): Record<string, unknown> {
    const session = this.session(sessionId);
    const body: Record<string, unknown> = {
      session_id: session.session_id,
      status: session.status,
      webhook_type: webhookType,
      timestamp,
      created_at: timestamp,
      vendor_data: session.vendor_data,
      workflow_id: session.workflow_id,
      metadata: session.metadata,
    };
    if (STATUSES_WITH_DECISION.has(session.status)) body.decision = this.decision(sessionId);
    return body;
  }

  /** The delivery for the session's current status, signed as asked (not sent). */
  buildDelivery(sessionId: string, options: DeliveryOptions = {}): DiditDelivery {
    const timestamp = Math.floor(Date.now() / 1000) + (options.timestampOffsetSeconds ?? 0);
    const body = this.webhookBody(sessionId, options.webhookType, timestamp);
    return signedDelivery(body, timestamp, this.webhookSecret, this.previousWebhookSecret, options);
  }

  /** Sends one delivery for the session's current status. */
  async deliver(
    sessionId: string,
    options: DeliveryOptions = {},
    sender?: DiditSender,
  ): Promise<DeliveryOutcome> {
    return this.#send(this.buildDelivery(sessionId, options), sender);
  }

  /**
   * Several events (a session at a status each), every one delivered 1–5 times, all in one shuffled order: what
   * Didit's at-least-once retries look like to the receiver. Seeded, so a failing order can be replayed.
   */
  async deliverShuffled(
    events: { sessionId: string; status: string; person?: Partial<FakeDiditPerson> }[],
    seed: number,
    sender?: DiditSender,
  ): Promise<DeliveryOutcome[]> {
    const random = seededRandom(seed);
    const deliveries: DiditDelivery[] = [];
    for (const event of events) {
      this.setStatus(event.sessionId, event.status, { person: event.person });
      const delivery = this.buildDelivery(event.sessionId);
      const times = 1 + Math.floor(random() * 5);
      for (let index = 0; index < times; index += 1) deliveries.push(delivery);
    }
    const outcomes: DeliveryOutcome[] = [];
    for (const delivery of shuffle(deliveries, random)) outcomes.push(await this.#send(delivery, sender));
    return outcomes;
  }

  async #send(delivery: DiditDelivery, sender?: DiditSender): Promise<DeliveryOutcome> {
    const outcome = sender ? await sender(delivery) : await this.#post(delivery);
    this.deliveries.push({ delivery, outcome });
    return outcome;
  }

  async #post(delivery: DiditDelivery): Promise<DeliveryOutcome> {
    if (!this.webhookUrl) throw new Error('No webhook URL: give the fake one or pass a sender');
    const response = await fetch(this.webhookUrl, {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.raw,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, body: await response.text() };
  }

  async #handle(
    method: string,
    url: string,
    headers: IncomingHttpHeaders,
    raw: string,
    response: ServerResponse,
  ): Promise<void> {
    const parsedUrl = new URL(url, 'http://fake.invalid');
    const path = parsedUrl.pathname;
    const body = parse(raw);
    this.requests.push({ method, path, headers, body });
    const page = /^\/session\/([A-Za-z0-9_-]+)(\/complete)?$/.exec(path);
    if (page) return this.#page(method, page[1]!, Boolean(page[2]), parsedUrl, response);
    const control = /^\/__fake\/sessions\/([0-9a-f-]{36})\/status$/.exec(path);
    if (control && method === 'POST') {
      // `person` (optional) is what the document showed, e.g. another last name for a mismatch.
      const { status, person } = (body ?? {}) as { status?: string; person?: unknown };
      if (!this.#sessions.has(control[1]!) || typeof status !== 'string')
        return send(response, 404, { detail: 'No such session or no status' });
      this.setStatus(
        control[1]!,
        status,
        person && typeof person === 'object' ? { person: person as Partial<FakeDiditPerson> } : {},
      );
      const delivered = this.webhookUrl ? await this.deliver(control[1]!) : null;
      return send(response, 200, { session: this.session(control[1]!), delivered });
    }
    const correction = /^\/__fake\/sessions\/([0-9a-f-]{36})\/data$/.exec(path);
    if (correction && method === 'POST' && this.#sessions.has(correction[1]!)) {
      // `person`: the corrected fields; delivered as data.updated when the fake has a webhook URL.
      const { person } = (body ?? {}) as { person?: Partial<FakeDiditPerson> };
      const id = correction[1]!;
      if (!this.webhookUrl) this.setStatus(id, this.session(id).status, { person: person ?? {} });
      const delivered = this.webhookUrl ? await this.correctData(id, person ?? {}) : null;
      return send(response, 200, { session: this.session(id), delivered });
    }
    if (path === '/__fake/sessions' && method === 'GET') return send(response, 200, this.sessions());
    if (path === '/') return send(response, 200, { service: 'fake didit v3' });
    const key = headers['x-api-key'];
    if (key === undefined)
      return send(response, 403, { detail: 'Authentication credentials were not provided.' });
    if (key !== this.apiKey)
      return send(response, 401, { detail: 'Invalid API key.', code: 'invalid_api_key' });
    const failure = this.#failures.shift();
    if (failure) {
      const extra = failure.retryAfter ? { 'retry-after': failure.retryAfter } : {};
      response.writeHead(failure.status, { 'content-type': 'application/json', ...extra });
      response.end(failure.body);
      return;
    }
    if (path === '/v3/session/' && method === 'POST') return this.#create(body, response);
    const decision = /^\/v3\/session\/([^/]+)\/decision\/$/.exec(path);
    if (decision && method === 'GET') {
      if (!this.#sessions.has(decision[1]!)) return send(response, 404, { detail: 'Not found.' });
      return send(response, 200, this.decision(decision[1]!));
    }
    send(response, 404, { detail: 'Not found.' });
  }

  #create(body: unknown, response: ServerResponse): void {
    const input = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    if (typeof input.workflow_id !== 'string' || input.workflow_id === '') {
      send(response, 400, { workflow_id: ['This field is required.'] });
      return;
    }
    if (input.workflow_id !== this.workflowId) {
      send(response, 404, { detail: 'Workflow not found.', code: 'workflow_not_found' });
      return;
    }
    const vendorData = typeof input.vendor_data === 'string' ? input.vendor_data : '';
    const open = vendorData
      ? this.sessions().find((item) => item.vendor_data === vendorData && !FINISHED_STATUSES.has(item.status))
      : undefined;
    const session = open ?? this.#newSession(input, vendorData);
    send(response, 201, {
      session_id: session.session_id,
      session_number: session.session_number,
      session_token: session.session_token,
      vendor_data: session.vendor_data,
      metadata: session.metadata,
      status: session.status,
      workflow_id: session.workflow_id,
      callback: session.callback,
      url: `${this.#baseUrl}/session/${session.session_token}`,
    });
  }

  #newSession(input: Record<string, unknown>, vendorData: string): FakeDiditSession {
    const object = (value: unknown) =>
      value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
    const string = (value: unknown) => (typeof value === 'string' ? value : null);
    const expected = object(input.expected_details);
    const session: FakeDiditSession = {
      session_id: randomUUID(),
      session_number: 40_000 + this.#sessions.size + 1,
      session_token: randomBytes(9).toString('base64url'),
      vendor_data: vendorData,
      workflow_id: this.workflowId,
      callback: string(input.callback),
      callback_method: string(input.callback_method),
      language: string(input.language),
      metadata: object(input.metadata),
      contact_details: object(input.contact_details),
      expected_details: expected,
      status: 'Not Started',
      person: personFrom(expected, this.#sessions.size),
      warnings: [],
      failedFeature: 'id_verifications',
      created_at: new Date().toISOString(),
    };
    this.#sessions.set(session.session_id, session);
    return session;
  }

  /** The verification page: a person picks the outcome; the browser then goes to the callback. */
  async #page(
    method: string,
    token: string,
    complete: boolean,
    url: URL,
    response: ServerResponse,
  ): Promise<void> {
    const session = this.sessions().find((item) => item.session_token === token);
    if (!session) return send(response, 404, { detail: 'Not found.' });
    if (!complete || method !== 'POST') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(verificationPage(session));
      return;
    }
    const status = url.searchParams.get('status') ?? 'Approved';
    this.setStatus(session.session_id, status);
    if (this.autoDeliver && this.webhookUrl) await this.deliver(session.session_id).catch(() => undefined);
    const target = session.callback
      ? `${session.callback}${session.callback.includes('?') ? '&' : '?'}verificationSessionId=${session.session_id}&status=${encodeURIComponent(status)}`
      : `${this.#baseUrl}/session/${token}`;
    response.writeHead(303, { location: target });
    response.end();
  }
}

function parse(raw: string): unknown {
  try {
    return raw ? JSON.parse(raw) : undefined;
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
