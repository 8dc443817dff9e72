/** The smart batch behind group commit: no wait when idle, the queue goes as one call, an outcome per item. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GroupBatcher, type Settled } from './group-batch.ts';

/** A call the test lets go of: the batcher's run records each call's items and waits for `release`. */
function gatedRun() {
  const calls: number[][] = [];
  const gates: (() => void)[] = [];
  const run = async (items: number[]): Promise<Settled<string>[]> => {
    calls.push(items);
    await new Promise<void>((resolve) => gates.push(resolve));
    if (items.includes(-1)) throw new Error('call failed');
    return items.map((item) =>
      item % 5 === 0
        ? { ok: false, error: new Error(`refused ${item}`) }
        : { ok: true, value: `done ${item}` },
    );
  };
  const release = () => gates.shift()?.();
  return { calls, run, release };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('group batch', () => {
  test('an idle batcher sends an item at once, alone', async () => {
    const { calls, run, release } = gatedRun();
    const batcher = new GroupBatcher(run, { maxBatch: 8, concurrency: 1 });
    const answer = batcher.submit(1);
    assert.deepEqual(calls, [[1]], 'sent before anything else happened');
    release();
    assert.equal(await answer, 'done 1');
    assert.deepEqual(batcher.stats, { calls: 1, items: 1, batches: 0, largest: 1, deferred: 0 });
  });

  test('items arriving while the calls are busy go together, each with its own outcome', async () => {
    const { calls, run, release } = gatedRun();
    const batcher = new GroupBatcher(run, { maxBatch: 3, concurrency: 1 });
    const first = batcher.submit(1);
    const queued = [2, 3, 5, 6, 7].map((item) => batcher.submit(item).catch((error: Error) => error.message));
    assert.equal(batcher.queued, 5);
    release();
    assert.equal(await first, 'done 1');
    await tick();
    assert.deepEqual(calls[1], [2, 3, 5], 'the next call carries the queue, up to maxBatch');
    release();
    await tick();
    assert.deepEqual(calls[2], [6, 7]);
    release();
    assert.deepEqual(await Promise.all(queued), ['done 2', 'done 3', 'refused 5', 'done 6', 'done 7']);
    assert.deepEqual(batcher.stats, { calls: 3, items: 6, batches: 2, largest: 3, deferred: 0 });
  });

  test('a call that fails fails every item it carried, and only those', async () => {
    const { calls, run, release } = gatedRun();
    const batcher = new GroupBatcher(run, { maxBatch: 2, concurrency: 1 });
    const first = batcher.submit(1);
    const failed = [2, -1].map((item) => batcher.submit(item).catch((error: Error) => error.message));
    const later = batcher.submit(3);
    release();
    await first;
    await tick();
    release();
    assert.deepEqual(await Promise.all(failed), ['call failed', 'call failed']);
    await tick();
    assert.deepEqual(calls[2], [3]);
    release();
    assert.equal(await later, 'done 3');
  });

  test('with two calls in flight the third item waits, then goes', async () => {
    const { calls, run, release } = gatedRun();
    const batcher = new GroupBatcher(run, { maxBatch: 8, concurrency: 2 });
    const answers = [1, 2, 3].map((item) => batcher.submit(item));
    assert.deepEqual(calls, [[1], [2]]);
    assert.equal(batcher.queued, 1);
    release();
    await tick();
    assert.deepEqual(calls[2], [3]);
    release();
    release();
    assert.deepEqual(await Promise.all(answers), ['done 1', 'done 2', 'done 3']);
  });

  test('with keys, no call takes an item whose key a call in flight holds; it goes, in order, in a later call', async () => {
    const { calls, run, release } = gatedRun();
    // Items 1x lock "a", 2x lock "b", 3x lock nothing shared.
    const keysOf = (item: number) => [`k${Math.floor(item / 10)}`];
    const batcher = new GroupBatcher(run, { maxBatch: 8, concurrency: 2, keysOf });
    const first = batcher.submit(11);
    // Concurrency 2: a second call may go now, but not with 12 (its key is held by the call in flight).
    const second = batcher.submit(12);
    const third = batcher.submit(21);
    await tick();
    assert.deepEqual(calls, [[11], [21]], '21 went beside 11; 12 waits for the call holding its key');
    assert.equal(batcher.queued, 1);
    const more = [13, 22, 31].map((item) => batcher.submit(item));
    await tick();
    assert.equal(calls.length, 2, 'both calls are in flight: everything queues');
    // The call of 11 returns: k1 is free again, so 12 and 13 go with 31; 22 still waits on the call of 21 (k2).
    const gates = calls.length;
    release();
    assert.equal(await first, 'done 11');
    await tick();
    assert.equal(calls.length, gates + 1);
    assert.deepEqual(calls[2], [12, 13, 31], 'k1 is free now: the queue goes in order, 22 still waits on k2');
    assert.ok(batcher.stats.deferred > 0);
    release();
    release();
    await tick();
    assert.deepEqual(calls[3], [22]);
    release();
    assert.deepEqual(await Promise.all([second, third, ...more]), [
      'done 12',
      'done 21',
      'done 13',
      'done 22',
      'done 31',
    ]);
  });
});
