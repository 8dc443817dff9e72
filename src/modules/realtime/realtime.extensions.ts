/**
 * What other modules add to `/api/v1/ws`: channels of their own and client message types they answer. Realtime owns
 * the socket and its protocol (authentication, `subscribe`, limits); a module that depends on realtime registers an
 * extension at start-up (support registers its chat: `support:<conversation id>` channels and `chat.send`), and each
 * connection hands the extension the channels it claims and the messages it names. Realtime imports no module's
 * files for this.
 */
import type { Principal } from '../../platform/http.ts';
import type { ClientMessage, Frame } from './realtime.protocol.ts';

/** What an extension's session may do with the connection it serves. */
export interface SocketConnection {
  /** Sends a frame to the client (dropped once the connection is closed). */
  send(frame: Frame): void;
  /** The principal now authenticated on the connection (it changes when the token is checked again). */
  viewer(): Principal | null;
  closed(): boolean;
}

/** An extension's part of one connection: the channels it follows for the client, and its answers. */
export interface SocketSession {
  /** How many of its channels the connection follows (they count towards the socket's subscription limit). */
  readonly size: number;
  has(channel: string): boolean;
  /** Follows one of its channels for the principal; an AppError refuses (the client gets an error frame). */
  follow(principal: Principal, channel: string): Promise<void>;
  /** Stops following a channel; nothing happens when it was not followed. */
  leave(channel: string): Promise<void>;
  /** The connection closed: every channel is left. */
  leaveAll(): void;
  /** The principal was authenticated again (a new token, or the periodic check): its permissions may differ. */
  reauthenticated(principal: Principal): void;
  /** Answers one of the extension's message types; an AppError becomes an error frame. */
  handle(principal: Principal, message: ClientMessage): Promise<Frame>;
}

export interface SocketExtension {
  /** Who adds it (a module's name), for start-up errors. */
  readonly name: string;
  /** Whether the channel is one of its own (the principal's own channels, `notifications`, are realtime's). */
  ownsChannel(channel: string): boolean;
  /** The client message types it answers; the protocol's own (`auth`, `ping`, `subscribe`, `unsubscribe`) are not. */
  readonly messageTypes: readonly string[];
  /** Its session on a new connection. */
  open(connection: SocketConnection): SocketSession;
}

const PROTOCOL_TYPES: ReadonlySet<string> = new Set(['auth', 'ping', 'subscribe', 'unsubscribe']);

/** The extensions of one process's socket endpoint, registered at start-up (a connection sees those registered). */
export class SocketExtensions {
  readonly #extensions: SocketExtension[] = [];

  /** Adds an extension; throws when it claims a protocol message type or another extension's. */
  register(extension: SocketExtension): void {
    for (const type of extension.messageTypes) {
      if (PROTOCOL_TYPES.has(type))
        throw new Error(`realtime: "${extension.name}" claims the protocol's own message type "${type}"`);
      const owner = this.#extensions.find((other) => other.messageTypes.includes(type));
      if (owner)
        throw new Error(
          `realtime: message type "${type}" is claimed by both "${owner.name}" and "${extension.name}"`,
        );
    }
    this.#extensions.push(extension);
  }

  get all(): readonly SocketExtension[] {
    return this.#extensions;
  }
}
