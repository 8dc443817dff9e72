/** Request and response schemas of the onboarding routes. */
import { Type } from 'typebox';

export const ItemCreate = Type.Object(
  {
    customer_id: Type.Optional(
      Type.String({
        format: 'uuid',
        description: 'Staff: whose item. Customers: their own (may be left out).',
      }),
    ),
    reference: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' }),
    amount_minor: Type.Integer({ minimum: 1, maximum: 9007199254740991, description: 'Minor units.' }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  },
  { additionalProperties: false },
);

export const ItemView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  customer_id: Type.String({ format: 'uuid' }),
  reference: Type.String(),
  amount_minor: Type.Integer(),
  currency: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
