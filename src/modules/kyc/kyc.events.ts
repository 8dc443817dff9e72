/** The topics KYC publishes: a KYC application decided. */
import { Type } from 'typebox';
import { defineTopic } from '../../platform/events.ts';

export const kycDecided = defineTopic(
  'kyc.decided',
  1,
  Type.Object(
    {
      customer_id: Type.String(),
      name: Type.Optional(
        Type.String({ description: 'The name the customer is addressed by (always sent).' }),
      ),
      application_id: Type.String(),
      decision: Type.Union([Type.Literal('approved'), Type.Literal('rejected')]),
      reason: Type.Optional(Type.String({ description: 'Rejections: why.' })),
      tier: Type.Optional(Type.String({ description: 'Approvals: the name of the tier reached.' })),
      tier_code: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  "A KYC application was approved (the customer's tier changed) or rejected.",
);

export const kycTopics = [kycDecided];
