/** The topics support publishes: a staff reply in a support conversation. */
import { Type } from 'typebox';
import { defineTopic } from '../../platform/events.ts';

export const supportReply = defineTopic(
  'support.reply',
  1,
  Type.Object(
    {
      conversation_id: Type.String(),
      message_id: Type.String(),
      customer_id: Type.String(),
      subject: Type.String(),
    },
    { additionalProperties: false },
  ),
  'Staff replied in a support conversation (the reply itself stays in the conversation).',
);

export const supportTopics = [supportReply];
