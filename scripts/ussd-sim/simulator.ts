/**
 * A subscriber's handset talking to the API through one USSD gateway: `start()` dials, `send(input)` answers the
 * screen, each returning the next screen `{ continue, message }`. Every request is what that gateway really POSTs to
 * `POST /api/v1/ussd/{gateway}/{secret}` (wire.ts), carried by a pluggable transport: `fetchTransport(url)` for a
 * running API (the CLI, the benchmark), or a function a test supplies around Fastify's `app.inject`.
 */
import { randomBytes } from 'node:crypto';
import {
  decodeReply,
  encodeStep,
  type SimGateway,
  type SimScreen,
  type StepFacts,
  type WireRequest,
  type WireResponse,
} from './wire.ts';

export type UssdTransport = (request: WireRequest) => Promise<WireResponse>;

/** A transport to an API listening at `baseUrl` (`http://localhost:8000`). */
export function fetchTransport(baseUrl: string, options: { timeoutMs?: number } = {}): UssdTransport {
  const origin = baseUrl.replace(/\/+$/, '');
  return async (request) => {
    const response = await fetch(`${origin}${request.path}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      // A real gateway gives up after about 10 s (Africa's Talking); so does the simulator, instead of hanging.
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    return { status: response.status, body: await response.text() };
  };
}

/** The shape of Fastify's `app.inject` this needs (kept structural so this file does not import Fastify). */
export interface Injectable {
  inject(options: {
    method: 'POST';
    url: string;
    headers: Record<string, string>;
    payload: string;
  }): PromiseLike<{ statusCode: number; body: string }>;
}

/** A transport through `app.inject`: no socket, same routing, parsing and hooks. */
export function injectTransport(app: Injectable): UssdTransport {
  return async (request) => {
    const response = await app.inject({
      method: request.method,
      url: request.path,
      headers: request.headers,
      payload: request.body,
    });
    return { status: response.statusCode, body: response.body };
  };
}

export interface UssdSimulatorOptions {
  gateway?: SimGateway;
  /** The subscriber's number in E.164 (`+254712345678`). */
  phone: string;
  transport: UssdTransport;
  /** The gateway's secret path segment (`dev-ussd-secret` by default outside production). */
  secret?: string;
  /** The session id the gateway would allocate; a fresh random one per `start()` when absent. */
  sessionId?: string;
  serviceCode?: string;
  /** Network code (Africa's Talking: `63902` is Safaricom) or operator name (Hubtel: `mtn`). */
  network?: string;
}

export const DEFAULT_SECRET = 'dev-ussd-secret';

const DEFAULT_NETWORK: Record<SimGateway, string> = {
  at: '63902',
  hubtel: 'mtn',
  arkesel: 'MTN',
  nalo: 'MTN',
};

export function newSessionId(gateway: SimGateway): string {
  // AT ids look like `ATUid_…`; the others are opaque. Either way unique per dial.
  return `${gateway === 'at' ? 'ATUid_' : 'sim-'}${randomBytes(10).toString('hex')}`;
}

export class UssdSimulator {
  readonly gateway: SimGateway;
  readonly phone: string;
  readonly secret: string;
  readonly serviceCode: string;
  readonly network: string;
  readonly #transport: UssdTransport;
  readonly #fixedSessionId: string | undefined;
  #sessionId: string | null = null;
  #inputs: string[] = [];
  #sequence = 0;
  #open = false;
  #last: WireRequest | null = null;

  constructor(options: UssdSimulatorOptions) {
    if (!/^\+\d{8,15}$/.test(options.phone))
      throw new Error(`the phone number must be in E.164 with the plus (+254712345678): ${options.phone}`);
    this.gateway = options.gateway ?? 'at';
    this.phone = options.phone;
    this.secret = options.secret ?? DEFAULT_SECRET;
    this.serviceCode = options.serviceCode ?? '*384*123#';
    this.network = options.network ?? DEFAULT_NETWORK[this.gateway];
    this.#transport = options.transport;
    this.#fixedSessionId = options.sessionId;
  }

  /** The current session's id (null before the first `start()`). */
  get sessionId(): string | null {
    return this.#sessionId;
  }

  /** Whether the last screen waits for input. */
  get open(): boolean {
    return this.#open;
  }

  /** What the subscriber typed in this session, in order. */
  get inputs(): readonly string[] {
    return this.#inputs;
  }

  get path(): string {
    return `/api/v1/ussd/${this.gateway}/${encodeURIComponent(this.secret)}`;
  }

  /** Dials: a new session (a fresh id unless one was given), the first screen. */
  async start(): Promise<SimScreen> {
    this.#sessionId = this.#fixedSessionId ?? newSessionId(this.gateway);
    this.#inputs = [];
    this.#sequence = 0;
    return this.#step('dial');
  }

  /** Answers the current screen with `input`, the next screen. */
  async send(input: string): Promise<SimScreen> {
    if (!this.#open) throw new Error('no open session: start() first (the last screen ended the session)');
    this.#inputs.push(input);
    return this.#step('input');
  }

  /** Dials, then sends each input in turn; the last screen. */
  async run(inputs: readonly string[]): Promise<SimScreen> {
    let screen = await this.start();
    for (const input of inputs) screen = await this.send(input);
    return screen;
  }

  /**
   * Delivers the last request again, byte for byte, as a gateway does when our answer was late or lost. The engine
   * should answer the same screen and do nothing twice.
   */
  async resend(): Promise<SimScreen> {
    if (!this.#last) throw new Error('nothing sent yet');
    return this.#deliver(this.#last);
  }

  /** The subscriber cancels (Hubtel `Release`); other gateways send nothing, the session is just left. */
  async release(): Promise<SimScreen | null> {
    return this.#leave('release');
  }

  /** The network times the session out (Hubtel `Timeout`); other gateways send nothing. */
  async timeout(): Promise<SimScreen | null> {
    return this.#leave('timeout');
  }

  async #leave(kind: 'release' | 'timeout'): Promise<SimScreen | null> {
    if (!this.#open) return null;
    if (this.gateway !== 'hubtel') {
      this.#open = false;
      return null;
    }
    return this.#step(kind);
  }

  #step(kind: StepFacts['kind']): Promise<SimScreen> {
    this.#sequence += 1;
    const encoded = encodeStep(this.gateway, {
      sessionId: this.#sessionId!,
      phone: this.phone,
      serviceCode: this.serviceCode,
      network: this.network,
      inputs: this.#inputs,
      sequence: this.#sequence,
      kind,
    });
    const request: WireRequest = { method: 'POST', path: this.path, ...encoded };
    this.#last = request;
    return this.#deliver(request);
  }

  async #deliver(request: WireRequest): Promise<SimScreen> {
    let screen: SimScreen;
    try {
      screen = decodeReply(this.gateway, await this.#transport(request));
    } catch (error) {
      // A gateway ends the session on a fault; so does the handset here.
      this.#open = false;
      throw error;
    }
    this.#open = screen.continue;
    return screen;
  }
}
