/**
 * Administration of staff users, roles and role permissions. Guards against locking the platform out of itself:
 * nobody changes their own status, the last active super administrator stays, super_admin keeps permission:manage.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { decodeCursor, paginate } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import {
  addUserRole,
  countOtherActiveHolders,
  deleteRole,
  findRoleByCode,
  findRoleById,
  findUserById,
  grantRolePermissions,
  type IdentityService,
  insertRole,
  knownPermissionCodes,
  listPermissions,
  listRoles,
  listUsers,
  permissionsOfRole,
  permissionsOfRoleCodes,
  type RoleRow,
  readPermissionSeed,
  removeUserRole,
  revokeRolePermissions,
  roleMemberCount,
  rolesOfUsers,
  SEED_DIR,
  setUserStatus,
  type UserRow,
  updateRoleDetails,
  updateUserDetails,
  userAccess,
  userView,
} from '../identity/index.ts';
import { accessErrors } from './access.errors.ts';

const SUPER_ADMIN = 'super_admin';

/**
 * Permissions that make a role privileged: they change who may do what (roles, permissions, access policies) or
 * switch controls off (runtime settings, maker-checker included). Giving a role that holds one, or granting one to a
 * role, needs a second staff member by default (`PRIVILEGED_ROLE_FOUR_EYES`). The list is `privileged` in
 * seed/permissions.json (patterns as in roles: `module:*`, `*:action`); these apply when it is missing.
 */
const DEFAULT_PRIVILEGED = ['permission:manage', 'user:role_manage', 'admin:config_update', 'policy:manage'];

function matchesPattern(pattern: string, code: string): boolean {
  if (pattern === '*') return true;
  const [module, action] = pattern.split(':');
  const [codeModule, codeAction] = code.split(':');
  return (module === '*' || module === codeModule) && (action === '*' || action === codeAction);
}

export function privilegedPatterns(): string[] {
  const seed = readPermissionSeed() as { privileged?: unknown };
  return Array.isArray(seed.privileged) ? (seed.privileged as string[]) : DEFAULT_PRIVILEGED;
}

export class AccessService {
  readonly #db: Executor;
  readonly #identity: IdentityService;
  readonly #privilegedFourEyes: boolean;
  readonly #privileged: string[];

  constructor(db: Executor, identity: IdentityService, options: { privilegedFourEyes: boolean }) {
    this.#db = db;
    this.#identity = identity;
    this.#privilegedFourEyes = options.privilegedFourEyes;
    this.#privileged = privilegedPatterns();
  }

  async #user(tx: Executor, id: string, lock = false): Promise<UserRow> {
    const user = await findUserById(tx, id, lock);
    if (!user) throw commonErrors.notFound('User');
    return user;
  }

  async #view(tx: Executor, user: UserRow) {
    return userView(user, (await rolesOfUsers(tx, [user.id])).get(user.id) ?? []);
  }

  async listUsers(filters: {
    status?: UserRow['status'];
    role?: string;
    q?: string;
    limit?: number;
    cursor?: string;
  }) {
    const limit = filters.limit ?? 20;
    const position = decodeCursor(filters.cursor, ['id'] as const);
    const rows = await listUsers(this.#db, {
      ...(filters.status ? { status: filters.status } : {}),
      ...(filters.role ? { role: filters.role } : {}),
      ...(filters.q ? { q: filters.q } : {}),
      ...(position ? { afterId: position.id } : {}),
      limit: limit + 1,
    });
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    const roleMap = await rolesOfUsers(
      this.#db,
      page.items.map((row) => row.id),
    );
    return {
      items: page.items.map((row) => userView(row, roleMap.get(row.id) ?? [])),
      next_cursor: page.next_cursor,
    };
  }

  async getUser(id: string) {
    return this.#view(this.#db, await this.#user(this.#db, id));
  }

  async createUser(
    input: {
      username: string;
      email: string;
      full_name: string;
      phone?: string;
      password: string;
      roles: string[];
      must_change_password?: boolean;
    },
    context: RequestContext,
  ) {
    // The default (unset) is identity's, shared with /auth/register.
    return this.#identity.createUser(input, context, { mustChangePassword: input.must_change_password });
  }

  async updateUser(
    id: string,
    changes: { email?: string; full_name?: string; phone?: string | null },
    context: RequestContext,
  ) {
    try {
      return await inTransaction(this.#db, async (tx) => {
        const before = await this.#view(tx, await this.#user(tx, id, true));
        // Email and phone receive password resets and one-time codes: whoever sets them can take the account over.
        // So they are changed only by someone holding at least the user's permissions (an admin cannot redirect a
        // super administrator's reset to their own inbox and sign in as them).
        const contactChanges =
          (changes.email !== undefined && changes.email !== before.email) ||
          (changes.phone !== undefined && changes.phone !== before.phone);
        if (contactChanges) await this.#assertNotAbove(tx, context, id, 'change the email or phone of');
        const row = await updateUserDetails(tx, id, {
          ...(changes.email !== undefined ? { email: changes.email } : {}),
          ...(changes.full_name !== undefined ? { fullName: changes.full_name } : {}),
          ...(changes.phone !== undefined ? { phone: changes.phone } : {}),
        });
        const after = await this.#view(tx, row);
        await writeAudit(tx, context, {
          action: 'user.updated',
          entityType: 'user',
          entityId: id,
          before,
          after,
        });
        return after;
      });
    } catch (error) {
      const constraint = violatedConstraint(error);
      if (constraint === 'users_email_key') throw accessErrors.userExists('email');
      if (constraint === 'users_phone_key') throw accessErrors.userExists('phone');
      throw error;
    }
  }

  /** Suspending or disabling ends every session of the user on every node at once. */
  async changeStatus(userId: string, status: UserRow['status'], reason: string, context: RequestContext) {
    if (context.actor.id === userId) throw accessErrors.selfStatusChange();
    const view = await inTransaction(this.#db, async (tx) => {
      const user = await this.#user(tx, userId, true);
      await this.#assertNotAbove(tx, context, userId, 'change the status of');
      const before = await this.#view(tx, user);
      if (status !== 'active' && before.roles.includes(SUPER_ADMIN) && user.status === 'active') {
        await tx.execute(sql`select pg_advisory_xact_lock(7404)`);
        if ((await countOtherActiveHolders(tx, { code: SUPER_ADMIN }, userId)) === 0)
          throw accessErrors.lastSuperAdmin();
      }
      const row = await setUserStatus(tx, userId, status);
      const after = await this.#view(tx, row);
      await writeAudit(tx, context, {
        action: 'user.status_changed',
        entityType: 'user',
        entityId: userId,
        before: { status: before.status },
        after: { status, reason },
      });
      return after;
    });
    if (status !== 'active')
      await this.#identity.sessions.revokeAllSessions(userId, `user_${status}`, context);
    else await this.#identity.principalChanged({ type: 'user', id: userId });
    return view;
  }

  async #roleByCode(tx: Executor, code: string): Promise<RoleRow> {
    const role = await findRoleByCode(tx, code);
    if (!role) throw accessErrors.unknownRole(code);
    return role;
  }

  /**
   * Nobody hands out more than they hold: a role (or permissions) may be granted only by a staff member who holds
   * every permission in it, so an admin cannot make anyone — themselves included — a super administrator.
   */
  /**
   * Staff act on another staff user (their contact details, status, roles) only when that user holds nothing beyond
   * the actor's own permissions: otherwise an administrator could suspend or strip every super administrator, or
   * redirect their password reset, and so escape the four eyes that privileged changes need.
   */
  async #assertNotAbove(tx: Executor, context: RequestContext, userId: string, what: string) {
    if (context.actor.type !== 'user' || !context.actor.id || context.actor.id === userId) return;
    const held = new Set((await userAccess(tx, context.actor.id))?.permissions ?? []);
    const beyond = ((await userAccess(tx, userId))?.permissions ?? []).filter((code) => !held.has(code));
    if (beyond.length > 0) throw accessErrors.userBeyondOwn(what, beyond);
  }

  async #assertGrantable(tx: Executor, context: RequestContext, codes: string[]) {
    if (context.actor.type !== 'user' || !context.actor.id) return;
    const held = new Set((await userAccess(tx, context.actor.id))?.permissions ?? []);
    const beyond = codes.filter((code) => !held.has(code));
    if (beyond.length > 0) throw accessErrors.beyondOwnPermissions(beyond);
  }

  /**
   * Refusals known when a role assignment is filed: an unknown user or role, or a role beyond the maker's own
   * permissions (a maker may not ask a checker for what they could not do themselves). Checked again on execution.
   */
  async assertCanAssign(userId: string, roleCode: string, context: RequestContext): Promise<void> {
    await this.#user(this.#db, userId);
    const role = await this.#roleByCode(this.#db, roleCode);
    await this.#assertGrantable(this.#db, context, await permissionsOfRole(this.#db, role.id));
  }

  /** The same for granting permissions to a role: the role exists, the permissions exist, the maker holds them. */
  async assertCanGrant(roleId: string, codes: string[], context: RequestContext): Promise<void> {
    await this.#role(this.#db, roleId);
    await this.#checkPermissions(this.#db, codes);
    await this.#assertGrantable(this.#db, context, codes);
  }

  /** The privileged permissions among `codes`. */
  privilegedAmong(codes: string[]): string[] {
    return codes.filter((code) => this.#privileged.some((pattern) => matchesPattern(pattern, code)));
  }

  /** Whether giving these roles needs a second staff member because one of them is privileged. */
  async rolesNeedFourEyes(roleCodes: string[]): Promise<boolean> {
    if (!this.#privilegedFourEyes || roleCodes.length === 0) return false;
    return this.privilegedAmong(await permissionsOfRoleCodes(this.#db, roleCodes)).length > 0;
  }

  /** Whether granting these permissions needs a second staff member because one of them is privileged. */
  permissionsNeedFourEyes(codes: string[]): boolean {
    return this.#privilegedFourEyes && this.privilegedAmong(codes).length > 0;
  }

  async assignRole(userId: string, roleCode: string, context: RequestContext) {
    const view = await inTransaction(this.#db, async (tx) => {
      const user = await this.#user(tx, userId, true);
      const role = await this.#roleByCode(tx, roleCode);
      await this.#assertGrantable(tx, context, await permissionsOfRole(tx, role.id));
      await addUserRole(tx, userId, role.id);
      const after = await this.#view(tx, user);
      await writeAudit(tx, context, {
        action: 'user.role_assigned',
        entityType: 'user',
        entityId: userId,
        after: { role: roleCode },
      });
      return after;
    });
    // Every node's cached access of this user (identity's principal cache) is dropped.
    await this.#identity.principalChanged({ type: 'user', id: userId });
    return view;
  }

  async removeRole(userId: string, roleCode: string, context: RequestContext) {
    const view = await inTransaction(this.#db, async (tx) => {
      const user = await this.#user(tx, userId, true);
      const role = await this.#roleByCode(tx, roleCode);
      await this.#assertNotAbove(tx, context, userId, 'remove a role from');
      if (roleCode === SUPER_ADMIN && user.status === 'active') {
        await tx.execute(sql`select pg_advisory_xact_lock(7404)`);
        if ((await countOtherActiveHolders(tx, { id: role.id }, userId)) === 0)
          throw accessErrors.lastSuperAdmin();
      }
      await removeUserRole(tx, userId, role.id);
      const after = await this.#view(tx, user);
      await writeAudit(tx, context, {
        action: 'user.role_removed',
        entityType: 'user',
        entityId: userId,
        before: { role: roleCode },
      });
      return after;
    });
    await this.#identity.principalChanged({ type: 'user', id: userId });
    return view;
  }

  async #roleView(tx: Executor, role: RoleRow) {
    const granted = await permissionsOfRole(tx, role.id);
    const members = await roleMemberCount(tx, role.id);
    return {
      id: role.id,
      code: role.code,
      name: role.name,
      description: role.description,
      system: role.system,
      permissions: granted,
      user_count: members,
      created_at: role.createdAt.toISOString(),
      updated_at: role.updatedAt.toISOString(),
    };
  }

  async #role(tx: Executor, id: string): Promise<RoleRow> {
    const role = await findRoleById(tx, id);
    if (!role) throw commonErrors.notFound('Role');
    return role;
  }

  async listRoles() {
    const rows = await listRoles(this.#db, 500);
    const items = [];
    for (const row of rows) items.push(await this.#roleView(this.#db, row));
    return { items };
  }

  async getRole(id: string) {
    return this.#roleView(this.#db, await this.#role(this.#db, id));
  }

  async #checkPermissions(tx: Executor, codes: string[]) {
    if (codes.length === 0) return;
    const known = new Set(await knownPermissionCodes(tx, codes));
    const unknown = codes.filter((code) => !known.has(code));
    if (unknown.length > 0) throw accessErrors.unknownPermissions(unknown);
  }

  async createRole(
    input: { code: string; name: string; description?: string; permissions: string[] },
    context: RequestContext,
  ) {
    try {
      return await inTransaction(this.#db, async (tx) => {
        await this.#checkPermissions(tx, input.permissions);
        await this.#assertGrantable(tx, context, input.permissions);
        const role = await insertRole(tx, {
          id: uuidv7(),
          code: input.code,
          name: input.name,
          description: input.description ?? null,
        });
        await grantRolePermissions(tx, role.id, input.permissions);
        const view = await this.#roleView(tx, role);
        await writeAudit(tx, context, {
          action: 'role.created',
          entityType: 'role',
          entityId: role.id,
          after: view,
        });
        return view;
      });
    } catch (error) {
      if (violatedConstraint(error) === 'roles_code_key') throw accessErrors.roleExists();
      throw error;
    }
  }

  async updateRole(
    id: string,
    changes: { name?: string; description?: string | null },
    context: RequestContext,
  ) {
    return inTransaction(this.#db, async (tx) => {
      const before = await this.#roleView(tx, await this.#role(tx, id));
      const role = await updateRoleDetails(tx, id, changes);
      const after = await this.#roleView(tx, role);
      await writeAudit(tx, context, {
        action: 'role.updated',
        entityType: 'role',
        entityId: id,
        before,
        after,
      });
      return after;
    });
  }

  async deleteRole(id: string, context: RequestContext) {
    await inTransaction(this.#db, async (tx) => {
      const role = await this.#role(tx, id);
      if (role.system) throw accessErrors.systemRole();
      const view = await this.#roleView(tx, role);
      if (view.user_count > 0) throw accessErrors.roleInUse(view.user_count);
      await deleteRole(tx, id);
      await writeAudit(tx, context, {
        action: 'role.deleted',
        entityType: 'role',
        entityId: id,
        before: view,
      });
    });
  }

  async listPermissions() {
    const rows = await listPermissions(this.#db);
    return {
      items: rows.map((row) => ({
        code: row.code,
        module: row.module,
        action: row.action,
        description: row.description,
      })),
    };
  }

  listActions() {
    const items = JSON.parse(readFileSync(join(SEED_DIR, 'actions.json'), 'utf8')) as {
      code: string;
      description: string;
    }[];
    return { items };
  }

  async grantPermissions(roleId: string, codes: string[], context: RequestContext) {
    const view = await inTransaction(this.#db, async (tx) => {
      const role = await this.#role(tx, roleId);
      await this.#checkPermissions(tx, codes);
      await this.#assertGrantable(tx, context, codes);
      await grantRolePermissions(tx, roleId, codes);
      const view = await this.#roleView(tx, role);
      await writeAudit(tx, context, {
        action: 'role.permissions_granted',
        entityType: 'role',
        entityId: roleId,
        after: { permissions: codes },
      });
      return view;
    });
    // A role's permissions are every holder's: every cached staff user is dropped on every node.
    await this.#identity.principalChanged({ type: 'user' });
    return view;
  }

  async revokePermissions(roleId: string, codes: string[], context: RequestContext) {
    const view = await inTransaction(this.#db, async (tx) => {
      const role = await this.#role(tx, roleId);
      if (role.code === SUPER_ADMIN && codes.includes('permission:manage'))
        throw accessErrors.protectedPermission();
      await this.#checkPermissions(tx, codes);
      await revokeRolePermissions(tx, roleId, codes);
      const view = await this.#roleView(tx, role);
      await writeAudit(tx, context, {
        action: 'role.permissions_revoked',
        entityType: 'role',
        entityId: roleId,
        before: { permissions: codes },
      });
      return view;
    });
    await this.#identity.principalChanged({ type: 'user' });
    return view;
  }
}
