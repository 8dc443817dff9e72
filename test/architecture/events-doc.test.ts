/** docs/events.md is written from the topic schemas, and every consumer's topics are published by someone. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { EVENTS_DOC_FILE, eventsDocument, topicRegistry } from '../../scripts/write-events-doc.ts';
import { NOTIFICATION_TOPICS } from '../../src/modules/notifications/index.ts';

test('docs/events.md is written from the topic schemas (node scripts/write-events-doc.ts)', () => {
  assert.equal(
    readFileSync(EVENTS_DOC_FILE, 'utf8'),
    eventsDocument(),
    'stale docs/events.md: run node scripts/write-events-doc.ts',
  );
});

test('each topic notifications takes is published by exactly one module, in the same definition', () => {
  const registry = topicRegistry();
  for (const topic of NOTIFICATION_TOPICS) assert.ok(registry.publisherOf(topic), topic.name);
  for (const topic of NOTIFICATION_TOPICS) assert.equal(registry.require(topic), topic);
});
