/**
 * The per-node cache of what principals may do (status, roles, permissions) and of which sessions are known not to
 * be revoked, so an authenticated request pays neither the principal's SQL nor the denylist's Redis GET on a hit.
 *
 * Correctness comes from invalidation, not from the time-to-live: every writer that narrows a principal's access
 * (suspension, closure, erasure, role or permission change, password rules, session revocation) publishes a change
 * on one Redis channel after its commit, and every node drops the entries it names. The cache fails closed:
 * - it serves entries only while the store says its subscription is live (`subscriptionEpoch`), and only entries
 *   stored under the current epoch, so a reconnect (when messages may have been missed) empties it in effect;
 * - a heartbeat on the same channel proves delivery: with none heard for a while (a half-open connection, a
 *   frozen Redis) the cache is bypassed until messages flow again, and then starts empty;
 * - a value read while an invalidation arrived is not stored (it may predate the change);
 * - entries live at most `ttlMs` (the backstop) and at most `maxEntries` are kept (least recently used first out).
 * Only granting answers are cached (an active principal, a session not on the denylist): a refusal is read again
 * each time, so a reactivation needs no message.
 */
import { randomUUID } from 'node:crypto';
import type { EphemeralStore, Unsubscribe } from '../../platform/cache.ts';

export const PRINCIPAL_CHANNEL = 'identity:principals';

/**
 * What changed: one principal, every principal of a type (`id` absent), the principal with this id whatever its type
 * (ids are UUIDs), sessions, or everything.
 */
export type PrincipalChange =
  | { type: string; id?: string }
  | { principal: string }
  | { sessions: string[] }
  | { all: true };

interface Message {
  /** The publisher's nonce, so it can wait for its own echo. */
  n?: string;
  /** A heartbeat (no change). */
  hb?: true;
  change?: PrincipalChange;
}

interface Entry<T> {
  value: T;
  at: number;
  epoch: number;
}

export interface PrincipalCacheOptions {
  ttlMs: number;
  maxEntries: number;
  /** How often each node proves delivery; the cache is bypassed after 2.5 intervals without a message. */
  heartbeatMs?: number;
  now?: () => number;
}

export interface PrincipalCacheStats {
  hits: number;
  misses: number;
  bypassed: number;
  invalidations: number;
  size: number;
}

/** The caches of this process by store (one per API node): writers publish through the store they hold. */
const byStore = new WeakMap<EphemeralStore, PrincipalCache>();

export class PrincipalCache {
  readonly #store: EphemeralStore;
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #heartbeatMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry<unknown>>();
  readonly #echoes = new Map<string, () => void>();
  /** Bumped by every invalidation received: a read that spans one is not stored. */
  #sequence = 0;
  /** The store's subscription epoch the entries belong to; a different one means they may have missed messages. */
  #epoch: number | null = null;
  #subscribed = false;
  #lastMessageAt = 0;
  #unsubscribe: Unsubscribe | null = null;
  #starting: Promise<void> | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  readonly #stats = { hits: 0, misses: 0, bypassed: 0, invalidations: 0 };

  constructor(store: EphemeralStore, options: PrincipalCacheOptions) {
    this.#store = store;
    this.#ttlMs = options.ttlMs;
    this.#max = options.maxEntries;
    this.#heartbeatMs = options.heartbeatMs ?? Math.min(5_000, Math.max(200, Math.floor(options.ttlMs / 4)));
    this.#now = options.now ?? Date.now;
    byStore.set(store, this);
  }

  /** Subscribes (once); until the subscription is confirmed every read goes through. */
  start(): Promise<void> {
    this.#starting ??= (async () => {
      if (this.#ttlMs <= 0 || this.#max <= 0) return;
      this.#unsubscribe = await this.#store.subscribe(PRINCIPAL_CHANNEL, (raw) => this.#receive(raw));
      this.#subscribed = true;
      this.#lastMessageAt = this.#now();
      this.#heartbeat = setInterval(() => {
        this.#store.publish(PRINCIPAL_CHANNEL, JSON.stringify({ hb: true })).catch(() => {});
      }, this.#heartbeatMs);
      this.#heartbeat.unref();
    })();
    return this.#starting;
  }

  async stop(): Promise<void> {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    this.#subscribed = false;
    this.#entries.clear();
    await this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (byStore.get(this.#store) === this) byStore.delete(this.#store);
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  stats(): PrincipalCacheStats {
    return { ...this.#stats, size: this.#entries.size };
  }

  #receive(raw: string): void {
    this.#lastMessageAt = this.#now();
    let message: Message;
    try {
      message = JSON.parse(raw) as Message;
    } catch {
      // Unreadable: something changed that this node cannot name, so it forgets everything.
      this.#clear();
      return;
    }
    if (message.change) this.#apply(message.change);
    if (message.n) this.#echoes.get(message.n)?.();
  }

  #apply(change: PrincipalChange): void {
    this.#sequence += 1;
    this.#stats.invalidations += 1;
    if ('all' in change) {
      this.#clear();
      return;
    }
    if ('sessions' in change) {
      for (const session of change.sessions) this.#entries.delete(`sid:${session}`);
      return;
    }
    if ('principal' in change) {
      const suffix = `:${change.principal}`;
      for (const key of this.#entries.keys())
        if (key.endsWith(suffix) && !key.startsWith('sid:')) this.#entries.delete(key);
      return;
    }
    if (change.id !== undefined) {
      this.#entries.delete(`${change.type}:${change.id}`);
      return;
    }
    const prefix = `${change.type}:`;
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) this.#entries.delete(key);
  }

  #clear(): void {
    this.#sequence += 1;
    this.#entries.clear();
  }

  /** The epoch entries may be served under now, or null when the cache must be bypassed (fail closed). */
  #liveEpoch(): number | null {
    if (!this.#subscribed) return null;
    const epoch = this.#store.subscriptionEpoch();
    const silent = this.#now() - this.#lastMessageAt > this.#heartbeatMs * 2.5;
    if (epoch === null || silent) {
      if (this.#entries.size > 0) this.#clear();
      this.#epoch = null;
      return null;
    }
    if (epoch !== this.#epoch) {
      // (Re)connected: messages may have been lost while the subscription was down.
      this.#clear();
      this.#epoch = epoch;
    }
    return epoch;
  }

  /**
   * The cached answer for `key`, or `load()`'s; a loaded answer is kept only when `keep` says it grants access and
   * nothing could have changed it while it was read.
   */
  async read<T>(key: string, load: () => Promise<T>, keep: (value: T) => boolean): Promise<T> {
    if (!this.#starting) this.start().catch(() => {});
    const epoch = this.#liveEpoch();
    if (epoch === null) {
      this.#stats.bypassed += 1;
      return load();
    }
    const entry = this.#entries.get(key) as Entry<T> | undefined;
    if (entry && entry.epoch === epoch && this.#now() - entry.at < this.#ttlMs) {
      // Least recently used order: a hit moves the entry to the end.
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      this.#stats.hits += 1;
      return entry.value;
    }
    if (entry) this.#entries.delete(key);
    this.#stats.misses += 1;
    const sequence = this.#sequence;
    const value = await load();
    if (keep(value) && sequence === this.#sequence && this.#liveEpoch() === epoch) {
      this.#entries.set(key, { value, at: this.#now(), epoch });
      while (this.#entries.size > this.#max) {
        const oldest = this.#entries.keys().next().value;
        if (oldest === undefined) break;
        this.#entries.delete(oldest);
      }
    }
    return value;
  }

  /**
   * Publishes a change to every node and drops it here at once; then waits (at most `echoWaitMs`) for its own echo
   * from Redis: the message reaches every subscriber in the same pass, so the writer's answer leaves after the other
   * nodes have it too, and "refused from the next request, on every node" holds in practice.
   */
  async publish(change: PrincipalChange, echoWaitMs = 100): Promise<void> {
    this.#apply(change);
    const nonce = randomUUID();
    const live = this.#subscribed && this.#store.subscriptionEpoch() !== null;
    const echoed = live
      ? new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, echoWaitMs);
          timer.unref();
          this.#echoes.set(nonce, () => {
            clearTimeout(timer);
            resolve();
          });
        })
      : Promise.resolve();
    try {
      await this.#store.publish(PRINCIPAL_CHANNEL, JSON.stringify({ n: nonce, change } satisfies Message));
      await echoed;
    } finally {
      this.#echoes.delete(nonce);
    }
  }
}

/**
 * Tells every node that a principal's access (or a session) changed: called by writers after their commit. Through
 * this node's cache when it has one (dropped here at once, echo awaited), else a plain publish. Never throws: the
 * change is committed, and a node that misses the message is bounded by the cache's time-to-live and by its
 * subscription health check (a Redis that refuses the publish is one that is not delivering either).
 */
export async function publishPrincipalChange(store: EphemeralStore, change: PrincipalChange): Promise<void> {
  const cache = byStore.get(store);
  const send = () => store.publish(PRINCIPAL_CHANNEL, JSON.stringify({ change } satisfies Message));
  try {
    if (cache) await cache.publish(change);
    else await send();
  } catch {
    // Committed but not announced: retried in the background for as long as another node could still serve an
    // entry from before the change (the time-to-live), then the backstop has done the job anyway.
    const until = Date.now() + (cache?.ttlMs ?? 30_000);
    const retry = () => {
      if (Date.now() > until) return;
      send().catch(() => setTimeout(retry, 500).unref());
    };
    setTimeout(retry, 500).unref();
  }
}
