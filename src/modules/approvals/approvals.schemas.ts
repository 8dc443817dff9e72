/** Schemas of the maker-checker queue (`/api/v1/policy/approval`). */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';

const Status = Type.Union([
  Type.Literal('pending'),
  Type.Literal('executing'),
  Type.Literal('approved'),
  Type.Literal('rejected'),
  Type.Literal('cancelled'),
  Type.Literal('failed'),
]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const ApprovalView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  action: Type.String(),
  summary: Type.String(),
  payload: Type.Unknown({
    description:
      'What the action will do, as filed; money in it is a decimal string of minor units ("1000000")',
  }),
  entity_type: NullableString,
  entity_id: NullableString,
  maker_id: Type.String({ format: 'uuid' }),
  status: Status,
  checker_id: NullableString,
  decided_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  reason: NullableString,
  result: Type.Unknown({
    description: 'What the action returned once executed; money in it is a decimal string of minor units',
  }),
  error: NullableString,
  expires_at: Type.String({ format: 'date-time' }),
  created_at: Type.String({ format: 'date-time' }),
});

export const ApprovalQuery = Type.Intersect([
  PageQuery,
  Type.Object({ status: Type.Optional(Status), action: Type.Optional(Type.String({ maxLength: 64 })) }),
]);
export const ApprovalPage = pageOf(ApprovalView);
export const RequestRef = Type.Object({ request_id: Type.String({ format: 'uuid' }) });
export const Rejection = Type.Object({
  request_id: Type.String({ format: 'uuid' }),
  reason: Type.String({ minLength: 3, maxLength: 500 }),
});
export const ActionCatalogue = Type.Object({
  items: Type.Array(
    Type.Object({
      name: Type.String(),
      description: Type.String(),
      permission: Type.String(),
      requires_approval: Type.Boolean(),
    }),
  ),
});
export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
