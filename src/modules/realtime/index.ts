/**
 * Realtime: the WebSocket endpoint `/api/v1/ws` over the realtime hub, so events reach clients on every API node.
 * It carries the principal's own stream (`notifications`) and what other modules add through `extensions` (support
 * registers its chat's channels and `chat.send`).
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Principal } from '../../platform/http.ts';
import { defineModule } from '../../platform/modules.ts';
import { RealtimeHub } from '../../platform/realtime.ts';
import { identityModule } from '../identity/index.ts';
import { DEFAULT_REALTIME_OPTIONS, type RealtimeOptions } from './realtime.connection.ts';
import { realtimeErrorCatalogue } from './realtime.errors.ts';
import { SocketExtensions } from './realtime.extensions.ts';
import { realtimeRoutes } from './realtime.routes.ts';

export { RealtimeHub } from '../../platform/realtime.ts';
export {
  CLOSE_CODES,
  DEFAULT_REALTIME_OPTIONS,
  PRINCIPAL_CHANNELS,
  type RealtimeOptions,
} from './realtime.connection.ts';
export {
  type SocketConnection,
  type SocketExtension,
  SocketExtensions,
  type SocketSession,
} from './realtime.extensions.ts';
export { type ClientMessage, type Frame, frameError } from './realtime.protocol.ts';

export interface RealtimeApi {
  hub: RealtimeHub;
  /** Channels and message types other modules add to the socket: register from `create` (support's chat). */
  extensions: SocketExtensions;
}

/**
 * The module's plugin. `identity` only needs `authenticate` (an IdentityService); `hub` is built from the store
 * (`new RealtimeHub(deps.store)`), and the worker builds its own the same way to publish.
 *
 * Not encapsulated: the WebSocket plugin's hooks must see every request, so that an upgrade request to any other
 * route (or to none) has its socket destroyed after the HTTP answer instead of left open.
 */
export function realtimePlugin(
  identity: { authenticate(token: string): Promise<Principal> },
  hub: RealtimeHub,
  extensions: SocketExtensions,
  options: RealtimeOptions = {},
) {
  return fp(
    async (app: FastifyInstance) => {
      await app.register(
        realtimeRoutes({ identity, hub, extensions, options: { ...DEFAULT_REALTIME_OPTIONS, ...options } }),
      );
    },
    { name: 'realtime' },
  );
}

export const realtimeModule = defineModule({
  name: 'realtime',
  description:
    "The WebSocket endpoint `/api/v1/ws`: the principal's notifications and the channels other modules add (support chat), on every node",
  dependsOn: ['identity'],
  errors: realtimeErrorCatalogue,
  // The hub is built from the store; the worker builds its own the same way to publish.
  create: ({ deps }): RealtimeApi => ({
    hub: new RealtimeHub(deps.store),
    extensions: new SocketExtensions(),
  }),
  routes: (api, ctx) => realtimePlugin(ctx.use(identityModule), api.hub, api.extensions),
});
