/** Queries of the identity module; each takes the executor it runs on. */
import { and, asc, eq, gt, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { permissions, refreshTokens, rolePermissions, roles, userRoles, users } from './identity.tables.ts';

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

export async function findUserById(db: Executor, id: string): Promise<UserRow | undefined> {
  const [user] = await db.select().from(users).where(eq(users.id, id)).limit(1);
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
