/** Schemas of the support chat routes (`/api/v1/support/chat`). */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import { CONVERSATION_STATUSES, SENDER_TYPES } from './support-chat.tables.ts';

export const TEXT_MAX = 2000;
export const CLIENT_ID_PATTERN = '^[A-Za-z0-9._:-]{1,64}$';

const Uuid = Type.String({ format: 'uuid' });
const Time = Type.String({ format: 'date-time' });

export const IdParams = Type.Object({ id: Uuid });

export const MessageText = Type.String({
  minLength: 1,
  maxLength: TEXT_MAX,
  description: 'The message (1–2000 characters; not blank)',
});
export const ClientId = Type.String({
  pattern: CLIENT_ID_PATTERN,
  description:
    'Chosen by the sender (letters, digits, `._:-`, up to 64): a resend with the same id stores nothing twice',
});

export const OpenConversationBody = Type.Object({
  subject: Type.String({ minLength: 1, maxLength: 200 }),
  text: MessageText,
  customer_id: Type.Optional(
    Type.String({ format: 'uuid', description: 'Staff only: the customer the conversation is with' }),
  ),
  client_id: Type.Optional(ClientId),
});

export const SendMessageBody = Type.Object({
  text: MessageText,
  client_id: Type.Optional(ClientId),
});

export const ConversationView = Type.Object({
  id: Uuid,
  customer_id: Uuid,
  subject: Type.String(),
  status: Type.Enum(CONVERSATION_STATUSES),
  assigned_user_id: Type.Union([Uuid, Type.Null()], { description: 'Staff only; null for customers' }),
  closed_at: Type.Union([Time, Type.Null()]),
  created_at: Time,
  updated_at: Time,
});

export const MessageView = Type.Object({
  id: Uuid,
  conversation_id: Uuid,
  sender_type: Type.Enum(SENDER_TYPES),
  sender_id: Type.Union([Uuid, Type.Null()], {
    description: 'Who wrote it; a staff member’s id is shown to staff only (null for customers)',
  }),
  text: Type.String(),
  client_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Time,
});

export const ConversationQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    status: Type.Optional(Type.Enum(CONVERSATION_STATUSES)),
    customer_id: Type.Optional(Type.String({ format: 'uuid', description: 'Staff only' })),
  }),
]);
export const ConversationPage = pageOf(ConversationView);
export const MessagePage = pageOf(MessageView);
