/** Seeds permissions, system roles and the first administrator from `seed/permissions.json`. Safe to re-run. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { systemContext } from '../../platform/audit.ts';
import { randomToken } from '../../platform/crypto.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { SEED_DIR } from '../../platform/seed.ts';
import type { IdentityService } from './identity.service.ts';
import { permissions, rolePermissions, roles, userRoles } from './identity.tables.ts';

interface PermissionSeed {
  roles: { code: string; name: string; description: string; permissions: string[] }[];
}

export { SEED_DIR };

export function readPermissionSeed(): PermissionSeed {
  return JSON.parse(readFileSync(join(SEED_DIR, 'permissions.json'), 'utf8')) as PermissionSeed;
}

/** Expands `*`, `module:*`, `*:action` and exclusions (`!code`) against the known permission codes. */
export function expandPermissionPatterns(patterns: string[], known: string[]): string[] {
  const matches = (pattern: string, code: string) => {
    if (pattern === '*') return true;
    const [module, action] = pattern.split(':');
    const [codeModule, codeAction] = code.split(':');
    return (module === '*' || module === codeModule) && (action === '*' || action === codeAction);
  };
  const included = known.filter((code) =>
    patterns.some((pattern) => !pattern.startsWith('!') && matches(pattern, code)),
  );
  const excluded = patterns.filter((pattern) => pattern.startsWith('!')).map((pattern) => pattern.slice(1));
  return included.filter((code) => !excluded.some((pattern) => matches(pattern, code)));
}

/**
 * The permissions the modules declare (`defineModule({ permissions })`) and the system roles of
 * `seed/permissions.json`, whose patterns expand over those permissions.
 */
export async function seedPermissionsAndRoles(
  db: Executor,
  declared: readonly { code: string; description: string }[],
): Promise<void> {
  const seed = readPermissionSeed();
  await inTransaction(db, async (tx) => {
    for (const permission of declared) {
      const [module, action] = permission.code.split(':');
      await tx
        .insert(permissions)
        .values({
          code: permission.code,
          module: module!,
          action: action!,
          description: permission.description,
        })
        .onConflictDoUpdate({
          target: permissions.code,
          set: { description: permission.description, updatedAt: new Date() },
        });
    }
    const known = declared.map((permission) => permission.code);
    for (const role of seed.roles) {
      await tx
        .insert(roles)
        .values({
          id: uuidv7(),
          code: role.code,
          name: role.name,
          description: role.description,
          system: true,
        })
        .onConflictDoNothing();
      const [row] = await tx.select().from(roles).where(eq(roles.code, role.code)).limit(1);
      const codes = expandPermissionPatterns(role.permissions, known);
      if (codes.length > 0) {
        await tx
          .insert(rolePermissions)
          .values(codes.map((code) => ({ roleId: row!.id, permissionCode: code })))
          .onConflictDoNothing();
      }
    }
  });
}

export interface AdminSeedResult {
  created: boolean;
  email: string;
  /** Only when generated here: printed once, never stored in clear. */
  generatedPassword: string | null;
}

/** Creates the first super administrator when none exists. */
export async function ensureFirstAdmin(
  db: Executor,
  identity: IdentityService,
  email: string,
  password: string | undefined,
): Promise<AdminSeedResult> {
  const [existing] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(userRoles)
    .innerJoin(roles, eq(roles.id, userRoles.roleId))
    .where(eq(roles.code, 'super_admin'));
  if ((existing?.count ?? 0) > 0) return { created: false, email, generatedPassword: null };
  const generatedPassword = password ? null : `${randomToken(18)}`;
  await identity.createUser(
    {
      username: 'admin',
      email,
      full_name: 'Administrator',
      password: password ?? generatedPassword!,
      roles: ['super_admin'],
    },
    systemContext(),
    { mustChangePassword: generatedPassword !== null },
  );
  return { created: true, email, generatedPassword };
}
