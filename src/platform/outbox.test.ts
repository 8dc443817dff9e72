/** Outbox retention: only old, dispatched, error-free events go; in batches; works on PostgreSQL and PGlite. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { inArray, sql } from 'drizzle-orm';
import { startTestApp, type TestContext } from '../../test/helpers/app.ts';
import { purgeDispatchedEvents } from './outbox.ts';
import { outboxEvents } from './platform.tables.ts';

describe('outbox retention', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  test('dispatched events older than the window go; undelivered, set-aside and recent ones stay', async () => {
    const db = t.deps.database.db;
    const days = (n: number) => new Date(Date.now() - n * 86_400_000);
    const insert = (
      topic: string,
      occurredAt: Date,
      dispatchedAt: Date | null,
      error: string | null = null,
    ) =>
      db
        .insert(outboxEvents)
        .values({
          topic,
          aggregateType: 'retention-test',
          aggregateId: topic,
          payload: {},
          occurredAt,
          dispatchedAt,
          dispatchError: error,
        })
        .returning({ id: outboxEvents.id });
    // Older rows first, as the id sequence and the clock go together in production.
    const old = [];
    for (let i = 0; i < 7; i += 1) old.push((await insert(`old-dispatched-${i}`, days(30), days(30)))[0]!.id);
    const [undelivered] = await insert('old-undelivered', days(20), null);
    const [setAside] = await insert('old-set-aside', days(20), days(20), 'handler failed 5 times');
    const [recent] = await insert('recent-dispatched', days(1), days(1));
    const [fresh] = await insert('fresh-undelivered', new Date(), null);

    // Batches of 3: 7 rows take three rounds (3 + 3 + 1).
    assert.equal(await purgeDispatchedEvents(db, 7, 3), 7);
    const left = await db
      .select({ topic: outboxEvents.topic })
      .from(outboxEvents)
      .where(sql`${outboxEvents.aggregateType} = 'retention-test'`)
      .orderBy(outboxEvents.id);
    assert.deepEqual(
      left.map((row) => row.topic),
      ['old-undelivered', 'old-set-aside', 'recent-dispatched', 'fresh-undelivered'],
    );
    assert.equal(await purgeDispatchedEvents(db, 7, 3), 0, 'a second run finds nothing');
    assert.equal(await purgeDispatchedEvents(db, 0), 0, '0 keeps everything');
    await db
      .delete(outboxEvents)
      .where(inArray(outboxEvents.id, [undelivered!.id, setAside!.id, recent!.id, fresh!.id]));
  });
});
