/**
 * Contact validation: a phone OTP, then an email OTP (skippable when ONBOARDING_EMAIL_OPTIONAL). Codes come from the
 * platform's OtpService (6 digits, single use, expiring with `auth.otp_ttl_seconds`, resend cooldown, hourly cap per
 * number or address, a new code voids the old) and reach the person through the notifications module (the
 * `otp.requested` event, the code sealed; the development message sink shows it). A send is a step like the others:
 * sent again with the same body and Idempotency-Key it answers the same challenge without a new code; a new key asks
 * for a new code. A send whose step never committed (the API killed after the code was issued) is retried without
 * waiting out the resend cooldown (`#issue`).
 */
import type { Static } from 'typebox';
import type { RequestContext } from '../../platform/audit.ts';
import { sealEnvelope } from '../../platform/crypto.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { AppError } from '../../platform/errors.ts';
import {
  type OtpIssued,
  type OtpIssueInput,
  OtpService,
  type OtpVerifyInput,
  otpRequested,
} from '../../platform/otp.ts';
import { emitEvent } from '../../platform/outbox.ts';
import type { SettingsService } from '../settings/index.ts';
import { onboardingErrors } from './onboarding.errors.ts';
import type { OtpSent, StepAnswer } from './onboarding.journey.schemas.ts';
import type { Journey, RegistrationPatch, RegistrationRow } from './onboarding.journey.ts';
import { maskPhone, stateOf } from './onboarding.journey.ts';
import { expectedSteps, type RegistrationStep } from './onboarding.machine.ts';

const PHONE_PURPOSE = 'registration:phone';
const EMAIL_PURPOSE = 'registration:email';
/** The OTP service's resend cooldown (its default), stated so the send marker below outlives it. */
const RESEND_COOLDOWN_MS = 60_000;
/** Refusals of `OtpService.issue` that issued nothing. */
const NOTHING_ISSUED = new Set(['OTP_COOLDOWN', 'OTP_RATE_LIMITED']);

/** The OTP services a step uses: the usual one, and the one without a cooldown for a dead send's retry. */
interface Otps {
  otp: OtpService;
  retry: OtpService;
}

export interface StepRequest {
  token: string | undefined;
  deviceId?: string;
  idempotencyKey?: string;
  context: RequestContext;
}

type Answer = Static<typeof StepAnswer>;

export function stepAnswer(row: RegistrationRow): Answer {
  const state = stateOf(row);
  return { state, expected_steps: expectedSteps(state) };
}

function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}

export class ContactVerification {
  readonly #deps: Dependencies;
  readonly #journey: Journey;
  readonly #settings: SettingsService;

  constructor(deps: Dependencies, journey: Journey, settings: SettingsService) {
    this.#deps = deps;
    this.#journey = journey;
    this.#settings = settings;
  }

  async #otps(): Promise<Otps> {
    const options = {
      store: this.#deps.store,
      pepper: this.#deps.config.HMAC_PEPPER,
      ttlMs: (await this.#settings.get('auth.otp_ttl_seconds')) * 1000,
    };
    return {
      otp: new OtpService({ ...options, resendCooldownMs: RESEND_COOLDOWN_MS }),
      retry: new OtpService({ ...options, resendCooldownMs: 0 }),
    };
  }

  /**
   * Issues the code of a send step. The code lives in Redis, outside the step's transaction: a send that dies after
   * issuing it and before the step commits (the API killed, the database failing) leaves a code nobody received —
   * its delivery event rolled back with the step — and the resend cooldown running, so the retry of that same send
   * would be told 429 OTP_COOLDOWN for a minute. A marker set before issuing names the request (registration, step,
   * body and Idempotency-Key: the request hash). Under the registration's lock with no stored answer, a marker found
   * means an earlier attempt of this request issued and never committed, so this one issues without the cooldown.
   * The new code voids the undelivered one (still one live code; the hourly cap still counts it), and any other
   * request (a new Idempotency-Key) still waits the cooldown out. A refusal that issued nothing takes its marker
   * back, so asking again with the same key does not skip the cooldown.
   */
  async #issue(otps: Otps, registrationId: string, requestHash: string, input: OtpIssueInput) {
    const marker = `onboarding:otp-send:${registrationId}:${requestHash}`;
    const retried = (await this.#deps.store.get(marker)) !== null;
    if (!retried) await this.#deps.store.set(marker, '1', 2 * RESEND_COOLDOWN_MS);
    try {
      return await (retried ? otps.retry : otps.otp).issue(input);
    } catch (error) {
      if (!retried && error instanceof AppError && NOTHING_ISSUED.has(error.errorCode))
        await this.#deps.store.delete(marker);
      throw error;
    }
  }

  /**
   * Runs a step whose work is outside the database under the registration's lock: a repeat of a request answered
   * before (even one sent in parallel) gets the stored answer and does no work; otherwise `work` runs with the row
   * and answers the patch and the answer, and the step advances on the same transaction. `afterCommit`, when `work`
   * gives one, runs once the step is committed (a verified code is spent only then). The OTP service (its code
   * lifetime is a setting, read from the database) is made before the transaction opens: a read on another
   * connection while it is open waits forever on the embedded database (one connection) and holds two of the pool's.
   */
  async #step<A>(
    request: StepRequest,
    step: RegistrationStep,
    body: unknown,
    work: (
      tx: Executor,
      row: RegistrationRow,
      otp: OtpService,
      issue: (input: OtpIssueInput) => Promise<OtpIssued>,
    ) => Promise<{
      patch: RegistrationPatch;
      answer: A | ((row: RegistrationRow) => A);
      afterCommit?: () => Promise<unknown>;
    }>,
  ): Promise<A> {
    const found = await this.#journey.byToken(request.token, request.deviceId);
    const requestHash = this.#journey.requestHash(step, body, request.idempotencyKey);
    const stored = await this.#journey.replay(found.id, step, requestHash);
    if (stored) return stored.answer as A;
    this.#journey.assertAllowed(found, step);
    const otps = await this.#otps();
    const done = await inTransaction(this.#journey.db, async (tx) => {
      const locked = await this.#journey.lockForStep(tx, found.id, step, requestHash);
      if (locked.stored) return { answer: locked.stored.answer as A };
      const { patch, answer, afterCommit } = await work(tx, locked.row, otps.otp, (input) =>
        this.#issue(otps, found.id, requestHash, input),
      );
      const advanced = await this.#journey.advance<A>(tx, found.id, step, patch, {
        requestHash,
        answer,
        context: request.context,
      });
      return { answer: advanced.answer, afterCommit };
    });
    // The step is committed: a store failure here must not turn its answer into an error (the retry would be a
    // replay anyway); an unspent code dies with its lifetime and verifies nothing once the state moved on.
    await done.afterCommit?.().catch(() => undefined);
    return done.answer;
  }

  /**
   * Checks a code without spending it, and answers what spends it once the step has committed. A crash between the
   * check and the commit leaves the code usable, so the retry succeeds; a crash after the commit leaves the step
   * recorded, so the retry is a replay (the unspent code then dies with its lifetime; the state has moved past the
   * step, so it verifies nothing). Two verifies of one code have one effect: the registration's row lock orders
   * them, and the second finds the step recorded (a replay) or the state moved on (409).
   */
  async #checkCode(otp: OtpService, input: OtpVerifyInput): Promise<() => Promise<unknown>> {
    await otp.check(input);
    return () => otp.consume(input.challengeId);
  }

  async #deliver(
    tx: Executor,
    row: RegistrationRow,
    purpose: string,
    issued: OtpIssued,
    address: { phone: string } | { email: string },
  ) {
    await emitEvent(
      tx,
      otpRequested,
      { type: 'registration', id: row.id },
      {
        // Not a customer yet: the registration id stands for the recipient, reached only at the address given.
        customer_id: row.id,
        purpose,
        channel: 'phone' in address ? 'sms' : 'email',
        challenge_id: issued.challengeId,
        expires_at: issued.expiresAt.toISOString(),
        code_sealed: JSON.stringify(
          sealEnvelope(this.#deps.keys, Buffer.from(issued.code), `otp:${issued.challengeId}`),
        ),
        ...address,
        language: row.language,
      },
    );
  }

  async sendPhoneCode(request: StepRequest): Promise<Static<typeof OtpSent>> {
    return this.#step(request, 'phone_otp_send', {}, async (tx, row, _otp, issue) => {
      const phone = row.phone!;
      const issued = await issue({
        purpose: PHONE_PURPOSE,
        subject: phone,
        binding: { registration: row.id, phone },
      });
      await this.#deliver(tx, row, PHONE_PURPOSE, issued, { phone });
      return {
        patch: {},
        answer: {
          challenge_id: issued.challengeId,
          expires_at: issued.expiresAt.toISOString(),
          channel: 'sms' as const,
          sent_to: maskPhone(phone)!,
        },
      };
    });
  }

  async verifyPhoneCode(request: StepRequest, body: { challenge_id: string; code: string }): Promise<Answer> {
    return this.#step(request, 'phone_otp_verify', body, async (_tx, row, otp) => {
      if (!row.stepTimes.phone_otp_send) throw onboardingErrors.REGISTRATION_OTP_NOT_SENT();
      const afterCommit = await this.#checkCode(otp, {
        purpose: PHONE_PURPOSE,
        challengeId: body.challenge_id,
        code: body.code,
        binding: { registration: row.id, phone: row.phone! },
      });
      return { patch: { phoneVerifiedAt: new Date() }, answer: stepAnswer, afterCommit };
    });
  }

  async sendEmailCode(request: StepRequest, body: { email: string }): Promise<Static<typeof OtpSent>> {
    const email = body.email.trim().toLowerCase();
    return this.#step(request, 'email_otp_send', { email }, async (tx, row, _otp, issue) => {
      const issued = await issue({
        purpose: EMAIL_PURPOSE,
        subject: email,
        binding: { registration: row.id, email },
      });
      await this.#deliver(tx, row, EMAIL_PURPOSE, issued, { email });
      return {
        patch: { emailSealed: this.#journey.seal(row.id, 'email', email) },
        answer: {
          challenge_id: issued.challengeId,
          expires_at: issued.expiresAt.toISOString(),
          channel: 'email' as const,
          sent_to: maskEmail(email),
        },
      };
    });
  }

  async verifyEmailCode(request: StepRequest, body: { challenge_id: string; code: string }): Promise<Answer> {
    return this.#step(request, 'email_otp_verify', body, async (_tx, row, otp) => {
      const email = this.#journey.open<string>(row.id, 'email', row.emailSealed);
      if (!email || !row.stepTimes.email_otp_send) throw onboardingErrors.REGISTRATION_OTP_NOT_SENT();
      const afterCommit = await this.#checkCode(otp, {
        purpose: EMAIL_PURPOSE,
        challengeId: body.challenge_id,
        code: body.code,
        binding: { registration: row.id, email },
      });
      return {
        patch: { emailVerifiedAt: new Date(), emailSkipped: false },
        answer: stepAnswer,
        afterCommit,
      };
    });
  }

  /** Skips the email step: 409 REGISTRATION_EMAIL_REQUIRED unless ONBOARDING_EMAIL_OPTIONAL. */
  async skipEmail(request: StepRequest): Promise<Answer> {
    return this.#step(request, 'email_skip', {}, async () => {
      if (!this.#journey.config.ONBOARDING_EMAIL_OPTIONAL)
        throw onboardingErrors.REGISTRATION_EMAIL_REQUIRED();
      return { patch: { emailSkipped: true }, answer: stepAnswer };
    });
  }
}
