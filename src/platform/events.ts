/**
 * Typed domain-event topics (ADR 0025). A topic is a name, a version and a TypeBox schema of its payload, declared in
 * the publishing module's `*.events.ts`. `emitEvent` (outbox.ts) takes a topic and a payload of its schema's type and
 * checks the payload against the schema before it writes the row: always outside production, on a sample in
 * production (`EVENT_VALIDATION_RATE`). Money in a payload is a decimal string of minor units, never a JS number:
 * `defineTopic` refuses a schema whose amount-like field is a number.
 */
import { type Static, type TObject, type TSchema, Type } from 'typebox';
import { Compile } from 'typebox/compile';
import type { Executor } from './db.ts';

/** A topic: what the outbox row's `topic` and `version` say, and the payload those promise. */
export interface Topic<Schema extends TObject = TObject> {
  readonly name: string;
  readonly version: number;
  readonly schema: Schema;
  readonly description: string;
}

export type PayloadOf<T extends Topic> = Static<T['schema']>;

/** One event as a consumer's handler receives it: the outbox row, its payload typed by the topic. */
export interface DomainEvent<T extends Topic = Topic> {
  readonly id: bigint;
  readonly topic: string;
  readonly version: number;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly payload: PayloadOf<T>;
  readonly occurredAt: Date;
}

/**
 * A consumer's handler of one topic. It runs in the dispatch transaction (in a savepoint of its own) and writes its
 * effects there; it may run more than once for one event (at least once), so its effects must be keyed by the event
 * id (`event.id`) or otherwise idempotent.
 */
export type EventHandler<T extends Topic = Topic> = (tx: Executor, event: DomainEvent<T>) => Promise<void>;

/** What an event is about: the row's `aggregate_type` and `aggregate_id`. */
export interface Aggregate {
  type: string;
  id: string;
}

const TOPIC_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
/** Field names that carry money: a JS number there loses precision above 2^53, so they must be strings. */
const MONEY_FIELD = /(^|_)(amount|fee|tax|balance|price|total)(_|$)|_minor$/;

/** A signed decimal string of minor units (a bigint written as text), as every money field of a payload is. */
export const MinorUnits = (options: { description?: string } = {}) =>
  Type.String({ pattern: '^-?[0-9]{1,20}$', ...options });

/** A value that may be absent (null): the payload always carries the key. */
export const Nullable = <S extends TSchema>(schema: S) => Type.Union([schema, Type.Null()]);

function moneyAsNumber(schema: unknown, path: string, name: string): string | null {
  if (!schema || typeof schema !== 'object') return null;
  const node = schema as Record<string, unknown>;
  if ((node.type === 'number' || node.type === 'integer') && MONEY_FIELD.test(name)) return path;
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const)
    for (const item of (node[key] as unknown[] | undefined) ?? []) {
      const found = moneyAsNumber(item, path, name);
      if (found) return found;
    }
  if (node.items) {
    const found = moneyAsNumber(node.items, `${path}[]`, name);
    if (found) return found;
  }
  for (const [key, item] of Object.entries((node.properties as Record<string, unknown> | undefined) ?? {})) {
    const found = moneyAsNumber(item, `${path}.${key}`, key);
    if (found) return found;
  }
  return null;
}

/**
 * Declares a topic. `name` is dotted lower case (`transaction.completed`); `version` starts at 1 and goes up when the
 * payload changes in a way an existing consumer would misread (a field removed, renamed or retyped; adding an optional
 * field is not such a change). Consumers subscribe to a name and version.
 */
export function defineTopic<Schema extends TObject>(
  name: string,
  version: number,
  schema: Schema,
  description = '',
): Topic<Schema> {
  if (!TOPIC_NAME.test(name)) throw new Error(`Topic name "${name}" is not dotted lower case (area.event)`);
  if (!Number.isInteger(version) || version < 1) throw new Error(`Topic ${name}: version must be 1 or more`);
  const money = moneyAsNumber(schema, 'payload', '');
  if (money)
    throw new Error(`Topic ${name}: ${money} carries money as a number; use MinorUnits() (a string)`);
  return Object.freeze({ name, version, schema, description });
}

/** `name@version`, the key of a topic in a registry and of a handler in a subscription. */
export const topicKey = (topic: Pick<Topic, 'name' | 'version'>) => `${topic.name}@${topic.version}`;

/** The topics known to the process, with their publisher; a duplicate or an unknown topic is an error at start-up. */
export class TopicRegistry {
  readonly #topics = new Map<string, { topic: Topic; publisher: string }>();

  /** Adds a publisher's topics; throws on a topic name and version already registered (by anyone). */
  register(publisher: string, topics: Iterable<Topic>): this {
    for (const topic of topics) {
      const key = topicKey(topic);
      const existing = this.#topics.get(key);
      if (existing)
        throw new Error(`Topic ${key} is published by both ${existing.publisher} and ${publisher}`);
      this.#topics.set(key, { topic, publisher });
    }
    return this;
  }

  /** The registered topic; throws when it is not registered (a subscriber to a topic no module publishes). */
  require(topic: Topic, subscriber = 'a subscriber'): Topic {
    const found = this.#topics.get(topicKey(topic));
    if (!found) throw new Error(`${subscriber} subscribes to ${topicKey(topic)}, which no module publishes`);
    if (found.topic !== topic)
      throw new Error(`${subscriber} subscribes to a different definition of ${topicKey(topic)}`);
    return found.topic;
  }

  publisherOf(topic: Pick<Topic, 'name' | 'version'>): string | undefined {
    return this.#topics.get(topicKey(topic))?.publisher;
  }

  /** Every registered topic with its publisher, by name then version. */
  entries(): { topic: Topic; publisher: string }[] {
    return [...this.#topics.values()].sort(
      (a, b) => a.topic.name.localeCompare(b.topic.name) || a.topic.version - b.topic.version,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Validation at publish time

type Checker = ReturnType<typeof Compile>;
const checkers = new WeakMap<Topic, Checker>();

/** The share of published payloads checked against their schema: 1 outside production unless configured. */
let validationRate = process.env.NODE_ENV === 'production' ? 0 : 1;

/**
 * Sets the share of payloads checked at publish time (0: none, 1: all); `auto` is 1 outside production and 0.01 in
 * production. Called once at start-up from the config (`EVENT_VALIDATION_RATE`).
 */
export function configureEventValidation(rate: number | 'auto', production: boolean): void {
  validationRate = rate === 'auto' ? (production ? 0.01 : 1) : rate;
}

export class InvalidEventPayload extends Error {
  readonly topic: string;
  readonly problems: string[];
  constructor(topic: string, problems: string[]) {
    super(`Invalid ${topic} payload: ${problems.join('; ')}`);
    this.name = 'InvalidEventPayload';
    this.topic = topic;
    this.problems = problems;
  }
}

/** Throws InvalidEventPayload when `payload` does not match the topic's schema (always, whatever the rate). */
export function assertPayload(topic: Topic, payload: unknown): void {
  let checker = checkers.get(topic);
  if (!checker) {
    checker = Compile(topic.schema);
    checkers.set(topic, checker);
  }
  if (checker.Check(payload)) return;
  const problems = [...checker.Errors(payload)]
    .slice(0, 5)
    .map((error) => `${error.instancePath || '/'} ${error.message}`);
  throw new InvalidEventPayload(topicKey(topic), problems);
}

/** Checks the payload when this publish falls in the configured sample. */
export function validateOnPublish(topic: Topic, payload: unknown): void {
  if (validationRate <= 0) return;
  if (validationRate < 1 && Math.random() >= validationRate) return;
  assertPayload(topic, payload);
}

/** A consumer's handler of one topic, as a module lists them (`subscribes`); the bus takes a list of these. */
export interface Subscription {
  readonly topic: Topic;
  readonly handler: EventHandler;
}

/** One subscription, its handler typed by the topic. */
export function on<T extends Topic>(topic: T, handler: EventHandler<T>): Subscription {
  return { topic, handler: handler as unknown as EventHandler };
}
