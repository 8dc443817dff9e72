/** `GET /api/v1/ws`: the WebSocket endpoint (notifications and support chat), its heartbeat and its shutdown. */
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

import type { Principal } from '../../platform/http.ts';
import type { RealtimeHub } from '../../platform/realtime.ts';
import { CLOSE_CODES, RealtimeConnection, type RealtimeOptions } from './realtime.connection.ts';
import { realtimeErrors } from './realtime.errors.ts';
import type { SocketExtensions } from './realtime.extensions.ts';

/** How long a shutting-down node waits for clients to answer its close frame. */
const SHUTDOWN_GRACE_MS = 2_000;
const TOKEN_QUERY = /token|jwt|authorization|bearer/i;

const PROTOCOL = `Upgrade to a WebSocket (a plain GET answers 426). JSON text messages both ways.

**Authentication** with the access token: the upgrade request's \`Authorization: Bearer …\` header, or (browsers)
a first message \`{"type":"auth","token":"…"}\` within 10 s. Anything else first, a bad, revoked or expired token, or a
token in the query string closes with code **4401**. The server then sends
\`{"type":"ready","principal":{"type","id"}}\`. The token is checked again every 60 s (4401 once revoked); send
\`auth\` again with a refreshed token of the same principal to keep the socket past the token's expiry.

**Client messages** (an optional \`ref\` string is echoed on the reply):
- \`{"type":"subscribe","channel"}\` / \`{"type":"unsubscribe","channel"}\` → \`subscribed\` / \`unsubscribed\`.
  Channels: \`notifications\` (your own stream), \`support:<conversation_id>\` (the conversation's customer, or
  staff holding \`support:chat\`; anyone else gets \`NOT_FOUND\`).
- \`{"type":"chat.send","conversation_id","text","client_id"?}\` → \`{"type":"chat.sent","duplicate","data"}\`; the
  message reaches every subscriber of \`support:<id>\` as \`{"channel","type":"chat.message","data"}\`.
- \`{"type":"ping"}\` → \`{"type":"pong"}\`.

Server events: \`{"channel","type","data"}\` (\`chat.message\`, \`conversation.closed\`, notifications).
Errors: \`{"type":"error","code","message"}\`, the socket stays open. More than 20 messages a second closes with
**4429**, a message over 64 KiB with 1009, a node shutting down with 1001.`;

export interface RealtimeRouteDependencies {
  identity: { authenticate(token: string): Promise<Principal> };
  hub: RealtimeHub;
  /** Channels and message types other modules add (support chat). */
  extensions: SocketExtensions;
  options: Required<RealtimeOptions>;
}

/** Not encapsulated (see `realtimeModule`): registered in the module's, that is the root, context. */
export function realtimeRoutes(deps: RealtimeRouteDependencies) {
  return fp(
    async (app: FastifyInstance) => {
      const connections = new Set<RealtimeConnection>();
      let heartbeat: NodeJS.Timeout | undefined;

      await app.register(websocket, {
        options: { maxPayload: deps.options.maxPayloadBytes },
        // Clients are told the node is going away (1001) and may reconnect to another.
        preClose: async () => {
          clearInterval(heartbeat);
          await Promise.all([...connections].map((connection) => connection.shutdown(SHUTDOWN_GRACE_MS)));
          await new Promise<void>((resolve) => app.websocketServer.close(() => resolve()));
        },
        errorHandler: (error, socket, request) => {
          request.log.info({ err: error }, 'websocket error');
          socket.terminate();
        },
      });

      heartbeat = setInterval(() => {
        for (const connection of connections) connection.heartbeat();
      }, deps.options.heartbeatIntervalMs);
      heartbeat.unref();
      app.addHook('onClose', async () => {
        clearInterval(heartbeat);
        await deps.hub.close();
      });

      app.route({
        method: 'GET',
        url: '/api/v1/ws',
        // Public at the HTTP layer: browsers cannot send the header, so the socket authenticates itself.
        config: { access: { public: true } },
        schema: {
          operationId: 'connectRealtime',
          tags: ['realtime'],
          summary: 'WebSocket: live notifications and support chat',
          description: PROTOCOL,
          response: { 426: { $ref: 'ErrorBody#' } },
        },
        handler: async () => {
          throw realtimeErrors.upgradeRequired();
        },
        wsHandler: (socket, request) => {
          const connection = new RealtimeConnection(socket, { ...deps, log: request.log }, (closed) =>
            connections.delete(closed),
          );
          connections.add(connection);
          const query = (request.query ?? {}) as Record<string, unknown>;
          connection.start({
            authorization: request.headers.authorization,
            queryHasToken: Object.keys(query).some((key) => TOKEN_QUERY.test(key)),
          });
        },
      });
    },
    { name: 'realtime-websocket' },
  );
}

export { CLOSE_CODES };
