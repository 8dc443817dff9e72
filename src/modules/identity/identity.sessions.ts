/**
 * Sessions: a session is a refresh-token family. Refresh tokens rotate on every use; a spent token used again
 * means it leaked, and the whole family is revoked. Revoked sessions go on the denylist of the ephemeral store
 * for the access-token lifetime, so every API node refuses their access tokens on the next request.
 */
import { and, eq, sql } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors } from '../../platform/errors.ts';
import type { Channel, Principal, PrincipalType } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { identityErrors } from './identity.errors.ts';
import { newDeviceLogin } from './identity.events.ts';
import { publishPrincipalChange } from './identity.principal-cache.ts';
import * as repository from './identity.repository.ts';
import type { PrincipalAccess } from './identity.service.ts';
import { refreshTokens } from './identity.tables.ts';
import {
  type IssuedTokens,
  REFRESH_TOKEN_TYPE,
  sessionChannel,
  type TokenService,
  tokenHash,
} from './identity.tokens.ts';

export class SessionService {
  readonly #deps: Dependencies;
  readonly tokens: TokenService;
  readonly #resolve: (type: Principal['type'], id: string) => Promise<PrincipalAccess | null>;

  constructor(
    deps: Dependencies,
    tokens: TokenService,
    resolve: (type: Principal['type'], id: string) => Promise<PrincipalAccess | null>,
  ) {
    this.#deps = deps;
    this.tokens = tokens;
    this.#resolve = resolve;
  }

  get #db(): Executor {
    return this.#deps.database.db;
  }

  /**
   * Opens a session (refresh-token family) inside the caller's transaction; used by every login flow. `channel` is
   * decided by the flow from what authenticated the principal (never from the request's headers); every token of
   * the session carries it, refreshed ones too.
   */
  async openSession(
    tx: Executor,
    principal: { type: PrincipalType; id: string },
    context: RequestContext,
    channel: Channel,
  ): Promise<IssuedTokens> {
    await this.#alertNewDevice(tx, principal, context);
    const familyId = uuidv7();
    const refreshId = uuidv7();
    const tokens = await this.tokens.issuePair(principal, familyId, refreshId, channel);
    await tx.insert(refreshTokens).values({
      id: refreshId,
      familyId,
      principalType: principal.type,
      principalId: principal.id,
      tokenHash: tokenHash(tokens.refresh_token),
      generation: 0,
      expiresAt: new Date(Date.now() + this.tokens.refreshTtlSeconds * 1000),
      ip: context.ip,
      userAgent: context.userAgent,
    });
    return tokens;
  }

  /**
   * A sign-in from a device (user agent) this principal has not signed in from before emits `auth.new_device_login`,
   * which the notifications module turns into an alert. The very first sign-in alerts nobody.
   */
  async #alertNewDevice(
    tx: Executor,
    principal: { type: PrincipalType; id: string },
    context: RequestContext,
  ): Promise<void> {
    const mine = and(
      eq(refreshTokens.principalType, principal.type),
      eq(refreshTokens.principalId, principal.id),
    );
    const [earlier] = await tx
      .select({
        any: sql<number>`1`,
        sameDevice: sql<boolean>`bool_or(${refreshTokens.userAgent} is not distinct from ${context.userAgent})`,
      })
      .from(refreshTokens)
      .where(mine)
      .groupBy(refreshTokens.principalId);
    if (!earlier || earlier.sameDevice) return;
    // Agent operators sign in only on the store device bound to them; the agents module keeps that device.
    if (principal.type === 'agent_operator') return;
    await emitEvent(
      tx,
      newDeviceLogin,
      { type: principal.type, id: principal.id },
      {
        principal_type: principal.type,
        principal_id: principal.id,
        device: (context.userAgent ?? 'an unknown device').slice(0, 120),
        ip: context.ip ?? null,
        at: new Date().toISOString(),
      },
    );
  }

  /** Rotates a refresh token. A token used twice means it leaked: the whole session family is revoked. */
  async refresh(refreshToken: string, context: RequestContext): Promise<IssuedTokens> {
    const claims = await this.tokens.verify(refreshToken, REFRESH_TOKEN_TYPE);
    // Resolved before the transaction: the resolver queries the pool, and asking the pool for a second
    // connection while holding a row lock exhausts it under concurrent refreshes (everyone waits for everyone).
    const access = await this.#resolve(claims.ptype, claims.sub);
    const outcome = await inTransaction(this.#db, async (tx) => {
      const [row] = await tx
        .select()
        .from(refreshTokens)
        .where(eq(refreshTokens.id, claims.jti))
        .for('update')
        .limit(1);
      if (
        !row ||
        row.tokenHash !== tokenHash(refreshToken) ||
        row.familyId !== claims.sid ||
        row.principalId !== claims.sub ||
        row.principalType !== claims.ptype
      ) {
        return { kind: 'invalid' as const };
      }
      if (row.revokedAt) return { kind: 'invalid' as const };
      if (row.usedAt) {
        await repository.revokeFamilies(tx, [row.familyId], 'refresh_token_reuse');
        await writeAudit(tx, context, {
          action: 'auth.refresh_reuse_detected',
          entityType: row.principalType,
          entityId: row.principalId,
          after: { session_id: row.familyId },
        });
        return { kind: 'reused' as const, familyId: row.familyId };
      }
      if (row.expiresAt.getTime() <= Date.now()) return { kind: 'invalid' as const };
      if (!access?.active) return { kind: 'invalid' as const };
      await tx
        .update(refreshTokens)
        .set({ usedAt: new Date(), updatedAt: new Date() })
        .where(eq(refreshTokens.id, row.id));
      const nextId = uuidv7();
      const tokens = await this.tokens.issuePair(
        { type: row.principalType, id: row.principalId },
        row.familyId,
        nextId,
        sessionChannel(claims),
      );
      await tx.insert(refreshTokens).values({
        id: nextId,
        familyId: row.familyId,
        principalType: row.principalType,
        principalId: row.principalId,
        tokenHash: tokenHash(tokens.refresh_token),
        generation: row.generation + 1,
        expiresAt: row.expiresAt,
        ip: context.ip,
        userAgent: context.userAgent,
      });
      return { kind: 'ok' as const, tokens };
    });
    if (outcome.kind === 'reused') {
      await this.#denySessions([outcome.familyId]);
      throw identityErrors.tokenRevoked();
    }
    if (outcome.kind === 'invalid') throw identityErrors.invalidToken();
    return outcome.tokens;
  }

  /**
   * Access tokens of these sessions are refused on every node until they would have expired: the denylist, then a
   * broadcast that drops them from every node's principal cache (which remembers sessions known not revoked).
   */
  async #denySessions(familyIds: string[]): Promise<void> {
    const ttlMs = this.tokens.accessTtlSeconds * 1000 + 60_000;
    for (const familyId of familyIds) await this.#deps.store.set(`deny:sid:${familyId}`, '1', ttlMs);
    if (familyIds.length > 0) await publishPrincipalChange(this.#deps.store, { sessions: familyIds });
  }

  async logout(principal: Principal, context: RequestContext): Promise<void> {
    await inTransaction(this.#db, async (tx) => {
      await repository.revokeFamilies(tx, [principal.sessionId], 'logout');
      await writeAudit(tx, context, {
        action: 'auth.logout',
        entityType: principal.type,
        entityId: principal.id,
      });
    });
    await this.#denySessions([principal.sessionId]);
  }

  /** Revokes every session of a principal (password change, disabling), optionally sparing one. */
  async revokeAllSessions(principalId: string, reason: string, context: RequestContext, except?: string) {
    const families = (await repository.liveFamilyIds(this.#db, principalId)).filter((id) => id !== except);
    await inTransaction(this.#db, async (tx) => {
      await repository.revokeFamilies(tx, families, reason);
      await writeAudit(tx, context, {
        action: 'auth.sessions_revoked',
        entityType: 'principal',
        entityId: principalId,
        after: { reason, sessions: families.length },
      });
    });
    await this.#denySessions(families);
    // Called after a password change or reset and a disabling: what the principal may do changed too.
    await publishPrincipalChange(this.#deps.store, { principal: principalId });
    return families.length;
  }

  async listSessions(principal: Principal) {
    const rows = await repository.activeSessions(this.#db, principal.id);
    return rows.map((row) => ({
      id: row.familyId,
      current: row.familyId === principal.sessionId,
      ip: row.ip,
      user_agent: row.userAgent,
      last_refreshed_at: row.createdAt.toISOString(),
      expires_at: row.expiresAt.toISOString(),
    }));
  }

  async revokeSession(principal: Principal, sessionId: string, context: RequestContext): Promise<void> {
    const families = await repository.liveFamilyIds(this.#db, principal.id);
    if (!families.includes(sessionId)) throw commonErrors.notFound('Session');
    await inTransaction(this.#db, async (tx) => {
      await repository.revokeFamilies(tx, [sessionId], 'revoked_by_owner');
      await writeAudit(tx, context, {
        action: 'auth.session_revoked',
        entityType: 'session',
        entityId: sessionId,
      });
    });
    await this.#denySessions([sessionId]);
  }
}
