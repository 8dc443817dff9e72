/** The topics merchants publishes: a merchant registered, suspended or activated again. */
import { Type } from 'typebox';
import { defineTopic, Nullable } from '../../platform/events.ts';

export const merchantRegistered = defineTopic(
  'merchant.registered',
  1,
  Type.Object(
    {
      merchant_id: Type.String(),
      merchant_number: Type.String(),
      name: Type.String(),
      mcc: Type.String({ description: 'ISO 18245 merchant category code.' }),
      currency: Type.String(),
      wallet_id: Type.String(),
      owner_customer_id: Nullable(Type.String()),
    },
    { additionalProperties: false },
  ),
  'A merchant was registered with its settlement wallet.',
);

const StatusChange = Type.Object(
  {
    merchant_id: Type.String(),
    status: Type.Union([Type.Literal('active'), Type.Literal('suspended')]),
    reason: Nullable(Type.String()),
  },
  { additionalProperties: false },
);

export const merchantSuspended = defineTopic(
  'merchant.suspended',
  1,
  StatusChange,
  'A merchant was suspended.',
);
export const merchantActivated = defineTopic(
  'merchant.activated',
  1,
  StatusChange,
  'A suspended merchant was activated again.',
);

export const merchantTopics = [merchantRegistered, merchantSuspended, merchantActivated];
