/** The realtime hub: one store subscription per channel per process, and delivery across stores (Redis). */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { needsRedis } from '../../test/helpers/databases.ts';
import { MemoryStore, RedisStore, type Unsubscribe } from './cache.ts';
import { type RealtimeEvent, RealtimeHub } from './realtime.ts';

/** A memory store that counts its live subscriptions per channel. */
class CountingStore extends MemoryStore {
  readonly live = new Map<string, number>();
  subscribeCalls = 0;

  override async subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe> {
    this.subscribeCalls += 1;
    // Slow enough that concurrent subscribers overlap.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const unsubscribe = await super.subscribe(channel, handler);
    this.live.set(channel, (this.live.get(channel) ?? 0) + 1);
    return async () => {
      this.live.set(channel, (this.live.get(channel) ?? 0) - 1);
      if (this.live.get(channel) === 0) this.live.delete(channel);
      await unsubscribe();
    };
  }
}

function collector() {
  const events: RealtimeEvent[] = [];
  let wake: (() => void) | null = null;
  return {
    events,
    listener: (event: RealtimeEvent) => {
      events.push(event);
      wake?.();
    },
    async waitFor(count: number, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${events.length} of ${count} events`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 20);
        });
      }
    },
  };
}

const event = (type: string, data: unknown = null): RealtimeEvent => ({
  channel: 'notifications',
  type,
  data,
});

describe('RealtimeHub', () => {
  test('listeners of one principal share one store subscription, dropped with the last listener', async () => {
    const store = new CountingStore();
    const hub = new RealtimeHub(store);
    const first = collector();
    const second = collector();
    // Subscribed concurrently: the second waits for the first's store subscription instead of making another.
    const [leaveFirst, leaveSecond] = await Promise.all([
      hub.subscribePrincipal('customer', 'c-1', first.listener),
      hub.subscribePrincipal('customer', 'c-1', second.listener),
    ]);
    assert.equal(store.subscribeCalls, 1);
    assert.equal(hub.subscribedChannels, 1);
    await hub.publishToPrincipal('customer', 'c-1', event('one', { amount: 5n }));
    await first.waitFor(1);
    await second.waitFor(1);
    assert.deepEqual(first.events, [{ channel: 'notifications', type: 'one', data: { amount: 5 } }]);

    await leaveFirst();
    await leaveFirst();
    assert.equal(store.live.size, 1, 'still one listener');
    await hub.publishToPrincipal('customer', 'c-1', event('two'));
    await second.waitFor(2);
    assert.equal(first.events.length, 1);
    await leaveSecond();
    assert.equal(store.live.size, 0);
    assert.equal(hub.subscribedChannels, 0);
    await store.close();
  });

  test('principals and topics are separate channels', async () => {
    const store = new MemoryStore();
    const hub = new RealtimeHub(store);
    const alice = collector();
    const bobUser = collector();
    const topic = collector();
    await hub.subscribePrincipal('customer', 'same-id', alice.listener);
    await hub.subscribePrincipal('user', 'same-id', bobUser.listener);
    await hub.subscribeTopic('support:1', topic.listener);
    await hub.publishToTopic('support:1', {
      channel: 'support:1',
      type: 'chat.message',
      data: { text: 'hi' },
    });
    await hub.publishToPrincipal('user', 'same-id', event('for staff'));
    await topic.waitFor(1);
    await bobUser.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(alice.events.length, 0);
    assert.equal(topic.events[0]!.type, 'chat.message');
    assert.equal(bobUser.events[0]!.type, 'for staff');
    await hub.close();
    assert.equal(hub.subscribedChannels, 0);
    await store.close();
  });

  test('a listener that throws does not stop the others', async () => {
    const store = new MemoryStore();
    const errors: unknown[] = [];
    const hub = new RealtimeHub(store, { onListenerError: (error) => errors.push(error) });
    const healthy = collector();
    await hub.subscribeTopic('t', () => {
      throw new Error('broken socket');
    });
    await hub.subscribeTopic('t', healthy.listener);
    await hub.publishToTopic('t', { channel: 't', type: 'x', data: 1 });
    await healthy.waitFor(1);
    assert.equal(errors.length, 1);
    await store.close();
  });

  test('a failed store subscription is not kept: the next listener tries again', async () => {
    class FlakyStore extends MemoryStore {
      failures = 1;
      override async subscribe(channel: string, handler: (message: string) => void) {
        if (this.failures-- > 0) throw new Error('redis down');
        return super.subscribe(channel, handler);
      }
    }
    const store = new FlakyStore();
    const hub = new RealtimeHub(store);
    await assert.rejects(
      hub.subscribeTopic('t', () => {}),
      /redis down/,
    );
    assert.equal(hub.subscribedChannels, 0);
    const later = collector();
    await hub.subscribeTopic('t', later.listener);
    await hub.publishToTopic('t', { channel: 't', type: 'x', data: null });
    await later.waitFor(1);
    await store.close();
  });

  // Two Redis connections stand for two processes (an API node and the worker) sharing one key prefix.
  test('events published through one Redis store reach listeners on another', {
    skip: needsRedis,
  }, async () => {
    const prefix = `cft:${randomBytes(4).toString('hex')}:`;
    const nodeStore = new RedisStore(process.env.REDIS_URL!, prefix);
    const workerStore = new RedisStore(process.env.REDIS_URL!, prefix);
    try {
      const node = new RealtimeHub(nodeStore);
      const worker = new RealtimeHub(workerStore);
      const received = collector();
      const leave = await node.subscribePrincipal('customer', 'c-9', received.listener);
      await worker.publishToPrincipal('customer', 'c-9', event('from the worker', { id: 'n-1' }));
      await received.waitFor(1);
      assert.deepEqual(received.events[0], {
        channel: 'notifications',
        type: 'from the worker',
        data: { id: 'n-1' },
      });
      await leave();
      await worker.publishToPrincipal('customer', 'c-9', event('after leaving'));
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(received.events.length, 1);
    } finally {
      await nodeStore.close();
      await workerStore.close();
    }
  });
});
