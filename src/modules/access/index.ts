/** Administration of staff users, roles and permissions (`/api/v1/user`, `/api/v1/permissions`). */
import type { FastifyPluginAsync } from 'fastify';
import type { Dependencies } from '../../platform/dependencies.ts';
import type { ApprovalService } from '../approvals/index.ts';
import type { IdentityService } from '../identity/index.ts';
import { accessRoutes } from './access.routes.ts';
import { AccessService } from './access.service.ts';

export function accessModule(
  deps: Dependencies,
  identity: IdentityService,
  approvals: ApprovalService,
): FastifyPluginAsync {
  const access = new AccessService(deps.database.db, identity, {
    privilegedFourEyes: deps.config.PRIVILEGED_ROLE_FOUR_EYES,
  });
  // Roles given at user creation (`/user/user/add`, `/auth/register`) follow the rules of assigning them later.
  identity.roleAssignmentNeedsApproval = async (roles) =>
    (await approvals.isRequired('user.role_assign')) || (await access.rolesNeedFourEyes(roles));
  return async (app) => {
    approvals.register<{ user_id: string; role: string }>({
      name: 'user.role_assign',
      description: 'Give a staff user a role',
      permission: 'user:role_manage',
      dedupeKey: (payload) => `${payload.user_id}:${payload.role}`,
      execute: (payload, context) => access.assignRole(payload.user_id, payload.role, context),
    });
    approvals.register<{ role_id: string; permissions: string[] }>({
      name: 'permission.grant',
      description: 'Add permissions to a role',
      permission: 'permission:manage',
      // The same set of permissions for the same role, in any order.
      dedupeKey: (payload) => `${payload.role_id}:${[...new Set(payload.permissions)].sort().join(',')}`,
      execute: (payload, context) => access.grantPermissions(payload.role_id, payload.permissions, context),
    });
    await app.register(accessRoutes(access, approvals));
  };
}
