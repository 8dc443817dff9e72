/** HTTP routes of `/api/v1/user` (users and roles) and `/api/v1/permissions`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf } from '../../platform/http.ts';
import { type ApprovalService, ApprovalViewSchema } from '../approvals/index.ts';
import { accessErrors } from './access.errors.ts';
import {
  ActionList,
  IdParams,
  PermissionChange,
  PermissionList,
  RoleAssignment,
  RoleCreate,
  RoleList,
  RoleUpdate,
  RoleView,
  UserCreate,
  UserPage,
  UserQuery,
  UserStatusChange,
  UserUpdate,
  UserView,
} from './access.schemas.ts';
import type { AccessService } from './access.service.ts';

export function accessRoutes(access: AccessService, approvals: ApprovalService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/user/user',
      {
        config: { access: { permission: 'user:read' } },
        schema: {
          operationId: 'listUsers',
          tags: ['user'],
          summary: 'Staff users',
          querystring: UserQuery,
          response: { 200: UserPage },
        },
      },
      async (request) => access.listUsers(request.query),
    );
    app.post(
      '/api/v1/user/user/add',
      {
        config: { access: { permission: 'user:create' } },
        schema: {
          operationId: 'createUser',
          tags: ['user'],
          summary: 'Create a staff user (must change the password at first login unless told otherwise)',
          body: UserCreate,
          response: { 201: UserView },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await access.createUser({ ...request.body, roles: request.body.roles ?? [] }, contextOf(request)),
          ),
    );
    app.get(
      '/api/v1/user/user/:id',
      {
        config: { access: { permission: 'user:read' } },
        schema: {
          operationId: 'getUser',
          tags: ['user'],
          summary: 'One staff user',
          params: IdParams,
          response: { 200: UserView },
        },
      },
      async (request) => access.getUser(request.params.id),
    );
    app.patch(
      '/api/v1/user/user/:id',
      {
        config: { access: { permission: 'user:update' } },
        schema: {
          operationId: 'updateUser',
          tags: ['user'],
          summary: 'Change a staff user’s details',
          params: IdParams,
          body: UserUpdate,
          response: { 200: UserView },
        },
      },
      async (request) => access.updateUser(request.params.id, request.body, contextOf(request)),
    );
    app.post(
      '/api/v1/user/user/status',
      {
        config: { access: { permission: 'user:disable' } },
        schema: {
          operationId: 'changeUserStatus',
          tags: ['user'],
          summary: 'Activate, suspend or disable a staff user; suspending or disabling ends their sessions',
          body: UserStatusChange,
          response: { 200: UserView },
        },
      },
      async (request) =>
        access.changeStatus(
          request.body.user_id,
          request.body.status,
          request.body.reason,
          contextOf(request),
        ),
    );
    app.post(
      '/api/v1/user/role/assign',
      {
        config: { access: { permission: 'user:role_manage' } },
        schema: {
          operationId: 'assignRole',
          tags: ['user'],
          summary:
            'Give a user a role (202 with a request when maker-checker applies to user.role_assign, and always for a privileged role such as super_admin)',
          body: RoleAssignment,
          response: { 200: UserView, 202: ApprovalViewSchema },
        },
      },
      async (request, reply) => {
        const { user_id, role } = request.body;
        await access.assertCanAssign(user_id, role, contextOf(request));
        // A privileged role (super_admin, admin, …) always waits for a second staff member (ADR 0007).
        const privileged = await access.rolesNeedFourEyes([role]);
        const outcome = await approvals.run<
          { user_id: string; role: string },
          Awaited<ReturnType<AccessService['assignRole']>>
        >(
          'user.role_assign',
          { user_id, role },
          { summary: `Give role ${role} to user ${user_id}`, entityType: 'user', entityId: user_id },
          contextOf(request),
          { always: privileged },
        );
        return outcome.kind === 'pending'
          ? reply.code(202).send(outcome.request)
          : reply.code(200).send(outcome.result);
      },
    );
    app.post(
      '/api/v1/user/role/remove',
      {
        config: { access: { permission: 'user:role_manage' } },
        schema: {
          operationId: 'removeRole',
          tags: ['user'],
          summary: 'Take a role from a user',
          body: RoleAssignment,
          response: { 200: UserView },
        },
      },
      async (request) => access.removeRole(request.body.user_id, request.body.role, contextOf(request)),
    );
    app.get(
      '/api/v1/user/role',
      {
        config: { access: { permission: 'user:read' } },
        schema: {
          operationId: 'listRoles',
          tags: ['user'],
          summary: 'Roles with their permissions',
          response: { 200: RoleList },
        },
      },
      async () => access.listRoles(),
    );
    app.post(
      '/api/v1/user/role/add',
      {
        config: { access: { permission: 'user:role_manage' } },
        schema: {
          operationId: 'createRole',
          tags: ['user'],
          summary: 'Create a role',
          body: RoleCreate,
          response: { 201: RoleView },
        },
      },
      async (request, reply) => {
        const permissions = request.body.permissions ?? [];
        // Permissions given at creation follow the same rules as granting them later.
        if (
          permissions.length > 0 &&
          ((await approvals.isRequired('permission.grant')) || access.permissionsNeedFourEyes(permissions))
        ) {
          throw accessErrors.permissionsNeedApproval();
        }
        return reply
          .code(201)
          .send(await access.createRole({ ...request.body, permissions }, contextOf(request)));
      },
    );
    app.get(
      '/api/v1/user/role/:id',
      {
        config: { access: { permission: 'user:read' } },
        schema: {
          operationId: 'getRole',
          tags: ['user'],
          summary: 'One role',
          params: IdParams,
          response: { 200: RoleView },
        },
      },
      async (request) => access.getRole(request.params.id),
    );
    app.patch(
      '/api/v1/user/role/:id',
      {
        config: { access: { permission: 'user:role_manage' } },
        schema: {
          operationId: 'updateRole',
          tags: ['user'],
          summary: 'Rename or describe a role',
          params: IdParams,
          body: RoleUpdate,
          response: { 200: RoleView },
        },
      },
      async (request) => access.updateRole(request.params.id, request.body, contextOf(request)),
    );
    app.delete(
      '/api/v1/user/role/:id',
      {
        config: { access: { permission: 'user:role_manage' } },
        schema: {
          operationId: 'deleteRole',
          tags: ['user'],
          summary: 'Delete a custom role that nobody holds',
          params: IdParams,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        await access.deleteRole(request.params.id, contextOf(request));
        return reply.code(204).send(null);
      },
    );
    app.get(
      '/api/v1/permissions/permission',
      {
        config: { access: { permission: 'permission:read' } },
        schema: {
          operationId: 'listPermissions',
          tags: ['permissions'],
          summary: 'Every permission',
          response: { 200: PermissionList },
        },
      },
      async () => access.listPermissions(),
    );
    app.get(
      '/api/v1/permissions/action',
      {
        config: { access: { permission: 'permission:read' } },
        schema: {
          operationId: 'listActions',
          tags: ['permissions'],
          summary: 'Every action a permission can name',
          response: { 200: ActionList },
        },
      },
      async () => access.listActions(),
    );
    app.post(
      '/api/v1/permissions/role/grant',
      {
        config: { access: { permission: 'permission:manage' } },
        schema: {
          operationId: 'grantPermissions',
          tags: ['permissions'],
          summary:
            'Add permissions to a role (202 with a request when maker-checker applies to permission.grant)',
          body: PermissionChange,
          response: { 200: RoleView, 202: ApprovalViewSchema },
        },
      },
      async (request, reply) => {
        const { role_id, permissions } = request.body;
        await access.assertCanGrant(role_id, permissions, contextOf(request));
        const outcome = await approvals.run<
          { role_id: string; permissions: string[] },
          Awaited<ReturnType<AccessService['grantPermissions']>>
        >(
          'permission.grant',
          { role_id, permissions },
          {
            summary: `Grant ${permissions.join(', ')} to role ${role_id}`,
            entityType: 'role',
            entityId: role_id,
          },
          contextOf(request),
          // Privileged permissions (permission:manage, …) always wait for a second staff member.
          { always: access.permissionsNeedFourEyes(permissions) },
        );
        return outcome.kind === 'pending'
          ? reply.code(202).send(outcome.request)
          : reply.code(200).send(outcome.result);
      },
    );
    app.post(
      '/api/v1/permissions/role/revoke',
      {
        config: { access: { permission: 'permission:manage' } },
        schema: {
          operationId: 'revokePermissions',
          tags: ['permissions'],
          summary: 'Take permissions from a role',
          body: PermissionChange,
          response: { 200: RoleView },
        },
      },
      async (request) =>
        access.revokePermissions(request.body.role_id, request.body.permissions, contextOf(request)),
    );
  };
}
