/**
 * The role → permission map of `seed/permissions.json`, expanded here independently of the app (the same rules as
 * expandPermissionPatterns in src/modules/identity/identity.seed.ts: `*`, `module:*`, `*:action`, exclusions `!code`
 * applied last, only known codes). The authz suite also checks this map equals the one the running app reports.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { declaredPermissions } from '../../../src/modules.ts';

export interface PermissionSeedFile {
  permissions: { code: string; description: string }[];
  roles: { code: string; name: string; description: string; permissions: string[] }[];
}

/** The roles of seed/permissions.json with the permissions the modules declare (`defineModule({ permissions })`). */
export function readSeed(): PermissionSeedFile {
  const file = join(import.meta.dirname, '..', '..', '..', 'seed', 'permissions.json');
  const { roles } = JSON.parse(readFileSync(file, 'utf8')) as Pick<PermissionSeedFile, 'roles'>;
  return { permissions: declaredPermissions(), roles };
}

function patternMatches(pattern: string, code: string): boolean {
  if (pattern === '*') return true;
  const [patternModule, patternAction] = pattern.split(':');
  const [module, action] = code.split(':');
  const moduleOk = patternModule === '*' || patternModule === module;
  const actionOk = patternAction === '*' || patternAction === action;
  return moduleOk && actionOk;
}

export function expandRole(patterns: readonly string[], known: readonly string[]): Set<string> {
  const granted = new Set<string>();
  for (const code of known) {
    if (patterns.some((pattern) => !pattern.startsWith('!') && patternMatches(pattern, code)))
      granted.add(code);
  }
  for (const pattern of patterns) {
    if (!pattern.startsWith('!')) continue;
    for (const code of [...granted]) if (patternMatches(pattern.slice(1), code)) granted.delete(code);
  }
  return granted;
}

/** role code → the permission codes it holds. */
export function rolePermissionMap(seed = readSeed()): Map<string, Set<string>> {
  const known = seed.permissions.map((permission) => permission.code);
  return new Map(seed.roles.map((role) => [role.code, expandRole(role.permissions, known)]));
}
