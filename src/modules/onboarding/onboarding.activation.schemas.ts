/** Request and response schemas of the CBS identity step, completion and the review queue. */
import { Type } from 'typebox';
import { TokenPairSchema } from '../identity/index.ts';
import { StateSchema } from './onboarding.journey.schemas.ts';

const Name = (description: string) => Type.String({ minLength: 1, maxLength: 100, description });
const IsoDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' });

export const CbsLookupBody = Type.Object(
  {
    lookup: Type.Union([Type.Literal('national_id'), Type.Literal('account')], {
      description:
        '`national_id`: find the bank client by national ID. `account`: by account number, the registering phone ' +
        'being what must match.',
    }),
    national_id: Type.Optional(Type.String({ minLength: 4, maxLength: 32, pattern: '^[A-Za-z0-9 -]+$' })),
    national_id_type: Type.Optional(Type.String({ minLength: 2, maxLength: 32, pattern: '^[a-z_]+$' })),
    account_number: Type.Optional(Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9-]+$' })),
    first_name: Name('As on the ID.'),
    middle_name: Type.Optional(Type.String({ maxLength: 100 })),
    last_name: Name('As on the ID.'),
    date_of_birth: IsoDate,
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    nationality: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2.' })),
  },
  { additionalProperties: false },
);

export const CbsLookupAnswer = Type.Object({
  state: StateSchema,
  path: Type.Literal('cbs'),
  expected_steps: Type.Array(Type.String()),
});

export const CompleteBody = Type.Object({}, { additionalProperties: false });

export const CompleteAnswer = Type.Object({
  state: StateSchema,
  customer_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  wallet_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  kyc_tier: Type.Union([Type.String(), Type.Null()]),
  message: Type.String({ description: 'What happens next, for the customer.' }),
  tokens: Type.Union([TokenPairSchema, Type.Null()], {
    description:
      'Signed in at once (as `POST /auth/customer/login` answers) when activated by this request; null when the ' +
      'registration went to review, or when the same request is repeated (sign in with phone and PIN).',
  }),
});

export const ReviewListQuery = Type.Object({
  status: Type.Optional(
    Type.Union([Type.Literal('open'), Type.Literal('claimed'), Type.Literal('mine'), Type.Literal('all')], {
      default: 'all',
      description: '`open`: nobody works on it; `claimed`: somebody does; `mine`: the caller does.',
    }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
});

export const ReviewItem = Type.Object({
  registration_id: Type.String({ format: 'uuid' }),
  state: StateSchema,
  path: Type.Union([Type.Literal('cbs'), Type.Literal('didit'), Type.Null()]),
  phone: Type.Union([Type.String({ description: 'Masked.' }), Type.Null()]),
  reasons: Type.Array(Type.String(), { description: 'Why automatic approval did not apply.' }),
  mismatches: Type.Array(Type.String()),
  declared_name: Type.Union([Type.String(), Type.Null()]),
  identity_name: Type.Union([
    Type.String({ description: 'The name the CBS or the identity document holds.' }),
    Type.Null(),
  ]),
  cbs_client_id: Type.Union([Type.String(), Type.Null()]),
  claimed_by: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  claimed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  rounds: Type.Integer(),
  waiting_since: Type.String({ format: 'date-time' }),
});

export const ReviewList = Type.Object({ items: Type.Array(ReviewItem) });

const RegistrationRef = { registration_id: Type.String({ format: 'uuid' }) };

export const ReviewClaimBody = Type.Object(RegistrationRef, { additionalProperties: false });
export const ReviewApproveBody = Type.Object(
  { ...RegistrationRef, note: Type.Optional(Type.String({ maxLength: 1000 })) },
  { additionalProperties: false },
);
export const ReviewRejectBody = Type.Object(
  {
    ...RegistrationRef,
    reason: Type.String({ minLength: 3, maxLength: 500, description: 'Shown to the customer.' }),
  },
  { additionalProperties: false },
);
export const ReviewRequestInfoBody = Type.Object(
  {
    ...RegistrationRef,
    step: Type.Union([Type.Literal('identity'), Type.Literal('details')], {
      description:
        '`identity`: the customer does the identity step again (CBS lookup or Didit); `details`: the customer ' +
        'corrects the declared details.',
    }),
    message: Type.String({ minLength: 3, maxLength: 500, description: 'Shown to the customer.' }),
  },
  { additionalProperties: false },
);

export const ReviewDecision = Type.Object({
  registration_id: Type.String({ format: 'uuid' }),
  state: StateSchema,
  review_status: Type.Union([
    Type.Literal('claimed'),
    Type.Literal('approved'),
    Type.Literal('rejected'),
    Type.Literal('info_requested'),
  ]),
  claimed_by: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  customer_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
});

export const DetailsUpdateBody = Type.Object(
  {
    first_name: Name('As on the ID.'),
    middle_name: Type.Optional(Type.String({ maxLength: 100 })),
    last_name: Name('As on the ID.'),
    date_of_birth: IsoDate,
  },
  { additionalProperties: false },
);

export const DetailsUpdateAnswer = Type.Object({
  state: StateSchema,
  expected_steps: Type.Array(Type.String()),
});
