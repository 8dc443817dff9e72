/**
 * Second factors: TOTP (RFC 6238) with an otpauth URI and QR code, 10 single-use recovery codes, SMS and email codes
 * (identity.mfa-otp.ts) and security questions (identity.questions.ts).
 * A login that needs a second factor gets a short-lived MFA token (typ mfa+jwt) instead of a session; the token
 * allows 5 tries, is spent by its first success, and a TOTP code is accepted once (its time step is remembered).
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { keyedHash, openEnvelope, randomToken, sealEnvelope } from '../../platform/crypto.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';

import type { Principal, PrincipalType } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { identityErrorCatalogue as codes, identityErrors } from './identity.errors.ts';
import { OTP_FACTORS, type OtpFactor, OtpFactors, otpFactorErrors } from './identity.mfa-otp.ts';
import { MIN_QUESTIONS, SecurityQuestions } from './identity.questions.ts';
import { mfaFactors, recoveryCodes } from './identity.tables.ts';
import type { TokenService } from './identity.tokens.ts';

export const MFA_TOKEN_TYPE = 'mfa+jwt';
const MFA_TOKEN_TTL_SECONDS = 300;
const MFA_MAX_TRIES = 5;
const RECOVERY_CODE_COUNT = 10;
const TOTP_PERIOD = 30;

export type Factor = 'totp' | 'recovery_code' | 'security_questions' | OtpFactor;
type PrincipalRef = { type: PrincipalType; id: string };

export const mfaErrors = {
  alreadyEnabled: () => codes.MFA_ALREADY_ENABLED({ params: { factor: 'Authenticator app' } }),
  notEnrolled: () => codes.MFA_NOT_ENROLLED(),
  notEnabled: () => codes.MFA_NOT_ENABLED({ params: { factor: 'Authenticator app' } }),
  invalidCode: (triesLeft?: number) =>
    codes.INVALID_MFA_CODE({ details: triesLeft === undefined ? null : { tries_left: triesLeft } }),
};

/** The factors an MFA token was issued for. */
function offeredFactors(claims: Record<string, unknown>): string[] {
  const offered = claims.f;
  return Array.isArray(offered) ? offered.filter((item): item is string => typeof item === 'string') : [];
}

export function normaliseRecoveryCode(code: string): string {
  return code.replace(/[\s-]/g, '').toLowerCase();
}

export class MfaService {
  readonly #deps: Dependencies;
  readonly #tokens: TokenService;
  readonly questions: SecurityQuestions;
  /** SMS and email codes. */
  readonly otp: OtpFactors;

  constructor(deps: Dependencies, tokens: TokenService) {
    this.#deps = deps;
    this.#tokens = tokens;
    this.questions = new SecurityQuestions(deps.database.db);
    this.otp = new OtpFactors(deps, (factorId) => this.#sealContext(factorId));
  }

  get #db(): Executor {
    return this.#deps.database.db;
  }

  #sealContext(factorId: string) {
    return `mfa-factor:${factorId}`;
  }

  #totp(secretBase32: string, label: string) {
    return new TOTP({
      issuer: 'CodeForge Suite',
      label,
      algorithm: 'SHA1',
      digits: 6,
      period: TOTP_PERIOD,
      secret: Secret.fromBase32(secretBase32),
    });
  }

  async #factor(principal: PrincipalRef) {
    const [factor] = await this.#db
      .select()
      .from(mfaFactors)
      .where(
        and(
          eq(mfaFactors.principalType, principal.type),
          eq(mfaFactors.principalId, principal.id),
          eq(mfaFactors.kind, 'totp'),
        ),
      )
      .limit(1);
    return factor;
  }

  /** Factors a login must complete (any one of them); empty when MFA is off for this principal. */
  async activeFactors(principal: PrincipalRef): Promise<Factor[]> {
    const rows = await this.#db
      .select({ kind: mfaFactors.kind })
      .from(mfaFactors)
      .where(
        and(
          eq(mfaFactors.principalType, principal.type),
          eq(mfaFactors.principalId, principal.id),
          eq(mfaFactors.status, 'active'),
        ),
      );
    const active = new Set(rows.map((row) => row.kind));
    const factors: Factor[] = active.has('totp') ? ['totp', 'recovery_code'] : [];
    for (const factor of OTP_FACTORS) if (active.has(factor)) factors.push(factor);
    if ((await this.questions.questionsOf(principal)).length >= MIN_QUESTIONS)
      factors.push('security_questions');
    return factors;
  }

  async status(principal: PrincipalRef) {
    const factor = await this.#factor(principal);
    const [remaining] = await this.#db
      .select({ count: sql<number>`count(*)::int` })
      .from(recoveryCodes)
      .where(and(eq(recoveryCodes.principalId, principal.id), isNull(recoveryCodes.usedAt)));
    return {
      enabled: factor?.status === 'active',
      pending: factor?.status === 'pending',
      confirmed_at: factor?.confirmedAt?.toISOString() ?? null,
      recovery_codes_remaining: factor?.status === 'active' ? (remaining?.count ?? 0) : 0,
    };
  }

  /** Every second factor of the principal and whether it is on. */
  async listFactors(principal: PrincipalRef) {
    const totp = await this.status(principal);
    const items: {
      factor: 'totp' | OtpFactor | 'security_questions';
      enabled: boolean;
      pending: boolean;
      destination: string | null;
      confirmed_at: string | null;
    }[] = [
      {
        factor: 'totp',
        enabled: totp.enabled,
        pending: totp.pending,
        destination: null,
        confirmed_at: totp.confirmed_at,
      },
    ];
    for (const factor of OTP_FACTORS) items.push({ factor, ...(await this.otp.status(principal, factor)) });
    const answered = await this.questions.questionsOf(principal);
    items.push({
      factor: 'security_questions',
      enabled: answered.length >= MIN_QUESTIONS,
      pending: false,
      destination: null,
      confirmed_at: null,
    });
    return { items, recovery_codes_remaining: totp.recovery_codes_remaining };
  }

  /** Starts (or restarts) enrolment: a new secret, shown once as text, otpauth URI and QR code. */
  async enrol(principal: PrincipalRef, label: string, context: RequestContext) {
    const existing = await this.#factor(principal);
    if (existing?.status === 'active') throw mfaErrors.alreadyEnabled();
    const secret = new Secret({ size: 20 });
    const id = existing?.id ?? uuidv7();
    const sealed = JSON.stringify(
      sealEnvelope(this.#deps.keys, Buffer.from(secret.base32), this.#sealContext(id)),
    );
    await inTransaction(this.#db, async (tx) => {
      if (existing) {
        await tx
          .update(mfaFactors)
          .set({ secretSealed: sealed, lastUsedStep: 0, updatedAt: new Date() })
          .where(eq(mfaFactors.id, id));
      } else {
        await tx.insert(mfaFactors).values({
          id,
          principalType: principal.type,
          principalId: principal.id,
          kind: 'totp',
          secretSealed: sealed,
          status: 'pending',
        });
      }
      await writeAudit(tx, context, {
        action: 'mfa.totp_enrolment_started',
        entityType: principal.type,
        entityId: principal.id,
      });
    });
    const uri = this.#totp(secret.base32, label).toString();
    return { secret: secret.base32, otpauth_uri: uri, qr_png: await QRCode.toDataURL(uri) };
  }

  /**
   * Checks a TOTP code (±1 step for clock drift) and remembers its step, so the same code is accepted only once.
   * Returns false for a wrong or replayed code.
   */
  async #acceptTotp(tx: Executor, factor: typeof mfaFactors.$inferSelect, code: string): Promise<boolean> {
    if (!/^\d{6}$/.test(code)) return false;
    const secret = openEnvelope(
      this.#deps.keys,
      JSON.parse(factor.secretSealed),
      this.#sealContext(factor.id),
    ).toString();
    const now = Date.now();
    const delta = this.#totp(secret, 'verify').validate({ token: code, timestamp: now, window: 1 });
    if (delta === null) return false;
    const step = Math.floor(now / 1000 / TOTP_PERIOD) + delta;
    const updated = await tx
      .update(mfaFactors)
      .set({ lastUsedStep: step, updatedAt: new Date() })
      .where(and(eq(mfaFactors.id, factor.id), sql`${mfaFactors.lastUsedStep} < ${step}`))
      .returning({ id: mfaFactors.id });
    return updated.length === 1;
  }

  async #newRecoveryCodes(tx: Executor, principal: PrincipalRef): Promise<string[]> {
    await tx.delete(recoveryCodes).where(eq(recoveryCodes.principalId, principal.id));
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => {
      const raw = randomToken(8)
        .replace(/[^a-zA-Z0-9]/g, '')
        .slice(0, 10)
        .toLowerCase()
        .padEnd(10, '7');
      return `${raw.slice(0, 5)}-${raw.slice(5, 10)}`;
    });
    await tx.insert(recoveryCodes).values(
      codes.map((code) => ({
        id: uuidv7(),
        principalType: principal.type,
        principalId: principal.id,
        codeHash: keyedHash(this.#deps.config.HMAC_PEPPER, 'recovery-code', normaliseRecoveryCode(code)),
      })),
    );
    return codes;
  }

  /** Confirms enrolment with a first code; returns the recovery codes, shown this once. */
  async confirm(principal: PrincipalRef, code: string, context: RequestContext) {
    return inTransaction(this.#db, async (tx) => {
      const [factor] = await tx
        .select()
        .from(mfaFactors)
        .where(and(eq(mfaFactors.principalId, principal.id), eq(mfaFactors.kind, 'totp')))
        .for('update')
        .limit(1);
      if (!factor) throw mfaErrors.notEnrolled();
      if (factor.status === 'active') throw mfaErrors.alreadyEnabled();
      if (!(await this.#acceptTotp(tx, factor, code))) throw mfaErrors.invalidCode();
      await tx
        .update(mfaFactors)
        .set({ status: 'active', confirmedAt: new Date() })
        .where(eq(mfaFactors.id, factor.id));
      const codes = await this.#newRecoveryCodes(tx, principal);
      await writeAudit(tx, context, {
        action: 'mfa.totp_enabled',
        entityType: principal.type,
        entityId: principal.id,
      });
      return { recovery_codes: codes };
    });
  }

  async regenerateRecoveryCodes(principal: PrincipalRef, code: string, context: RequestContext) {
    return inTransaction(this.#db, async (tx) => {
      const [factor] = await tx
        .select()
        .from(mfaFactors)
        .where(and(eq(mfaFactors.principalId, principal.id), eq(mfaFactors.kind, 'totp')))
        .for('update')
        .limit(1);
      if (factor?.status !== 'active') throw mfaErrors.notEnabled();
      if (!(await this.#acceptTotp(tx, factor, code))) throw mfaErrors.invalidCode();
      const codes = await this.#newRecoveryCodes(tx, principal);
      await writeAudit(tx, context, {
        action: 'mfa.recovery_codes_regenerated',
        entityType: principal.type,
        entityId: principal.id,
      });
      return { recovery_codes: codes };
    });
  }

  /** Turns authenticator-app sign-in off, with its recovery codes (the caller has re-checked the password). */
  async disable(principal: PrincipalRef, context: RequestContext) {
    await inTransaction(this.#db, async (tx) => {
      const removed = await tx
        .delete(mfaFactors)
        .where(and(eq(mfaFactors.principalId, principal.id), eq(mfaFactors.kind, 'totp')))
        .returning({ id: mfaFactors.id });
      if (removed.length === 0) throw mfaErrors.notEnabled();
      await tx.delete(recoveryCodes).where(eq(recoveryCodes.principalId, principal.id));
      await writeAudit(tx, context, {
        action: 'mfa.disabled',
        entityType: principal.type,
        entityId: principal.id,
      });
    });
  }

  async issueChallenge(principal: PrincipalRef, factors: Factor[]) {
    // The questions are chosen now and bound into the token, so a caller cannot pick the ones they know.
    const questions = factors.includes('security_questions') ? await this.questions.pick(principal) : [];
    const mfa_token = await this.#tokens.signPurpose(
      // The factors offered are bound too: a factor enabled or offered later does not apply to this token.
      {
        sub: principal.id,
        ptype: principal.type,
        sid: 'mfa',
        q: questions.map((question) => question.code),
        f: factors,
      },
      MFA_TOKEN_TYPE,
      MFA_TOKEN_TTL_SECONDS,
    );
    return { mfa_required: true as const, mfa_token, factors, questions, expires_in: MFA_TOKEN_TTL_SECONDS };
  }

  /** Verifies the second factor of a login; returns who logged in. Five tries per token, one success. */
  async completeChallenge(
    mfaToken: string,
    factor: Factor,
    proof: { code?: string; answers?: { question: string; answer: string }[] },
    context: RequestContext,
  ): Promise<PrincipalRef> {
    const code = proof.code ?? '';
    const claims = await this.#tokens.verify(mfaToken, MFA_TOKEN_TYPE);
    const { store } = this.#deps;
    if (await store.get(`mfa:spent:${claims.jti}`)) throw identityErrors.invalidToken();
    const principal: PrincipalRef = { type: claims.ptype, id: claims.sub };
    const tries = await store.increment(`mfa:tries:${claims.jti}`, MFA_TOKEN_TTL_SECONDS * 1000);
    if (tries > MFA_MAX_TRIES) throw identityErrors.invalidToken('Too many wrong codes; log in again');
    const asked = Array.isArray(claims.q)
      ? claims.q.filter((item): item is string => typeof item === 'string')
      : [];
    const accepted =
      offeredFactors(claims).includes(factor) &&
      (await this.#accept(
        principal,
        factor,
        claims.jti,
        { code, asked, answers: proof.answers ?? [] },
        context,
      ));
    if (!accepted) throw mfaErrors.invalidCode(Math.max(0, MFA_MAX_TRIES - tries));
    if (!(await store.setIfAbsent(`mfa:spent:${claims.jti}`, '1', MFA_TOKEN_TTL_SECONDS * 1000))) {
      throw identityErrors.invalidToken();
    }
    return principal;
  }

  /**
   * Checks one proof. Answers and one-time codes are checked outside any transaction: argon2 verifications must not
   * hold row locks (and on the single-connection embedded database a query beside an open transaction would wait for
   * it forever).
   */
  async #accept(
    principal: PrincipalRef,
    factor: Factor,
    mfaTokenId: string,
    proof: { code: string; asked: string[]; answers: { question: string; answer: string }[] },
    context: RequestContext,
  ): Promise<boolean> {
    const { code } = proof;
    if (factor === 'sms_otp' || factor === 'email_otp')
      return this.otp.acceptLoginCode(principal, factor, mfaTokenId, code);
    if (factor === 'security_questions') return this.questions.check(principal, proof.asked, proof.answers);
    return inTransaction(this.#db, async (tx) => {
      if (factor === 'recovery_code') {
        const hash = keyedHash(this.#deps.config.HMAC_PEPPER, 'recovery-code', normaliseRecoveryCode(code));
        const used = await tx
          .update(recoveryCodes)
          .set({ usedAt: new Date(), updatedAt: new Date() })
          .where(
            and(
              eq(recoveryCodes.principalId, principal.id),
              eq(recoveryCodes.codeHash, hash),
              isNull(recoveryCodes.usedAt),
            ),
          )
          .returning({ id: recoveryCodes.id });
        if (used.length === 0) return false;
        await writeAudit(
          tx,
          { ...context, actor: principal },
          {
            action: 'mfa.recovery_code_used',
            entityType: principal.type,
            entityId: principal.id,
          },
        );
        return true;
      }
      const [row] = await tx
        .select()
        .from(mfaFactors)
        .where(
          and(
            eq(mfaFactors.principalId, principal.id),
            eq(mfaFactors.kind, 'totp'),
            eq(mfaFactors.status, 'active'),
          ),
        )
        .for('update')
        .limit(1);
      return row ? this.#acceptTotp(tx, row, code) : false;
    });
  }

  /**
   * Sends an SMS or email code for a login waiting at its second factor. Sending spends none of the token's five
   * tries; OtpService throttles it (cooldown and hourly cap per user, 429 with Retry-After).
   */
  async sendLoginCode(mfaToken: string, factor: OtpFactor) {
    const claims = await this.#tokens.verify(mfaToken, MFA_TOKEN_TYPE);
    const { store } = this.#deps;
    if (await store.get(`mfa:spent:${claims.jti}`)) throw identityErrors.invalidToken();
    if (Number((await store.get(`mfa:tries:${claims.jti}`)) ?? 0) >= MFA_MAX_TRIES)
      throw identityErrors.invalidToken('Too many wrong codes; log in again');
    if (!offeredFactors(claims).includes(factor)) throw otpFactorErrors.notOffered(factor);
    const ttlMs = Math.max(1000, claims.exp * 1000 - Date.now());
    const sent = await this.otp.sendLoginCode(
      { type: claims.ptype, id: claims.sub },
      factor,
      claims.jti,
      ttlMs,
    );
    return { ...sent, expires_in: Math.max(1, Math.ceil((Date.parse(sent.expires_at) - Date.now()) / 1000)) };
  }
}

export type { Principal };
