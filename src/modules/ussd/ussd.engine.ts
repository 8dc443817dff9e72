/**
 * Runs USSD sessions: one gateway request in, one screen out. For each request it takes the session's lock, answers a
 * step the gateway delivered again with the reply it already sent (Africa's Talking: by the length of `text`; Hubtel:
 * by `Sequence`; Arkesel and Nalo: the same input again within USSD_DUPLICATE_WINDOW_MS), otherwise validates the
 * input against the current state, runs the state's `next`, and renders where it leads. `0` goes back, `00` home,
 * `98` to the next page of a list.
 *
 * A step never keeps the gateway waiting longer than USSD_STEP_BUDGET_MS: past it the session ends with "Service
 * busy, you will receive an SMS", the step runs on, and its final screen goes to the customer by SMS.
 *
 * PINs: an input a `pin` state takes reaches that state's `next` and nothing else. It is not kept in the session (a
 * retried step is recognised by position, or by a keyed digest), not logged, and `ctx.set` refuses it.
 */
import { keyedHash } from '../../platform/crypto.ts';
import { AppError } from '../../platform/errors.ts';
import type { EngineConfig } from './ussd.config.ts';
import type { GatewayName, UssdReply, UssdRequest } from './ussd.gateway.types.ts';
import { parseInput } from './ussd.inputs.ts';
import type { Journey, Language, MenuState, Outcome, Screen, StateContext } from './ussd.menu.ts';
import { isLanguage } from './ussd.menu.ts';
import type { UssdServices } from './ussd.ports.ts';
import { fill, MORE_KEY, render } from './ussd.render.ts';
import { type OpenSession, type SessionRecord, SessionStore } from './ussd.session.ts';

export interface EngineLogger {
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/** Where a step's final screen goes when the step outlived the budget (the outcome by SMS). */
export interface OutcomeNotifier {
  outcome(
    to: { msisdn: string; customerId: string | null; language: Language },
    message: string,
    key: string,
  ): Promise<void>;
}

export interface EngineOptions {
  store: ConstructorParameters<typeof SessionStore>[0];
  journeys: readonly Journey<UssdServices>[];
  services: UssdServices;
  config: EngineConfig;
  pepper: string;
  /** How long the gateway keeps a session (the store keeps ours as long). */
  sessionTtlMs(gateway: GatewayName): number;
  notifier: OutcomeNotifier;
  logger: EngineLogger;
  /** Currency of amounts typed before a journey chose one (`ctx.set('currency', …)`). */
  currency?: string;
}

const HOME = { journey: 'home', state: 'menu' } as const;

function keep(data: Record<string, string>, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(keys.flatMap((key) => (data[key] === undefined ? [] : [[key, data[key]!]])));
}
const UNKNOWN_START = 'register';
/** Journey whose phrases the engine renders its own screens with (only `common.*` phrases). */
const ENGINE = { id: 'engine', start: '', values: {}, phrases: {}, states: {} } satisfies Journey;

type Step = { reply: UssdReply; record: SessionRecord };

export class UssdEngine {
  readonly #sessions: SessionStore;
  readonly #journeys = new Map<string, Journey<UssdServices>>();
  readonly #options: EngineOptions;
  /** The logger of the HTTP request a gateway request came in on (its request id), when the route gave one. */
  readonly #logs = new WeakMap<UssdRequest, EngineLogger>();

  constructor(options: EngineOptions) {
    this.#options = options;
    this.#sessions = new SessionStore(options.store);
    for (const journey of options.journeys) {
      if (this.#journeys.has(journey.id)) throw new Error(`USSD journey ${journey.id} is defined twice`);
      if (!journey.states[journey.start])
        throw new Error(`USSD journey ${journey.id} has no start ${journey.start}`);
      this.#journeys.set(journey.id, journey);
    }
  }

  get journeys(): ReadonlyMap<string, Journey<UssdServices>> {
    return this.#journeys;
  }

  async handle(request: UssdRequest, log?: EngineLogger): Promise<UssdReply> {
    if (log) this.#logs.set(request, log);
    const { gateway, sessionId } = request;
    const language = this.#options.config.USSD_DEFAULT_LANGUAGE;
    const budget = this.#options.config.USSD_STEP_BUDGET_MS;
    const session = await this.#sessions.open(gateway, sessionId, budget, budget + 5_000);
    if (request.closed) {
      await session?.forget().catch(() => {});
      return { continue: false, message: fill(ENGINE, 'common.goodbye', language) };
    }
    if (!session) return { continue: false, message: fill(ENGINE, 'common.busy', language) };
    try {
      return await this.#handleOpen(request, session);
    } finally {
      await session.release().catch(() => {});
    }
  }

  async #handleOpen(request: UssdRequest, session: OpenSession): Promise<UssdReply> {
    const ttl = this.#options.sessionTtlMs(request.gateway);
    const existing = this.#sameSession(request, session.record);
    const position = this.#position(request, existing);
    if (existing) {
      // A copy of an earlier step gets that step's answer, even after the session ended.
      if (position && existing.replies[position]) return existing.replies[position]!;
      if (existing.ended) return existing.ended;
      if (!position && existing.last && !('path' in request.input)) {
        const window = this.#options.config.USSD_DUPLICATE_WINDOW_MS;
        if (
          Date.now() - existing.last.at <= window &&
          existing.last.digest === this.#digest(request, request.input.latest)
        )
          return existing.last.reply;
      }
    }
    const work = existing ? this.#advance(existing, request) : this.#open(request);
    const outcome = await this.#withinBudget(work, request, existing, session);
    if ('late' in outcome) return outcome.late;
    const { reply, record } = outcome;
    record.steps += 1;
    if (position) record.replies[position] = reply;
    if (!('path' in request.input))
      record.last = { digest: this.#digest(request, request.input.latest), at: Date.now(), reply };
    if (!reply.continue) record.ended = reply;
    await session.save(record, ttl);
    return reply;
  }

  #log(request: UssdRequest): EngineLogger {
    return this.#logs.get(request) ?? this.#options.logger;
  }

  /** The step's answer, or the busy screen after the budget: the session then ends and the outcome goes by SMS. */
  async #withinBudget(
    work: Promise<Step>,
    request: UssdRequest,
    existing: SessionRecord | null,
    session: OpenSession,
  ): Promise<Step | { late: UssdReply }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.#options.config.USSD_STEP_BUDGET_MS);
    });
    const result = await Promise.race([work, late]).finally(() => clearTimeout(timer));
    if (result !== 'late') return result;
    const language = existing?.language ?? this.#options.config.USSD_DEFAULT_LANGUAGE;
    const busy = { continue: false, message: fill(ENGINE, 'common.busy', language) };
    // The session ends here (a later copy of the step gets the busy screen); the step runs on without the lock.
    if (existing)
      await session.save(
        JSON.parse(JSON.stringify({ ...existing, ended: busy })),
        this.#options.sessionTtlMs(request.gateway),
      );
    else await session.release();
    const to = { msisdn: request.msisdn, customerId: existing?.customerId ?? null, language };
    const key = `ussd:${request.gateway}:${request.sessionId}:late:${existing?.steps ?? 0}`;
    work
      .then(({ reply }) =>
        this.#options.notifier.outcome(
          to,
          reply.continue ? fill(ENGINE, 'common.error', language) : reply.message,
          key,
        ),
      )
      .catch((error) => {
        this.#log(request).error(
          { err: error, gateway: request.gateway },
          'ussd step failed after the budget',
        );
        return this.#options.notifier
          .outcome(to, fill(ENGINE, 'common.error', language), key)
          .catch(() => {});
      });
    return { late: busy };
  }

  /**
   * The session a request belongs to. A gateway that numbers nothing and keys sessions by subscriber (Nalo:
   * USERID and MSISDN) sends a new dial under the id of the subscriber's previous session: past the first screen's
   * retry window, a dial is a new session, not a copy of the old one's first request.
   */
  #sameSession(request: UssdRequest, existing: SessionRecord | null): SessionRecord | null {
    if (!existing || !request.isNew || 'path' in request.input || request.sequence !== null) return existing;
    const window = this.#options.config.USSD_DUPLICATE_WINDOW_MS;
    const copyOfFirst =
      existing.steps <= 1 && existing.last !== null && Date.now() - existing.last.at <= window;
    return copyOfFirst ? existing : null;
  }

  /** Where this request sits in the session, when the gateway tells: the key its reply is kept under. */
  #position(request: UssdRequest, existing: SessionRecord | null): string | null {
    if ('path' in request.input) return `t${request.input.path.length}`;
    if (request.sequence !== null) return `s${request.sequence}`;
    if (request.isNew) return 'new';
    return existing ? null : 'new';
  }

  /** A keyed digest of an input (it may be a PIN): enough to recognise the same input again, not to recover it. */
  #digest(request: UssdRequest, input: string): string {
    return keyedHash(this.#options.pepper, 'ussd-input', `${request.gateway}:${request.sessionId}:${input}`);
  }

  /** A session's first request: who is calling decides where it starts. */
  async #open(request: UssdRequest): Promise<Step> {
    const config = this.#options.config;
    const customer = await this.#options.services.account.lookup(request.msisdn);
    const language: Language =
      customer?.language && isLanguage(customer.language) ? customer.language : config.USSD_DEFAULT_LANGUAGE;
    const record: SessionRecord = {
      v: 1,
      msisdn: request.msisdn,
      network: request.network,
      language,
      customerId: customer?.customerId ?? null,
      signedIn: false,
      journey: customer ? 'home' : UNKNOWN_START,
      state: '',
      page: 0,
      stack: [],
      // The name the first screen greets with (not secret; read once per session).
      data: customer ? { first_name: customer.firstName } : {},
      choices: null,
      // A path that is not empty on a session we do not know: the gateway kept a session we forgot (it expired
      // here); start over and read later inputs after what it holds.
      consumed: 'path' in request.input ? request.input.path.length : 0,
      replies: {},
      last: null,
      ended: null,
      steps: 0,
    };
    const end = (phrase: string): Step => ({
      record,
      reply: { continue: false, message: fill(ENGINE, phrase, language) },
    });
    if (customer && !customer.active) return end('common.inactive');
    if (customer && !customer.enabled) return end('common.disabled');
    const journey = this.#journeys.get(record.journey);
    if (!journey) return end('common.error');
    record.state = journey.start;
    return { record, reply: await this.#show(record, request) };
  }

  async #advance(record: SessionRecord, request: UssdRequest): Promise<Step> {
    let input: string;
    if ('path' in request.input) {
      const path = request.input.path;
      input = record.consumed === 0 ? path : path.slice(record.consumed + 1);
      record.consumed = path.length;
    } else input = request.input.latest;
    input = input.trim();
    const journey = this.#journeys.get(record.journey);
    const state = journey?.states[record.state];
    if (!journey || !state?.input || !state.next) return { record, reply: this.#errorReply(record) };

    if (input === '00') {
      const home = record.signedIn
        ? HOME
        : { journey: record.customerId ? 'home' : UNKNOWN_START, state: '' };
      record.stack = [];
      // Home forgets what the journey left was collecting; who the customer is and their currency stay.
      if (record.signedIn) record.data = keep(record.data, ['first_name', 'currency']);
      this.#enter(record, home.journey, home.state);
      return { record, reply: await this.#show(record, request) };
    }
    if (input === '0') {
      if (record.page > 0) record.page -= 1;
      else {
        const previous = record.stack.pop();
        if (previous) {
          record.journey = previous.journey;
          record.state = previous.state;
        }
      }
      return { record, reply: await this.#show(record, request) };
    }
    if (
      state.input.type === 'choice' &&
      input === MORE_KEY &&
      !(record.choices && MORE_KEY in record.choices)
    ) {
      record.page += 1;
      return { record, reply: await this.#show(record, request) };
    }

    const parsed = parseInput(state.input, input, {
      choices: record.choices,
      currency: record.data.currency ?? this.#options.currency ?? 'KES',
      msisdn: record.msisdn,
    });
    if (!parsed.ok) {
      const notice = fill(journey, parsed.phrase, record.language);
      return { record, reply: await this.#show(record, request, notice) };
    }
    const secret = state.input.type === 'pin' ? parsed.value : null;
    const wasSignedIn = record.signedIn;
    let outcome: Outcome;
    try {
      outcome = await state.next(parsed.value, this.#context(record, request, secret));
    } catch (error) {
      this.#log(request).error(
        {
          err: error instanceof AppError ? { code: error.errorCode } : error,
          journey: record.journey,
          state: record.state,
        },
        'ussd state failed',
      );
      return { record, reply: this.#errorReply(record) };
    }
    try {
      // Back from the first screen after sign-in never leads to the PIN screen again.
      const signedInNow = !wasSignedIn && record.signedIn;
      return { record, reply: await this.#follow(record, request, outcome, !signedInNow) };
    } catch (error) {
      this.#log(request).error(
        { err: error, journey: record.journey, state: record.state },
        'ussd outcome failed',
      );
      return { record, reply: this.#errorReply(record) };
    }
  }

  async #follow(
    record: SessionRecord,
    request: UssdRequest,
    outcome: Outcome,
    remember = true,
  ): Promise<UssdReply> {
    const journey = this.#journeys.get(record.journey)!;
    if ('end' in outcome)
      return { continue: false, message: render(journey, outcome.end, record.language).text };
    if ('retry' in outcome) {
      const notice = render(journey, outcome.retry, record.language).text;
      return this.#show(record, request, notice);
    }
    const target = 'go' in outcome ? { journey: record.journey, state: outcome.go } : outcome;
    if (remember) record.stack.push({ journey: record.journey, state: record.state });
    else record.stack = [];
    this.#enter(record, target.journey, target.state ?? '');
    return this.#show(record, request);
  }

  #enter(record: SessionRecord, journeyId: string, state: string): void {
    const journey = this.#journeys.get(journeyId);
    if (!journey) throw new Error(`USSD journey ${journeyId} does not exist`);
    const name = state || journey.start;
    if (!journey.states[name]) throw new Error(`USSD journey ${journeyId} has no state ${name}`);
    record.journey = journeyId;
    record.state = name;
    record.page = 0;
  }

  /** Renders the current state (ending the session when it takes no input). */
  async #show(record: SessionRecord, request: UssdRequest, notice?: string): Promise<UssdReply> {
    const journey = this.#journeys.get(record.journey)!;
    const state: MenuState<UssdServices> = journey.states[record.state]!;
    let screen: Screen;
    try {
      screen = await state.screen(this.#context(record, request, null));
    } catch (error) {
      this.#log(request).error(
        { err: error, journey: record.journey, state: record.state },
        'ussd screen failed',
      );
      return this.#errorReply(record);
    }
    const rendered = render(journey, screen, record.language, record.page, notice);
    record.page = Math.min(record.page, rendered.pages - 1);
    record.choices = rendered.choices;
    return { continue: Boolean(state.input), message: rendered.text };
  }

  #errorReply(record: SessionRecord): UssdReply {
    return { continue: false, message: fill(ENGINE, 'common.error', record.language) };
  }

  #context(record: SessionRecord, request: UssdRequest, secret: string | null): StateContext<UssdServices> {
    const pepper = this.#options.pepper;
    return {
      gateway: request.gateway,
      sessionId: request.sessionId,
      msisdn: record.msisdn,
      network: record.network,
      language: record.language,
      customerId: record.customerId,
      signedIn: record.signedIn,
      services: this.#options.services,
      get: (key) => record.data[key],
      set: (key, value) => {
        if (secret !== null && value === secret)
          throw new Error('a PIN must not be kept in the USSD session');
        record.data[key] = value;
      },
      signIn: (customerId) => {
        record.customerId = customerId;
        record.signedIn = true;
      },
      setLanguage: (language) => {
        record.language = language;
      },
      // The step's number in the session: a copy of this step (even one replayed after a crash lost the session's
      // save) has the same; coming back to the state later (back, then a new amount) is another step, another key.
      idempotencyKey: (action) =>
        `ussd:${request.gateway}:${request.sessionId}:${record.steps}:${record.journey}.${record.state}:${action}`,
      pinDigest: (pin) => keyedHash(pepper, 'ussd-pin', `${request.gateway}:${request.sessionId}:${pin}`),
    };
  }
}
