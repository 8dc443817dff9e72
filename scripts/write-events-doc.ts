/**
 * Writes docs/events.md from the topic schemas: every domain event topic, its version, the module that publishes it,
 * the consumers subscribed to it and its payload fields. `node scripts/write-events-doc.ts`;
 * test/architecture/events-doc.test.ts fails when the committed page is stale.
 *
 * The subscribers are read from the modules themselves: the system is composed as the OpenAPI generator composes it
 * (embedded in-memory database, no worker), and the event bus says which consumer takes which topic. A module that
 * adds an `on(topic, …)` to its `subscribes` shows up here without another list to keep.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config.ts';
import { composeSystem, MODULES } from '../src/modules.ts';
import { closeDependencies, openDependencies } from '../src/platform/dependencies.ts';
import { type Topic, TopicRegistry, topicKey } from '../src/platform/events.ts';
import { otpRequested } from '../src/platform/otp.ts';

export const EVENTS_DOC_FILE = join(import.meta.dirname, '..', 'docs', 'events.md');

/** Topics the platform itself publishes (its OTP service), beside the modules' `publishes`. */
const PLATFORM_TOPICS: readonly Topic[] = [otpRequested];

function isTopic(value: unknown): value is Topic {
  return typeof value === 'object' && value !== null && 'schema' in value && 'name' in value;
}

export function topicRegistry(): TopicRegistry {
  const registry = new TopicRegistry().register('platform', PLATFORM_TOPICS);
  for (const module of MODULES) registry.register(module.name, (module.publishes ?? []).filter(isTopic));
  return registry;
}

/** A consumer (one per subscribing module) and the topics (`name@version`) it takes. */
export interface ConsumerTopics {
  consumer: string;
  topics: string[];
}

/**
 * Every consumer and its topics, from each module's `subscribes`: composing the system subscribes them on its event
 * bus (and throws for a topic nobody publishes), which needs the modules' APIs, hence a database.
 */
export async function consumerSubscriptions(): Promise<ConsumerTopics[]> {
  const config = parseConfig({ DATA_DIR: ':memory:', LOG_LEVEL: 'silent' });
  const deps = await openDependencies(config, { migrate: true, runsWorker: false });
  try {
    const system = await composeSystem(deps);
    try {
      return system.events.subscriptions();
    } finally {
      await system.close();
    }
  } finally {
    await closeDependencies(deps);
  }
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

type Schema = Record<string, unknown>;

/** A schema's type in a few words: `string`, `minor units`, `'a' \| 'b'`, `string \| null` … */
function typeOf(schema: Schema): string {
  if ('const' in schema) return `\`${JSON.stringify(schema.const)}\``;
  if (Array.isArray(schema.enum))
    return schema.enum.map((value) => `\`${JSON.stringify(value)}\``).join(' or ');
  const variants = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (variants) return variants.map(typeOf).join(' or ');
  if (schema.type === 'string' && schema.pattern === '^-?[0-9]{1,20}$') return 'minor units (decimal string)';
  if (schema.type === 'array') return `array of ${typeOf(schema.items as Schema)}`;
  if (schema.type === 'object' && schema.patternProperties) {
    const [value] = Object.values(schema.patternProperties as Record<string, Schema>);
    return `object of ${value ? typeOf(value) : 'values'}`;
  }
  return String(schema.type ?? 'any');
}

/** The payload's fields as table rows, nested objects and arrays of objects flattened with dotted paths. */
function fieldRows(schema: Schema, prefix = ''): string[] {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema.required ?? []) as string[]);
  const rows: string[] = [];
  for (const [name, field] of Object.entries(properties)) {
    const path = `${prefix}${name}`;
    const items = field.items as Schema | undefined;
    const variants = (field.anyOf ?? []) as Schema[];
    const meaning = field.description ?? variants.find((variant) => variant.description)?.description ?? '';
    rows.push(
      `| \`${path}\` | ${cell(typeOf(field))} | ${required.has(name) ? 'yes' : 'no'} | ${cell(String(meaning))} |`,
    );
    if (field.type === 'object' && field.properties) rows.push(...fieldRows(field, `${path}.`));
    if (items?.type === 'object' && items.properties) rows.push(...fieldRows(items, `${path}[].`));
  }
  return rows;
}

/** The page, from the topic schemas and the consumers' subscriptions (by default read from a composed system). */
export async function eventsDocument(consumers?: readonly ConsumerTopics[]): Promise<string> {
  const registry = topicRegistry();
  const subscribers = new Map<string, string[]>();
  for (const { consumer, topics } of consumers ?? (await consumerSubscriptions()))
    for (const key of topics) subscribers.set(key, [...(subscribers.get(key) ?? []), consumer].sort());
  const entries = registry.entries();
  const anchor = (topic: Topic) => `${topic.name}-v${topic.version}`.replaceAll('.', '');
  const summary = entries.map(
    ({ topic, publisher }) =>
      `| [\`${topic.name}\`](#${anchor(topic)}) | ${topic.version} | ${publisher} | ${
        (subscribers.get(topicKey(topic)) ?? []).join(', ') || '—'
      } | ${cell(topic.description)} |`,
  );
  const sections = entries.flatMap(({ topic, publisher }) => [
    `## ${topic.name} v${topic.version}`,
    '',
    `${topic.description} Published by **${publisher}**; subscribed by ${
      (subscribers.get(topicKey(topic)) ?? []).map((name) => `**${name}**`).join(', ') || 'no consumer yet'
    }.${(topic.schema as unknown as Schema).additionalProperties === false ? ' No other fields.' : ''}`,
    '',
    '| Field | Type | Required | Meaning |',
    '| --- | --- | --- | --- |',
    ...fieldRows(topic.schema as unknown as Schema),
    '',
  ]);
  return [
    '# Domain events',
    '',
    '<!-- Generated by scripts/write-events-doc.ts from the topic schemas and the modules’ `subscribes`; do not edit by hand. -->',
    '',
    'Every domain event is written to the outbox in the transaction of the change it describes, as a topic, a version',
    'and a payload that matches the topic’s TypeBox schema (checked when it is published). The event bus hands each',
    'event to every consumer subscribed to its topic and version; each consumer has its own queue, retries and dead',
    'letters, and can replay from an event id or a time within the outbox retention (ADR 0025). Money is a decimal',
    'string of minor units of the payload’s currency. Payloads never carry a secret in clear: codes and tokens travel',
    'sealed to their challenge.',
    '',
    'A topic is declared with `defineTopic(name, version, schema)` in its publisher’s `<module>.events.ts` and listed in',
    'the module’s `publishes`; a new version is a new topic value (the old one stays until its consumers move).',
    '',
    '| Topic | Version | Publisher | Subscribers | What it says |',
    '| --- | --- | --- | --- | --- |',
    ...summary,
    '',
    ...sections,
  ]
    .join('\n')
    .replace(/\n+$/, '\n');
}

if (import.meta.main) {
  writeFileSync(EVENTS_DOC_FILE, await eventsDocument());
  console.log(`wrote ${EVENTS_DOC_FILE}`);
}
