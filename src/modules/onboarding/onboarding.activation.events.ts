/** The topic activation publishes: a self-registered customer exists (the welcome message is sent from it). */
import { Type } from 'typebox';
import { defineTopic } from '../../platform/events.ts';

export const registrationActivated = defineTopic(
  'onboarding.customer_activated',
  1,
  Type.Object(
    {
      registration_id: Type.String({ format: 'uuid' }),
      customer_id: Type.String({ format: 'uuid' }),
      wallet_id: Type.String({ format: 'uuid' }),
      /** `declared`: a USSD registration whose typed identity the bank did not confirm (see `approval`). */
      path: Type.Union([Type.Literal('cbs'), Type.Literal('didit'), Type.Literal('declared')]),
      kyc_tier: Type.String(),
      language: Type.String(),
      approval: Type.Union([Type.Literal('automatic'), Type.Literal('manual')]),
    },
    { additionalProperties: false },
  ),
  'A registration was activated: its customer, default wallet and credentials exist. The welcome message is sent ' +
    'from this event.',
);

export const activationTopics = [registrationActivated];
