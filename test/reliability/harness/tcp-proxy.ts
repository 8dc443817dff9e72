/**
 * A small TCP proxy put between the API process and PostgreSQL or Redis, so the reliability driver can break the
 * network the way production breaks it: pass-through, added latency (with seeded jitter; the bytes stay in order, as
 * TCP keeps them), every current connection dropped (RST both ways), new connections refused for a while, and resets
 * in the middle of a stream (the next connections that carry a byte are cut at that byte). Toxiproxy and `tc netem`
 * are not available on these machines; this is the part of them the properties need.
 */
import net from 'node:net';
import { Prng } from './prng.ts';

export interface ProxyStats {
  accepted: number;
  refused: number;
  dropped: number;
  resetMidStream: number;
  bytesUp: number;
  bytesDown: number;
}

/**
 * What is waiting to be delivered in one direction, in arrival order. One timer per direction, for the head only:
 * separate timers per chunk could fire out of order (a timer's expiry counts from the event loop's cached time, not
 * from `Date.now()`, so two chunks scheduled in one loop turn with due times 1 ms apart may swap) and reorder the
 * byte stream, which TCP never does (found: Redis replies handed to the wrong commands under redis-latency).
 */
interface Lane {
  queue: { due: number; action: () => void }[];
  timer: NodeJS.Timeout | undefined;
}

interface Pair {
  id: number;
  client: net.Socket;
  upstream: net.Socket;
  up: Lane;
  down: Lane;
  closed: boolean;
}

export interface ProxyOptions {
  name: string;
  target: { host: string; port: number };
  seed: number;
  /** 0 (default): any free port. */
  listenPort?: number;
}

export class TcpProxy {
  readonly name: string;
  readonly target: { host: string; port: number };
  readonly stats: ProxyStats = {
    accepted: 0,
    refused: 0,
    dropped: 0,
    resetMidStream: 0,
    bytesUp: 0,
    bytesDown: 0,
  };
  readonly #server: net.Server;
  readonly #pairs = new Map<number, Pair>();
  readonly #random: Prng;
  #nextId = 1;
  #latencyMs = 0;
  #jitterMs = 0;
  #refuseUntil = 0;
  #resetsArmed = 0;
  #port = 0;

  private constructor(options: ProxyOptions) {
    this.name = options.name;
    this.target = options.target;
    this.#random = Prng.derive(options.seed, `proxy:${options.name}`);
    this.#server = net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
  }

  static async start(options: ProxyOptions): Promise<TcpProxy> {
    const proxy = new TcpProxy(options);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(options.listenPort ?? 0, '127.0.0.1', () => resolve());
    });
    proxy.#port = (proxy.#server.address() as net.AddressInfo).port;
    return proxy;
  }

  get port(): number {
    return this.#port;
  }

  /** Rewrites a URL's host and port to go through this proxy. */
  urlThrough(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.#port);
    return parsed.toString();
  }

  get connections(): number {
    return this.#pairs.size;
  }

  /** Local ports of the proxy's upstream sockets: what `pg_stat_activity.client_port` shows for the API. */
  upstreamPorts(): number[] {
    return [...this.#pairs.values()]
      .map((pair) => pair.upstream.localPort)
      .filter((port): port is number => typeof port === 'number');
  }

  /** Every chunk waits `ms` plus up to `jitterMs` (seeded), in both directions; 0 restores pass-through. */
  setLatency(ms: number, jitterMs = 0): void {
    this.#latencyMs = ms;
    this.#jitterMs = jitterMs;
  }

  /** Resets every current connection (both sides get an RST); returns how many. */
  dropAll(): number {
    const pairs = [...this.#pairs.values()];
    for (const pair of pairs) this.#reset(pair);
    this.stats.dropped += pairs.length;
    return pairs.length;
  }

  /** New connections are accepted and reset at once for `ms` (a listener that is up but refuses service). */
  refuseFor(ms: number): void {
    this.#refuseUntil = Math.max(this.#refuseUntil, Date.now() + ms);
  }

  /** The next `count` connections that carry a chunk (either way) are reset at that chunk, which is discarded. */
  resetMidStream(count = 1): void {
    this.#resetsArmed += count;
  }

  /** Resets one current connection chosen by the seeded generator; false when there is none. */
  resetOne(): boolean {
    const pairs = [...this.#pairs.values()];
    if (pairs.length === 0) return false;
    this.#reset(this.#random.pick(pairs));
    this.stats.dropped += 1;
    return true;
  }

  /** Back to pass-through (no latency, no refusal, nothing armed). */
  heal(): void {
    this.#latencyMs = 0;
    this.#jitterMs = 0;
    this.#refuseUntil = 0;
    this.#resetsArmed = 0;
  }

  async close(): Promise<void> {
    for (const pair of this.#pairs.values()) this.#reset(pair);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    if (Date.now() < this.#refuseUntil) {
      this.stats.refused += 1;
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    this.stats.accepted += 1;
    const upstream = net.connect({ host: this.target.host, port: this.target.port, noDelay: true });
    const pair: Pair = {
      id: this.#nextId++,
      client,
      upstream,
      up: { queue: [], timer: undefined },
      down: { queue: [], timer: undefined },
      closed: false,
    };
    this.#pairs.set(pair.id, pair);
    client.on('data', (chunk: Buffer) => this.#forward(pair, chunk, 'up'));
    upstream.on('data', (chunk: Buffer) => this.#forward(pair, chunk, 'down'));
    // A clean close on one side ends the other once the delayed chunks before it are through.
    client.on('end', () => this.#after(pair, 'up', () => upstream.end()));
    upstream.on('end', () => this.#after(pair, 'down', () => client.end()));
    client.on('error', () => this.#reset(pair));
    upstream.on('error', () => this.#reset(pair));
    client.on('close', () => this.#closed(pair, 'up'));
    upstream.on('close', () => this.#closed(pair, 'down'));
  }

  #delay(): number {
    if (this.#latencyMs === 0 && this.#jitterMs === 0) return 0;
    return this.#latencyMs + (this.#jitterMs > 0 ? this.#random.int(0, this.#jitterMs) : 0);
  }

  #forward(pair: Pair, chunk: Buffer, direction: 'up' | 'down'): void {
    if (pair.closed) return;
    if (this.#resetsArmed > 0) {
      this.#resetsArmed -= 1;
      this.stats.resetMidStream += 1;
      this.#reset(pair);
      return;
    }
    if (direction === 'up') this.stats.bytesUp += chunk.length;
    else this.stats.bytesDown += chunk.length;
    const destination = direction === 'up' ? pair.upstream : pair.client;
    this.#after(pair, direction, () => destination.write(chunk), this.#delay());
  }

  /**
   * Runs `action` in order after everything already waiting in that direction, and not before `delay` from now.
   * With nothing waiting and no delay it runs at once (pass-through).
   */
  #after(pair: Pair, direction: 'up' | 'down', action: () => void, delay = 0): void {
    const lane = direction === 'up' ? pair.up : pair.down;
    if (delay <= 0 && lane.queue.length === 0) {
      action();
      return;
    }
    const last = lane.queue.at(-1)?.due ?? 0;
    lane.queue.push({ due: Math.max(Date.now() + delay, last), action });
    if (lane.queue.length === 1) this.#arm(pair, lane);
  }

  /** A timer for the head of the lane; when it fires, everything due is delivered in order. */
  #arm(pair: Pair, lane: Lane): void {
    const head = lane.queue[0];
    if (!head) return;
    lane.timer = setTimeout(
      () => {
        lane.timer = undefined;
        if (pair.closed) {
          lane.queue.length = 0;
          return;
        }
        const now = Date.now();
        while (lane.queue.length > 0 && lane.queue[0]!.due <= now) lane.queue.shift()!.action();
        this.#arm(pair, lane);
      },
      Math.max(0, head.due - Date.now()),
    );
  }

  #forget(pair: Pair): void {
    pair.closed = true;
    this.#pairs.delete(pair.id);
    for (const lane of [pair.up, pair.down]) {
      clearTimeout(lane.timer);
      lane.timer = undefined;
      lane.queue.length = 0;
    }
  }

  #reset(pair: Pair): void {
    if (pair.closed) return;
    this.#forget(pair);
    for (const socket of [pair.client, pair.upstream]) {
      socket.on('error', () => {});
      if (!socket.destroyed) {
        // An RST, as a crashed peer or a dropped route produces. Not on a socket still connecting or already
        // shutting down (end() called): libuv refuses the reset there and the handle is then never closed, which
        // leaves the process unable to exit.
        if (socket.connecting || socket.readyState === 'opening' || socket.writableEnded) socket.destroy();
        else socket.resetAndDestroy();
      }
    }
  }

  /** One side went away: the other follows once the chunks still delayed towards it are through. */
  #closed(pair: Pair, direction: 'up' | 'down'): void {
    if (pair.closed) return;
    if (pair.client.destroyed && pair.upstream.destroyed) {
      this.#forget(pair);
      return;
    }
    this.#after(pair, direction, () => {
      const other = direction === 'up' ? pair.upstream : pair.client;
      if (other.writableEnded) {
        this.#forget(pair);
        other.destroy();
      } else this.#reset(pair);
    });
  }
}
