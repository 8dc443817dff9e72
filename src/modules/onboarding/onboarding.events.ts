/** The topics the onboarding module publishes (docs/events.md is generated from them). */
import { Type } from 'typebox';
import { defineTopic } from '../../platform/events.ts';

export const registrationEnded = defineTopic(
  'onboarding.registration_ended',
  1,
  Type.Object(
    {
      registration_id: Type.String(),
      outcome: Type.Union([
        Type.Literal('completed'),
        Type.Literal('declined'),
        Type.Literal('rejected'),
        Type.Literal('expired'),
      ]),
      path: Type.Union([Type.Literal('cbs'), Type.Literal('didit'), Type.Null()]),
      customer_id: Type.Union([Type.String(), Type.Null()]),
    },
    { additionalProperties: false },
  ),
  'A registration reached an end: completed (the customer exists), declined (Didit), rejected (review) or expired.',
);

export const onboardingTopics = [registrationEnded];
