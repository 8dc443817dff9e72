/**
 * The ephemeral-store port: one behavioural suite run against the in-process store and against Redis
 * when REDIS_URL is set (CI always sets it), plus Redis's cross-instance pub/sub.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { needsRedis } from '../../test/helpers/databases.ts';
import { type EphemeralStore, MemoryStore, RedisStore } from './cache.ts';

const RUN = randomBytes(4).toString('hex');

function requireRedisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) {
    throw new Error(
      'REDIS_URL is not set: the RedisStore tests need a Redis server (e.g. REDIS_URL=redis://127.0.0.1:6379); ' +
        'set it to run them',
    );
  }
  return url;
}

/** Polls until `check` holds, failing after `timeoutMs`. */
async function eventually(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Deletes every key under the prefix (the Redis suites share a server with other runs). */
async function deleteKeys(store: RedisStore, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await store.client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await store.client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** The behaviour every EphemeralStore must have. `open` is called once, in `before`. */
function storeSuite(name: string, open: () => Promise<EphemeralStore>, cleanUp: () => Promise<void>) {
  describe(name, () => {
    let store: EphemeralStore;
    let counter = 0;
    /** A key unique to one test, so tests never see each other's state. */
    const key = (label: string) => {
      counter += 1;
      return `${label}:${counter}`;
    };

    before(async () => {
      store = await open();
      await store.ping();
    });
    after(async () => {
      await cleanUp();
      await store.close();
    });

    test('get returns null for an absent key and the value after set', async () => {
      const k = key('get');
      assert.equal(await store.get(k), null);
      await store.set(k, 'one');
      assert.equal(await store.get(k), 'one');
      await store.set(k, 'two');
      assert.equal(await store.get(k), 'two');
      assert.equal(await store.ttlMs(k), null);
    });

    test('a value with a short ttl expires', async () => {
      const k = key('ttl');
      await store.set(k, 'soon gone', 80);
      assert.equal(await store.get(k), 'soon gone');
      const remaining = await store.ttlMs(k);
      assert.ok(remaining !== null && remaining > 0 && remaining <= 80, `ttl ${remaining}`);
      await sleep(200);
      assert.equal(await store.get(k), null);
      assert.equal(await store.ttlMs(k), null);
    });

    test('set without a ttl clears an earlier ttl', async () => {
      const k = key('persist');
      await store.set(k, 'a', 80);
      await store.set(k, 'b');
      await sleep(200);
      assert.equal(await store.get(k), 'b');
    });

    test('setIfAbsent sets only once, and again after expiry', async () => {
      const k = key('nx');
      assert.equal(await store.setIfAbsent(k, 'first', 100), true);
      assert.equal(await store.setIfAbsent(k, 'second', 100), false);
      assert.equal(await store.get(k), 'first');
      await sleep(200);
      assert.equal(await store.setIfAbsent(k, 'third', 10_000), true);
      assert.equal(await store.get(k), 'third');
    });

    test('100 parallel increments see 1..100 exactly once, with the ttl set by the first', async () => {
      const k = key('incr');
      const ttl = 60_000;
      const results = await Promise.all(Array.from({ length: 100 }, () => store.increment(k, ttl)));
      assert.deepEqual(
        [...results].sort((a, b) => a - b),
        Array.from({ length: 100 }, (_, index) => index + 1),
      );
      assert.equal(await store.get(k), '100');
      const remaining = await store.ttlMs(k);
      assert.ok(remaining !== null && remaining > ttl - 5_000 && remaining <= ttl, `ttl ${remaining}`);
    });

    test('increment is a fixed window: later increments do not extend the ttl', async () => {
      const k = key('window');
      assert.equal(await store.increment(k, 300), 1);
      await sleep(150);
      assert.equal(await store.increment(k, 300), 2);
      await sleep(250);
      // 400 ms after the first increment: the window that started then is over.
      assert.equal(await store.get(k), null);
      assert.equal(await store.increment(k, 300), 1);
    });

    test('hit counts and tells the window left; a counter without a ttl gets the window again', async () => {
      const k = key('hit');
      const first = await store.hit(k, 5_000);
      assert.equal(first.count, 1);
      assert.ok(first.ttlMs > 4_000 && first.ttlMs <= 5_000, `ttl ${first.ttlMs}`);
      const second = await store.hit(k, 5_000);
      assert.equal(second.count, 2);
      assert.ok(second.ttlMs <= first.ttlMs, 'a fixed window: a hit does not extend it');
      const stuck = key('hit-stuck');
      await store.set(stuck, '7');
      const unstuck = await store.hit(stuck, 5_000);
      assert.equal(unstuck.count, 8);
      assert.ok(unstuck.ttlMs > 4_000 && unstuck.ttlMs <= 5_000, `ttl ${unstuck.ttlMs}`);
      assert.notEqual(await store.ttlMs(stuck), null);
    });

    test('ttlMs is null for an absent key and for a key without ttl', async () => {
      const k = key('ttlms');
      assert.equal(await store.ttlMs(k), null);
      await store.set(k, 'forever');
      assert.equal(await store.ttlMs(k), null);
      await store.set(k, 'limited', 5_000);
      const remaining = await store.ttlMs(k);
      assert.ok(remaining !== null && remaining > 4_000 && remaining <= 5_000, `ttl ${remaining}`);
    });

    test('delete removes a key; deleting an absent key is fine', async () => {
      const k = key('delete');
      await store.set(k, 'value');
      await store.delete(k);
      assert.equal(await store.get(k), null);
      await store.delete(k);
      assert.equal(await store.setIfAbsent(k, 'again', 1_000), true);
    });

    test('publish reaches subscribers of the channel until they unsubscribe', async () => {
      const channel = key('channel');
      const received: string[] = [];
      const otherChannel: string[] = [];
      const unsubscribe = await store.subscribe(channel, (message) => received.push(message));
      const unsubscribeOther = await store.subscribe(key('channel'), (message) => otherChannel.push(message));
      await store.publish(channel, 'hello');
      await store.publish(channel, 'world');
      await eventually(() => received.length === 2, 'two messages');
      assert.deepEqual(received, ['hello', 'world']);

      await unsubscribe();
      await store.publish(channel, 'after unsubscribe');
      await sleep(200);
      assert.deepEqual(received, ['hello', 'world']);
      assert.deepEqual(otherChannel, []);
      await unsubscribeOther();
    });

    test('two subscribers of one channel both receive; one leaving keeps the other', async () => {
      const channel = key('fanout');
      const first: string[] = [];
      const second: string[] = [];
      const unsubscribeFirst = await store.subscribe(channel, (message) => first.push(message));
      const unsubscribeSecond = await store.subscribe(channel, (message) => second.push(message));
      await store.publish(channel, 'both');
      await eventually(() => first.length === 1 && second.length === 1, 'both subscribers');
      await unsubscribeFirst();
      await store.publish(channel, 'second only');
      await eventually(() => second.length === 2, 'the remaining subscriber');
      await sleep(100);
      assert.deepEqual(first, ['both']);
      assert.deepEqual(second, ['both', 'second only']);
      await unsubscribeSecond();
    });

    test('acquireLock: a second acquire is refused until the first is released', async () => {
      const name = key('lock');
      const release = await store.acquireLock(name, 10_000);
      assert.ok(release, 'first acquire');
      assert.equal(await store.acquireLock(name, 10_000), null);
      await release();
      const again = await store.acquireLock(name, 10_000);
      assert.ok(again, 'acquire after release');
      await again();
    });

    test('an expired lock can be taken, and the old holder cannot release the new one', async () => {
      const name = key('stale-lock');
      const stale = await store.acquireLock(name, 80);
      assert.ok(stale);
      await sleep(200);
      const current = await store.acquireLock(name, 10_000);
      assert.ok(current, 'acquire after expiry');
      await stale();
      assert.equal(await store.acquireLock(name, 10_000), null, 'stale release freed the new holder');
      await current();
    });

    test('lockAndGet: reads under the lock, writes or deletes with the release, and never after losing it', async () => {
      const name = key('record-lock');
      const record = key('record');
      const first = await store.lockAndGet(name, 10_000, record);
      assert.ok(first);
      assert.equal(first.value, null);
      assert.equal(await store.lockAndGet(name, 10_000, record), null, 'held');
      assert.equal(await first.release({ value: 'v1', ttlMs: 60_000 }), true);
      assert.equal(await store.get(record), 'v1');
      const second = await store.lockAndGet(name, 10_000, record);
      assert.equal(second?.value, 'v1');
      assert.equal(await second!.release(), true);
      assert.equal(await store.get(record), 'v1', 'a plain release writes nothing');

      const stale = await store.lockAndGet(name, 80, record);
      await sleep(200);
      const current = await store.lockAndGet(name, 10_000, record);
      assert.ok(current, 'taken after expiry');
      assert.equal(await stale!.release({ value: 'stale', ttlMs: 60_000 }), false);
      assert.equal(await store.get(record), 'v1', 'a holder that lost the lock writes nothing');
      assert.equal(await current.release({ delete: true }), true);
      assert.equal(await store.get(record), null);
      const ttl = await store.lockAndGet(name, 10_000, record);
      await ttl!.release({ value: 'short', ttlMs: 100 });
      await sleep(250);
      assert.equal(await store.get(record), null, 'the value keeps its time-to-live');
    });
  });
}

storeSuite(
  'MemoryStore',
  async () => new MemoryStore(),
  async () => {},
);

const redisPrefix = `cft:cache:${RUN}:`;
let redisCleaner: RedisStore | undefined;
// Redis suites exist where Redis does (always in CI); `npm test` on a bare clone exercises the memory store only.
if (process.env.REDIS_URL)
  storeSuite(
    'RedisStore',
    async () => {
      const url = requireRedisUrl();
      redisCleaner = new RedisStore(url, redisPrefix);
      return new RedisStore(url, redisPrefix);
    },
    async () => {
      if (!redisCleaner) return;
      await deleteKeys(redisCleaner, redisPrefix);
      await redisCleaner.close();
    },
  );
else test('RedisStore', { skip: needsRedis }, () => {});

if (process.env.REDIS_URL)
  describe('RedisStore across instances', () => {
    const prefix = `cft:cache-x:${RUN}:`;
    let publisher: RedisStore;
    let subscriber: RedisStore;
    let stranger: RedisStore;

    before(() => {
      const url = requireRedisUrl();
      publisher = new RedisStore(url, prefix);
      subscriber = new RedisStore(url, prefix);
      stranger = new RedisStore(url, `cft:cache-y:${RUN}:`);
    });
    after(async () => {
      await deleteKeys(publisher, prefix);
      await deleteKeys(publisher, `cft:cache-y:${RUN}:`);
      await Promise.all([publisher.close(), subscriber.close(), stranger.close()]);
    });

    test('a message published on one instance reaches a subscriber on another with the same prefix', async () => {
      const received: string[] = [];
      const foreign: string[] = [];
      const unsubscribe = await subscriber.subscribe('events', (message) => received.push(message));
      const unsubscribeForeign = await stranger.subscribe('events', (message) => foreign.push(message));
      await publisher.publish('events', 'from another node');
      await eventually(() => received.length === 1, 'the cross-instance message');
      assert.deepEqual(received, ['from another node']);
      await sleep(100);
      assert.deepEqual(foreign, [], 'a store with another prefix must not receive it');
      await unsubscribe();
      await unsubscribeForeign();
    });

    test('keys and counters are shared between instances with the same prefix only', async () => {
      await publisher.set('shared', 'value');
      assert.equal(await subscriber.get('shared'), 'value');
      assert.equal(await stranger.get('shared'), null);
      assert.equal(await publisher.increment('hits', 10_000), 1);
      assert.equal(await subscriber.increment('hits', 10_000), 2);
      const release = await publisher.acquireLock('job', 10_000);
      assert.ok(release);
      assert.equal(await subscriber.acquireLock('job', 10_000), null);
      await release();
      const other = await subscriber.acquireLock('job', 10_000);
      assert.ok(other);
      await other();
    });
  });
else test('RedisStore across instances', { skip: needsRedis }, () => {});
