/**
 * The principal cache's fail-closed rules, on a store whose delivery the test controls and a clock it moves: served
 * only while the subscription is live and heard from, emptied on a new subscription epoch, a read that spans an
 * invalidation not kept, refusals never kept, a bounded size and a bounded age.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { MemoryStore } from '../../platform/cache.ts';
import { PrincipalCache, publishPrincipalChange } from './identity.principal-cache.ts';

/** A one-process store whose subscription can go down, come back under a new epoch, or fall silent. */
class ControlledStore extends MemoryStore {
  epoch: number | null = 1;
  deliver = true;
  override subscriptionEpoch() {
    return this.epoch;
  }
  override async publish(channel: string, message: string) {
    if (this.deliver) await super.publish(channel, message);
  }
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('principal cache', () => {
  let now = 1_000_000;
  const clock = () => now;
  const caches: PrincipalCache[] = [];
  afterEach(async () => {
    for (const cache of caches.splice(0)) await cache.stop();
  });

  async function open(options: { ttlMs?: number; maxEntries?: number } = {}) {
    const store = new ControlledStore(clock);
    const cache = new PrincipalCache(store, {
      ttlMs: options.ttlMs ?? 30_000,
      maxEntries: options.maxEntries ?? 100,
      heartbeatMs: 1_000,
      now: clock,
    });
    caches.push(cache);
    await cache.start();
    return { store, cache };
  }

  /** A loader that counts its calls and answers `value`. */
  function loader<T>(value: T) {
    const counted = {
      calls: 0,
      load: async () => {
        counted.calls += 1;
        return value;
      },
    };
    return counted;
  }
  const active = { active: true, roles: [], permissions: [] };
  const keepActive = (value: { active: boolean }) => value.active;

  test('a granting answer is served from the cache until a change names it', async () => {
    const { store, cache } = await open();
    const source = loader(active);
    await cache.read('customer:1', source.load, keepActive);
    await cache.read('customer:1', source.load, keepActive);
    assert.equal(source.calls, 1);
    await publishPrincipalChange(store, { type: 'customer', id: '1' });
    await cache.read('customer:1', source.load, keepActive);
    assert.equal(source.calls, 2);
    // A type-wide change and an id-only change reach it too.
    await publishPrincipalChange(store, { type: 'customer' });
    await cache.read('customer:1', source.load, keepActive);
    await publishPrincipalChange(store, { principal: '1' });
    await cache.read('customer:1', source.load, keepActive);
    assert.equal(source.calls, 4);
    assert.deepEqual({ hits: cache.stats().hits, misses: cache.stats().misses }, { hits: 1, misses: 4 });
  });

  test('a change published on another node (another cache on the same channel) drops the entry here', async () => {
    const { store, cache } = await open();
    const other = new PrincipalCache(store, {
      ttlMs: 30_000,
      maxEntries: 10,
      heartbeatMs: 1_000,
      now: clock,
    });
    caches.push(other);
    await other.start();
    const source = loader(active);
    await cache.read('user:7', source.load, keepActive);
    await other.publish({ type: 'user', id: '7' });
    await flush();
    await cache.read('user:7', source.load, keepActive);
    assert.equal(source.calls, 2);
  });

  test('refusals are never cached', async () => {
    const { cache } = await open();
    const source = loader({ active: false, roles: [], permissions: [] });
    await cache.read('customer:2', source.load, keepActive);
    await cache.read('customer:2', source.load, keepActive);
    assert.equal(source.calls, 2);
  });

  test('with the subscription down every read goes through, and a new epoch starts empty', async () => {
    const { store, cache } = await open();
    const source = loader(active);
    await cache.read('customer:3', source.load, keepActive);
    store.epoch = null;
    await cache.read('customer:3', source.load, keepActive);
    await cache.read('customer:3', source.load, keepActive);
    assert.equal(source.calls, 3);
    assert.equal(cache.stats().bypassed, 2);
    assert.equal(cache.stats().size, 0);
    // Reconnected under a new epoch: what was cached before could have missed messages.
    store.epoch = 2;
    await cache.read('customer:3', source.load, keepActive);
    await cache.read('customer:3', source.load, keepActive);
    assert.equal(source.calls, 4);
  });

  test('an epoch change without a visible outage also empties the cache', async () => {
    const { store, cache } = await open();
    const source = loader(active);
    await cache.read('customer:4', source.load, keepActive);
    store.epoch = 5;
    await cache.read('customer:4', source.load, keepActive);
    assert.equal(source.calls, 2);
  });

  test('a subscription that falls silent (no heartbeat heard) is bypassed', async () => {
    const { store, cache } = await open();
    const source = loader(active);
    await cache.read('customer:5', source.load, keepActive);
    store.deliver = false;
    now += 2_600; // more than 2.5 heartbeat intervals without a message
    await cache.read('customer:5', source.load, keepActive);
    await cache.read('customer:5', source.load, keepActive);
    assert.equal(source.calls, 3);
    // Messages flow again: a heartbeat (any message) revives it, empty.
    store.deliver = true;
    await store.publish('identity:principals', JSON.stringify({ hb: true }));
    await flush();
    await cache.read('customer:5', source.load, keepActive);
    await cache.read('customer:5', source.load, keepActive);
    assert.equal(source.calls, 4);
  });

  test('a value read while an invalidation arrived is not kept', async () => {
    const { store, cache } = await open();
    let release: () => void = () => {};
    let calls = 0;
    const slow = () =>
      new Promise<typeof active>((resolve) => {
        calls += 1;
        release = () => resolve(active);
      });
    const reading = cache.read('customer:6', slow, keepActive);
    await publishPrincipalChange(store, { type: 'customer', id: '6' });
    release();
    await reading;
    const fast = loader(active);
    await cache.read('customer:6', fast.load, keepActive);
    assert.equal(fast.calls, 1, 'the value from before the change was not served');
    assert.equal(calls, 1);
  });

  test('entries expire after the time-to-live, and the least recently used go first past the bound', async () => {
    const { cache } = await open({ ttlMs: 1_000, maxEntries: 2 });
    const source = loader(active);
    await cache.read('a:1', source.load, keepActive);
    now += 1_001;
    await cache.read('a:1', source.load, keepActive);
    assert.equal(source.calls, 2);
    await cache.read('a:2', source.load, keepActive);
    await cache.read('a:1', source.load, keepActive); // a:1 used last
    await cache.read('a:3', source.load, keepActive); // evicts a:2
    assert.equal(cache.stats().size, 2);
    const before = source.calls;
    await cache.read('a:1', source.load, keepActive);
    await cache.read('a:3', source.load, keepActive);
    assert.equal(source.calls, before);
    await cache.read('a:2', source.load, keepActive);
    assert.equal(source.calls, before + 1);
  });

  test('a session on the denylist is never cached; one not on it is, until its revocation is broadcast', async () => {
    const { store, cache } = await open();
    let denied = false;
    let reads = 0;
    const lookup = async () => {
      reads += 1;
      return denied;
    };
    assert.equal(await cache.read('sid:s1', lookup, (revoked) => !revoked), false);
    assert.equal(await cache.read('sid:s1', lookup, (revoked) => !revoked), false);
    assert.equal(reads, 1);
    denied = true;
    await publishPrincipalChange(store, { sessions: ['s1'] });
    assert.equal(await cache.read('sid:s1', lookup, (revoked) => !revoked), true);
    assert.equal(await cache.read('sid:s1', lookup, (revoked) => !revoked), true);
    assert.equal(reads, 3);
  });
});
