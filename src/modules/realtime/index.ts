/**
 * Realtime: the WebSocket endpoint `/api/v1/ws` (the principal's notifications, support chat) over the realtime
 * hub, so events reach clients on every API node; and the minimal support chat it carries, persisted in PostgreSQL.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Dependencies } from '../../platform/dependencies.ts';
import type { Principal } from '../../platform/http.ts';
import { defineModule } from '../../platform/modules.ts';
import { RealtimeHub } from '../../platform/realtime.ts';
import { identityModule } from '../identity/index.ts';
import { DEFAULT_REALTIME_OPTIONS, type RealtimeOptions } from './realtime.connection.ts';
import { realtimeRoutes } from './realtime.routes.ts';
import { supportChatRoutes } from './support-chat.routes.ts';
import { SupportChatService } from './support-chat.service.ts';

export { RealtimeHub } from '../../platform/realtime.ts';
export {
  CLOSE_CODES,
  DEFAULT_REALTIME_OPTIONS,
  PRINCIPAL_CHANNELS,
  type RealtimeOptions,
} from './realtime.connection.ts';
export {
  CHAT_PERMISSION,
  type ConversationView,
  conversationTopic,
  type MessageView,
  SupportChatService,
} from './support-chat.service.ts';
export { realtimeTopics, supportReply } from './realtime.events.ts';
export { supportChatMessages, supportConversations } from './support-chat.tables.ts';

/**
 * The module's plugin. `identity` only needs `authenticate` (an IdentityService); `hub` is built from the store
 * (`new RealtimeHub(deps.store)`), and the worker builds its own the same way to publish.
 *
 * Not encapsulated: the WebSocket plugin's hooks must see every request, so that an upgrade request to any other
 * route (or to none) has its socket destroyed after the HTTP answer instead of left open.
 */
export function realtimePlugin(
  deps: Pick<Dependencies, 'database'>,
  identity: { authenticate(token: string): Promise<Principal> },
  hub: RealtimeHub,
  options: RealtimeOptions = {},
) {
  return fp(
    async (app: FastifyInstance) => {
      const chat = new SupportChatService({
        db: deps.database.db,
        hub,
        onFanOutError: (error) => app.log.warn({ err: error }, 'support chat fan-out failed'),
      });
      await app.register(supportChatRoutes(chat));
      await app.register(
        realtimeRoutes({ identity, hub, chat, options: { ...DEFAULT_REALTIME_OPTIONS, ...options } }),
      );
    },
    { name: 'realtime' },
  );
}

export const realtimeModule = defineModule({
  name: 'realtime',
  description:
    "The WebSocket endpoint `/api/v1/ws`: the principal's notifications and support chat, on every node",
  dependsOn: ['identity'],
  permissions: [
    { code: 'support:read', description: "Read tickets and FAQs" },
    { code: 'support:manage', description: "Work tickets and FAQs" },
    { code: 'support:chat', description: "Chat live with customers in support conversations" },
  ],
  // The hub is built from the store; the worker builds its own the same way to publish.
  create: ({ deps }) => ({ hub: new RealtimeHub(deps.store) }),
  routes: (api, ctx) => realtimePlugin(ctx.deps, ctx.use(identityModule), api.hub),
});
