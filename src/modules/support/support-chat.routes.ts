/** HTTP routes of the support chat (`/api/v1/support/chat`); the same use cases as the WebSocket's `chat.send`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf, PageQuery, requirePrincipal } from '../../platform/http.ts';
import {
  ConversationPage,
  ConversationQuery,
  ConversationView,
  IdParams,
  MessagePage,
  MessageView,
  OpenConversationBody,
  SendMessageBody,
} from './support-chat.schemas.ts';
import { CHAT_PERMISSION, type SupportChatService } from './support-chat.service.ts';

const access = { permission: CHAT_PERMISSION, allowCustomer: true } as const;

export function supportChatRoutes(chat: SupportChatService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/support/chat/conversation/add',
      {
        config: { access, idempotency: 'optional' },
        schema: {
          operationId: 'openSupportConversation',
          tags: ['support'],
          summary: 'Open a support conversation with its first message',
          description:
            'A customer opens one for themselves; staff open one for a customer (`customer_id`) and are assigned ' +
            'it. At most 10 open conversations per customer (409 TOO_MANY_OPEN_CONVERSATIONS). Live messages: ' +
            'subscribe to `support:<id>` on `/api/v1/ws`. Send an `Idempotency-Key` to make a retry safe.',
          body: OpenConversationBody,
          response: { 201: ConversationView },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await chat.open(requirePrincipal(request), request.body, request.idempotency, contextOf(request)),
          ),
    );

    app.get(
      '/api/v1/support/chat/conversation',
      {
        config: { access },
        schema: {
          operationId: 'listSupportConversations',
          tags: ['support'],
          summary: 'Support conversations, newest first (customers: their own)',
          querystring: ConversationQuery,
          response: { 200: ConversationPage },
        },
      },
      async (request) => chat.list(requirePrincipal(request), request.query),
    );

    app.get(
      '/api/v1/support/chat/conversation/:id/messages',
      {
        config: { access },
        schema: {
          operationId: 'listSupportMessages',
          tags: ['support'],
          summary: 'Messages of a conversation, newest first',
          params: IdParams,
          querystring: PageQuery,
          response: { 200: MessagePage },
        },
      },
      async (request) => chat.messages(requirePrincipal(request), request.params.id, request.query),
    );

    app.post(
      '/api/v1/support/chat/conversation/:id/message',
      {
        config: { access },
        schema: {
          operationId: 'sendSupportMessage',
          tags: ['support'],
          summary: 'Post a message to an open conversation (also sent live to `support:<id>`)',
          description:
            'A resend with the same `client_id` and text returns the stored message with 200 and sends nothing ' +
            'again; the same `client_id` with other text is a 409 CLIENT_ID_REUSED. The first staff member to ' +
            'reply is assigned the conversation. A closed conversation answers 409 CONVERSATION_CLOSED.',
          params: IdParams,
          body: SendMessageBody,
          response: { 200: MessageView, 201: MessageView },
        },
      },
      async (request, reply) => {
        const result = await chat.send(requirePrincipal(request), request.params.id, request.body);
        return reply.code(result.created ? 201 : 200).send(result.message);
      },
    );

    app.post(
      '/api/v1/support/chat/conversation/:id/close',
      {
        config: { access },
        schema: {
          operationId: 'closeSupportConversation',
          tags: ['support'],
          summary: 'Close a conversation (either side); 409 CONVERSATION_CLOSED when already closed',
          params: IdParams,
          response: { 200: ConversationView },
        },
      },
      async (request) => chat.close(requirePrincipal(request), request.params.id, contextOf(request)),
    );
  };
}
