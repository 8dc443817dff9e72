/**
 * Forgotten staff passwords. `request` answers the same whether or not the account exists (same body, about the same
 * work: an audit row either way); for an active user it stores a keyed hash of a random 32-byte token with a 30-minute
 * expiry and emits `password.reset_requested` with the token sealed. `reset` consumes the token with one guarded
 * update (a token works once, even under parallel use), applies the password policy, ends every session on every
 * node and lifts a login lock.
 */
import { and, eq, gt, isNull } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { hashPassword, keyedHash, randomToken, sealEnvelope } from '../../platform/crypto.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors } from '../../platform/errors.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { identityErrors } from './identity.errors.ts';
import { passwordResetRequested } from './identity.events.ts';
import * as repository from './identity.repository.ts';
import type { IdentityService } from './identity.service.ts';
import { passwordResetTokens, users } from './identity.tables.ts';

export const PASSWORD_RESET_TTL_MINUTES = 30;
const HOUR_MS = 60 * 60_000;
/** Per identifier as typed (known or not, so the answers match): one request a minute, five an hour. */
const IDENTIFIER_COOLDOWN_MS = 60_000;
const IDENTIFIER_HOURLY_CAP = 5;
/** Per account across all its identifiers: beyond this, requests are answered alike but send nothing. */
const ACCOUNT_HOURLY_CAP = 5;
const IP_HOURLY_CAP = 30;
/** 32 random bytes in base64url. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const PASSWORD_RESET_TOPIC = passwordResetRequested.name;

export interface ResetRequested {
  message: string;
  expires_in: number;
}

const ACCEPTED: ResetRequested = {
  message: 'If an active account matches, a password-reset link is on its way',
  expires_in: PASSWORD_RESET_TTL_MINUTES * 60,
};

const invalidResetToken = () => identityErrors.invalidToken('The reset token is invalid, used or expired');

function retryAfter(ttlMs: number | null, fallbackMs: number): number {
  return Math.max(1, Math.ceil((ttlMs ?? fallbackMs) / 1000));
}

export class PasswordResetService {
  readonly #deps: Dependencies;
  readonly #identity: IdentityService;

  constructor(deps: Dependencies, identity: IdentityService) {
    this.#deps = deps;
    this.#identity = identity;
  }

  get #db(): Executor {
    return this.#deps.database.db;
  }

  #tokenHash(token: string): string {
    return keyedHash(this.#deps.config.HMAC_PEPPER, 'password-reset', token);
  }

  /** Per-IP cap, then cooldown and hourly cap per identifier: 429 with Retry-After, for known and unknown alike. */
  async #throttle(subject: string, ip: string): Promise<void> {
    const { store } = this.#deps;
    const ipKey = `pwreset:ip:${ip}`;
    if ((await store.increment(ipKey, HOUR_MS)) > IP_HOURLY_CAP) {
      throw commonErrors.tooManyRequests(
        retryAfter(await store.ttlMs(ipKey), HOUR_MS),
        'Too many password-reset requests from this address',
      );
    }
    const hourKey = `pwreset:hour:${subject}`;
    const cooldownKey = `pwreset:cooldown:${subject}`;
    if (Number((await store.get(hourKey)) ?? 0) >= IDENTIFIER_HOURLY_CAP) {
      throw commonErrors.tooManyRequests(retryAfter(await store.ttlMs(hourKey), HOUR_MS));
    }
    if (!(await store.setIfAbsent(cooldownKey, '1', IDENTIFIER_COOLDOWN_MS))) {
      throw commonErrors.tooManyRequests(
        retryAfter(await store.ttlMs(cooldownKey), IDENTIFIER_COOLDOWN_MS),
        'A reset was requested moments ago; wait before asking again',
      );
    }
    if ((await store.increment(hourKey, HOUR_MS)) > IDENTIFIER_HOURLY_CAP) {
      throw commonErrors.tooManyRequests(retryAfter(await store.ttlMs(hourKey), HOUR_MS));
    }
  }

  async request(identifierInput: string, context: RequestContext): Promise<ResetRequested> {
    const identifier = identifierInput.trim();
    // The identifier is kept only as a keyed hash: store keys never hold a username, email or phone.
    const subject = keyedHash(
      this.#deps.config.HMAC_PEPPER,
      'password-reset-identifier',
      identifier.toLowerCase(),
    );
    await this.#throttle(subject, context.ip ?? 'unknown');
    const user = await repository.findUserByIdentifier(this.#db, identifier);
    // The token is made and sealed whether or not it is sent, so both answers cost about the same.
    const id = uuidv7();
    const token = randomToken(32);
    const tokenHash = this.#tokenHash(token);
    const sealed = JSON.stringify(sealEnvelope(this.#deps.keys, Buffer.from(token), `password-reset:${id}`));
    const expiresAt = new Date(Date.now() + PASSWORD_RESET_TTL_MINUTES * 60_000);
    // Counted for unknown identifiers too (under their hash), so both paths make the same store calls.
    const accountKey = `pwreset:account:${user ? user.id : subject}`;
    const withinCap = (await this.#deps.store.increment(accountKey, HOUR_MS)) <= ACCOUNT_HOURLY_CAP;
    const target = user?.status === 'active' && withinCap ? user : null;
    await inTransaction(this.#db, async (tx) => {
      if (target) {
        // One live token per user: a new request voids the earlier ones.
        await tx
          .update(passwordResetTokens)
          .set({ voidedAt: new Date(), updatedAt: new Date() })
          .where(
            and(
              eq(passwordResetTokens.userId, target.id),
              isNull(passwordResetTokens.usedAt),
              isNull(passwordResetTokens.voidedAt),
            ),
          );
        await tx.insert(passwordResetTokens).values({
          id,
          userId: target.id,
          tokenHash,
          expiresAt,
          requestedIp: context.ip,
        });
        await emitEvent(
          tx,
          passwordResetRequested,
          { type: 'user', id: target.id },
          {
            user_id: target.id,
            reset_id: id,
            channel: 'email',
            email: target.email,
            name: target.fullName,
            expires_at: expiresAt.toISOString(),
            token_sealed: sealed,
          },
        );
      }
      await writeAudit(tx, context, {
        action: 'auth.password_reset_requested',
        entityType: 'user',
        entityId: target?.id ?? null,
        after: { sent: target !== null },
      });
    });
    return { ...ACCEPTED };
  }

  async reset(token: string, newPassword: string, context: RequestContext): Promise<void> {
    if (!TOKEN_PATTERN.test(token)) throw invalidResetToken();
    const [row] = await this.#db
      .select()
      .from(passwordResetTokens)
      .where(eq(passwordResetTokens.tokenHash, this.#tokenHash(token)))
      .limit(1);
    if (!row || row.usedAt || row.voidedAt || row.expiresAt.getTime() <= Date.now())
      throw invalidResetToken();
    const user = await repository.findUserById(this.#db, row.userId);
    if (!user) throw invalidResetToken();
    if (user.status !== 'active') throw identityErrors.accountInactive();
    // The policy is checked before the token is spent, so a rejected password leaves the link usable.
    await this.#identity.assertAcceptablePassword(user, newPassword);
    const passwordHash = await hashPassword(newPassword);
    const asUser: RequestContext = { ...context, actor: { type: 'user', id: user.id } };
    await inTransaction(this.#db, async (tx) => {
      const consumed = await tx
        .update(passwordResetTokens)
        .set({ usedAt: new Date(), updatedAt: new Date() })
        .where(
          and(
            eq(passwordResetTokens.id, row.id),
            isNull(passwordResetTokens.usedAt),
            isNull(passwordResetTokens.voidedAt),
            gt(passwordResetTokens.expiresAt, new Date()),
          ),
        )
        .returning({ id: passwordResetTokens.id });
      if (consumed.length === 0) throw invalidResetToken();
      // Re-read under lock: the hash that joins the history is the one being replaced now.
      const [current] = await tx.select().from(users).where(eq(users.id, user.id)).for('update').limit(1);
      if (!current) throw invalidResetToken();
      await this.#identity.replacePassword(tx, current, passwordHash, asUser, 'auth.password_reset');
    });
    await this.#identity.sessions.revokeAllSessions(user.id, 'password_reset', asUser);
    await this.#identity.clearLoginLock(user.id);
  }
}
