/**
 * One WebSocket client of `/api/v1/ws`: authentication (header or first message), the JSON message protocol,
 * its subscriptions on the realtime hub, and the limits that protect the node (message rate, subscriptions, a
 * client that stops reading). Messages of one socket are handled one at a time, in arrival order. Channels and
 * message types of other modules (support chat) are their extensions' (realtime.extensions.ts).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import type { Unsubscribe } from '../../platform/cache.ts';
import { AppError, toAppError } from '../../platform/errors.ts';
import type { Principal } from '../../platform/http.ts';
import type { RealtimeEvent, RealtimeHub } from '../../platform/realtime.ts';
import type { SocketExtension, SocketExtensions, SocketSession } from './realtime.extensions.ts';
import {
  channelOf,
  errorFrame,
  type Frame,
  frameError,
  parseMessage,
  refOf,
  textOf,
  tokenOf,
} from './realtime.protocol.ts';

export const CLOSE_CODES = {
  /** Missing, invalid, revoked or expired token; or a first message other than `auth`. */
  unauthorized: 4401,
  /** The principal must change their password or enrol a second factor first. */
  forbidden: 4403,
  /** More than `maxMessagesPerSecond` client messages in a second. */
  rateLimited: 4429,
  goingAway: 1001,
  /** Authentication could not be checked (a dependency is down) or the client stopped reading. */
  tryAgainLater: 1013,
} as const;

export interface RealtimeOptions {
  /** Time allowed for the first `auth` message when the upgrade request carried no Authorization header. */
  authTimeoutMs?: number;
  /** How often the token is authenticated again (revocation, disabled account, changed permissions). */
  recheckIntervalMs?: number;
  /** How often sockets are pinged; one that has not answered the previous ping is dropped. */
  heartbeatIntervalMs?: number;
  maxMessagesPerSecond?: number;
  /** Largest client message; a larger frame closes the socket (1009). */
  maxPayloadBytes?: number;
  maxSubscriptions?: number;
  /** Bytes queued for a client that does not read before it is disconnected (1013). */
  maxBufferedBytes?: number;
}

export const DEFAULT_REALTIME_OPTIONS: Required<RealtimeOptions> = {
  authTimeoutMs: 10_000,
  recheckIntervalMs: 60_000,
  heartbeatIntervalMs: 30_000,
  maxMessagesPerSecond: 20,
  maxPayloadBytes: 64 * 1024,
  maxSubscriptions: 100,
  maxBufferedBytes: 1024 * 1024,
};

/** Channels of the principal's own stream (published with `RealtimeHub.publishToPrincipal`). */
export const PRINCIPAL_CHANNELS: ReadonlySet<string> = new Set(['notifications']);
const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i;
/** Client messages waiting to be handled, per socket. */
const MAX_PENDING = 64;

export interface ConnectionDependencies {
  identity: { authenticate(token: string): Promise<Principal> };
  hub: RealtimeHub;
  extensions: SocketExtensions;
  options: Required<RealtimeOptions>;
  log: FastifyBaseLogger;
}

export class RealtimeConnection {
  readonly #socket: WebSocket;
  readonly #deps: ConnectionDependencies;
  readonly #onClosed: (connection: RealtimeConnection) => void;
  #principal: Principal | null = null;
  #token: string | null = null;
  #closed = false;
  #cleanedUp = false;
  #alive = true;
  #queue: Promise<void> = Promise.resolve();
  #pending = 0;
  readonly #arrivals: number[] = [];
  /** Each extension's part of this connection (support chat: the conversations the client follows). */
  readonly #sessions: { extension: SocketExtension; session: SocketSession }[];
  /** Principal channels (`notifications`) the client asked for, all carried by one hub subscription. */
  readonly #principalChannels = new Set<string>();
  #principalStream: Unsubscribe | null = null;
  #authTimer: NodeJS.Timeout | undefined;
  #recheckTimer: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  readonly #closedPromise: Promise<void>;

  constructor(
    socket: WebSocket,
    deps: ConnectionDependencies,
    onClosed: (connection: RealtimeConnection) => void,
  ) {
    this.#socket = socket;
    this.#deps = deps;
    this.#onClosed = onClosed;
    const connection = {
      send: (frame: Frame) => this.#send(frame),
      viewer: () => this.#principal,
      closed: () => this.#closed,
    };
    this.#sessions = deps.extensions.all.map((extension) => ({
      extension,
      session: extension.open(connection),
    }));
    this.#closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('message', (data, isBinary) => this.#arrive(data, isBinary));
    socket.on('pong', () => {
      this.#alive = true;
    });
    socket.on('close', () => this.#cleanup());
  }

  get principal(): Pick<Principal, 'type' | 'id'> | null {
    return this.#principal ? { type: this.#principal.type, id: this.#principal.id } : null;
  }

  /**
   * Starts the handshake. The token comes from the upgrade request's Authorization header or, for browsers, the
   * first message; a token in the query string is refused outright, so that no client learns to put it in URLs.
   */
  start(request: { authorization: string | undefined; queryHasToken: boolean }): void {
    if (request.queryHasToken) {
      this.close(CLOSE_CODES.unauthorized, 'Unauthorized');
      return;
    }
    this.#authTimer = setTimeout(() => {
      if (!this.#principal) this.close(CLOSE_CODES.unauthorized, 'Unauthorized');
    }, this.#deps.options.authTimeoutMs);
    if (request.authorization !== undefined) {
      const match = BEARER.exec(request.authorization);
      if (!match) {
        this.close(CLOSE_CODES.unauthorized, 'Unauthorized');
        return;
      }
      this.#enqueue(() => this.#authenticate(match[1]!));
    }
  }

  /** Closes the socket (idempotent) and leaves every subscription. */
  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#socket.close(code, reason);
    } catch {
      this.#socket.terminate();
    }
    this.#cleanup();
  }

  /** Going away (the node shuts down): resolves when the client answered the close, or after `timeoutMs`. */
  async shutdown(timeoutMs: number): Promise<void> {
    this.close(CLOSE_CODES.goingAway, 'Server shutting down');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#closedPromise,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (this.#socket.readyState !== this.#socket.CLOSED) this.#socket.terminate();
  }

  /** One heartbeat: a socket that did not answer the previous ping is dropped. */
  heartbeat(): void {
    if (!this.#alive) {
      this.#socket.terminate();
      this.#cleanup();
      return;
    }
    this.#alive = false;
    try {
      this.#socket.ping();
    } catch {
      this.#socket.terminate();
    }
  }

  #cleanup(): void {
    if (this.#cleanedUp) return;
    this.#cleanedUp = true;
    this.#closed = true;
    clearTimeout(this.#authTimer);
    clearInterval(this.#recheckTimer);
    clearTimeout(this.#expiryTimer);
    this.#authTimer = undefined;
    for (const { session } of this.#sessions) session.leaveAll();
    this.#principalChannels.clear();
    this.#principalStream?.().catch(() => {});
    this.#principalStream = null;
    this.#onClosed(this);
  }

  #enqueue(work: () => Promise<void>): void {
    this.#pending += 1;
    this.#queue = this.#queue
      .then(work)
      .catch((error) => {
        this.#deps.log.error({ err: error }, 'websocket message handling failed');
      })
      .finally(() => {
        this.#pending -= 1;
      });
  }

  #arrive(data: RawData, isBinary: boolean): void {
    if (this.#closed) return;
    const now = Date.now();
    this.#arrivals.push(now);
    while (this.#arrivals.length > 0 && this.#arrivals[0]! <= now - 1000) this.#arrivals.shift();
    if (this.#arrivals.length > this.#deps.options.maxMessagesPerSecond) {
      this.close(CLOSE_CODES.rateLimited, 'Too many messages');
      return;
    }
    // Messages wait while a slow one (the database) is handled; a client that keeps sending meanwhile is cut off.
    if (this.#pending >= MAX_PENDING) {
      this.close(CLOSE_CODES.tryAgainLater, 'Too many pending messages');
      return;
    }
    const text = isBinary ? null : textOf(data);
    this.#enqueue(() => this.#handle(text));
  }

  #send(frame: Frame): void {
    if (this.#closed || this.#socket.readyState !== this.#socket.OPEN) return;
    if (this.#socket.bufferedAmount > this.#deps.options.maxBufferedBytes) {
      this.close(CLOSE_CODES.tryAgainLater, 'Slow consumer');
      return;
    }
    this.#socket.send(JSON.stringify(frame));
  }

  async #authenticate(token: string): Promise<void> {
    if (this.#closed) return;
    const before = this.#principal;
    let principal: Principal;
    try {
      principal = await this.#deps.identity.authenticate(token);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.statusCode < 500) return this.close(CLOSE_CODES.unauthorized, 'Unauthorized');
      this.#deps.log.warn({ err: error }, 'websocket authentication unavailable');
      if (!before) return this.close(CLOSE_CODES.tryAgainLater, 'Try again later');
      throw appError;
    }
    if (this.#closed) return;
    // A new token must be the same principal's (a refreshed access token), not a switch of identity.
    if (before && (before.type !== principal.type || before.id !== principal.id))
      return this.close(CLOSE_CODES.unauthorized, 'Unauthorized');
    if (principal.passwordChangeRequired)
      return this.close(CLOSE_CODES.forbidden, 'Password change required');
    if (principal.mfaEnrollmentRequired)
      return this.close(CLOSE_CODES.forbidden, 'Second factor enrolment required');
    this.#principal = principal;
    this.#token = token;
    clearTimeout(this.#authTimer);
    this.#authTimer = undefined;
    this.#scheduleExpiry(principal.tokenExpiresAt);
    if (!this.#recheckTimer) {
      this.#recheckTimer = setInterval(
        () => this.#enqueue(() => this.#recheck()),
        this.#deps.options.recheckIntervalMs,
      );
      this.#recheckTimer.unref();
    }
    for (const { session } of this.#sessions) session.reauthenticated(principal);
    this.#send({ type: 'ready', principal: { type: principal.type, id: principal.id } });
  }

  #scheduleExpiry(expiresAtSeconds: number): void {
    clearTimeout(this.#expiryTimer);
    const remaining = Math.max(0, expiresAtSeconds * 1000 - Date.now());
    this.#expiryTimer = setTimeout(() => this.close(CLOSE_CODES.unauthorized, 'Token expired'), remaining);
    this.#expiryTimer.unref();
  }

  /** The token again: a revoked session, a disabled account or lost permissions take effect on open sockets. */
  async #recheck(): Promise<void> {
    if (this.#closed || !this.#token) return;
    let principal: Principal;
    try {
      principal = await this.#deps.identity.authenticate(this.#token);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.statusCode < 500) return this.close(CLOSE_CODES.unauthorized, 'Unauthorized');
      // A dependency outage does not drop every socket at once; the next check decides.
      this.#deps.log.warn({ err: error }, 'websocket re-authentication unavailable');
      return;
    }
    if (this.#closed) return;
    if (principal.passwordChangeRequired)
      return this.close(CLOSE_CODES.forbidden, 'Password change required');
    if (principal.mfaEnrollmentRequired)
      return this.close(CLOSE_CODES.forbidden, 'Second factor enrolment required');
    this.#principal = principal;
    // Extensions drop what the principal may no longer follow (staff who lost `support:chat`).
    for (const { session } of this.#sessions) session.reauthenticated(principal);
  }

  async #handle(text: string | null): Promise<void> {
    if (this.#closed) return;
    const parsed = parseMessage(text);
    if (!this.#principal) {
      // Before authentication the only acceptable message is `auth`; anything else ends the connection.
      const token = parsed instanceof AppError || parsed.type !== 'auth' ? null : tokenOf(parsed);
      if (token === null) return this.close(CLOSE_CODES.unauthorized, 'Unauthorized');
      return this.#authenticate(token);
    }
    if (parsed instanceof AppError) return this.#send(errorFrame(parsed));
    const ref = refOf(parsed);
    const reply = (frame: Frame) => this.#send(ref === undefined ? frame : { ...frame, ref });
    try {
      switch (parsed.type) {
        case 'ping':
          return reply({ type: 'pong' });
        case 'auth': {
          const token = tokenOf(parsed);
          if (token === null) return this.close(CLOSE_CODES.unauthorized, 'Unauthorized');
          return await this.#authenticate(token);
        }
        case 'subscribe':
          return reply({ type: 'subscribed', channel: await this.#subscribe(channelOf(parsed)) });
        case 'unsubscribe':
          return reply({ type: 'unsubscribed', channel: await this.#unsubscribe(channelOf(parsed)) });
        default: {
          const owner = this.#sessions.find(({ extension }) => extension.messageTypes.includes(parsed.type));
          if (!owner) throw frameError('UNKNOWN_TYPE', `Unknown message type "${parsed.type.slice(0, 40)}"`);
          return reply(await owner.session.handle(this.#principal, parsed));
        }
      }
    } catch (error) {
      const appError = toAppError(error);
      if (appError.statusCode >= 500) this.#deps.log.error({ err: error }, 'websocket message failed');
      reply(errorFrame(appError));
    }
  }

  /** The session of the extension that owns the channel, if any. */
  #ownerOf(channel: string): SocketSession | undefined {
    return this.#sessions.find(({ extension }) => extension.ownsChannel(channel))?.session;
  }

  #subscribed(channel: string): boolean {
    return this.#principalChannels.has(channel) || this.#sessions.some(({ session }) => session.has(channel));
  }

  #subscriptions(): number {
    return this.#sessions.reduce((total, { session }) => total + session.size, this.#principalChannels.size);
  }

  async #subscribe(channel: string): Promise<string> {
    const principal = this.#principal!;
    if (this.#subscribed(channel)) return channel;
    if (this.#subscriptions() >= this.#deps.options.maxSubscriptions)
      throw frameError(
        'TOO_MANY_SUBSCRIPTIONS',
        `At most ${this.#deps.options.maxSubscriptions} subscriptions`,
      );
    if (PRINCIPAL_CHANNELS.has(channel)) {
      if (!this.#principalStream) {
        const unsubscribe = await this.#deps.hub.subscribePrincipal(principal.type, principal.id, (event) =>
          this.#onPrincipalEvent(event),
        );
        if (this.#closed) {
          await unsubscribe();
          return channel;
        }
        this.#principalStream = unsubscribe;
      }
      this.#principalChannels.add(channel);
      return channel;
    }
    const owner = this.#ownerOf(channel);
    if (!owner) throw frameError('UNKNOWN_CHANNEL', `Unknown channel "${channel.slice(0, 60)}"`);
    await owner.follow(principal, channel);
    return channel;
  }

  async #unsubscribe(channel: string): Promise<string> {
    await this.#ownerOf(channel)?.leave(channel);
    if (this.#principalChannels.delete(channel) && this.#principalChannels.size === 0) {
      const stream = this.#principalStream;
      this.#principalStream = null;
      await stream?.();
    }
    return channel;
  }

  #onPrincipalEvent(event: RealtimeEvent): void {
    if (this.#principalChannels.has(event.channel)) this.#send(event as unknown as Frame);
  }
}
