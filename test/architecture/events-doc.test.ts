/**
 * docs/events.md is written from the topic schemas and the modules' own subscriptions, and every consumer's topics
 * are published by someone.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import {
  type ConsumerTopics,
  consumerSubscriptions,
  EVENTS_DOC_FILE,
  eventsDocument,
  topicRegistry,
} from '../../scripts/write-events-doc.ts';
import { customerErased } from '../../src/modules/customers/index.ts';
import { transactionCompleted } from '../../src/modules/transactions/index.ts';
import { topicKey } from '../../src/platform/events.ts';

// Composing the system (embedded database) takes seconds: once for the file.
let consumers: ConsumerTopics[] = [];
before(async () => {
  consumers = await consumerSubscriptions();
});

test('docs/events.md is written from the topic schemas and subscriptions (node scripts/write-events-doc.ts)', async () => {
  assert.equal(
    readFileSync(EVENTS_DOC_FILE, 'utf8'),
    await eventsDocument(consumers),
    'stale docs/events.md: run node scripts/write-events-doc.ts',
  );
});

test('each topic a consumer takes is published by exactly one module', () => {
  const published = new Set(
    topicRegistry()
      .entries()
      .map(({ topic }) => topicKey(topic)),
  );
  assert.ok(consumers.length > 1, 'more than one module subscribes');
  for (const { consumer, topics } of consumers)
    for (const key of topics)
      assert.ok(published.has(key), `${consumer} takes ${key}, which nobody publishes`);
});

test("the subscribers are the modules' own subscriptions, not a hand-kept list", () => {
  const takes = (consumer: string) => consumers.find((entry) => entry.consumer === consumer)?.topics ?? [];
  assert.ok(takes('notifications').includes(topicKey(transactionCompleted)));
  assert.ok(takes('loans').includes(topicKey(transactionCompleted)), 'loans collects from incoming payments');
  assert.ok(takes('loans').includes(topicKey(customerErased)));
});

test('transaction.completed is at version 1, the version payment_commit writes (the column default)', () => {
  // A version 2 must also be passed to payment_commit (migration 0024), which inserts the row itself.
  assert.equal(transactionCompleted.version, 1);
});
