/** The topics the customers module publishes (docs/events.md is generated from them). */
import { Type } from 'typebox';
import { defineTopic } from '../../platform/events.ts';

export const customerErased = defineTopic(
  'customers.customer_erased',
  1,
  Type.Object(
    {
      customer_id: Type.String({ description: 'The erased customer (the row and its number stay).' }),
      erased_at: Type.String({ description: 'ISO 8601 time of the erasure.' }),
    },
    { additionalProperties: false },
  ),
  'A customer’s personal data was erased (the data subject’s right to erasure); modules holding data derived from ' +
    'it forget theirs.',
);

export const customerTopics = [customerErased];
