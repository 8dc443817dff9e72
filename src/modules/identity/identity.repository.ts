/** Queries of the identity module; each takes the executor it runs on. */
import { and, asc, eq, gt, ilike, inArray, isNull, lt, ne, or, type SQL, sql } from 'drizzle-orm';
import type { KeyRing } from '../../platform/crypto.ts';
import type { Executor } from '../../platform/db.ts';
import { rewrapColumns } from '../../platform/key-rotation.ts';
import {
  mfaFactors,
  permissions,
  refreshTokens,
  rolePermissions,
  roles,
  signingKeys,
  userRoles,
  users,
} from './identity.tables.ts';

export type UserRow = typeof users.$inferSelect;
export type RoleRow = typeof roles.$inferSelect;

export async function findUserByIdentifier(db: Executor, identifier: string): Promise<UserRow | undefined> {
  const lowered = identifier.toLowerCase();
  const [user] = await db
    .select()
    .from(users)
    .where(
      or(
        sql`lower(${users.username}) = ${lowered}`,
        sql`lower(${users.email}) = ${lowered}`,
        eq(users.phone, identifier),
      ),
    )
    .limit(1);
  return user;
}

/** One user; `lock` holds the row (`for update`) until the transaction ends. */
export async function findUserById(db: Executor, id: string, lock = false): Promise<UserRow | undefined> {
  const query = db.select().from(users).where(eq(users.id, id)).limit(1);
  const [user] = lock ? await query.for('update') : await query;
  return user;
}

export async function userAccess(
  db: Executor,
  userId: string,
): Promise<{
  status: UserRow['status'];
  mustChangePassword: boolean;
  passwordChangedAt: Date;
  roles: string[];
  permissions: string[];
} | null> {
  const [user] = await db
    .select({
      status: users.status,
      mustChangePassword: users.mustChangePassword,
      passwordChangedAt: users.passwordChangedAt,
    })
    .from(users)
    .where(eq(users.id, userId))
    .limit(1);
  if (!user) return null;
  const rows = await db
    .select({ role: roles.code, permission: rolePermissions.permissionCode })
    .from(userRoles)
    .innerJoin(roles, eq(roles.id, userRoles.roleId))
    .leftJoin(rolePermissions, eq(rolePermissions.roleId, roles.id))
    .where(eq(userRoles.userId, userId));
  const roleCodes = new Set<string>();
  const permissionCodes = new Set<string>();
  for (const row of rows) {
    roleCodes.add(row.role);
    if (row.permission) permissionCodes.add(row.permission);
  }
  return {
    status: user.status,
    mustChangePassword: user.mustChangePassword,
    passwordChangedAt: user.passwordChangedAt,
    roles: [...roleCodes].sort(),
    permissions: [...permissionCodes].sort(),
  };
}

export async function rolesOfUsers(db: Executor, userIds: string[]): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  if (userIds.length === 0) return result;
  const rows = await db
    .select({ userId: userRoles.userId, code: roles.code })
    .from(userRoles)
    .innerJoin(roles, eq(roles.id, userRoles.roleId))
    .where(inArray(userRoles.userId, userIds))
    .orderBy(asc(roles.code));
  for (const row of rows) result.set(row.userId, [...(result.get(row.userId) ?? []), row.code]);
  return result;
}

export async function findRolesByCodes(db: Executor, codes: string[]): Promise<RoleRow[]> {
  if (codes.length === 0) return [];
  return db.select().from(roles).where(inArray(roles.code, codes));
}

export async function listPermissionCodes(db: Executor): Promise<string[]> {
  const rows = await db.select({ code: permissions.code }).from(permissions).orderBy(asc(permissions.code));
  return rows.map((row) => row.code);
}

export async function activeSessions(db: Executor, principalId: string) {
  return db
    .select()
    .from(refreshTokens)
    .where(
      and(
        eq(refreshTokens.principalId, principalId),
        isNull(refreshTokens.usedAt),
        isNull(refreshTokens.revokedAt),
        gt(refreshTokens.expiresAt, new Date()),
      ),
    )
    .orderBy(asc(refreshTokens.createdAt));
}

export async function revokeFamilies(db: Executor, familyIds: string[], reason: string): Promise<void> {
  if (familyIds.length === 0) return;
  await db
    .update(refreshTokens)
    .set({ revokedAt: new Date(), revokedReason: reason, updatedAt: new Date() })
    .where(and(inArray(refreshTokens.familyId, familyIds), isNull(refreshTokens.revokedAt)));
}

/** Session (family) ids of a principal still able to refresh. */
export async function liveFamilyIds(db: Executor, principalId: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ familyId: refreshTokens.familyId })
    .from(refreshTokens)
    .where(
      and(
        eq(refreshTokens.principalId, principalId),
        isNull(refreshTokens.revokedAt),
        gt(refreshTokens.expiresAt, new Date()),
      ),
    );
  return rows.map((row) => row.familyId);
}

/** Refresh-token rows past expiry (plus a day of grace for investigations) are deleted by a scheduled job. */
export async function purgeExpiredRefreshTokens(db: Executor): Promise<number> {
  const removed = await db
    .delete(refreshTokens)
    .where(lt(refreshTokens.expiresAt, sql`now() - interval '1 day'`))
    .returning({ id: refreshTokens.id });
  return removed.length;
}

/** Every permission the given roles carry, without duplicates. */
export async function permissionsOfRoles(db: Executor, roleIds: string[]): Promise<string[]> {
  if (roleIds.length === 0) return [];
  const rows = await db
    .selectDistinct({ code: rolePermissions.permissionCode })
    .from(rolePermissions)
    .where(inArray(rolePermissions.roleId, roleIds));
  return rows.map((row) => row.code);
}

/*
 * Staff administration (the access module): reads and commands over users, roles and role permissions. Commands
 * take the caller's transaction, so a use case that changes several of these rows (and audits them) stays atomic.
 */

export type UserStatus = UserRow['status'];
export type PermissionRow = typeof permissions.$inferSelect;

/** Users in id order after `afterId`: by status, by role code, and by a case-insensitive match of name or email. */
export async function listUsers(
  db: Executor,
  filters: { status?: UserStatus; role?: string; q?: string; afterId?: string; limit: number },
): Promise<UserRow[]> {
  const conditions: SQL[] = [];
  if (filters.status) conditions.push(eq(users.status, filters.status));
  if (filters.q) {
    const pattern = `%${filters.q.replace(/[\\%_]/g, (match) => `\\${match}`)}%`;
    conditions.push(
      or(ilike(users.username, pattern), ilike(users.email, pattern), ilike(users.fullName, pattern))!,
    );
  }
  if (filters.role) {
    conditions.push(
      inArray(
        users.id,
        db
          .select({ id: userRoles.userId })
          .from(userRoles)
          .innerJoin(roles, eq(roles.id, userRoles.roleId))
          .where(eq(roles.code, filters.role)),
      ),
    );
  }
  if (filters.afterId) conditions.push(gt(users.id, filters.afterId));
  return db
    .select()
    .from(users)
    .where(and(...conditions))
    .orderBy(asc(users.id))
    .limit(filters.limit);
}

/** Changes a user's contact details and name; violates `users_email_key` or `users_phone_key` when taken. */
export async function updateUserDetails(
  tx: Executor,
  id: string,
  changes: { email?: string; fullName?: string; phone?: string | null },
): Promise<UserRow> {
  const [row] = await tx
    .update(users)
    .set({
      ...(changes.email !== undefined ? { email: changes.email } : {}),
      ...(changes.fullName !== undefined ? { fullName: changes.fullName } : {}),
      ...(changes.phone !== undefined ? { phone: changes.phone } : {}),
      updatedAt: new Date(),
    })
    .where(eq(users.id, id))
    .returning();
  return row!;
}

export async function setUserStatus(tx: Executor, id: string, status: UserStatus): Promise<UserRow> {
  const [row] = await tx
    .update(users)
    .set({ status, updatedAt: new Date() })
    .where(eq(users.id, id))
    .returning();
  return row!;
}

/** Active users other than `exceptUserId` holding the role (by code or id): who would remain. */
export async function countOtherActiveHolders(
  db: Executor,
  role: { code: string } | { id: string },
  exceptUserId: string,
): Promise<number> {
  const condition = and(eq(users.status, 'active'), ne(users.id, exceptUserId));
  const [row] =
    'code' in role
      ? await db
          .select({ count: sql<number>`count(*)::int` })
          .from(users)
          .innerJoin(userRoles, eq(userRoles.userId, users.id))
          .innerJoin(roles, eq(roles.id, userRoles.roleId))
          .where(and(eq(roles.code, role.code), condition))
      : await db
          .select({ count: sql<number>`count(*)::int` })
          .from(users)
          .innerJoin(userRoles, eq(userRoles.userId, users.id))
          .where(and(eq(userRoles.roleId, role.id), condition));
  return row?.count ?? 0;
}

export async function findRoleByCode(db: Executor, code: string): Promise<RoleRow | undefined> {
  const [role] = await db.select().from(roles).where(eq(roles.code, code)).limit(1);
  return role;
}

export async function findRoleById(db: Executor, id: string): Promise<RoleRow | undefined> {
  const [role] = await db.select().from(roles).where(eq(roles.id, id)).limit(1);
  return role;
}

/** Roles by code, at most `limit`. */
export async function listRoles(db: Executor, limit: number): Promise<RoleRow[]> {
  return db.select().from(roles).orderBy(asc(roles.code)).limit(limit);
}

/** The permissions a role grants, by code. */
export async function permissionsOfRole(db: Executor, roleId: string): Promise<string[]> {
  const rows = await db
    .select({ code: rolePermissions.permissionCode })
    .from(rolePermissions)
    .where(eq(rolePermissions.roleId, roleId))
    .orderBy(asc(rolePermissions.permissionCode));
  return rows.map((row) => row.code);
}

/** Every permission the roles with these codes grant (a code per grant: repeated when two roles grant it). */
export async function permissionsOfRoleCodes(db: Executor, roleCodes: string[]): Promise<string[]> {
  const rows = await db
    .select({ code: rolePermissions.permissionCode })
    .from(rolePermissions)
    .innerJoin(roles, eq(roles.id, rolePermissions.roleId))
    .where(inArray(roles.code, roleCodes));
  return rows.map((row) => row.code);
}

/** How many users hold the role. */
export async function roleMemberCount(db: Executor, roleId: string): Promise<number> {
  const [row] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(userRoles)
    .where(eq(userRoles.roleId, roleId));
  return row?.count ?? 0;
}

/** The permission catalogue, by code. */
export async function listPermissions(db: Executor): Promise<PermissionRow[]> {
  return db.select().from(permissions).orderBy(asc(permissions.code));
}

/** Those of `codes` that are in the permission catalogue. */
export async function knownPermissionCodes(db: Executor, codes: string[]): Promise<string[]> {
  if (codes.length === 0) return [];
  const rows = await db
    .select({ code: permissions.code })
    .from(permissions)
    .where(inArray(permissions.code, codes));
  return rows.map((row) => row.code);
}

/** Gives a user a role; nothing happens when they hold it already. */
export async function addUserRole(tx: Executor, userId: string, roleId: string): Promise<void> {
  await tx.insert(userRoles).values({ userId, roleId }).onConflictDoNothing();
}

export async function removeUserRole(tx: Executor, userId: string, roleId: string): Promise<void> {
  await tx.delete(userRoles).where(and(eq(userRoles.userId, userId), eq(userRoles.roleId, roleId)));
}

/** Creates a role that is not a system role; violates `roles_code_key` when the code is taken. */
export async function insertRole(
  tx: Executor,
  role: { id: string; code: string; name: string; description: string | null },
): Promise<RoleRow> {
  const [row] = await tx
    .insert(roles)
    .values({ ...role, system: false })
    .returning();
  return row!;
}

export async function updateRoleDetails(
  tx: Executor,
  id: string,
  changes: { name?: string; description?: string | null },
): Promise<RoleRow> {
  const [row] = await tx
    .update(roles)
    .set({
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      updatedAt: new Date(),
    })
    .where(eq(roles.id, id))
    .returning();
  return row!;
}

export async function deleteRole(tx: Executor, id: string): Promise<void> {
  await tx.delete(roles).where(eq(roles.id, id));
}

/** Adds permissions to a role (each once); those it grants already stay as they are. */
export async function grantRolePermissions(tx: Executor, roleId: string, codes: string[]): Promise<void> {
  if (codes.length === 0) return;
  await tx
    .insert(rolePermissions)
    .values([...new Set(codes)].map((code) => ({ roleId, permissionCode: code })))
    .onConflictDoNothing();
}

export async function revokeRolePermissions(tx: Executor, roleId: string, codes: string[]): Promise<void> {
  await tx
    .delete(rolePermissions)
    .where(and(eq(rolePermissions.roleId, roleId), inArray(rolePermissions.permissionCode, codes)));
}

/** Re-wraps the signing keys' private halves and the second factors' secrets under the active master key. */
export function rewrapIdentityKeys(db: Executor, ring: KeyRing): Promise<Record<string, number>> {
  return rewrapColumns(db, ring, [
    {
      name: 'signing_keys.private_key_wrapped',
      table: signingKeys,
      id: signingKeys.kid,
      column: signingKeys.privateKeyWrapped,
      sealed: true,
    },
    {
      name: 'mfa_factors.secret_sealed',
      table: mfaFactors,
      id: mfaFactors.id,
      column: mfaFactors.secretSealed,
      sealed: true,
    },
  ]);
}
