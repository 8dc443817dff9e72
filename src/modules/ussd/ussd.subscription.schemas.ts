/** Schemas of the USSD subscription routes (`/api/v1/ussd/subscription`, the customer's own and staff's per customer). */
import { Type } from 'typebox';
import { LANGUAGES } from './ussd.menu.ts';

const LanguageOrDefault = Type.Union([Type.Enum([...LANGUAGES]), Type.Null()], {
  description:
    'The language of the USSD menus: `en`, `fr` or `sw`; null for the default (USSD_DEFAULT_LANGUAGE)',
});

export const SubscriptionView = Type.Object({
  enabled: Type.Boolean({ description: 'The USSD channel is on: dialling in reaches the menus' }),
  language: LanguageOrDefault,
});

export const SubscriptionUpdate = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: 'Turn the USSD channel on or off for your number' })),
    language: Type.Optional(LanguageOrDefault),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const CustomerSubscriptionParams = Type.Object({ customer_id: Type.String({ format: 'uuid' }) });

export const StaffSubscriptionView = Type.Object({
  customer_id: Type.String({ format: 'uuid' }),
  enabled: Type.Boolean(),
  language: LanguageOrDefault,
  changed_by: Type.Union([
    Type.Object({
      type: Type.Enum(['customer', 'user']),
      id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    }),
    Type.Null(),
  ]),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'Why the channel was last switched' }),
  updated_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const StaffSubscriptionUpdate = Type.Object(
  {
    enabled: Type.Boolean(),
    reason: Type.String({
      minLength: 3,
      maxLength: 500,
      description: 'Why (kept with the change and audited)',
    }),
  },
  { additionalProperties: false },
);
