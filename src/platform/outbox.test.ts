/**
 * Outbox retention: only old events that every consumer has passed go (handed out, no delivery pending or set
 * aside); in batches; works on PostgreSQL and PGlite.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq, inArray, sql } from 'drizzle-orm';
import { startTestApp, type TestContext } from '../../test/helpers/app.ts';
import { purgeDispatchedEvents } from './outbox.ts';
import { outboxConsumers, outboxDeliveries, outboxEvents } from './platform.tables.ts';

describe('outbox retention', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  test('old events every consumer passed go; undelivered, pending, set-aside and recent ones stay', async () => {
    const db = t.deps.database.db;
    const days = (n: number) => new Date(Date.now() - n * 86_400_000);
    const insert = async (topic: string, occurredAt: Date, dispatchedAt: Date | null) =>
      (
        await db
          .insert(outboxEvents)
          .values({
            topic,
            aggregateType: 'retention-test',
            aggregateId: topic,
            payload: {},
            occurredAt,
            dispatchedAt,
          })
          .returning({ id: outboxEvents.id })
      )[0]!.id;
    await db.insert(outboxConsumers).values({ name: 'retention-test', topics: [] });
    // Older rows first, as the id sequence and the clock go together in production.
    for (let i = 0; i < 7; i += 1) await insert(`old-passed-${i}`, days(30), days(30));
    const undelivered = await insert('old-undelivered', days(20), null);
    const pending = await insert('old-pending', days(20), days(20));
    const setAside = await insert('old-set-aside', days(20), days(20));
    const recent = await insert('recent-passed', days(1), days(1));
    const fresh = await insert('fresh-undelivered', new Date(), null);
    await db.insert(outboxDeliveries).values([
      { consumer: 'retention-test', eventId: pending, attempts: 1, lastError: 'try again' },
      {
        consumer: 'retention-test',
        eventId: setAside,
        attempts: 5,
        lastError: 'handler failed 5 times',
        failedAt: days(20),
      },
    ]);

    // Batches of 3: 7 rows take three rounds (3 + 3 + 1).
    assert.equal(await purgeDispatchedEvents(db, 7, 3), 7);
    const left = await db
      .select({ topic: outboxEvents.topic })
      .from(outboxEvents)
      .where(sql`${outboxEvents.aggregateType} = 'retention-test'`)
      .orderBy(outboxEvents.id);
    assert.deepEqual(
      left.map((row) => row.topic),
      ['old-undelivered', 'old-pending', 'old-set-aside', 'recent-passed', 'fresh-undelivered'],
    );
    assert.equal(await purgeDispatchedEvents(db, 7, 3), 0, 'a second run finds nothing');
    assert.equal(await purgeDispatchedEvents(db, 0), 0, '0 keeps everything');

    // Once the consumer has handled the pending one (its delivery deleted), it goes too.
    await db.delete(outboxDeliveries).where(eq(outboxDeliveries.eventId, pending));
    assert.equal(await purgeDispatchedEvents(db, 7), 1);

    await db.delete(outboxConsumers).where(eq(outboxConsumers.name, 'retention-test'));
    await db.delete(outboxEvents).where(inArray(outboxEvents.id, [undelivered, setAside, recent, fresh]));
  });
});
