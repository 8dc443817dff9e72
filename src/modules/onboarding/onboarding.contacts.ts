/**
 * Contact validation: a phone OTP, then an email OTP (skippable when ONBOARDING_EMAIL_OPTIONAL). Codes come from the
 * platform's OtpService (6 digits, single use, expiring with `auth.otp_ttl_seconds`, resend cooldown, hourly cap per
 * number or address, a new code voids the old) and reach the person through the notifications module (the
 * `otp.requested` event, the code sealed; the development message sink shows it). A send is a step like the others:
 * sent again with the same body and Idempotency-Key it answers the same challenge without a new code; a new key asks
 * for a new code.
 */
import type { Static } from 'typebox';
import type { RequestContext } from '../../platform/audit.ts';
import { sealEnvelope } from '../../platform/crypto.ts';
import { inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { type OtpIssued, OtpService, otpRequested } from '../../platform/otp.ts';
import { emitEvent } from '../../platform/outbox.ts';
import type { SettingsService } from '../settings/index.ts';
import { onboardingErrors } from './onboarding.errors.ts';
import type { OtpSent, StepAnswer } from './onboarding.journey.schemas.ts';
import type { Journey, RegistrationRow } from './onboarding.journey.ts';
import { maskPhone, stateOf } from './onboarding.journey.ts';
import { expectedSteps, type RegistrationStep } from './onboarding.machine.ts';

const PHONE_PURPOSE = 'registration:phone';
const EMAIL_PURPOSE = 'registration:email';

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

  async #otp(): Promise<OtpService> {
    return new OtpService({
      store: this.#deps.store,
      pepper: this.#deps.config.HMAC_PEPPER,
      ttlMs: (await this.#settings.get('auth.otp_ttl_seconds')) * 1000,
    });
  }

  /** The stored answer of a repeated request, or the registration and the request's hash to go on with. */
  async #begin(request: StepRequest, step: RegistrationStep, body: unknown) {
    const row = await this.#journey.byToken(request.token, request.deviceId);
    const requestHash = this.#journey.requestHash(step, body, request.idempotencyKey);
    const stored = await this.#journey.replay(row.id, step, requestHash);
    if (!stored) this.#journey.assertAllowed(row, step);
    return { row, requestHash, stored: stored?.answer };
  }

  #sealedCode(issued: OtpIssued): string {
    return JSON.stringify(
      sealEnvelope(this.#deps.keys, Buffer.from(issued.code), `otp:${issued.challengeId}`),
    );
  }

  async sendPhoneCode(request: StepRequest): Promise<Static<typeof OtpSent>> {
    const { row, requestHash, stored } = await this.#begin(request, 'phone_otp_send', {});
    if (stored) return stored as Static<typeof OtpSent>;
    const phone = row.phone!;
    const issued = await (await this.#otp()).issue({
      purpose: PHONE_PURPOSE,
      subject: phone,
      binding: { registration: row.id, phone },
    });
    const answer = {
      challenge_id: issued.challengeId,
      expires_at: issued.expiresAt.toISOString(),
      channel: 'sms' as const,
      sent_to: maskPhone(phone)!,
    };
    return inTransaction(this.#journey.db, async (tx) => {
      const done = await this.#journey.advance<Static<typeof OtpSent>>(
        tx,
        row.id,
        'phone_otp_send',
        {},
        {
          requestHash,
          answer,
          context: request.context,
        },
      );
      if (!done.replayed)
        await emitEvent(
          tx,
          otpRequested,
          { type: 'registration', id: row.id },
          {
            customer_id: row.id,
            purpose: PHONE_PURPOSE,
            channel: 'sms',
            challenge_id: issued.challengeId,
            expires_at: issued.expiresAt.toISOString(),
            code_sealed: this.#sealedCode(issued),
            phone,
          },
        );
      return done.answer;
    });
  }

  async verifyPhoneCode(request: StepRequest, body: { challenge_id: string; code: string }): Promise<Answer> {
    const { row, requestHash, stored } = await this.#begin(request, 'phone_otp_verify', body);
    if (stored) return stored as Answer;
    if (!row.stepTimes.phone_otp_send) throw onboardingErrors.REGISTRATION_OTP_NOT_SENT();
    await (await this.#otp()).verify({
      purpose: PHONE_PURPOSE,
      challengeId: body.challenge_id,
      code: body.code,
      binding: { registration: row.id, phone: row.phone! },
    });
    const done = await this.#journey.advanceNow<Answer>(
      row.id,
      'phone_otp_verify',
      { phoneVerifiedAt: new Date() },
      { requestHash, answer: stepAnswer, context: request.context },
    );
    return done.answer;
  }

  async sendEmailCode(request: StepRequest, body: { email: string }): Promise<Static<typeof OtpSent>> {
    const email = body.email.trim().toLowerCase();
    const { row, requestHash, stored } = await this.#begin(request, 'email_otp_send', { email });
    if (stored) return stored as Static<typeof OtpSent>;
    const issued = await (await this.#otp()).issue({
      purpose: EMAIL_PURPOSE,
      subject: email,
      binding: { registration: row.id, email },
    });
    const answer = {
      challenge_id: issued.challengeId,
      expires_at: issued.expiresAt.toISOString(),
      channel: 'email' as const,
      sent_to: maskEmail(email),
    };
    return inTransaction(this.#journey.db, async (tx) => {
      const done = await this.#journey.advance<Static<typeof OtpSent>>(
        tx,
        row.id,
        'email_otp_send',
        { emailSealed: this.#journey.seal(row.id, 'email', email) },
        { requestHash, answer, context: request.context },
      );
      if (!done.replayed)
        await emitEvent(
          tx,
          otpRequested,
          { type: 'registration', id: row.id },
          {
            customer_id: row.id,
            purpose: EMAIL_PURPOSE,
            channel: 'email',
            challenge_id: issued.challengeId,
            expires_at: issued.expiresAt.toISOString(),
            code_sealed: this.#sealedCode(issued),
            email,
          },
        );
      return done.answer;
    });
  }

  async verifyEmailCode(request: StepRequest, body: { challenge_id: string; code: string }): Promise<Answer> {
    const { row, requestHash, stored } = await this.#begin(request, 'email_otp_verify', body);
    if (stored) return stored as Answer;
    const email = this.#journey.open<string>(row.id, 'email', row.emailSealed);
    if (!email || !row.stepTimes.email_otp_send) throw onboardingErrors.REGISTRATION_OTP_NOT_SENT();
    await (await this.#otp()).verify({
      purpose: EMAIL_PURPOSE,
      challengeId: body.challenge_id,
      code: body.code,
      binding: { registration: row.id, email },
    });
    const done = await this.#journey.advanceNow<Answer>(
      row.id,
      'email_otp_verify',
      { emailVerifiedAt: new Date(), emailSkipped: false },
      { requestHash, answer: stepAnswer, context: request.context },
    );
    return done.answer;
  }

  /** Skips the email step: 409 REGISTRATION_EMAIL_REQUIRED unless ONBOARDING_EMAIL_OPTIONAL. */
  async skipEmail(request: StepRequest): Promise<Answer> {
    const { row, requestHash, stored } = await this.#begin(request, 'email_skip', {});
    if (stored) return stored as Answer;
    if (!this.#journey.config.ONBOARDING_EMAIL_OPTIONAL) throw onboardingErrors.REGISTRATION_EMAIL_REQUIRED();
    const done = await this.#journey.advanceNow<Answer>(
      row.id,
      'email_skip',
      { emailSkipped: true },
      { requestHash, answer: stepAnswer, context: request.context },
    );
    return done.answer;
  }
}
