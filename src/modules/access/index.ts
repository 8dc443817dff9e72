/** Administration of staff users, roles and permissions (`/api/v1/user`, `/api/v1/permissions`). */
import { approvalAction, defineModule } from '../../platform/modules.ts';
import { approvalsModule } from '../approvals/index.ts';
import { identityModule } from '../identity/index.ts';
import { accessConfig } from './access.config.ts';
import { accessErrorCatalogue } from './access.errors.ts';
import { accessRoutes } from './access.routes.ts';
import { AccessService } from './access.service.ts';

export const accessModule = defineModule({
  name: 'access',
  description: 'Administration of staff users, roles and permissions (`/api/v1/user`, `/api/v1/permissions`)',
  dependsOn: ['identity', 'approvals'],
  errors: accessErrorCatalogue,
  config: accessConfig,
  permissions: [
    { code: 'user:read', description: 'Read staff users and roles' },
    { code: 'user:create', description: 'Create staff users' },
    { code: 'user:update', description: 'Change staff users' },
    { code: 'user:disable', description: 'Suspend or disable staff users' },
    { code: 'user:role_manage', description: 'Create roles and assign them' },
    { code: 'permission:read', description: 'List permissions and role mappings' },
    { code: 'permission:manage', description: 'Change which permissions a role holds' },
  ],
  create(ctx) {
    const identity = ctx.use(identityModule);
    const approvals = ctx.use(approvalsModule);
    const access = new AccessService(ctx.deps.database.db, identity, {
      privilegedFourEyes: ctx.config.PRIVILEGED_ROLE_FOUR_EYES,
    });
    // Roles given at user creation (`/user/user/add`, `/auth/register`) follow the rules of assigning them later.
    identity.roleAssignmentNeedsApproval = async (roles) =>
      (await approvals.isRequired('user.role_assign')) || (await access.rolesNeedFourEyes(roles));
    return access;
  },
  routes: (access, ctx) => accessRoutes(access, ctx.use(approvalsModule)),
  approvalActions: (access) => [
    approvalAction<{ user_id: string; role: string }>({
      name: 'user.role_assign',
      description: 'Give a staff user a role',
      permission: 'user:role_manage',
      dedupeKey: (payload) => `${payload.user_id}:${payload.role}`,
      execute: (payload, context) => access.assignRole(payload.user_id, payload.role, context),
    }),
    approvalAction<{ role_id: string; permissions: string[] }>({
      name: 'permission.grant',
      description: 'Add permissions to a role',
      permission: 'permission:manage',
      // The same set of permissions for the same role, in any order.
      dedupeKey: (payload) => `${payload.role_id}:${[...new Set(payload.permissions)].sort().join(',')}`,
      execute: (payload, context) => access.grantPermissions(payload.role_id, payload.permissions, context),
    }),
  ],
});
