/**
 * One WebSocket client of `/api/v1/ws`: authentication (header or first message), the JSON message protocol,
 * its subscriptions on the realtime hub, and the limits that protect the node (message rate, subscriptions, a
 * client that stops reading). Messages of one socket are handled one at a time, in arrival order.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import type { Unsubscribe } from '../../platform/cache.ts';
import { AppError, type ErrorCode, toAppError } from '../../platform/errors.ts';
import type { Principal } from '../../platform/http.ts';
import { isUuid } from '../../platform/ids.ts';
import type { RealtimeEvent, RealtimeHub } from '../../platform/realtime.ts';
import { CLIENT_ID_PATTERN } from './support-chat.schemas.ts';
import { chatEventFor, SupportChatService } from './support-chat.service.ts';

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
const SUPPORT_CHANNEL = /^support:(.+)$/;
const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i;
const TOKEN_MAX_LENGTH = 8192;
const REF_MAX_LENGTH = 64;
/** Client messages waiting to be handled, per socket. */
const MAX_PENDING = 64;
const clientIdPattern = new RegExp(CLIENT_ID_PATTERN);

export interface ConnectionDependencies {
  identity: { authenticate(token: string): Promise<Principal> };
  hub: RealtimeHub;
  chat: SupportChatService;
  options: Required<RealtimeOptions>;
  log: FastifyBaseLogger;
}

type Frame = Record<string, unknown> & { type: string };
type ClientMessage = Record<string, unknown> & { type: string };

function frameError(code: ErrorCode, message: string): AppError {
  return AppError.of(code, message);
}

function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
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
  /** Topic channels (`support:<id>`) and how to leave each. */
  readonly #topics = new Map<string, Unsubscribe>();
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
    for (const unsubscribe of this.#topics.values()) unsubscribe().catch(() => {});
    this.#topics.clear();
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
    this.#dropUnauthorisedTopics();
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
    this.#dropUnauthorisedTopics();
  }

  /** Staff who lost `support:chat` leave the conversations they were following. */
  #dropUnauthorisedTopics(): void {
    const principal = this.#principal;
    if (principal?.type !== 'user' || SupportChatService.isStaffAgent(principal)) return;
    for (const [channel, unsubscribe] of this.#topics) {
      if (!SUPPORT_CHANNEL.test(channel)) continue;
      this.#topics.delete(channel);
      unsubscribe().catch(() => {});
      this.#send({ type: 'unsubscribed', channel, reason: 'ACCESS_REVOKED' });
    }
  }

  async #handle(text: string | null): Promise<void> {
    if (this.#closed) return;
    const parsed = this.#parse(text);
    if (!this.#principal) {
      // Before authentication the only acceptable message is `auth`; anything else ends the connection.
      const token = parsed instanceof AppError ? undefined : parsed.token;
      if (
        parsed instanceof AppError ||
        parsed.type !== 'auth' ||
        typeof token !== 'string' ||
        token.length === 0 ||
        token.length > TOKEN_MAX_LENGTH
      )
        return this.close(CLOSE_CODES.unauthorized, 'Unauthorized');
      return this.#authenticate(token);
    }
    if (parsed instanceof AppError) return this.#send(this.#errorFrame(parsed));
    const ref =
      typeof parsed.ref === 'string' && parsed.ref.length <= REF_MAX_LENGTH ? parsed.ref : undefined;
    const reply = (frame: Frame) => this.#send(ref === undefined ? frame : { ...frame, ref });
    try {
      switch (parsed.type) {
        case 'ping':
          return reply({ type: 'pong' });
        case 'auth': {
          const token = parsed.token;
          if (typeof token !== 'string' || token.length === 0 || token.length > TOKEN_MAX_LENGTH)
            return this.close(CLOSE_CODES.unauthorized, 'Unauthorized');
          return await this.#authenticate(token);
        }
        case 'subscribe':
          return reply({ type: 'subscribed', channel: await this.#subscribe(this.#channelOf(parsed)) });
        case 'unsubscribe':
          return reply({ type: 'unsubscribed', channel: await this.#unsubscribe(this.#channelOf(parsed)) });
        case 'chat.send': {
          const result = await this.#chatSend(parsed);
          return reply({ type: 'chat.sent', duplicate: !result.created, data: result.message });
        }
        default:
          throw frameError('UNKNOWN_TYPE', `Unknown message type "${parsed.type.slice(0, 40)}"`);
      }
    } catch (error) {
      const appError = toAppError(error);
      if (appError.statusCode >= 500) this.#deps.log.error({ err: error }, 'websocket message failed');
      reply(this.#errorFrame(appError));
    }
  }

  #parse(text: string | null): ClientMessage | AppError {
    if (text === null) return frameError('BAD_MESSAGE', 'Binary messages are not supported');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return frameError('INVALID_JSON', 'The message is not valid JSON');
    }
    if (!value || typeof value !== 'object' || Array.isArray(value))
      return frameError('BAD_MESSAGE', 'A message is a JSON object with a string "type"');
    const message = value as Record<string, unknown>;
    if (typeof message.type !== 'string')
      return frameError('BAD_MESSAGE', 'A message is a JSON object with a string "type"');
    return message as ClientMessage;
  }

  #errorFrame(error: AppError): Frame {
    return { type: 'error', code: error.errorCode, message: error.message };
  }

  #channelOf(message: ClientMessage): string {
    const channel = message.channel;
    if (typeof channel !== 'string' || channel.length === 0 || channel.length > 200)
      throw frameError('VALIDATION_ERROR', '"channel" is required');
    return channel;
  }

  #subscribed(channel: string): boolean {
    return this.#topics.has(channel) || this.#principalChannels.has(channel);
  }

  async #subscribe(channel: string): Promise<string> {
    const principal = this.#principal!;
    if (this.#subscribed(channel)) return channel;
    if (this.#topics.size + this.#principalChannels.size >= this.#deps.options.maxSubscriptions)
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
    const support = SUPPORT_CHANNEL.exec(channel);
    if (!support) throw frameError('UNKNOWN_CHANNEL', `Unknown channel "${channel.slice(0, 60)}"`);
    const conversationId = support[1]!;
    // Someone else's conversation, or staff without `support:chat`: as if it did not exist.
    if (!isUuid(conversationId)) throw new AppError(404, 'NOT_FOUND', 'Conversation not found');
    await this.#deps.chat.conversation(principal, conversationId);
    const unsubscribe = await this.#deps.hub.subscribeTopic(channel, (event) => {
      const viewer = this.#principal;
      if (viewer) this.#send(chatEventFor(event, viewer) as unknown as Frame);
    });
    if (this.#closed || this.#topics.has(channel)) {
      await unsubscribe();
      return channel;
    }
    this.#topics.set(channel, unsubscribe);
    return channel;
  }

  async #unsubscribe(channel: string): Promise<string> {
    const unsubscribe = this.#topics.get(channel);
    if (unsubscribe) {
      this.#topics.delete(channel);
      await unsubscribe();
    }
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

  async #chatSend(message: ClientMessage) {
    const { conversation_id: conversationId, text, client_id: clientId } = message;
    if (typeof conversationId !== 'string' || !isUuid(conversationId))
      throw frameError('VALIDATION_ERROR', '"conversation_id" must be a UUID');
    if (typeof text !== 'string') throw frameError('VALIDATION_ERROR', '"text" must be a string');
    if (
      clientId !== undefined &&
      clientId !== null &&
      (typeof clientId !== 'string' || !clientIdPattern.test(clientId))
    )
      throw frameError('VALIDATION_ERROR', '"client_id" must be 1–64 letters, digits or ._:-');
    return this.#deps.chat.send(this.#principal!, conversationId, {
      text,
      client_id: (clientId as string | null | undefined) ?? null,
    });
  }
}
