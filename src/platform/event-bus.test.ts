/**
 * The event bus (ADR 0025) on a database of its own: typed topics checked at publish time, several consumers that
 * do not hold each other up, at least once with idempotent handlers across a batch that dies before it commits,
 * replay from an event id or a time, dead letters, and no event skipped when transactions commit out of id order.
 * PostgreSQL when TEST_DATABASE_URL is set, else embedded PGlite (the tests that need two connections at once are
 * PostgreSQL's).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { Type } from 'typebox';
import { createTestDatabase, needsPostgres } from '../../test/helpers/databases.ts';
import { type Database, type Executor, inTransaction, openDatabase, rawRows, runMigrations } from './db.ts';
import {
  assertPayload,
  configureEventValidation,
  type DomainEvent,
  defineTopic,
  InvalidEventPayload,
  MinorUnits,
  TopicRegistry,
} from './events.ts';
import { emitEvent, outboxRecord, purgeDispatchedEvents } from './outbox.ts';
import { EventBus } from './outbox-dispatcher.ts';

const paid = defineTopic(
  'evbus_test.paid',
  1,
  Type.Object({ n: Type.Integer(), amount: MinorUnits() }, { additionalProperties: false }),
);
const noted = defineTopic('evbus_test.noted', 1, Type.Object({ n: Type.Integer() }));

describe('event bus', () => {
  let database: Database;
  let drop: (() => Promise<void>) | undefined;
  let url: string | undefined;
  const db = () => database.db;

  before(async () => {
    const created = await createTestDatabase('cf_evbus');
    url = created?.url;
    drop = created?.drop;
    database = await openDatabase({ url, dataDir: ':memory:', poolSize: 5, statementTimeoutMs: 0 });
    await runMigrations(database);
    await db().execute(
      sql`create table evbus_effects (consumer text, event_id bigint, primary key (consumer, event_id))`,
    );
    configureEventValidation(1, false);
  });
  after(async () => {
    await database?.close();
    await drop?.();
  });
  beforeEach(async () => {
    // Each test starts from an empty outbox (the migration's notifications consumer is not theirs to feed).
    await db().execute(sql`delete from outbox_deliveries`);
    await db().execute(sql`delete from outbox_consumers where name <> 'notifications'`);
    await db().execute(sql`delete from outbox_events`);
    await db().execute(sql`delete from evbus_effects`);
  });

  const emit = (n: number) => emitEvent(db(), paid, { type: 'test', id: String(n) }, { n, amount: `${n}00` });

  /** A handler that records its effect once per event (the idempotent way) and counts its calls. */
  function recorder(consumer: string, calls: bigint[] = []) {
    const handler = async (tx: Executor, event: DomainEvent<typeof paid>) => {
      calls.push(event.id);
      await tx.execute(
        sql`insert into evbus_effects (consumer, event_id) values (${consumer}, ${event.id}) on conflict do nothing`,
      );
    };
    return { handler, calls };
  }

  async function effects(consumer: string): Promise<number[]> {
    const rows = await rawRows<{ n: number }>(
      db(),
      sql`select (e.payload->>'n')::int as n from evbus_effects f join outbox_events e on e.id = f.event_id
          where f.consumer = ${consumer} order by e.id`,
    );
    return rows.map((row) => Number(row.n));
  }

  async function drain(bus: EventBus): Promise<void> {
    for (let round = 0; round < 50; round += 1) if ((await bus.dispatchBatch()) === 0) return;
    assert.fail('the bus did not settle');
  }

  test('a payload is checked against its topic when it is published; money is never a number', async () => {
    await assert.rejects(
      emitEvent(db(), paid, { type: 'test', id: 'bad' }, { n: 1, amount: 100 as unknown as string }),
      (error: unknown) => error instanceof InvalidEventPayload && /amount/.test(error.message),
    );
    await assert.rejects(
      emitEvent(db(), paid, { type: 'test', id: 'bad' }, { n: 1, amount: '1', extra: true } as never),
      InvalidEventPayload,
    );
    assert.throws(
      () => outboxRecord(paid, { type: 'test', id: 'bad' }, { n: 1.5, amount: '1' }),
      InvalidEventPayload,
    );
    const [row] = await rawRows<{ n: number }>(db(), sql`select count(*)::int as n from outbox_events`);
    assert.equal(Number(row!.n), 0, 'nothing written');
    // Sampled off (production), the write goes through unchecked; assertPayload still refuses it.
    configureEventValidation(0, true);
    try {
      await emitEvent(
        db(),
        paid,
        { type: 'test', id: 'unchecked' },
        { n: 1, amount: 5 as unknown as string },
      );
    } finally {
      configureEventValidation(1, false);
    }
    assert.throws(() => assertPayload(paid, { n: 1, amount: 5 }), InvalidEventPayload);
    assert.throws(
      () => defineTopic('evbus_test.bad', 1, Type.Object({ fee: Type.Number() })),
      /fee carries money as a number/,
    );
    assert.throws(() => defineTopic('Bad Name', 1, Type.Object({})), /dotted lower case/);
  });

  test('the registry refuses a topic published twice and a subscriber to a topic nobody publishes', () => {
    const registry = new TopicRegistry().register('payments', [paid]);
    assert.throws(() => registry.register('other', [paid]), /published by both payments and other/);
    const bus = new EventBus(db(), { topics: registry });
    bus.subscribe('alerts', paid, async () => {});
    assert.throws(() => bus.subscribe('alerts', noted, async () => {}), /no module publishes/);
    assert.throws(() => bus.subscribe('alerts', paid, async () => {}), /twice/);
    const lookalike = defineTopic('evbus_test.paid', 1, Type.Object({}));
    assert.throws(() => bus.subscribe('audit', lookalike, async () => {}), /different definition/);
    assert.equal(registry.publisherOf(paid), 'payments');
  });

  test('each consumer gets every event of its topics; one that keeps failing holds up only itself', async () => {
    const good = recorder('good');
    const bus = new EventBus(db(), { maxAttempts: 2, batchSize: 4 })
      .subscribe('good', paid, good.handler)
      .subscribe('failing', paid, async () => {
        throw new Error('the webhook endpoint is down');
      })
      .subscribe('notes', noted, async (tx, event) => {
        await tx.execute(sql`insert into evbus_effects values ('notes', ${event.id})`);
      });
    for (let n = 1; n <= 10; n += 1) await emit(n);
    await emitEvent(db(), noted, { type: 'test', id: 'note' }, { n: 99 });

    // One round: the good consumer's first batch is handled although the failing one failed all of its own.
    await bus.dispatchBatch();
    assert.deepEqual(await effects('good'), [1, 2, 3, 4]);
    await drain(bus);
    assert.deepEqual(await effects('good'), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(good.calls.length, 10, 'once each when nothing crashed');
    const [notes] = await rawRows<{ n: number }>(
      db(),
      sql`select count(*)::int as n from evbus_effects where consumer = 'notes'`,
    );
    assert.equal(Number(notes!.n), 1, 'a consumer gets only its topics');

    // The failing consumer's deliveries are set aside with the error, for an operator to see and retry.
    const dead = await bus.deadLetters('failing');
    assert.equal(dead.length, 10);
    assert.deepEqual(
      { topic: dead[0]!.topic, attempts: dead[0]!.attempts, error: dead[0]!.lastError },
      { topic: 'evbus_test.paid', attempts: 2, error: 'the webhook endpoint is down' },
    );
    assert.equal((await bus.deadLetters('good')).length, 0);
    assert.equal(await bus.retryDeadLetters('failing', [dead[0]!.eventId]), 1);
    const [pending] = await rawRows<{ n: number }>(
      db(),
      sql`select count(*)::int as n from outbox_deliveries where consumer = 'failing' and failed_at is null`,
    );
    assert.equal(Number(pending!.n), 1, 'retried: back in its queue with fresh attempts');
  });

  test('at least once across a batch that dies before it commits; the idempotent handler records each once', {
    skip: needsPostgres,
  }, async () => {
    // A handler that kills its own database session on the 3rd event of the first run: the batch's transaction
    // never commits, as when the worker is killed (the reliability e2e test does it with SIGKILL).
    const calls: bigint[] = [];
    let crashed = false;
    const bus = new EventBus(db(), { batchSize: 10 }).subscribe('ledger_mirror', paid, async (tx, event) => {
      calls.push(event.id);
      await tx.execute(
        sql`insert into evbus_effects (consumer, event_id) values ('ledger_mirror', ${event.id}) on conflict do nothing`,
      );
      if (!crashed && event.payload.n === 3) {
        crashed = true;
        await tx.execute(sql`select pg_terminate_backend(pg_backend_pid())`);
      }
    });
    for (let n = 1; n <= 6; n += 1) await emit(n);
    await bus.handOut();
    await assert.rejects(bus.dispatch('ledger_mirror'));
    assert.deepEqual(await effects('ledger_mirror'), [], 'the dead batch left nothing');
    await drain(bus);
    assert.deepEqual(await effects('ledger_mirror'), [1, 2, 3, 4, 5, 6]);
    assert.equal(calls.length, 9, 'events 1-3 ran twice: at least once');
  });

  test('a consumer added later replays from an event id or a time; the others are not touched', async () => {
    const first = recorder('first');
    await new EventBus(db()).subscribe('first', paid, first.handler).register();
    for (let n = 1; n <= 3; n += 1) await emit(n);
    const firstBus = new EventBus(db()).subscribe('first', paid, first.handler);
    await drain(firstBus);
    await db().execute(sql`update outbox_events set occurred_at = now() - interval '2 hours'`);
    const since = new Date(Date.now() - 3_600_000);
    for (let n = 4; n <= 6; n += 1) await emit(n);
    const [third] = await rawRows<{ id: string }>(
      db(),
      sql`select id::text from outbox_events where payload->>'n' = '3'`,
    );

    // Registered with a start point, the new consumer is queued the kept events from there on.
    const late = recorder('late');
    const bus = new EventBus(db())
      .subscribe('first', paid, first.handler)
      .subscribe('late', paid, late.handler)
      .consumer('late', { from: { eventId: BigInt(third!.id) } });
    await drain(bus);
    assert.deepEqual(await effects('late'), [3, 4, 5, 6]);
    assert.deepEqual(await effects('first'), [1, 2, 3, 4, 5, 6]);
    assert.equal(first.calls.length, 6, 'the replay queued nothing for the others');

    // A later replay by time: the events since then, again (its handler is idempotent).
    assert.equal(await bus.replay('late', { time: since }), 3);
    await drain(bus);
    assert.equal(late.calls.length, 7);
    assert.deepEqual(await effects('late'), [3, 4, 5, 6]);

    // Without a start point a new consumer takes the events not yet handed out, nothing older.
    await emit(7);
    const fresh = recorder('fresh');
    await drain(
      new EventBus(db()).subscribe('first', paid, first.handler).subscribe('fresh', paid, fresh.handler),
    );
    assert.deepEqual(await effects('fresh'), [7]);
  });

  test('retention keeps what any consumer still owes, then purges it', async () => {
    const bus = new EventBus(db(), { maxAttempts: 1 })
      .subscribe('keeper', paid, recorder('keeper').handler)
      .subscribe('stuck', paid, async () => {
        throw new Error('no');
      });
    for (let n = 1; n <= 3; n += 1) await emit(n);
    await drain(bus);
    await db().execute(sql`update outbox_events set occurred_at = now() - interval '30 days'`);
    assert.equal(await purgeDispatchedEvents(db(), 7), 0, 'the stuck consumer has not passed them');
    await db().execute(sql`delete from outbox_consumers where name = 'stuck'`);
    assert.equal(await purgeDispatchedEvents(db(), 7), 3);
  });

  test('an event whose transaction commits after a later one is not skipped', {
    skip: needsPostgres,
  }, async () => {
    const seen: number[] = [];
    const bus = new EventBus(db()).subscribe('ordered', paid, async (_tx, event) => {
      seen.push(event.payload.n);
    });
    await bus.register();
    const slow = new pg.Client({ connectionString: url });
    const fast = new pg.Client({ connectionString: url });
    await slow.connect();
    await fast.connect();
    try {
      const insert = (n: number) =>
        `insert into outbox_events (topic, aggregate_type, aggregate_id, payload)
         values ('evbus_test.paid', 'test', '${n}', '{"n": ${n}, "amount": "1"}') returning id`;
      // The slow transaction takes the lower id and commits last.
      await slow.query('begin');
      const low = (await slow.query(insert(1))).rows[0].id;
      await fast.query('begin');
      const high = (await fast.query(insert(2))).rows[0].id;
      await fast.query('commit');
      assert.ok(BigInt(low) < BigInt(high));
      await drain(bus);
      assert.deepEqual(seen, [2]);
      await slow.query('commit');
      await drain(bus);
      assert.deepEqual(seen, [2, 1], 'the lower id arrives once its transaction committed');
    } finally {
      await slow.end();
      await fast.end();
    }
  });

  test('started, each consumer runs its own loop: a stuck handler does not hold up another consumer', {
    skip: needsPostgres,
  }, async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const quick = recorder('quick');
    const bus = new EventBus(db(), { batchSize: 2 })
      .subscribe('quick', paid, quick.handler)
      .subscribe('slow', paid, async (tx, event) => {
        await gate;
        await tx.execute(sql`insert into evbus_effects values ('slow', ${event.id}) on conflict do nothing`);
      });
    for (let n = 1; n <= 6; n += 1) await emit(n);
    bus.start(20);
    try {
      const deadline = Date.now() + 10_000;
      while ((await effects('quick')).length < 6) {
        assert.ok(Date.now() < deadline, 'the quick consumer waited for the stuck one');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.deepEqual(await effects('slow'), []);
      release();
      while ((await effects('slow')).length < 6) {
        assert.ok(Date.now() < deadline + 10_000, 'the slow consumer did not catch up');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      release();
      await bus.stop();
    }
  });

  test('the hand-out writes one delivery per subscribed consumer and hands each event out once', async () => {
    // The hand-out commits on its own, before and whatever the consumers then do.
    for (let n = 1; n <= 3; n += 1) await emit(n);
    const bus = new EventBus(db()).subscribe('a', paid, async () => {}).subscribe('b', paid, async () => {});
    assert.equal(await bus.handOut(), 3);
    const rows = await inTransaction(db(), (tx) =>
      rawRows<{ consumer: string; n: number }>(
        tx,
        sql`select consumer, count(*)::int as n from outbox_deliveries group by consumer order by consumer`,
      ),
    );
    assert.deepEqual(
      rows.map((row) => [row.consumer, Number(row.n)]),
      [
        ['a', 3],
        ['b', 3],
      ],
    );
    assert.equal(await bus.handOut(), 0);
  });
});
