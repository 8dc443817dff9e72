/** Schemas of `/api/v1/user` (staff users and roles) and `/api/v1/permissions`. */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';

const Uuid = Type.String({ format: 'uuid' });
const RoleCode = Type.String({ minLength: 2, maxLength: 64, pattern: '^[a-z][a-z0-9_]*$' });
const PermissionCode = Type.String({ maxLength: 100, pattern: '^[a-z_]+:[a-z_]+$' });
const Status = Type.Union([Type.Literal('active'), Type.Literal('suspended'), Type.Literal('disabled')]);

export const UserView = Type.Object({
  id: Uuid,
  username: Type.String(),
  email: Type.String(),
  phone: Type.Union([Type.String(), Type.Null()]),
  full_name: Type.String(),
  status: Status,
  roles: Type.Array(Type.String()),
  must_change_password: Type.Boolean(),
  last_login_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

export const UserQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    status: Type.Optional(Status),
    role: Type.Optional(RoleCode),
    q: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'Matches username, email or name' }),
    ),
  }),
]);
export const UserPage = pageOf(UserView);

export const UserCreate = Type.Object({
  username: Type.String({ minLength: 3, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' }),
  email: Type.String({ format: 'email', maxLength: 254 }),
  full_name: Type.String({ minLength: 1, maxLength: 200 }),
  phone: Type.Optional(Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$', description: 'E.164' })),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  roles: Type.Array(RoleCode, { maxItems: 20, default: [] }),
  must_change_password: Type.Optional(
    Type.Boolean({ description: 'Force a change at first login (default true)' }),
  ),
});

export const UserUpdate = Type.Object(
  {
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    full_name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    phone: Type.Optional(Type.Union([Type.String({ pattern: '^\\+[1-9][0-9]{6,14}$' }), Type.Null()])),
  },
  { minProperties: 1 },
);

export const UserStatusChange = Type.Object({
  user_id: Uuid,
  status: Status,
  reason: Type.String({ minLength: 3, maxLength: 500 }),
});

export const RoleAssignment = Type.Object({ user_id: Uuid, role: RoleCode });

export const RoleView = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  system: Type.Boolean(),
  permissions: Type.Array(Type.String()),
  user_count: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export const RoleList = Type.Object({ items: Type.Array(RoleView) });

export const RoleCreate = Type.Object({
  code: RoleCode,
  name: Type.String({ minLength: 1, maxLength: 100 }),
  description: Type.Optional(Type.String({ maxLength: 500 })),
  permissions: Type.Array(PermissionCode, { maxItems: 500, default: [] }),
});

export const RoleUpdate = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
  },
  { minProperties: 1 },
);

export const PermissionChange = Type.Object({
  role_id: Uuid,
  permissions: Type.Array(PermissionCode, { minItems: 1, maxItems: 500 }),
});

export const PermissionView = Type.Object({
  code: Type.String(),
  module: Type.String(),
  action: Type.String(),
  description: Type.String(),
});
export const PermissionList = Type.Object({ items: Type.Array(PermissionView) });
export const ActionList = Type.Object({
  items: Type.Array(Type.Object({ code: Type.String(), description: Type.String() })),
});

export const IdParams = Type.Object({ id: Uuid });
