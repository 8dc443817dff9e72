/**
 * The ephemeral-state port: shared across API nodes through Redis, or in-process when REDIS_URL is unset
 * (single node only). Holds rate-limit counters, the token denylist, OTP counters, USSD sessions, locks and pub/sub.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { DependencyUnavailableError } from './errors.ts';

export type Unsubscribe = () => Promise<void>;

export interface EphemeralStore {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets only when absent; true when this call set it. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Atomically adds one; the first increment of a key starts its time-to-live (a fixed window). */
  increment(key: string, ttlMs: number): Promise<number>;
  /**
   * `increment` and the window's remaining time in one call (rate limits): a key that somehow has no time-to-live gets
   * the window again, so a counter never sticks.
   */
  hit(key: string, windowMs: number): Promise<{ count: number; ttlMs: number }>;
  /** Remaining time-to-live in ms, or null when the key is absent or has none. */
  ttlMs(key: string): Promise<number | null>;
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe>;
  /**
   * Whether every subscription is live: null while the subscriber connection is down or re-subscribing (messages
   * are being lost), else a number that changes at every (re)connection, so a reader can tell it may have missed
   * messages since it last looked (the principal cache clears on a change).
   */
  subscriptionEpoch(): number | null;
  /** A lock held until released or until `ttlMs` passes; null when another holder has it. */
  acquireLock(name: string, ttlMs: number): Promise<(() => Promise<void>) | null>;
  /**
   * `acquireLock` and a read of `key` in one round trip (a record only its lock holder changes: a USSD session); null
   * when another holder has the lock. Its `release` writes the new value (or deletes it) and releases the lock in one
   * more round trip, and writes only while the lock is still this holder's.
   */
  lockAndGet(lock: string, ttlMs: number, key: string): Promise<LockedValue | null>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface LockedValue {
  value: string | null;
  /** Releases the lock, first writing `value` with its time-to-live, or deleting the key; false when the lock was lost. */
  release(change?: { value: string; ttlMs: number } | { delete: true }): Promise<boolean>;
}

const LOCK_GET_SCRIPT = `if redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
return {1, redis.call('get', KEYS[2])} else return {0} end`;
const WRITE_RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == 'set' then redis.call('set', KEYS[2], ARGV[3], 'PX', ARGV[4])
elseif ARGV[2] == 'delete' then redis.call('del', KEYS[2]) end
redis.call('del', KEYS[1]) return 1`;

const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const INCREMENT_SCRIPT = `local n = redis.call('incr', KEYS[1]) if n == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end return n`;
const HIT_SCRIPT = `local n = redis.call('incr', KEYS[1]) local t = redis.call('pttl', KEYS[1])
if t < 0 then redis.call('pexpire', KEYS[1], ARGV[1]) t = tonumber(ARGV[1]) end return {n, t}`;
/** The client method `defineCommand` adds for HIT_SCRIPT (EVALSHA, EVAL on NOSCRIPT). */
export const HIT_COMMAND = 'rateLimitHit';
type HitCommand = Record<typeof HIT_COMMAND, (key: string, windowMs: string) => Promise<unknown>>;

export class RedisStore implements EphemeralStore {
  readonly kind = 'redis' as const;
  readonly client: Redis;
  readonly #prefix: string;
  #subscriber: Redis | undefined;
  readonly #handlers = new Map<string, Set<(message: string) => void>>();
  #epoch = 0;
  #live = false;

  constructor(url: string, prefix: string) {
    this.#prefix = prefix;
    // Fail fast rather than queue: a request waiting on a dead Redis should get a 503, not hang.
    this.client = new Redis(url, {
      maxRetriesPerRequest: 1,
      commandTimeout: 2000,
      connectTimeout: 2000,
      // Commands issued in the same turn of the event loop (concurrent requests' rate limits, denylist reads, AML
      // aggregates) go to Redis in one write: fewer socket writes, the API's largest CPU cost under load (issue 21).
      enableAutoPipelining: true,
    });
    this.client.on('error', () => {});
    // The rate limit's script by its SHA: one EVALSHA per request (ioredis sends the body with EVAL once per
    // connection, and again on NOSCRIPT after a Redis restart or SCRIPT FLUSH), not the whole script every time.
    this.client.defineCommand(HIT_COMMAND, { numberOfKeys: 1, lua: HIT_SCRIPT });
  }

  #key(key: string): string {
    return this.#prefix + key;
  }

  async #run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new DependencyUnavailableError('redis', error);
    }
  }

  async get(key: string) {
    return this.#run(() => this.client.get(this.#key(key)));
  }

  async set(key: string, value: string, ttlMs?: number) {
    await this.#run(() =>
      ttlMs === undefined
        ? this.client.set(this.#key(key), value)
        : this.client.set(this.#key(key), value, 'PX', Math.max(1, Math.ceil(ttlMs))),
    );
  }

  async setIfAbsent(key: string, value: string, ttlMs: number) {
    const result = await this.#run(() =>
      this.client.set(this.#key(key), value, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'),
    );
    return result === 'OK';
  }

  async delete(key: string) {
    await this.#run(() => this.client.del(this.#key(key)));
  }

  async increment(key: string, ttlMs: number) {
    const result = await this.#run(() =>
      this.client.eval(INCREMENT_SCRIPT, 1, this.#key(key), String(Math.ceil(ttlMs))),
    );
    return Number(result);
  }

  async hit(key: string, windowMs: number) {
    const reply = await this.#run(() =>
      (this.client as unknown as HitCommand)[HIT_COMMAND](
        this.#key(key),
        String(Math.max(1, Math.ceil(windowMs))),
      ),
    );
    // Checked, not trusted: a reply mangled on the way (a broken connection or proxy) is Redis being unavailable.
    if (!Array.isArray(reply) || reply.length !== 2 || !reply.every((value) => Number.isSafeInteger(value)))
      throw new DependencyUnavailableError('redis', new Error(`unexpected reply to a rate-limit hit`));
    return { count: reply[0] as number, ttlMs: reply[1] as number };
  }

  async ttlMs(key: string) {
    const ttl = await this.#run(() => this.client.pttl(this.#key(key)));
    return ttl < 0 ? null : ttl;
  }

  async publish(channel: string, message: string) {
    await this.#run(() => this.client.publish(this.#key(channel), message));
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe> {
    if (!this.#subscriber) {
      const subscriber = this.client.duplicate({ enableAutoPipelining: false });
      this.#subscriber = subscriber;
      subscriber.on('error', () => {});
      subscriber.on('message', (fullChannel: string, message: string) => {
        for (const listener of this.#handlers.get(fullChannel) ?? []) listener(message);
      });
      for (const down of ['close', 'end', 'reconnecting'])
        subscriber.on(down, () => {
          this.#live = false;
        });
      // After an outage (or when Redis was down at start) every channel is subscribed again; live once confirmed.
      subscriber.on('ready', () => {
        const channels = [...this.#handlers.keys()];
        if (channels.length === 0) return;
        subscriber
          .subscribe(...channels)
          .then(() => this.#markLive(subscriber))
          .catch(() => {});
      });
    }
    const fullChannel = this.#key(channel);
    let listeners = this.#handlers.get(fullChannel);
    if (!listeners) {
      listeners = new Set();
      this.#handlers.set(fullChannel, listeners);
      // A Redis that is down must not stop the process from starting; the 'ready' handler catches up.
      const subscriber = this.#subscriber;
      await subscriber.subscribe(fullChannel).then(
        () => this.#markLive(subscriber),
        () => {
          this.#live = false;
        },
      );
    }
    listeners.add(handler);
    return async () => {
      listeners.delete(handler);
      if (listeners.size === 0) {
        this.#handlers.delete(fullChannel);
        await this.#subscriber?.unsubscribe(fullChannel).catch(() => {});
      }
    };
  }

  #markLive(subscriber: Redis): void {
    if (subscriber.status !== 'ready' || this.#live) return;
    this.#epoch += 1;
    this.#live = true;
  }

  subscriptionEpoch(): number | null {
    return this.#live && this.#subscriber?.status === 'ready' ? this.#epoch : null;
  }

  /** The subscriber connection (tests cut it to simulate lost delivery); undefined before the first subscribe. */
  get subscriberConnection(): Redis | undefined {
    return this.#subscriber;
  }

  async acquireLock(name: string, ttlMs: number) {
    const token = randomUUID();
    const key = this.#key(`lock:${name}`);
    const acquired = await this.#run(() => this.client.set(key, token, 'PX', Math.ceil(ttlMs), 'NX'));
    if (acquired !== 'OK') return null;
    return async () => {
      await this.#run(() => this.client.eval(RELEASE_SCRIPT, 1, key, token));
    };
  }

  async lockAndGet(lock: string, ttlMs: number, key: string): Promise<LockedValue | null> {
    const token = randomUUID();
    const lockKey = this.#key(`lock:${lock}`);
    const valueKey = this.#key(key);
    const reply = (await this.#run(() =>
      this.client.eval(LOCK_GET_SCRIPT, 2, lockKey, valueKey, token, String(Math.ceil(ttlMs))),
    )) as [number, string | null | undefined];
    if (!Array.isArray(reply) || reply[0] !== 1) return null;
    return {
      value: reply[1] ?? null,
      release: async (change) => {
        const args =
          change === undefined
            ? ['keep']
            : 'delete' in change
              ? ['delete']
              : ['set', change.value, String(Math.max(1, Math.ceil(change.ttlMs)))];
        const released = await this.#run(() =>
          this.client.eval(WRITE_RELEASE_SCRIPT, 2, lockKey, valueKey, token, ...args),
        );
        return Number(released) === 1;
      },
    };
  }

  async ping() {
    await this.#run(() => this.client.ping());
  }

  async close() {
    this.#subscriber?.disconnect();
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

interface MemoryEntry {
  value: string;
  expiresAt: number | null;
}

export class MemoryStore implements EphemeralStore {
  readonly kind = 'memory' as const;
  readonly #entries = new Map<string, MemoryEntry>();
  readonly #handlers = new Map<string, Set<(message: string) => void>>();
  readonly #sweeper: NodeJS.Timeout;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    // Expired entries are dropped lazily on read and swept here so memory stays bounded.
    this.#sweeper = setInterval(() => this.#sweep(), 30_000);
    this.#sweeper.unref();
  }

  #sweep() {
    const now = this.#now();
    for (const [key, entry] of this.#entries)
      if (entry.expiresAt !== null && entry.expiresAt <= now) this.#entries.delete(key);
  }

  #live(key: string): MemoryEntry | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== null && entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  async get(key: string) {
    return this.#live(key)?.value ?? null;
  }

  async set(key: string, value: string, ttlMs?: number) {
    this.#entries.set(key, { value, expiresAt: ttlMs === undefined ? null : this.#now() + ttlMs });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number) {
    if (this.#live(key)) return false;
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlMs });
    return true;
  }

  async delete(key: string) {
    this.#entries.delete(key);
  }

  async increment(key: string, ttlMs: number) {
    const entry = this.#live(key);
    if (!entry) {
      this.#entries.set(key, { value: '1', expiresAt: this.#now() + ttlMs });
      return 1;
    }
    const next = Number(entry.value) + 1;
    entry.value = String(next);
    return next;
  }

  async hit(key: string, windowMs: number) {
    const count = await this.increment(key, windowMs);
    const entry = this.#live(key)!;
    if (entry.expiresAt === null) entry.expiresAt = this.#now() + windowMs;
    return { count, ttlMs: entry.expiresAt - this.#now() };
  }

  async ttlMs(key: string) {
    const entry = this.#live(key);
    if (!entry || entry.expiresAt === null) return null;
    return entry.expiresAt - this.#now();
  }

  async publish(channel: string, message: string) {
    for (const handler of this.#handlers.get(channel) ?? []) queueMicrotask(() => handler(message));
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe> {
    let listeners = this.#handlers.get(channel);
    if (!listeners) {
      listeners = new Set();
      this.#handlers.set(channel, listeners);
    }
    listeners.add(handler);
    return async () => {
      listeners.delete(handler);
    };
  }

  /** One process: delivery cannot be lost. */
  subscriptionEpoch(): number | null {
    return 0;
  }

  async acquireLock(name: string, ttlMs: number) {
    const key = `lock:${name}`;
    const token = randomUUID();
    if (!(await this.setIfAbsent(key, token, ttlMs))) return null;
    return async () => {
      if (this.#live(key)?.value === token) this.#entries.delete(key);
    };
  }

  async lockAndGet(lock: string, ttlMs: number, key: string): Promise<LockedValue | null> {
    const lockKey = `lock:${lock}`;
    const token = randomUUID();
    if (!(await this.setIfAbsent(lockKey, token, ttlMs))) return null;
    return {
      value: this.#live(key)?.value ?? null,
      release: async (change) => {
        if (this.#live(lockKey)?.value !== token) return false;
        if (change && 'delete' in change) this.#entries.delete(key);
        else if (change) await this.set(key, change.value, change.ttlMs);
        this.#entries.delete(lockKey);
        return true;
      },
    };
  }

  async ping() {}

  async close() {
    clearInterval(this.#sweeper);
    this.#entries.clear();
    this.#handlers.clear();
  }
}

export function openStore(redisUrl: string | undefined, prefix: string): EphemeralStore {
  return redisUrl ? new RedisStore(redisUrl, prefix) : new MemoryStore();
}
