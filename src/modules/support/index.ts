/**
 * Support: live chat between customers and staff holding `support:chat` (tickets and FAQs come later), persisted in
 * PostgreSQL. Conversations are reached over REST (`/api/v1/support/chat`) and over realtime's WebSocket, where this
 * module registers its channels (`support:<conversation id>`) and the `chat.send` message.
 */
import pino from 'pino';
import { loggerOptions } from '../../platform/logging.ts';
import { defineModule } from '../../platform/modules.ts';
import { realtimeModule } from '../realtime/index.ts';
import { supportErrorCatalogue } from './support.errors.ts';
import { supportTopics } from './support.events.ts';
import { supportChatRoutes } from './support-chat.routes.ts';
import { SupportChatService } from './support-chat.service.ts';
import { supportChatExtension } from './support-chat.socket.ts';
import { supportChatMessages, supportConversations } from './support-chat.tables.ts';

export { chatErrors, supportErrorCatalogue } from './support.errors.ts';
export { supportReply, supportTopics } from './support.events.ts';
export {
  CHAT_PERMISSION,
  type ConversationView,
  conversationTopic,
  type MessageView,
  SupportChatService,
} from './support-chat.service.ts';

export interface SupportApi {
  chat: SupportChatService;
}

export const supportModule = defineModule({
  name: 'support',
  description:
    'Live support chat between customers and staff, over REST and the WebSocket (tickets and FAQs to come)',
  dependsOn: ['realtime', 'customers'],
  errors: supportErrorCatalogue,
  tables: { supportConversations, supportChatMessages },
  permissions: [
    { code: 'support:read', description: 'Read tickets and FAQs' },
    { code: 'support:manage', description: 'Work tickets and FAQs' },
    { code: 'support:chat', description: 'Chat live with customers in support conversations' },
  ],
  publishes: supportTopics,
  create(ctx): SupportApi {
    const realtime = ctx.use(realtimeModule);
    // A message is stored before it is fanned out: a store outage loses the live copy only, and is logged.
    const log = pino(loggerOptions(ctx.deps.config.LOG_LEVEL));
    const chat = new SupportChatService({
      db: ctx.deps.database.db,
      hub: realtime.hub,
      onFanOutError: (error) => log.warn({ err: error }, 'support chat fan-out failed'),
    });
    realtime.extensions.register(supportChatExtension(chat, realtime.hub));
    return { chat };
  },
  routes: (api) => supportChatRoutes(api.chat),
});
