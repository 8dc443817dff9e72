/** docs/events.md is written from the topic schemas, and every consumer's topics are published by someone. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { EVENTS_DOC_FILE, eventsDocument, topicRegistry } from '../../scripts/write-events-doc.ts';
import { NOTIFICATION_TOPICS } from '../../src/modules/notifications/index.ts';
import { transactionCompleted } from '../../src/modules/transactions/index.ts';

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

test('transaction.completed is at version 1, the version payment_commit writes (the column default)', () => {
  // A version 2 must also be passed to payment_commit (migration 0024), which inserts the row itself.
  assert.equal(transactionCompleted.version, 1);
});
