/** The topics the ussd module publishes (docs/events.md is generated from them). */
import { Type } from 'typebox';
import { defineTopic, MinorUnits } from '../../platform/events.ts';

export const ussdItemCreated = defineTopic(
  'ussd.item_created',
  1,
  Type.Object(
    {
      item_id: Type.String(),
      customer_id: Type.String(),
      amount_minor: MinorUnits(),
      currency: Type.String(),
    },
    { additionalProperties: false },
  ),
  'A ussd item was created.',
);

export const ussdTopics = [ussdItemCreated];
