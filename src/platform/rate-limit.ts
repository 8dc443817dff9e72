/**
 * The counter store of @fastify/rate-limit on the application's ephemeral store (Redis across nodes, memory on one
 * node): one `hit` per request. Its failures reach the request as errors — a `DependencyUnavailableError` is a 503 —
 * instead of the plugin's own Redis store reading a reply it did not check inside a Redis callback, where a mangled
 * reply (a broken connection or proxy, seen in the reliability harness) threw and took the process down.
 */
import type { EphemeralStore } from './cache.ts';

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** The class the plugin instantiates (`store` option); counters are kept under `prefix`. */
export function rateLimitStore(store: EphemeralStore, prefix: string) {
  return class RateLimitStore {
    readonly #prefix: string;

    constructor(_options?: unknown, keyPrefix = prefix) {
      this.#prefix = keyPrefix;
    }

    incr(key: string, callback: Callback, timeWindow: number): void {
      store.hit(this.#prefix + key, timeWindow).then(
        ({ count, ttlMs }) => callback(null, { current: count, ttl: ttlMs }),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    }

    /**
     * A route with its own limit counts apart from the global one. The plugin passes its merged parameters with the
     * route under `routeInfo` (its type declaration says otherwise).
     */
    child(parameters: object): RateLimitStore {
      const route = (parameters as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo ?? {};
      return new RateLimitStore(undefined, `${this.#prefix}${String(route.method)}${String(route.url)}-`);
    }
  };
}
