/**
 * Realtime fan-out over the ephemeral store's pub/sub: anything published here (by an API node or the worker)
 * reaches the WebSocket clients on every API node. Events go to a principal (their own stream: notifications) or to
 * a topic (a support conversation). Each process holds at most one store subscription per principal or topic,
 * shared by its local listeners and dropped when the last one leaves. With the in-memory store this is one node.
 */
import type { EphemeralStore, Unsubscribe } from './cache.ts';
import type { PrincipalType } from './http.ts';
import { stringifyWithBigInt } from './json.ts';

export type RealtimePrincipalType = PrincipalType;

/** What a client receives: the channel it subscribed to, the event type and its data. */
export interface RealtimeEvent {
  channel: string;
  type: string;
  data: unknown;
}

export type RealtimeListener = (event: RealtimeEvent) => void;

const CHANNEL_PREFIX = 'rt:';

interface Subscription {
  listeners: Set<RealtimeListener>;
  /** Settles once the store subscription is in place; later listeners wait for it too. */
  ready: Promise<Unsubscribe>;
}

function isEvent(value: unknown): value is RealtimeEvent {
  if (!value || typeof value !== 'object') return false;
  const event = value as Record<string, unknown>;
  return typeof event.channel === 'string' && typeof event.type === 'string' && 'data' in event;
}

export class RealtimeHub {
  readonly #store: EphemeralStore;
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #onError: (error: unknown) => void;

  constructor(store: EphemeralStore, options: { onListenerError?: (error: unknown) => void } = {}) {
    this.#store = store;
    this.#onError = options.onListenerError ?? (() => {});
  }

  static principalChannel(principalType: RealtimePrincipalType, principalId: string): string {
    return `${CHANNEL_PREFIX}p:${principalType}:${principalId}`;
  }

  static topicChannel(topic: string): string {
    return `${CHANNEL_PREFIX}t:${topic}`;
  }

  /** Delivers to every socket of this principal on every node (e.g. the worker's in-app notifications). */
  async publishToPrincipal(
    principalType: RealtimePrincipalType,
    principalId: string,
    event: RealtimeEvent,
  ): Promise<void> {
    await this.#publish(RealtimeHub.principalChannel(principalType, principalId), event);
  }

  /** Delivers to every socket subscribed to this topic on every node (e.g. `support:<conversationId>`). */
  async publishToTopic(topic: string, event: RealtimeEvent): Promise<void> {
    await this.#publish(RealtimeHub.topicChannel(topic), event);
  }

  async #publish(channel: string, event: RealtimeEvent): Promise<void> {
    const message = stringifyWithBigInt({
      channel: event.channel,
      type: event.type,
      data: event.data ?? null,
    });
    await this.#store.publish(channel, message);
  }

  /** Resolves once events published from now on reach `listener`; the function returned removes it. */
  subscribePrincipal(
    principalType: RealtimePrincipalType,
    principalId: string,
    listener: RealtimeListener,
  ): Promise<Unsubscribe> {
    return this.#subscribe(RealtimeHub.principalChannel(principalType, principalId), listener);
  }

  subscribeTopic(topic: string, listener: RealtimeListener): Promise<Unsubscribe> {
    return this.#subscribe(RealtimeHub.topicChannel(topic), listener);
  }

  /** Store channels this process is subscribed to (one per principal or topic with local listeners). */
  get subscribedChannels(): number {
    return this.#subscriptions.size;
  }

  async #subscribe(channel: string, listener: RealtimeListener): Promise<Unsubscribe> {
    let subscription = this.#subscriptions.get(channel);
    if (!subscription) {
      const listeners = new Set<RealtimeListener>();
      const ready = this.#store.subscribe(channel, (message) => this.#dispatch(listeners, message));
      subscription = { listeners, ready };
      this.#subscriptions.set(channel, subscription);
      // A failed store subscription is forgotten, so the next listener tries again.
      ready.catch(() => {
        if (this.#subscriptions.get(channel) === subscription) this.#subscriptions.delete(channel);
      });
    }
    const current = subscription;
    current.listeners.add(listener);
    try {
      await current.ready;
    } catch (error) {
      current.listeners.delete(listener);
      throw error;
    }
    let removed = false;
    return async () => {
      if (removed) return;
      removed = true;
      current.listeners.delete(listener);
      if (current.listeners.size > 0 || this.#subscriptions.get(channel) !== current) return;
      this.#subscriptions.delete(channel);
      const unsubscribe = await current.ready.catch(() => null);
      await unsubscribe?.();
    };
  }

  #dispatch(listeners: Set<RealtimeListener>, message: string): void {
    let event: unknown;
    try {
      event = JSON.parse(message);
    } catch {
      return;
    }
    if (!isEvent(event)) return;
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  /** Drops every store subscription of this process (publishing still works). */
  async close(): Promise<void> {
    const subscriptions = [...this.#subscriptions.values()];
    this.#subscriptions.clear();
    for (const subscription of subscriptions) {
      subscription.listeners.clear();
      const unsubscribe = await subscription.ready.catch(() => null);
      await unsubscribe?.().catch(() => {});
    }
  }
}
