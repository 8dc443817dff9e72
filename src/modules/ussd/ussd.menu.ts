/**
 * The declarative menu language every USSD journey is written in. A journey is one file (`ussd.journey.<name>.ts`)
 * exporting `defineJourney({...})`: its phrases in every language, the placeholders they use with the longest value
 * each may take on a screen, and its states. A state shows a screen (a phrase, its values, and options for a choice),
 * takes one typed input, and says where to go next. The engine (`ussd.engine.ts`) runs them: it validates the input
 * by its type, handles `0` (back) and `00` (home), paginates long option lists ("98 More"), cuts placeholder values to
 * their declared length, and never keeps a `pin` input anywhere (it reaches `next` and nothing else).
 *
 * `ussd.screens.test.ts` renders every state's screen in every language with the longest values and checks it stays
 * within SCREEN_LIMIT characters.
 */

export const LANGUAGES = ['en', 'fr', 'sw'] as const;
export type Language = (typeof LANGUAGES)[number];

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/** Characters a rendered screen may hold: some gateways cap at 160, Africa's Talking at 182. */
export const SCREEN_LIMIT = 160;

/** One text in every language. `{name}` is replaced by the value of the placeholder `name`. */
export type Phrase = Readonly<Record<Language, string>>;

/** What a state shows. */
export interface Screen {
  /** Key of a phrase of the journey (or of the shared phrases in `ussd.phrases.ts`, prefixed `common.`). */
  phrase: string;
  /** Placeholder values (cut to the journey's declared length, by grapheme, when longer). */
  values?: Readonly<Record<string, string | number>>;
  /** For a `choice` input: numbered options, paginated by the engine when they do not fit. */
  options?: readonly Option[];
}

export interface Option {
  /** What the customer picks it by: usually its number ("1"); the engine numbers options without one from 1. */
  key?: string;
  /** A phrase key of the journey (`{ phrase }`) or literal text from data (a biller's name): never both. */
  label: { phrase: string; values?: Readonly<Record<string, string | number>> } | { text: string };
  /** What `next` receives when it is picked. */
  value: string;
}

/** The typed inputs a state can take; the engine refuses anything else with the shared "invalid" phrase. */
export type InputSpec =
  /** One of the screen's options (by its key); `next` receives the option's value. */
  | { type: 'choice' }
  /** Digits only, optionally bounded in length. */
  | { type: 'number'; minDigits?: number; maxDigits?: number }
  /** An amount in major units ("1500", "1500.50"), in the session's currency; `next` receives minor units as a string. */
  | { type: 'amount' }
  /** A phone number in national or international form; `next` receives it in E.164. */
  | { type: 'phone' }
  /** The customer's PIN (4–6 digits): never stored, logged or kept in the session; it reaches `next` only. */
  | { type: 'pin' }
  /** Free text (a name), trimmed, of at most `max` characters. */
  | { type: 'text'; min?: number; max: number }
  /** A date typed DDMMYYYY; `next` receives it as YYYY-MM-DD. */
  | { type: 'date' }
  /** A national ID or account number: letters and digits, of the given length range. */
  | { type: 'code'; min: number; max: number };

/** Where a state's input leads. */
export type Outcome =
  /** Another state of this journey (the current one is pushed on the back stack). */
  | { go: string }
  /** Another journey (its `start` state unless `state` is given). */
  | { journey: string; state?: string }
  /** The same state again, with a message line above its screen (a refusal the customer can correct). */
  | { retry: Screen }
  /** The last screen: the session ends. */
  | { end: Screen };

/** What a state's code may read and write in the session. */
export interface StateContext<Services = unknown> {
  readonly gateway: string;
  readonly sessionId: string;
  /** E.164, from the gateway. */
  readonly msisdn: string;
  /** Network code or name the gateway reported (airtime uses it), or null. */
  readonly network: string | null;
  readonly language: Language;
  /** The customer behind the number, once known (null for an unknown number). */
  readonly customerId: string | null;
  /** Whether the customer entered their PIN in this session. */
  readonly signedIn: boolean;
  /** The ports to the other modules (`UssdServices` in `ussd.ports.ts`). */
  readonly services: Services;
  /** A value collected earlier in this session (never a PIN). */
  get(key: string): string | undefined;
  /** Keeps a value for later states (never a PIN: the engine refuses a value equal to the PIN just entered). */
  set(key: string, value: string): void;
  /** Marks the session signed in as this customer (after the PIN was checked). */
  signIn(customerId: string): void;
  /** Switches the session's language (the language menu; registration's first screen). */
  setLanguage(language: Language): void;
  /**
   * Derives a stable idempotency key for a money action in this state: one per gateway session and step (the step's
   * number in the session), so a gateway delivering the step again has exactly one effect, while coming back to the
   * state later (back, a new amount) makes a new payment.
   */
  idempotencyKey(action: string): string;
  /**
   * A keyed digest of a PIN, bound to this session (for "enter your PIN again": keep the digest with `set`, compare
   * the second entry's digest). Never the PIN itself.
   */
  pinDigest(pin: string): string;
}

export interface MenuState<Services = unknown> {
  screen(ctx: StateContext<Services>): Screen | Promise<Screen>;
  /** Absent: a display-only screen (the engine ends the session with it). */
  input?: InputSpec;
  next?(value: string, ctx: StateContext<Services>): Outcome | Promise<Outcome>;
}

export interface Journey<Services = unknown> {
  /** Unique across journeys: `home`, `register`, `send`, `bill`… */
  id: string;
  start: string;
  /** Placeholders this journey's phrases use, with the longest value each may take (in characters). */
  values: Readonly<Record<string, number>>;
  phrases: Readonly<Record<string, Phrase>>;
  states: Readonly<Record<string, MenuState<Services>>>;
}

export function defineJourney<Services>(journey: Journey<Services>): Journey<Services> {
  return journey;
}

/** The engine's answer to one gateway request, before a gateway renders it. */
export interface Reply {
  continue: boolean;
  message: string;
}
