/** Schemas of `/api/v1/core`: audit log queries and entity categories. */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const AuditEntryView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  seq: Type.String({ description: 'Position in the hash chain' }),
  occurred_at: Type.String({ format: 'date-time' }),
  actor_type: Type.String(),
  actor_id: Nullable(Type.String()),
  action: Type.String(),
  entity_type: Type.String(),
  entity_id: Nullable(Type.String()),
  before: Type.Unknown(),
  after: Type.Unknown(),
  ip: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  request_id: Nullable(Type.String()),
  hash: Type.String(),
});

export const AuditQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    actor_id: Type.Optional(Type.String({ maxLength: 64 })),
    action: Type.Optional(Type.String({ maxLength: 100 })),
    entity_type: Type.Optional(Type.String({ maxLength: 64 })),
    entity_id: Type.Optional(Type.String({ maxLength: 64 })),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
  }),
]);

export const AuditPage = pageOf(AuditEntryView);

export const AuditVerification = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer(),
  first_bad_seq: Nullable(Type.String()),
  reason: Nullable(Type.String()),
});

export const CategoryView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  entity_type: Type.String(),
  code: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  active: Type.Boolean(),
  sort_order: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

export const CategoryQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    entity_type: Type.Optional(Type.String({ maxLength: 64 })),
    active: Type.Optional(Type.Boolean()),
  }),
]);

export const CategoryPage = pageOf(CategoryView);

const Code = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9_]+$' });

export const CategoryCreate = Type.Object({
  entity_type: Code,
  code: Code,
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
  sort_order: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000 })),
});

export const CategoryUpdate = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
    active: Type.Optional(Type.Boolean()),
    sort_order: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000 })),
  },
  { minProperties: 1 },
);

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
