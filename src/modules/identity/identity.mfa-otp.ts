/**
 * SMS and email one-time codes as second factors for staff. Enabling one proves the destination once (a code sent
 * there); the proven destination is stored sealed on the factor row, so later codes go where the proof went even if
 * the account's phone or email changes afterwards. Codes come from OtpService: 6 digits from the CSPRNG, stored as a
 * keyed hash, bound (at login to the MFA token), 5 tries, one live code per user and purpose (a new code voids the
 * old), resend cooldown and hourly cap (429 with Retry-After). Delivery is an `otp.requested` outbox event with the
 * code sealed; the notification worker opens it.
 */
import { and, eq } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { openEnvelope, sealEnvelope } from '../../platform/crypto.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { AppError } from '../../platform/errors.ts';
import type { Aggregate, PayloadOf } from '../../platform/events.ts';
import type { PrincipalType } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { type OtpIssued, OtpService, otpRequested } from '../../platform/otp.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { identityErrorCatalogue as codes } from './identity.errors.ts';
import { mfaFactors } from './identity.tables.ts';

export const OTP_FACTORS = ['sms_otp', 'email_otp'] as const;
export type OtpFactor = (typeof OTP_FACTORS)[number];
type PrincipalRef = { type: PrincipalType; id: string };
type FactorRow = typeof mfaFactors.$inferSelect;

export const OTP_CHANNEL: Record<OtpFactor, 'sms' | 'email'> = { sms_otp: 'sms', email_otp: 'email' };
const FACTOR_NAME: Record<OtpFactor, string> = { sms_otp: 'SMS code', email_otp: 'Email code' };

/** How codes are issued; wired at start-up to the runtime settings (`auth.otp_ttl_seconds`). */
export interface OtpPolicy {
  ttlMs: number;
  resendCooldownMs: number;
  hourlyCap: number;
}

export const DEFAULT_OTP_POLICY: OtpPolicy = { ttlMs: 5 * 60_000, resendCooldownMs: 60_000, hourlyCap: 5 };

export const otpFactorErrors = {
  phoneRequired: () => codes.PHONE_REQUIRED(),
  alreadyEnabled: (factor: OtpFactor) =>
    codes.MFA_ALREADY_ENABLED({ params: { factor: FACTOR_NAME[factor] } }),
  notEnrolled: (factor: OtpFactor) =>
    codes.MFA_NOT_ENROLLED({ message: `Start the ${FACTOR_NAME[factor]} enrolment first` }),
  notEnabled: (factor: OtpFactor) => codes.MFA_NOT_ENABLED({ params: { factor: FACTOR_NAME[factor] } }),
  notOffered: (factor: OtpFactor) =>
    codes.MFA_FACTOR_UNAVAILABLE({ params: { factor: FACTOR_NAME[factor] }, details: { factor } }),
};

/** `+2547•••••12` / `j•••@bank.test`: enough to recognise, not enough to harvest. */
export function maskDestination(destination: string): string {
  const at = destination.lastIndexOf('@');
  if (at > 0) return `${destination.slice(0, 1)}•••${destination.slice(at)}`;
  const hidden = Math.max(0, destination.length - 6);
  return `${destination.slice(0, 4)}${'•'.repeat(hidden)}${destination.slice(4 + hidden)}`;
}

/** The delivery request for a staff code: the code sealed to its challenge, as `otpRequestedEvent` does. */
function staffOtpEvent(
  keys: Dependencies['keys'],
  principal: PrincipalRef,
  factor: OtpFactor,
  purpose: string,
  destination: string,
  issued: OtpIssued,
): { aggregate: Aggregate; payload: PayloadOf<typeof otpRequested> } {
  const channel = OTP_CHANNEL[factor];
  return {
    aggregate: { type: principal.type, id: principal.id },
    payload: {
      [principal.type === 'user' ? 'user_id' : 'customer_id']: principal.id,
      purpose,
      channel,
      [channel === 'sms' ? 'phone' : 'email']: destination,
      challenge_id: issued.challengeId,
      expires_at: issued.expiresAt.toISOString(),
      code_sealed: JSON.stringify(sealEnvelope(keys, Buffer.from(issued.code), `otp:${issued.challengeId}`)),
    },
  };
}

export interface OtpFactorStatus {
  enabled: boolean;
  pending: boolean;
  destination: string | null;
  confirmed_at: string | null;
}

export interface CodeSent {
  factor: OtpFactor;
  channel: 'sms' | 'email';
  destination: string;
  expires_at: string;
}

export class OtpFactors {
  readonly #deps: Dependencies;
  readonly #sealContext: (factorId: string) => string;
  /** Replaced at start-up by the settings-backed policy. */
  policy: () => Promise<OtpPolicy> = async () => DEFAULT_OTP_POLICY;

  constructor(deps: Dependencies, sealContext: (factorId: string) => string) {
    this.#deps = deps;
    this.#sealContext = sealContext;
  }

  get #db(): Executor {
    return this.#deps.database.db;
  }

  async #otp(): Promise<{ service: OtpService; ttlMs: number }> {
    const policy = await this.policy();
    const service = new OtpService({
      store: this.#deps.store,
      pepper: this.#deps.config.HMAC_PEPPER,
      ttlMs: policy.ttlMs,
      resendCooldownMs: policy.resendCooldownMs,
      hourlyCap: policy.hourlyCap,
    });
    return { service, ttlMs: policy.ttlMs };
  }

  async #row(principal: PrincipalRef, factor: OtpFactor): Promise<FactorRow | undefined> {
    const [row] = await this.#db
      .select()
      .from(mfaFactors)
      .where(
        and(
          eq(mfaFactors.principalType, principal.type),
          eq(mfaFactors.principalId, principal.id),
          eq(mfaFactors.kind, factor),
        ),
      )
      .limit(1);
    return row;
  }

  #destination(row: FactorRow): string {
    const opened = openEnvelope(this.#deps.keys, JSON.parse(row.secretSealed), this.#sealContext(row.id));
    return (JSON.parse(opened.toString('utf8')) as { destination: string }).destination;
  }

  #enrolKey(principal: PrincipalRef, factor: OtpFactor): string {
    return `mfa:enrol-otp:${principal.type}:${principal.id}:${factor}`;
  }

  #loginKey(mfaTokenId: string, factor: OtpFactor): string {
    return `mfa:otp:${mfaTokenId}:${factor}`;
  }

  async status(principal: PrincipalRef, factor: OtpFactor): Promise<OtpFactorStatus> {
    const row = await this.#row(principal, factor);
    return {
      enabled: row?.status === 'active',
      pending: row?.status === 'pending',
      destination: row ? maskDestination(this.#destination(row)) : null,
      confirmed_at: row?.confirmedAt?.toISOString() ?? null,
    };
  }

  /** Starts (or restarts, which sends a new code and voids the old) enrolment of a factor at `destination`. */
  async enrol(
    principal: PrincipalRef,
    factor: OtpFactor,
    destination: string,
    context: RequestContext,
  ): Promise<CodeSent> {
    const existing = await this.#row(principal, factor);
    if (existing?.status === 'active') throw otpFactorErrors.alreadyEnabled(factor);
    const id = existing?.id ?? uuidv7();
    const purpose = `mfa_enrol:${factor}`;
    const { service, ttlMs } = await this.#otp();
    // Issued first: a refusal (cooldown, hourly cap) changes nothing.
    const issued = await service.issue({
      purpose,
      subject: principal.id,
      binding: { factor_id: id, to: destination },
    });
    const sealed = JSON.stringify(
      sealEnvelope(this.#deps.keys, Buffer.from(JSON.stringify({ destination })), this.#sealContext(id)),
    );
    await inTransaction(this.#db, async (tx) => {
      if (existing) {
        await tx
          .update(mfaFactors)
          .set({ secretSealed: sealed, updatedAt: new Date() })
          .where(eq(mfaFactors.id, id));
      } else {
        await tx.insert(mfaFactors).values({
          id,
          principalType: principal.type,
          principalId: principal.id,
          kind: factor,
          secretSealed: sealed,
          status: 'pending',
        });
      }
      const event = staffOtpEvent(this.#deps.keys, principal, factor, purpose, destination, issued);
      await emitEvent(tx, otpRequested, event.aggregate, event.payload);
      await writeAudit(tx, context, {
        action: `mfa.${factor}_enrolment_started`,
        entityType: principal.type,
        entityId: principal.id,
      });
    });
    await this.#deps.store.set(this.#enrolKey(principal, factor), issued.challengeId, ttlMs);
    return {
      factor,
      channel: OTP_CHANNEL[factor],
      destination: maskDestination(destination),
      expires_at: issued.expiresAt.toISOString(),
    };
  }

  /** Finishes enrolment with the code sent there. 401 OTP_INVALID / 423 OTP_LOCKED from OtpService. */
  async confirm(
    principal: PrincipalRef,
    factor: OtpFactor,
    code: string,
    context: RequestContext,
  ): Promise<OtpFactorStatus> {
    const row = await this.#row(principal, factor);
    if (!row) throw otpFactorErrors.notEnrolled(factor);
    if (row.status === 'active') throw otpFactorErrors.alreadyEnabled(factor);
    const challengeId = (await this.#deps.store.get(this.#enrolKey(principal, factor))) ?? '';
    const { service } = await this.#otp();
    await service.verify({
      purpose: `mfa_enrol:${factor}`,
      challengeId,
      code,
      binding: { factor_id: row.id, to: this.#destination(row) },
    });
    await inTransaction(this.#db, async (tx) => {
      const activated = await tx
        .update(mfaFactors)
        .set({ status: 'active', confirmedAt: new Date(), updatedAt: new Date() })
        .where(and(eq(mfaFactors.id, row.id), eq(mfaFactors.status, 'pending')))
        .returning({ id: mfaFactors.id });
      if (activated.length === 0) throw otpFactorErrors.alreadyEnabled(factor);
      await writeAudit(tx, context, {
        action: `mfa.${factor}_enabled`,
        entityType: principal.type,
        entityId: principal.id,
      });
    });
    await this.#deps.store.delete(this.#enrolKey(principal, factor));
    return this.status(principal, factor);
  }

  /** Turns the factor off (the caller has re-checked the password). */
  async disable(principal: PrincipalRef, factor: OtpFactor, context: RequestContext): Promise<void> {
    await inTransaction(this.#db, async (tx) => {
      const removed = await tx
        .delete(mfaFactors)
        .where(
          and(
            eq(mfaFactors.principalType, principal.type),
            eq(mfaFactors.principalId, principal.id),
            eq(mfaFactors.kind, factor),
          ),
        )
        .returning({ id: mfaFactors.id });
      if (removed.length === 0) throw otpFactorErrors.notEnabled(factor);
      await writeAudit(tx, context, {
        action: `mfa.${factor}_disabled`,
        entityType: principal.type,
        entityId: principal.id,
      });
    });
    await this.#deps.store.delete(this.#enrolKey(principal, factor));
  }

  /** Sends a login code for an MFA token (a new code voids the previous one). */
  async sendLoginCode(principal: PrincipalRef, factor: OtpFactor, mfaTokenId: string, tokenTtlMs: number) {
    const row = await this.#row(principal, factor);
    if (row?.status !== 'active') throw otpFactorErrors.notOffered(factor);
    const destination = this.#destination(row);
    const purpose = `mfa:${factor}`;
    const { service } = await this.#otp();
    const issued = await service.issue({ purpose, subject: principal.id, binding: { mfa: mfaTokenId } });
    await this.#deps.store.set(this.#loginKey(mfaTokenId, factor), issued.challengeId, tokenTtlMs);
    const event = staffOtpEvent(this.#deps.keys, principal, factor, purpose, destination, issued);
    await emitEvent(this.#db, otpRequested, event.aggregate, event.payload);
    return {
      factor,
      channel: OTP_CHANNEL[factor],
      destination: maskDestination(destination),
      expires_at: issued.expiresAt.toISOString(),
    } satisfies CodeSent;
  }

  /** Whether `code` is the live login code of this MFA token; true once, for the first right submit. */
  async acceptLoginCode(
    principal: PrincipalRef,
    factor: OtpFactor,
    mfaTokenId: string,
    code: string,
  ): Promise<boolean> {
    const challengeId = await this.#deps.store.get(this.#loginKey(mfaTokenId, factor));
    if (!challengeId) return false;
    const row = await this.#row(principal, factor);
    if (row?.status !== 'active') return false;
    const { service } = await this.#otp();
    try {
      await service.verify({ purpose: `mfa:${factor}`, challengeId, code, binding: { mfa: mfaTokenId } });
      return true;
    } catch (error) {
      if (error instanceof AppError && error.statusCode < 500) return false;
      throw error;
    }
  }
}
