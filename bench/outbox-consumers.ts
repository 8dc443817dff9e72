/**
 * The cost of the many-consumer outbox (ADR 0025), on a scratch database:
 *   publish   — one event per transaction (BEGIN, INSERT, COMMIT) with the payload checked against its schema and
 *               without (EVENT_VALIDATION_RATE 1 and 0), and the check alone in a loop;
 *   dispatch  — a backlog of events drained by the event bus with 1, 2 and 4 consumers, each handler writing one
 *               row keyed by the event id (as notifications does): events per second until every consumer has
 *               every event, and the WAL written per event.
 * Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node bench/outbox-consumers.ts [events]
 * Prints a Markdown table (copied into the ADR).
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { Type } from 'typebox';
import { type Database, inTransaction, openDatabase, rawRows, runMigrations } from '../src/platform/db.ts';
import {
  assertPayload,
  configureEventValidation,
  defineTopic,
  MinorUnits,
  Nullable,
} from '../src/platform/events.ts';
import { emitEvent } from '../src/platform/outbox.ts';
import { EventBus } from '../src/platform/outbox-dispatcher.ts';

const EVENTS = Number(process.argv[2] ?? 20_000);

/** A payload the size and shape of `transaction.completed`. */
const paid = defineTopic(
  'bench.paid',
  1,
  Type.Object(
    {
      transaction_id: Type.String(),
      reference: Type.String(),
      type: Type.String(),
      amount: MinorUnits(),
      currency: Type.String(),
      fee: MinorUnits(),
      tax: MinorUnits(),
      source_wallet_id: Nullable(Type.String()),
      destination_wallet_id: Nullable(Type.String()),
      source_customer_id: Nullable(Type.String()),
      destination_customer_id: Nullable(Type.String()),
      merchant_id: Nullable(Type.String()),
    },
    { additionalProperties: false },
  ),
);

function payload(n: number) {
  const id = `0193a2b4-${String(n).padStart(4, '0').slice(-4)}-7000-8000-000000000000`;
  return {
    transaction_id: id,
    reference: `REF${n}`.padEnd(10, 'X').slice(0, 10),
    type: 'p2p',
    amount: String(1000 + n),
    currency: 'KES',
    fee: '10',
    tax: '0',
    source_wallet_id: id,
    destination_wallet_id: id,
    source_customer_id: id,
    destination_customer_id: id,
    merchant_id: null,
  };
}

async function walBytes(database: Database): Promise<bigint> {
  const [row] = await rawRows<{ lsn: string }>(
    database.db,
    sql`select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint::text as lsn`,
  );
  return BigInt(row!.lsn);
}

async function publish(database: Database, count: number, rate: number): Promise<number> {
  configureEventValidation(rate, false);
  const started = performance.now();
  for (let n = 0; n < count; n += 1)
    await inTransaction(database.db, (tx) =>
      emitEvent(tx, paid, { type: 'transaction', id: String(n) }, payload(n)),
    );
  return ((performance.now() - started) * 1000) / count;
}

async function dispatch(database: Database, consumers: number): Promise<{ perSecond: number; wal: number }> {
  await database.db.execute(sql`truncate outbox_events, outbox_deliveries, bench_effects`);
  await database.db.execute(sql`delete from outbox_consumers`);
  configureEventValidation(0, true);
  const bus = new EventBus(database.db);
  for (let index = 0; index < consumers; index += 1) {
    const name = `bench_${index}`;
    bus.subscribe(name, paid, async (tx, event) => {
      await tx.execute(sql`insert into bench_effects values (${name}, ${event.id}) on conflict do nothing`);
    });
  }
  await bus.register();
  // The backlog, written in batches (not measured).
  for (let from = 0; from < EVENTS; from += 1000)
    await inTransaction(database.db, async (tx) => {
      for (let n = from; n < Math.min(EVENTS, from + 1000); n += 1)
        await emitEvent(tx, paid, { type: 'transaction', id: String(n) }, payload(n));
    });
  const walBefore = await walBytes(database);
  const started = performance.now();
  bus.start(5);
  for (;;) {
    const [row] = await rawRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from bench_effects`,
    );
    if (Number(row!.n) >= EVENTS * consumers) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const seconds = (performance.now() - started) / 1000;
  await bus.stop();
  const wal = Number((await walBytes(database)) - walBefore) / EVENTS;
  return { perSecond: EVENTS / seconds, wal };
}

async function main() {
  const base = process.env.DATABASE_URL;
  if (!base)
    throw new Error('DATABASE_URL must point at a PostgreSQL server (a scratch database is created on it)');
  const name = `cf_bench_outbox_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const database = await openDatabase({
    url: url.toString(),
    dataDir: '',
    poolSize: 10,
    statementTimeoutMs: 0,
  });
  try {
    await runMigrations(database);
    await database.db.execute(
      sql`create table bench_effects (consumer text, event_id bigint, primary key (consumer, event_id))`,
    );
    const lines: string[] = [];
    // Publish: warm up, then both ways, alternated.
    await publish(database, 500, 1);
    const checked: number[] = [];
    const unchecked: number[] = [];
    for (let round = 0; round < 3; round += 1) {
      checked.push(await publish(database, 2000, 1));
      unchecked.push(await publish(database, 2000, 0));
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const sample = payload(1);
    const loops = 200_000;
    const started = performance.now();
    for (let index = 0; index < loops; index += 1) assertPayload(paid, sample);
    const checkMicros = ((performance.now() - started) * 1000) / loops;
    lines.push('| Publish (one event per transaction) | µs per event |', '| --- | --- |');
    lines.push(`| payload checked (rate 1) | ${median(checked).toFixed(0)} |`);
    lines.push(`| not checked (rate 0) | ${median(unchecked).toFixed(0)} |`);
    lines.push(`| the schema check alone | ${checkMicros.toFixed(2)} |`, '');
    lines.push(
      `| Dispatch (${EVENTS} events) | events/s to every consumer | WAL bytes per event |`,
      '| --- | --- | --- |',
    );
    for (const consumers of [1, 2, 4]) {
      const result = await dispatch(database, consumers);
      lines.push(
        `| ${consumers} consumer${consumers > 1 ? 's' : ''} | ${result.perSecond.toFixed(0)} | ${result.wal.toFixed(0)} |`,
      );
    }
    console.log(lines.join('\n'));
  } finally {
    await database.close();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

await main();
