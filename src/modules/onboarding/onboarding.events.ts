/** The topics the onboarding module publishes (docs/events.md is generated from them). */
import { Type } from 'typebox';
import { defineTopic, MinorUnits } from '../../platform/events.ts';

export const onboardingItemCreated = defineTopic(
  'onboarding.item_created',
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
  'A onboarding item was created.',
);

export const onboardingTopics = [onboardingItemCreated];
