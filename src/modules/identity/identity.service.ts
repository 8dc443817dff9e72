/** Use cases of local identity: login with brute-force protection, token refresh with rotation, logout, sessions. */
import { createHash } from 'node:crypto';
import { desc, eq } from 'drizzle-orm';
import { addressBucket } from '../../platform/address-bucket.ts';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { burnPasswordVerification, hashPassword, verifyPassword } from '../../platform/crypto.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors } from '../../platform/errors.ts';
import type { Principal } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import type { IdentityConfig } from './identity.config.ts';
import { identityErrors } from './identity.errors.ts';
import type { Factor, MfaService } from './identity.mfa.ts';
import { checkPassword } from './identity.passwords.ts';
import { PrincipalCache, type PrincipalChange, publishPrincipalChange } from './identity.principal-cache.ts';
import { PushApprovals } from './identity.push.ts';
import * as repository from './identity.repository.ts';
import { PasswordResetService } from './identity.reset.ts';
import { SessionService } from './identity.sessions.ts';
import { passwordHistory, userRoles, users } from './identity.tables.ts';
import {
  ACCESS_TOKEN_TYPE,
  type IssuedTokens,
  sessionChannel,
  type TokenService,
} from './identity.tokens.ts';

/** What a principal may do, resolved per request so disabling or re-roling takes effect at once. */
export interface PrincipalAccess {
  active: boolean;
  roles: string[];
  permissions: string[];
  passwordChangeRequired?: boolean;
  mfaEnrollmentRequired?: boolean;
}

export type PrincipalResolver = (id: string) => Promise<PrincipalAccess | null>;

/**
 * A staff user created by someone else starts with a password that person knows, so they change it at first
 * sign-in unless the creator says otherwise. The one default of every way to create a user (`/auth/register`,
 * `/user/user/add`).
 */
export const MUST_CHANGE_PASSWORD_BY_DEFAULT = true;

const LOGIN_IP_WINDOW_MS = 15 * 60 * 1000;
const LOGIN_IP_MAX_ATTEMPTS = 200;

export interface PasswordSettings {
  complexity(): Promise<boolean>;
  expiryDays(): Promise<number>;
  staffMfaRequired(): Promise<boolean>;
  /** Per-role step-up (`auth.mfa_policy`); absent: none. */
  mfaPolicy?(): Promise<Record<string, { required: boolean; factors: string[] }>>;
  /** The institution's name (`institution.name`): a context word of the password strength check. */
  institutionName?(): Promise<string | null>;
  /** Customers with a registered device approve each sign-in on it (`auth.customer_push_login`). */
  customerPushLogin?(): Promise<boolean>;
}

/**
 * The step-up rule for a staff user: whether a second factor is mandatory, and which of their active factors satisfy
 * it. A role's `factors` list restricts; with several roles every list must allow the factor.
 */
export function stepUpFor(
  roles: readonly string[],
  active: readonly Factor[],
  policy: Record<string, { required: boolean; factors: string[] }>,
  staffRequired: boolean,
): { required: boolean; offered: Factor[] } {
  const rules = roles.flatMap((role) => (policy[role] ? [policy[role]] : []));
  const required = staffRequired || rules.some((rule) => rule.required);
  const offered = active.filter((factor) =>
    rules.every((rule) => rule.factors.length === 0 || rule.factors.includes(factor)),
  );
  // Where nothing is required, a factor the user chose to add still protects them.
  return { required, offered: !required && offered.length === 0 ? [...active] : offered };
}

export interface MfaChallenge {
  mfa_required: true;
  mfa_token: string;
  factors: Factor[];
  questions: { code: string; text: string }[];
  expires_in: number;
}

export interface UserView {
  id: string;
  username: string;
  email: string;
  phone: string | null;
  full_name: string;
  status: repository.UserRow['status'];
  roles: string[];
  must_change_password: boolean;
  last_login_at: string | null;
  created_at: string;
  updated_at: string;
}

export function userView(user: repository.UserRow, roles: string[]): UserView {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    phone: user.phone,
    full_name: user.fullName,
    status: user.status,
    roles,
    must_change_password: user.mustChangePassword,
    last_login_at: user.lastLoginAt?.toISOString() ?? null,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}

export class IdentityService {
  readonly #deps: Dependencies;
  readonly tokens: TokenService;
  readonly #resolvers = new Map<Principal['type'], PrincipalResolver>();
  /** The resolvers `authenticate` uses: through this node's principal cache. */
  readonly #cachedResolvers = new Map<Principal['type'], PrincipalResolver>();
  /** This node's cache of resolved access and of sessions not revoked (identity.principal-cache.ts). */
  readonly principalCache: PrincipalCache;
  readonly sessions: SessionService;
  readonly passwordReset: PasswordResetService;
  /** Registered devices and push approvals. */
  readonly push: PushApprovals;

  /** LOGIN_MAX_FAILURES, LOGIN_LOCK_MINUTES and PASSWORD_HISTORY (the module's variables). */
  readonly #config: IdentityConfig;

  constructor(deps: Dependencies, tokens: TokenService, config: IdentityConfig) {
    this.#deps = deps;
    this.#config = config;
    this.tokens = tokens;
    this.principalCache = new PrincipalCache(deps.store, {
      ttlMs: config.PRINCIPAL_CACHE_TTL_MS,
      maxEntries: config.PRINCIPAL_CACHE_MAX_ENTRIES,
    });
    this.passwordReset = new PasswordResetService(deps, this);
    this.push = new PushApprovals(deps);
    this.sessions = new SessionService(deps, tokens, async (type, id) => {
      const resolver = this.#resolvers.get(type);
      return resolver ? resolver(id) : null;
    });
    this.#resolvers.set('user', (id) =>
      this.#userAccess(id, () => repository.userAccess(deps.database.db, id)),
    );
    this.#cachedResolvers.set('user', (id) =>
      this.#userAccess(id, () =>
        this.principalCache.read(
          `user:${id}`,
          () => repository.userAccess(deps.database.db, id),
          (row) => row?.status === 'active',
        ),
      ),
    );
  }

  /**
   * A staff user's access from their row (status, roles, permissions, password dates). The row may come from the
   * cache; what depends on runtime settings (password expiry, the MFA policy) and on enrolled factors is decided here
   * on every request, from the settings' own cache, so neither needs an invalidation of principals.
   */
  async #userAccess(
    id: string,
    row: () => ReturnType<typeof repository.userAccess>,
  ): Promise<PrincipalAccess | null> {
    const access = await row();
    if (!access) return null;
    const expiryDays = (await this.passwordSettings?.expiryDays()) ?? 0;
    const expired =
      expiryDays > 0 && access.passwordChangedAt.getTime() < Date.now() - expiryDays * 86_400_000;
    // Step-up policy: when a second factor is required (all staff, or one of the user's roles) and the user has
    // none that the policy accepts, they may only enrol one.
    const mfaEnrollmentRequired = await this.#mustEnrol(id, access.roles);
    return {
      active: access.status === 'active',
      roles: access.roles,
      permissions: access.permissions,
      passwordChangeRequired: access.mustChangePassword || expired,
      mfaEnrollmentRequired,
    };
  }

  async #stepUp(userId: string, roles: readonly string[]): Promise<{ required: boolean; offered: Factor[] }> {
    if (!this.mfa) return { required: false, offered: [] };
    const active = await this.mfa.activeFactors({ type: 'user', id: userId });
    const policy = (await this.passwordSettings?.mfaPolicy?.()) ?? {};
    const staffRequired = (await this.passwordSettings?.staffMfaRequired()) ?? false;
    return stepUpFor(roles, active, policy, staffRequired);
  }

  /** Checked on every staff request: factors are read only when the policy requires one for these roles. */
  async #mustEnrol(userId: string, roles: readonly string[]): Promise<boolean> {
    if (!this.mfa) return false;
    const policy = (await this.passwordSettings?.mfaPolicy?.()) ?? {};
    const staffRequired = (await this.passwordSettings?.staffMfaRequired()) ?? false;
    if (!stepUpFor(roles, [], policy, staffRequired).required) return false;
    return (await this.#stepUp(userId, roles)).offered.length === 0;
  }

  /**
   * Lets another module (customers) say how its principals are resolved. Requests resolve them through the principal
   * cache; the module's writers then call `principalChanged` (or `publishPrincipalChange`) after every commit that
   * narrows a principal's access. Sign-in and refresh read through.
   */
  registerPrincipalResolver(type: Principal['type'], resolver: PrincipalResolver): void {
    this.#resolvers.set(type, resolver);
    this.#cachedResolvers.set(type, (id) =>
      this.principalCache.read(
        `${type}:${id}`,
        () => resolver(id),
        (access) => access?.active === true,
      ),
    );
  }

  /** Tells every node (this one at once) that a principal's access changed; after the commit. */
  principalChanged(change: PrincipalChange): Promise<void> {
    return publishPrincipalChange(this.#deps.store, change);
  }

  /** Whether a session is on the denylist: a session known not to be is cached (revocations are broadcast). */
  #sessionRevoked(sessionId: string): Promise<boolean> {
    return this.principalCache.read(
      `sid:${sessionId}`,
      async () => (await this.#deps.store.get(`deny:sid:${sessionId}`)) !== null,
      (revoked) => !revoked,
    );
  }

  get #db() {
    return this.#deps.database.db;
  }

  /**
   * Whether giving these roles is under maker-checker (the action is configured, or a role is privileged); wired to
   * the access module at start-up.
   */
  roleAssignmentNeedsApproval: ((roles: string[]) => Promise<boolean>) | null = null;

  /** Runtime password settings (complexity, expiry); wired to the settings module at start-up. */
  passwordSettings: PasswordSettings | null = null;

  async #policy() {
    const config = this.#deps.config;
    return {
      minLength: config.PASSWORD_MIN_LENGTH,
      maxLength: config.PASSWORD_MAX_LENGTH,
      minScore: config.PASSWORD_MIN_SCORE,
      requireComplexity: (await this.passwordSettings?.complexity()) ?? false,
    };
  }

  /** What else a guesser of this user's password knows: their names and phone, the institution's name (if set). */
  async #passwordContext(...values: (string | null | undefined)[]): Promise<(string | null | undefined)[]> {
    const institution = await this.passwordSettings?.institutionName?.().catch(() => null);
    return [...values, institution];
  }

  /** True when the password matches one of the user's last PASSWORD_HISTORY passwords. */
  async #inHistory(userId: string, password: string): Promise<boolean> {
    const depth = this.#config.PASSWORD_HISTORY;
    if (depth === 0) return false;
    const earlier = await this.#db
      .select({ hash: passwordHistory.passwordHash })
      .from(passwordHistory)
      .where(eq(passwordHistory.userId, userId))
      .orderBy(desc(passwordHistory.createdAt))
      .limit(depth);
    for (const row of earlier) if ((await verifyPassword(password, row.hash)).valid) return true;
    return false;
  }

  /** Verifies an access token and resolves what its principal may do now. */
  async authenticate(token: string): Promise<Principal> {
    const claims = await this.tokens.verify(token, ACCESS_TOKEN_TYPE);
    if (await this.#sessionRevoked(claims.sid)) throw identityErrors.tokenRevoked();
    const resolver = this.#cachedResolvers.get(claims.ptype);
    const access = resolver ? await resolver(claims.sub) : null;
    if (!access?.active) throw identityErrors.tokenRevoked();
    return {
      type: claims.ptype,
      id: claims.sub,
      sessionId: claims.sid,
      tokenId: claims.jti,
      tokenExpiresAt: claims.exp,
      // A copy: `access` may be the node's cached entry, shared by every request of this principal.
      roles: [...access.roles],
      permissions: new Set(access.permissions),
      passwordChangeRequired: access.passwordChangeRequired ?? false,
      mfaEnrollmentRequired: access.mfaEnrollmentRequired ?? false,
      channel: sessionChannel(claims),
    };
  }

  async #lockRemainingSeconds(subject: string): Promise<number | null> {
    const ttl = await this.#deps.store.ttlMs(`login:lock:${subject}`);
    return ttl === null ? null : Math.max(1, Math.ceil(ttl / 1000));
  }

  /**
   * Local login. Attempts are counted before the password is checked, per account (or per unknown identifier,
   * so a missing account behaves like a present one) and per IP; the lock refuses even the right password.
   */
  /** Set once at start-up: second factors a login must pass. */
  mfa: MfaService | null = null;

  async login(
    username: string,
    password: string,
    context: RequestContext,
  ): Promise<IssuedTokens | MfaChallenge> {
    const { store } = this.#deps;
    const config = this.#config;
    const identifier = username.trim();
    // An IPv6 client counts by its /64 (one subscriber holds all of it), an IPv4-mapped one as its IPv4 address.
    const ipKey = `login:ip:${addressBucket(context.ip ?? 'unknown')}`;
    const ipAttempts = await store.increment(ipKey, LOGIN_IP_WINDOW_MS);
    if (ipAttempts > LOGIN_IP_MAX_ATTEMPTS) {
      const ttl = (await store.ttlMs(ipKey)) ?? LOGIN_IP_WINDOW_MS;
      throw commonErrors.tooManyRequests(Math.ceil(ttl / 1000), 'Too many login attempts from this address');
    }
    const user = await repository.findUserByIdentifier(this.#db, identifier);
    const subject = user
      ? `u:${user.id}`
      : `i:${createHash('sha256').update(identifier.toLowerCase()).digest('hex')}`;
    const locked = await this.#lockRemainingSeconds(subject);
    if (locked !== null) throw identityErrors.accountLocked(locked);
    const lockMs = config.LOGIN_LOCK_MINUTES * 60 * 1000;
    const attempts = await store.increment(`login:attempts:${subject}`, lockMs);
    if (attempts > config.LOGIN_MAX_FAILURES) {
      await store.setIfAbsent(`login:lock:${subject}`, '1', lockMs);
      throw identityErrors.accountLocked(
        (await this.#lockRemainingSeconds(subject)) ?? Math.ceil(lockMs / 1000),
      );
    }
    const check = user ? await verifyPassword(password, user.passwordHash) : null;
    if (!user || !check?.valid) {
      if (!user) await burnPasswordVerification(password);
      if (attempts >= config.LOGIN_MAX_FAILURES)
        await store.setIfAbsent(`login:lock:${subject}`, '1', lockMs);
      throw identityErrors.invalidCredentials();
    }
    if (user.status !== 'active') throw identityErrors.accountInactive();
    const newHash = check.needsRehash ? await hashPassword(password) : null;
    if (newHash) await this.#db.update(users).set({ passwordHash: newHash }).where(eq(users.id, user.id));
    const access = await repository.userAccess(this.#db, user.id);
    const { offered } = await this.#stepUp(user.id, access?.roles ?? []);
    // With a second factor the attempt counter stays until that factor succeeds, so guessing codes across
    // many password logins still locks the account. Only factors the role's policy accepts are offered; a user with
    // none of them (and a policy that requires one) signs in to enrolment only (see the principal resolver).
    if (this.mfa && offered.length > 0)
      return this.mfa.issueChallenge({ type: 'user', id: user.id }, offered);
    await store.delete(`login:attempts:${subject}`);
    return this.#completeLogin(user.id, context, { rehashed: newHash !== null, mfa: false });
  }

  /** Second step of a login with MFA: the code, then a session. */
  async completeMfaLogin(
    mfaToken: string,
    factor: Factor,
    proof: { code?: string; answers?: { question: string; answer: string }[] },
    context: RequestContext,
  ): Promise<IssuedTokens> {
    if (!this.mfa) throw identityErrors.invalidToken();
    const principal = await this.mfa.completeChallenge(mfaToken, factor, proof, context);
    const resolver = this.#resolvers.get(principal.type);
    const access = resolver ? await resolver(principal.id) : null;
    if (!access?.active) throw identityErrors.accountInactive();
    await this.#deps.store.delete(`login:attempts:u:${principal.id}`);
    return this.#completeLogin(principal.id, context, { rehashed: false, mfa: true });
  }

  /** Re-checks the signed-in user's password before a sensitive change (turning MFA off). */
  async confirmPassword(principal: Principal, password: string): Promise<void> {
    const user =
      principal.type === 'user' ? await repository.findUserById(this.#db, principal.id) : undefined;
    if (!user || !(await verifyPassword(password, user.passwordHash)).valid)
      throw identityErrors.invalidCredentials();
  }

  async #completeLogin(userId: string, context: RequestContext, detail: { rehashed: boolean; mfa: boolean }) {
    return inTransaction(this.#db, async (tx) => {
      await tx.update(users).set({ lastLoginAt: new Date() }).where(eq(users.id, userId));
      const user = { id: userId };
      // Staff sign in to the back office, a web application: their sessions are on the web channel.
      const tokens = await this.sessions.openSession(tx, { type: 'user', id: user.id }, context, 'web');
      await writeAudit(
        tx,
        { ...context, actor: { type: 'user', id: user.id } },
        {
          action: 'auth.login',
          entityType: 'user',
          entityId: user.id,
          after: detail,
        },
      );
      return tokens;
    });
  }

  async me(principal: Principal) {
    if (principal.type !== 'user') {
      return {
        type: principal.type,
        id: principal.id,
        roles: [...principal.roles],
        permissions: [] as string[],
        user: null,
      };
    }
    const user = await repository.findUserById(this.#db, principal.id);
    if (!user) throw identityErrors.tokenRevoked();
    return {
      type: principal.type,
      id: principal.id,
      roles: [...principal.roles],
      permissions: [...principal.permissions].sort(),
      user: userView(user, [...principal.roles]),
    };
  }

  async changePassword(principal: Principal, current: string, next: string, context: RequestContext) {
    if (principal.type !== 'user') throw commonErrors.forbidden();
    const user = await repository.findUserById(this.#db, principal.id);
    if (!user) throw identityErrors.tokenRevoked();
    const check = await verifyPassword(current, user.passwordHash);
    if (!check.valid) throw identityErrors.invalidCredentials();
    await this.assertAcceptablePassword(user, next);
    const passwordHash = await hashPassword(next);
    await inTransaction(this.#db, (tx) =>
      this.replacePassword(tx, user, passwordHash, context, 'auth.password_changed'),
    );
    // Every session ends, the current one too: the client logs in again with the new password.
    await this.sessions.revokeAllSessions(user.id, 'password_changed', context);
  }

  /**
   * The password policy for a new password of this user: length, common passwords, own names, complexity, and
   * different from the current and the last PASSWORD_HISTORY passwords. 422 PASSWORD_POLICY with every reason.
   */
  async assertAcceptablePassword(user: repository.UserRow, next: string): Promise<void> {
    const { problems, strength } = checkPassword(
      next,
      await this.#policy(),
      [user.username, user.email],
      await this.#passwordContext(user.fullName, user.phone),
    );
    if ((await verifyPassword(next, user.passwordHash)).valid)
      problems.push('must differ from the current password');
    else if (await this.#inHistory(user.id, next)) problems.push('must differ from your recent passwords');
    if (problems.length > 0) throw identityErrors.passwordRejected(problems, strength);
  }

  /** Stores a new password hash inside the caller's transaction; the replaced hash joins the history. */
  async replacePassword(
    tx: Executor,
    user: repository.UserRow,
    passwordHash: string,
    context: RequestContext,
    action: 'auth.password_changed' | 'auth.password_reset',
  ): Promise<void> {
    await tx
      .update(users)
      .set({
        passwordHash,
        passwordChangedAt: new Date(),
        mustChangePassword: false,
        updatedAt: new Date(),
      })
      .where(eq(users.id, user.id));
    await tx
      .insert(passwordHistory)
      .values({ id: uuidv7(), userId: user.id, passwordHash: user.passwordHash });
    await writeAudit(tx, context, { action, entityType: 'user', entityId: user.id });
  }

  /** Lifts a login lock and clears the failure count of a user (after a password reset). */
  async clearLoginLock(userId: string): Promise<void> {
    await this.#deps.store.delete(`login:lock:u:${userId}`);
    await this.#deps.store.delete(`login:attempts:u:${userId}`);
  }

  async createUser(
    input: {
      username: string;
      email: string;
      full_name: string;
      password: string;
      phone?: string;
      roles: string[];
    },
    context: RequestContext,
    options: { mustChangePassword?: boolean } = {},
  ): Promise<UserView> {
    const { problems, strength } = checkPassword(
      input.password,
      await this.#policy(),
      [input.username, input.email],
      await this.#passwordContext(input.full_name, input.phone),
    );
    if (problems.length > 0) throw identityErrors.passwordRejected(problems, strength);
    const roleRows = await repository.findRolesByCodes(this.#db, input.roles);
    const unknown = input.roles.filter((code) => !roleRows.some((role) => role.code === code));
    if (unknown.length > 0) throw commonErrors.validation('Unknown roles', { roles: unknown });
    if (roleRows.length > 0 && context.actor.type === 'user' && context.actor.id) {
      // Roles given at creation follow the same rules as assigning them later.
      if (await this.roleAssignmentNeedsApproval?.(input.roles)) throw identityErrors.rolesNeedApproval();
      const held = new Set((await repository.userAccess(this.#db, context.actor.id))?.permissions ?? []);
      const granted = await repository.permissionsOfRoles(
        this.#db,
        roleRows.map((role) => role.id),
      );
      const beyond = granted.filter((code) => !held.has(code));
      if (beyond.length > 0) throw identityErrors.beyondOwnPermissions(beyond);
    }
    const passwordHash = await hashPassword(input.password);
    const id = uuidv7();
    try {
      return await inTransaction(this.#db, async (tx) => {
        const [user] = await tx
          .insert(users)
          .values({
            id,
            username: input.username,
            email: input.email,
            phone: input.phone ?? null,
            fullName: input.full_name,
            passwordHash,
            mustChangePassword: options.mustChangePassword ?? MUST_CHANGE_PASSWORD_BY_DEFAULT,
          })
          .returning();
        if (roleRows.length > 0) {
          await tx.insert(userRoles).values(roleRows.map((role) => ({ userId: id, roleId: role.id })));
        }
        const view = userView(user!, roleRows.map((role) => role.code).sort());
        await writeAudit(tx, context, {
          action: 'user.created',
          entityType: 'user',
          entityId: id,
          after: view,
        });
        return view;
      });
    } catch (error) {
      const constraint = violatedConstraint(error);
      if (constraint === 'users_username_key') throw identityErrors.duplicateUser('username');
      if (constraint === 'users_email_key') throw identityErrors.duplicateUser('email');
      if (constraint === 'users_phone_key') throw identityErrors.duplicateUser('phone');
      throw error;
    }
  }
}
