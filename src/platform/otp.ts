/**
 * One-time codes for out-of-band factors (SMS/email OTP at login, transaction step-up, PIN reset).
 *
 * - A code is 6 digits from the CSPRNG and is returned only by `issue` (the caller hands it to the notification
 *   outbox). The store holds only a keyed HMAC of `challengeId:code:canonical(binding)`, so a code is bound to
 *   its challenge and to what it authorises (payee, amount …): the same code with another binding fails.
 * - One live challenge per subject+purpose: a new code voids the previous one. Re-sending is throttled by a
 *   cooldown and an hourly cap per subject+purpose. The subject (a phone number, a customer id) never appears
 *   in a store key: keys carry a keyed hash of it.
 * - Attempts are counted atomically before comparing, so parallel submits cannot exceed `maxAttempts`
 *   comparisons; the first correct submit consumes the challenge atomically and is the only success.
 * - Expired, unknown, voided, consumed and wrong all answer with the same message, so nothing leaks.
 */
import { Type } from 'typebox';
import type { EphemeralStore } from './cache.ts';
import {
  constantTimeEqualHex,
  type KeyRing,
  keyedHash,
  randomDigits,
  randomToken,
  sealEnvelope,
} from './crypto.ts';
import { type AppError, platformErrorCatalogue as platform } from './error-catalogue.ts';
import { type Aggregate, defineTopic, MinorUnits, type PayloadOf } from './events.ts';

export type OtpBinding = Record<string, string | number | bigint>;

export interface OtpServiceOptions {
  store: EphemeralStore;
  /** Server secret keying the code hashes. */
  pepper: string;
  /** Lifetime of a code; default 5 minutes, at most 10. */
  ttlMs?: number;
  /** Comparisons allowed per challenge; default 5. */
  maxAttempts?: number;
  /** Minimum time between two codes for one subject+purpose; default 60 s, 0 disables. */
  resendCooldownMs?: number;
  /** Codes per subject+purpose per fixed hour window; default 5. */
  hourlyCap?: number;
  now?: () => number;
}

export interface OtpIssueInput {
  /** What the code authorises: 'login', 'transfer', 'pin_reset' … */
  purpose: string;
  /** Who receives it (a customer id, an E.164 number): cooldown and hourly cap are per subject+purpose. */
  subject: string;
  /** The data the code is bound to, e.g. {payee, amount, currency, transaction_id}. */
  binding?: OtpBinding;
}

export interface OtpIssued {
  challengeId: string;
  code: string;
  expiresAt: Date;
}

export interface OtpVerifyInput {
  purpose: string;
  challengeId: string;
  code: string;
  binding?: OtpBinding;
}

export const OTP_MAX_TTL_MS = 10 * 60_000;
const DEFAULT_TTL_MS = 5 * 60_000;
const HOUR_MS = 60 * 60_000;
const CODE_LENGTH = 6;
const CHALLENGE_ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
const INVALID_MESSAGE = 'The code is wrong or has expired';

/** Stable serialisation of a binding: keys sorted, every value as a string (bigints and numbers in decimal). */
export function canonical(binding: OtpBinding | undefined): string {
  if (binding === undefined) return '{}';
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(binding).sort()) {
    const value: unknown = binding[key];
    if (typeof value === 'string') sorted[key] = value;
    else if (typeof value === 'bigint') sorted[key] = value.toString(10);
    else if (typeof value === 'number' && Number.isFinite(value)) sorted[key] = String(value);
    else throw new TypeError(`OTP binding "${key}" must be a string, a finite number or a bigint`);
  }
  return JSON.stringify(sorted);
}

function invalid(attemptsLeft: number): AppError {
  return platform.OTP_INVALID({ message: INVALID_MESSAGE, details: { attempts_left: attemptsLeft } });
}

function tooManyRequests(
  errorCode: 'OTP_COOLDOWN' | 'OTP_RATE_LIMITED',
  message: string,
  remainingMs: number | null,
): AppError {
  const seconds = Math.max(1, Math.ceil((remainingMs ?? 1000) / 1000));
  return platform[errorCode]({
    message,
    details: { retry_after_seconds: seconds },
    headers: { 'retry-after': String(seconds) },
  });
}

interface ChallengeRecord {
  /** Keyed hash of purpose+subject: finds the subject's current-challenge pointer. */
  s: string;
  /** Keyed hash of challengeId:code:binding. */
  h: string;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`OtpService: ${name} must be ≥ 1`);
  return value;
}

export class OtpService {
  readonly #store: EphemeralStore;
  readonly #pepper: string;
  readonly #ttlMs: number;
  readonly #maxAttempts: number;
  readonly #resendCooldownMs: number;
  readonly #hourlyCap: number;
  readonly #now: () => number;

  constructor(options: OtpServiceOptions) {
    const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError('OtpService: ttlMs must be positive');
    if (ttlMs > OTP_MAX_TTL_MS)
      throw new RangeError(`OtpService: ttlMs must be at most ${OTP_MAX_TTL_MS} ms (10 minutes)`);
    if (!options.pepper) throw new RangeError('OtpService: pepper is required');
    const cooldown = options.resendCooldownMs ?? 60_000;
    if (!Number.isFinite(cooldown) || cooldown < 0)
      throw new RangeError('OtpService: resendCooldownMs must be ≥ 0');
    this.#store = options.store;
    this.#pepper = options.pepper;
    this.#ttlMs = ttlMs;
    this.#maxAttempts = positiveInteger('maxAttempts', options.maxAttempts ?? 5);
    this.#resendCooldownMs = cooldown;
    this.#hourlyCap = positiveInteger('hourlyCap', options.hourlyCap ?? 5);
    this.#now = options.now ?? Date.now;
  }

  #subjectKey(purpose: string, subject: string): string {
    return keyedHash(this.#pepper, 'otp-subject', `${purpose}\0${subject}`);
  }

  #codeHash(purpose: string, challengeId: string, code: string, binding: OtpBinding | undefined): string {
    return keyedHash(this.#pepper, `otp:${purpose}`, `${challengeId}:${code}:${canonical(binding)}`);
  }

  /** Issues a new code for subject+purpose, voiding the previous one. 429 OTP_COOLDOWN / OTP_RATE_LIMITED. */
  async issue(input: OtpIssueInput): Promise<OtpIssued> {
    const { purpose, subject, binding } = input;
    if (!purpose) throw new TypeError('OTP purpose is required');
    if (!subject) throw new TypeError('OTP subject is required');
    const challengeId = randomToken(18);
    const code = randomDigits(CODE_LENGTH);
    // Hashed first so a malformed binding is refused before any counter moves.
    const hash = this.#codeHash(purpose, challengeId, code, binding);
    const subjectKey = this.#subjectKey(purpose, subject);
    const hourKey = `otp:hour:${subjectKey}`;
    const cooldownKey = `otp:cooldown:${subjectKey}`;

    // A peek first so a subject at its cap is told when the hour ends (not a cooldown that is about to lapse);
    // the atomic increment below is what enforces the cap.
    const issuedThisHour = Number((await this.#store.get(hourKey)) ?? 0);
    if (issuedThisHour >= this.#hourlyCap) throw await this.#rateLimited(hourKey);
    if (
      this.#resendCooldownMs > 0 &&
      !(await this.#store.setIfAbsent(cooldownKey, '1', this.#resendCooldownMs))
    ) {
      throw tooManyRequests(
        'OTP_COOLDOWN',
        'A code was sent moments ago; wait before asking for another',
        await this.#store.ttlMs(cooldownKey),
      );
    }
    if ((await this.#store.increment(hourKey, HOUR_MS)) > this.#hourlyCap)
      throw await this.#rateLimited(hourKey);

    const record: ChallengeRecord = { s: subjectKey, h: hash };
    const expiresAt = new Date(this.#now() + this.#ttlMs);
    await this.#store.set(`otp:challenge:${challengeId}`, JSON.stringify(record), this.#ttlMs);
    const pointerKey = `otp:current:${subjectKey}`;
    const previous = await this.#store.get(pointerKey);
    await this.#store.set(pointerKey, challengeId, this.#ttlMs);
    if (previous && previous !== challengeId) await this.#store.delete(`otp:challenge:${previous}`);
    return { challengeId, code, expiresAt };
  }

  async #rateLimited(hourKey: string): Promise<AppError> {
    return tooManyRequests(
      'OTP_RATE_LIMITED',
      'Too many codes requested; try again later',
      await this.#store.ttlMs(hourKey),
    );
  }

  /**
   * Resolves once, for the first correct code of the current challenge with the same purpose and binding.
   * 401 OTP_INVALID {attempts_left} for a wrong, expired, unknown, voided or used code; 423 OTP_LOCKED once
   * `maxAttempts` comparisons have been spent. `check` then `consume`, in one call.
   */
  async verify(input: OtpVerifyInput): Promise<void> {
    await this.check(input);
    if (!(await this.consume(input.challengeId))) throw invalid(0);
  }

  /**
   * Checks a code without spending it: resolves when it is right for the current, unused challenge (the same
   * answers as `verify` otherwise; the comparison counts towards `maxAttempts`). For a caller whose effect commits
   * elsewhere (a database transaction): check, commit, then `consume`, so a crash before the commit leaves the code
   * usable for the retry. The caller must itself make two successful checks of one code have one effect (a row
   * lock, a recorded step), since `check` alone does not.
   */
  async check(input: OtpVerifyInput): Promise<void> {
    const { purpose, challengeId, code, binding } = input;
    if (typeof challengeId !== 'string' || !CHALLENGE_ID_PATTERN.test(challengeId)) throw invalid(0);
    const raw = await this.#store.get(`otp:challenge:${challengeId}`);
    if (!raw) throw invalid(0);
    let record: ChallengeRecord;
    try {
      record = JSON.parse(raw) as ChallengeRecord;
    } catch {
      throw invalid(0);
    }
    if ((await this.#store.get(`otp:current:${record.s}`)) !== challengeId) throw invalid(0);

    // Counted before comparing: however many submits race, at most maxAttempts of them compare.
    const attempts = await this.#store.increment(`otp:attempts:${challengeId}`, this.#ttlMs);
    if (attempts > this.#maxAttempts) {
      throw platform.OTP_LOCKED({ details: { attempts_left: 0 } });
    }
    const attemptsLeft = this.#maxAttempts - attempts;
    const expected = this.#codeHash(purpose, challengeId, String(code), binding);
    if (!constantTimeEqualHex(expected, record.h)) throw invalid(attemptsLeft);
    if ((await this.#store.get(`otp:consumed:${challengeId}`)) !== null) throw invalid(0);
  }

  /**
   * Spends a challenge: true for the one caller that takes it while it is still the subject's current one, false
   * when it was already spent, expired or voided by a newer code. Call after a successful `check`.
   */
  async consume(challengeId: string): Promise<boolean> {
    if (typeof challengeId !== 'string' || !CHALLENGE_ID_PATTERN.test(challengeId)) return false;
    const challengeKey = `otp:challenge:${challengeId}`;
    const raw = await this.#store.get(challengeKey);
    if (!raw) return false;
    let record: ChallengeRecord;
    try {
      record = JSON.parse(raw) as ChallengeRecord;
    } catch {
      return false;
    }
    const pointerKey = `otp:current:${record.s}`;
    // Exactly one success: the first caller takes the consumed marker.
    if (!(await this.#store.setIfAbsent(`otp:consumed:${challengeId}`, '1', this.#ttlMs))) return false;
    await this.#store.delete(challengeKey);
    // A code issued while this one was being checked voided it.
    return (await this.#store.get(pointerKey)) === challengeId;
  }
}

/** A one-time code to deliver; published by the platform's OTP service for customers and staff alike. */
export const otpRequested = defineTopic(
  'otp.requested',
  1,
  Type.Object(
    {
      customer_id: Type.Optional(Type.String({ description: 'The customer the code is for (or user_id).' })),
      user_id: Type.Optional(
        Type.String({ description: 'The staff user the code is for (or customer_id).' }),
      ),
      purpose: Type.String({ description: 'transaction, pin_reset, mfa:sms, mfa:email …' }),
      channel: Type.Union([Type.Literal('sms'), Type.Literal('email')]),
      challenge_id: Type.String(),
      expires_at: Type.String({ description: 'ISO 8601 time the code stops working.' }),
      code_sealed: Type.String({ description: 'The code in an envelope bound to `otp:<challenge_id>`.' }),
      phone: Type.Optional(
        Type.String({ description: "Where to send it when not the principal's own phone." }),
      ),
      email: Type.Optional(Type.String()),
      language: Type.Optional(
        Type.String({
          description: "The message's language when not the recipient's preference (a registrant's).",
        }),
      ),
      amount: Type.Optional(MinorUnits({ description: 'The payment being confirmed (step-up codes).' })),
      currency: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  'A one-time code to send by SMS or email; the code travels sealed.',
);

/**
 * The outbox event that asks the notification worker to deliver a code. The code travels sealed (envelope
 * encryption bound to the challenge), so the outbox table never holds a usable code.
 */
export function otpRequestedEvent(
  keys: KeyRing,
  customerId: string,
  purpose: string,
  issued: OtpIssued,
  extra: { phone?: string; amount?: string; currency?: string } = {},
): { aggregate: Aggregate; payload: PayloadOf<typeof otpRequested> } {
  return {
    aggregate: { type: 'customer', id: customerId },
    payload: {
      customer_id: customerId,
      purpose,
      channel: 'sms',
      challenge_id: issued.challengeId,
      expires_at: issued.expiresAt.toISOString(),
      code_sealed: JSON.stringify(sealEnvelope(keys, Buffer.from(issued.code), `otp:${issued.challengeId}`)),
      ...extra,
    },
  };
}
