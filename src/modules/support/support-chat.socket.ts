/**
 * Support chat over `/api/v1/ws`: the conversations (`support:<conversation id>` channels) a client follows, and the
 * `chat.send` message. Realtime owns the socket and its protocol; support registers this extension with it at
 * start-up (`supportChatExtension`), and each connection hands these channels and messages here.
 */
import type { Unsubscribe } from '../../platform/cache.ts';
import type { Principal } from '../../platform/http.ts';
import { isUuid } from '../../platform/ids.ts';
import type { RealtimeHub } from '../../platform/realtime.ts';
import {
  type ClientMessage,
  type Frame,
  frameError,
  type SocketConnection,
  type SocketExtension,
  type SocketSession,
} from '../realtime/index.ts';
import { chatErrors } from './support.errors.ts';
import { CLIENT_ID_PATTERN } from './support-chat.schemas.ts';
import { chatEventFor, SupportChatService } from './support-chat.service.ts';

const SUPPORT_CHANNEL = /^support:(.+)$/;
const clientIdPattern = new RegExp(CLIENT_ID_PATTERN);

/** Whether the channel is a support conversation's. */
export function isChatChannel(channel: string): boolean {
  return SUPPORT_CHANNEL.test(channel);
}

/** The chat as realtime sees it: the `support:<id>` channels and `chat.send`. */
export function supportChatExtension(chat: SupportChatService, hub: RealtimeHub): SocketExtension {
  return {
    name: 'support',
    ownsChannel: isChatChannel,
    messageTypes: ['chat.send'],
    open: (connection) => new ConnectionChat(chat, hub, connection),
  };
}

/** One connection's support chat: the conversations it follows on the hub, and the messages it sends. */
export class ConnectionChat implements SocketSession {
  readonly #chat: SupportChatService;
  readonly #hub: RealtimeHub;
  readonly #connection: SocketConnection;
  /** Conversation channels (`support:<id>`) and how to leave each. */
  readonly #topics = new Map<string, Unsubscribe>();

  constructor(chat: SupportChatService, hub: RealtimeHub, connection: SocketConnection) {
    this.#chat = chat;
    this.#hub = hub;
    this.#connection = connection;
  }

  /** How many conversations the connection follows. */
  get size(): number {
    return this.#topics.size;
  }

  has(channel: string): boolean {
    return this.#topics.has(channel);
  }

  /** Follows a conversation's channel (`isChatChannel`) that the principal may see. */
  async follow(principal: Principal, channel: string): Promise<void> {
    const conversationId = SUPPORT_CHANNEL.exec(channel)![1]!;
    // Someone else's conversation, or staff without `support:chat`: as if it did not exist.
    if (!isUuid(conversationId)) throw chatErrors.notFound();
    await this.#chat.conversation(principal, conversationId);
    const unsubscribe = await this.#hub.subscribeTopic(channel, (event) => {
      const viewer = this.#connection.viewer();
      if (viewer) this.#connection.send(chatEventFor(event, viewer) as unknown as Frame);
    });
    if (this.#connection.closed() || this.#topics.has(channel)) {
      await unsubscribe();
      return;
    }
    this.#topics.set(channel, unsubscribe);
  }

  /** Stops following a conversation; nothing happens when it was not followed. */
  async leave(channel: string): Promise<void> {
    const unsubscribe = this.#topics.get(channel);
    if (!unsubscribe) return;
    this.#topics.delete(channel);
    await unsubscribe();
  }

  /** The connection closed: every conversation is left. */
  leaveAll(): void {
    for (const unsubscribe of this.#topics.values()) unsubscribe().catch(() => {});
    this.#topics.clear();
  }

  /** Staff who lost `support:chat` leave the conversations they were following, and are told so. */
  reauthenticated(principal: Principal): void {
    if (principal.type !== 'user' || SupportChatService.isStaffAgent(principal)) return;
    for (const [channel, unsubscribe] of this.#topics) {
      this.#topics.delete(channel);
      unsubscribe().catch(() => {});
      this.#connection.send({ type: 'unsubscribed', channel, reason: 'ACCESS_REVOKED' });
    }
  }

  /** A `chat.send` message: posts it to the conversation and answers with the stored message. */
  async handle(principal: Principal, message: ClientMessage): Promise<Frame> {
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
    const result = await this.#chat.send(principal, conversationId, {
      text,
      client_id: (clientId as string | null | undefined) ?? null,
    });
    return { type: 'chat.sent', duplicate: !result.created, data: result.message };
  }
}
