/**
 * The transactional outbox on real PostgreSQL: a job enqueued in a rolled-back transaction never runs,
 * one enqueued in a committed transaction runs exactly once, and a failing handler is retried.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { createTestDatabase, testConfig } from '../../test/helpers/app.ts';
import { inTransaction } from './db.ts';
import { closeDependencies, type Dependencies, openDependencies } from './dependencies.ts';

const RECORD = 'test.record';
const FLAKY = 'test.flaky';
const BATCH = 'test.batch';
const QUERY_FAILS = 'test.query-fails';
const CANARY = 'canary-0722-phone-+254700000001';

interface Payload {
  marker: string;
}

interface Handled {
  marker: string;
  id: string;
  retryCount: number;
}

/** Polls until `check` holds, failing after `timeoutMs`. */
async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

describe('jobs: transactional outbox', () => {
  let deps: Dependencies;
  let drop: (() => Promise<void>) | undefined;
  const recorded: Handled[] = [];
  const flakyAttempts: Handled[] = [];
  const failedOnce = new Set<string>();
  const batchAttempts: Handled[] = [];

  before(async () => {
    // Real PostgreSQL when configured (CI); otherwise the embedded PGlite, where pg-boss runs in-process.
    const created = await createTestDatabase();
    drop = created?.drop;
    deps = await openDependencies(testConfig({}, created?.url), { migrate: true, runsWorker: true });
    assert.equal(deps.database.kind, created ? 'postgres' : 'pglite');
    deps.jobs.define<Payload>({
      name: RECORD,
      retryLimit: 2,
      retryDelaySeconds: 1,
      handle: async (data, meta) => {
        recorded.push({ marker: data.marker, id: meta.id, retryCount: meta.retryCount });
      },
    });
    deps.jobs.define<Payload>({
      name: FLAKY,
      retryLimit: 3,
      retryDelaySeconds: 1,
      handle: async (data, meta) => {
        flakyAttempts.push({ marker: data.marker, id: meta.id, retryCount: meta.retryCount });
        if (!failedOnce.has(data.marker)) {
          failedOnce.add(data.marker);
          throw new Error('transient provider outage');
        }
      },
    });
    deps.jobs.define<Payload>({
      name: BATCH,
      retryLimit: 1,
      retryDelaySeconds: 1,
      handle: async (data, meta) => {
        batchAttempts.push({ marker: data.marker, id: meta.id, retryCount: meta.retryCount });
        if (data.marker.startsWith('poison')) throw new Error('this job always fails');
      },
    });
    deps.jobs.define<Payload>({
      name: QUERY_FAILS,
      retryLimit: 0,
      handle: async () => {
        await deps.database.db.execute(sql`select ${CANARY}::int as n`);
      },
    });
    await deps.jobs.start();
    await deps.jobs.work();
  });

  after(async () => {
    if (deps) await closeDependencies(deps);
    await drop?.();
  });

  test('defining a job twice or enqueueing an undefined one is refused', async () => {
    assert.throws(() => deps.jobs.define({ name: RECORD, handle: async () => {} }), /defined twice/);
    await assert.rejects(
      inTransaction(deps.database.db, (tx) => deps.jobs.enqueue(tx, 'test.unknown', {})),
      /not defined/,
    );
  });

  test('a job enqueued in a rolled-back transaction is never handled', async () => {
    const marker = randomUUID();
    let jobId: string | null = null;
    await assert.rejects(
      inTransaction(deps.database.db, async (tx) => {
        await tx.execute(sql`select 1`);
        jobId = await deps.jobs.enqueue(tx, RECORD, { marker });
        throw new Error('business rule failed after the enqueue');
      }),
      /business rule failed/,
    );
    assert.ok(jobId, 'enqueue returned an id inside the transaction');
    await sleep(3_000);
    assert.deepEqual(
      recorded.filter((entry) => entry.marker === marker),
      [],
    );
    assert.equal(await deps.jobs.boss.getJobById(RECORD, jobId), null, 'the job row must not exist');
  });

  test('a job enqueued in a committed transaction is handled exactly once', async () => {
    const marker = randomUUID();
    const jobId = await inTransaction(deps.database.db, (tx) => deps.jobs.enqueue(tx, RECORD, { marker }));
    assert.ok(jobId);
    await eventually(() => recorded.some((entry) => entry.marker === marker), 'the committed job');
    // Two more polling intervals: a duplicate delivery would show up here.
    await sleep(2_500);
    const handled = recorded.filter((entry) => entry.marker === marker);
    assert.equal(handled.length, 1);
    assert.equal(handled[0]?.id, jobId);
    assert.equal(handled[0]?.retryCount, 0);
    const job = await deps.jobs.boss.getJobById<Payload>(RECORD, jobId);
    assert.equal(job?.state, 'completed');
  });

  test('several jobs committed in one transaction are each handled once', async () => {
    const markers = [randomUUID(), randomUUID(), randomUUID()];
    await inTransaction(deps.database.db, async (tx) => {
      for (const marker of markers) await deps.jobs.enqueue(tx, RECORD, { marker });
    });
    await eventually(
      () => markers.every((marker) => recorded.some((entry) => entry.marker === marker)),
      'all three jobs',
    );
    await sleep(1_500);
    for (const marker of markers)
      assert.equal(recorded.filter((entry) => entry.marker === marker).length, 1, marker);
  });

  test('a handler that throws once is retried and then succeeds', async () => {
    const marker = randomUUID();
    const jobId = await inTransaction(deps.database.db, (tx) => deps.jobs.enqueue(tx, FLAKY, { marker }));
    assert.ok(jobId);
    await eventually(
      () => flakyAttempts.filter((entry) => entry.marker === marker).length >= 2,
      'the retry',
      15_000,
    );
    const attempts = flakyAttempts.filter((entry) => entry.marker === marker);
    assert.deepEqual(
      attempts.map((entry) => entry.retryCount),
      [0, 1],
    );
    assert.ok(attempts.every((entry) => entry.id === jobId));
    await eventually(
      async () => (await deps.jobs.boss.getJobById(FLAKY, jobId))?.state === 'completed',
      'the retried job to complete',
      5_000,
    );
    await sleep(1_500);
    assert.equal(flakyAttempts.filter((entry) => entry.marker === marker).length, 2);
  });

  test('a job that keeps failing does not re-run or dead-letter the healthy jobs fetched with it', async () => {
    const first = `good-${randomUUID()}`;
    const poison = `poison-${randomUUID()}`;
    const last = `good-${randomUUID()}`;
    const ids = await inTransaction(deps.database.db, async (tx) => [
      await deps.jobs.enqueue(tx, BATCH, { marker: first }),
      await deps.jobs.enqueue(tx, BATCH, { marker: poison }),
      await deps.jobs.enqueue(tx, BATCH, { marker: last }),
    ]);
    const [firstId, poisonId, lastId] = ids;
    assert.ok(firstId && poisonId && lastId);
    const state = async (id: string) => (await deps.jobs.boss.getJobById(BATCH, id))?.state;
    await eventually(
      async () => (await state(poisonId)) === 'failed',
      'the poison job to exhaust its retries',
      15_000,
    );
    await sleep(1_500);
    const attemptsOf = (marker: string) => batchAttempts.filter((entry) => entry.marker === marker).length;
    assert.equal(attemptsOf(poison), 2, 'one attempt and one retry');
    assert.equal(attemptsOf(first), 1, 'a healthy job ran again because its batch neighbour failed');
    assert.equal(
      attemptsOf(last),
      1,
      'a healthy job was not run (or run again) because of its batch neighbour',
    );
    assert.equal(await state(firstId), 'completed');
    assert.equal(await state(lastId), 'completed');
    const failedJob = await deps.jobs.boss.getJobById(BATCH, poisonId);
    assert.match(JSON.stringify(failedJob?.output), /this job always fails/);
    const deadLetters = await deps.jobs.boss.findJobs<Payload>(`${BATCH}.dead`);
    assert.deepEqual(
      deadLetters.map((job) => job.data.marker),
      [poison],
    );
  });

  test('a job failed by a query stores its statement and SQLSTATE, never the parameters', async () => {
    const jobId = await inTransaction(deps.database.db, (tx) =>
      deps.jobs.enqueue(tx, QUERY_FAILS, { marker: 'q' }),
    );
    assert.ok(jobId);
    await eventually(
      async () => (await deps.jobs.boss.getJobById(QUERY_FAILS, jobId))?.state === 'failed',
      'the failing job',
      15_000,
    );
    const stored = JSON.stringify((await deps.jobs.boss.getJobById(QUERY_FAILS, jobId))?.output);
    assert.ok(!stored.includes(CANARY) && !stored.includes('+254700000001'), stored);
    assert.match(stored, /22P02/);
  });

  test('stats() lists the defined queues and their dead-letter queues', async () => {
    const stats = await deps.jobs.stats();
    const names = stats.map((queue) => queue.name);
    for (const name of [RECORD, `${RECORD}.dead`, FLAKY, `${FLAKY}.dead`, BATCH, `${BATCH}.dead`])
      assert.ok(names.includes(name), name);
    const record = stats.find((queue) => queue.name === RECORD);
    assert.ok(record);
    for (const count of [record.queued, record.active, record.failed]) {
      assert.equal(typeof count, 'number');
      assert.ok(count >= 0);
    }
    assert.equal(record.failed, 0);
  });
});
