/**
 * The identity module's own environment variables (parsed with the rest at start-up; `.env.example` lists them).
 * The password length and strength rules stay platform variables: the agents module's operators follow them too.
 */
import { integer, type ModuleConfig, variable } from '../../platform/config-spec.ts';

export const identityConfig = {
  LOGIN_MAX_FAILURES: variable('Failed logins before an account is locked.', '10', integer(1, 100)),
  LOGIN_LOCK_MINUTES: variable('How long a locked account stays locked.', '30', integer(1, 10080)),
  PASSWORD_HISTORY: variable(
    'How many previous passwords a user may not reuse (0 turns the check off).',
    '5',
    integer(0, 24),
  ),
  PRINCIPAL_CACHE_TTL_MS: variable(
    "How long a node may serve a principal's access (status, roles, permissions) and a session's standing from " +
      'its cache: a backstop only, changes reach every node at once through Redis (0 turns the cache off).',
    '30000',
    integer(0, 300_000),
  ),
  PRINCIPAL_CACHE_MAX_ENTRIES: variable(
    'How many principals and sessions each node caches at most (least recently used dropped first).',
    '50000',
    integer(1, 10_000_000),
  ),
};

/** The staff sign-in lockout and the password reuse rule. */
export type IdentityConfig = ModuleConfig<typeof identityConfig>;
