/**
 * The first step: the phone check. The number is normalised to E.164 (customers' `normalisePhone`) and must be a
 * mobile number of a served country, not deny-listed (nor the device), within the per-phone, per-device and per-IP
 * hourly caps. It answers a registration token bound to the phone and device and the next step. A number that is a
 * customer already gets the same shape pointing to sign-in (or PIN reset), and nothing more. The same device checking
 * the same number again resumes its unfinished registration with a fresh token (the old one stops working).
 */
import { and, desc, eq, inArray } from 'drizzle-orm';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { Static } from 'typebox';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { customerIdByPhone, normalisePhone } from '../customers/index.ts';
import type { SettingsService } from '../settings/index.ts';
import { onboardingErrors } from './onboarding.errors.ts';
import type { PhoneCheckAnswer, PhoneCheckBody, StatusAnswer } from './onboarding.journey.schemas.ts';
import type { Journey, RegistrationRow } from './onboarding.journey.ts';
import { maskPhone, stateOf } from './onboarding.journey.ts';
import { expectedSteps, UNFINISHED_STATES } from './onboarding.machine.ts';
import type { JourneyMetrics } from './onboarding.metrics.ts';
import { denyListed, insertRegistration, updateRegistration } from './onboarding.repository.ts';
import { registrations } from './onboarding.tables.ts';

const HOUR_MS = 3_600_000;
const MOBILE_TYPES = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE']);
const SIGN_IN_STEPS = ['sign_in', 'pin_reset'];

function notEligible(reason: string) {
  return onboardingErrors.REGISTRATION_NOT_ELIGIBLE({ params: { reason }, details: { reason } });
}

export class PhoneCheck {
  readonly #deps: Dependencies;
  readonly #journey: Journey;
  readonly #metrics: JourneyMetrics;
  readonly #settings: SettingsService;

  constructor(deps: Dependencies, journey: Journey, metrics: JourneyMetrics, settings: SettingsService) {
    this.#deps = deps;
    this.#journey = journey;
    this.#metrics = metrics;
    this.#settings = settings;
  }

  /** Counts one check against a key's hourly cap; 429 REGISTRATION_RATE_LIMITED over it. */
  async #limit(kind: string, value: string, cap: number): Promise<void> {
    const { count, ttlMs } = await this.#deps.store.hit(
      `onboarding:check:${kind}:${this.#journey.index(`rate:${kind}`, value)}`,
      HOUR_MS,
    );
    if (count <= cap) return;
    const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
    throw onboardingErrors.REGISTRATION_RATE_LIMITED({
      details: { retry_after_seconds: seconds, limit: kind },
      headers: { 'retry-after': String(seconds) },
    });
  }

  /** E.164 by customers' rule; a national number is read in the first served country. */
  normalise(raw: string): string {
    const home = this.#journey.config.ONBOARDING_COUNTRIES[0];
    const national =
      !raw.trim().startsWith('+') && home
        ? parsePhoneNumberFromString(raw, home as Parameters<typeof parsePhoneNumberFromString>[1])
        : undefined;
    return normalisePhone(national?.isValid() ? national.number : raw);
  }

  async check(
    input: Static<typeof PhoneCheckBody>,
    context: RequestContext,
  ): Promise<Static<typeof PhoneCheckAnswer>> {
    if (!(await this.#settings.get('features.self_registration')))
      throw onboardingErrors.REGISTRATION_UNAVAILABLE();
    const config = this.#journey.config;
    if (context.ip) await this.#limit('ip', context.ip, config.ONBOARDING_CHECKS_PER_IP_HOUR);
    await this.#limit('device', input.device_id, config.ONBOARDING_CHECKS_PER_DEVICE_HOUR);
    const phone = this.normalise(input.phone);
    await this.#limit('phone', phone, config.ONBOARDING_CHECKS_PER_PHONE_HOUR);

    const parsed = parsePhoneNumberFromString(phone);
    const country = parsed?.country ?? 'ZZ';
    if (!config.ONBOARDING_COUNTRIES.includes(country))
      throw notEligible('numbers of this country are not served');
    if (!MOBILE_TYPES.has(parsed?.getType() ?? '')) throw notEligible('only mobile numbers can register');
    const db = this.#journey.db;
    if (
      (await denyListed(db, 'phone', this.#journey.index('deny:phone', phone))) ||
      (await denyListed(db, 'device', this.#journey.index('deny:device', input.device_id)))
    )
      throw notEligible('registration is not available for this number');

    const { token, tokenHash } = this.#journey.newToken();
    const expiresAt = new Date(Date.now() + config.ONBOARDING_TOKEN_TTL_HOURS * HOUR_MS);
    const existing = await customerIdByPhone(db, phone);
    return inTransaction(db, async (tx) => {
      if (!existing) {
        // The same device resuming its unfinished registration of this number: a fresh token, same journey.
        const [resumable] = await tx
          .select()
          .from(registrations)
          .where(
            and(
              eq(registrations.phone, phone),
              eq(registrations.deviceId, input.device_id),
              inArray(registrations.state, [...UNFINISHED_STATES]),
            ),
          )
          .orderBy(desc(registrations.createdAt))
          .limit(1)
          .for('update');
        if (resumable && resumable.expiresAt.getTime() > Date.now()) {
          const resumed = await updateRegistration(tx, resumable.id, {
            tokenHash,
            appVersion: input.app_version,
            language: input.language,
            updatedAt: new Date(),
          });
          // A new token for the journey (the previous one stops working): audited like a step.
          await writeAudit(tx, context, {
            action: 'onboarding.phone_check_resume',
            entityType: 'registration',
            entityId: resumed.id,
            after: { state: resumed.state, phone: maskPhone(phone), app_version: input.app_version },
          });
          const steps = expectedSteps(stateOf(resumed));
          return {
            registration_token: token,
            expires_at: resumed.expiresAt.toISOString(),
            next_step: nextStepName(resumed),
            expected_steps: steps,
          };
        }
      }
      const id = uuidv7();
      await insertRegistration(tx, {
        id,
        tokenHash,
        phone,
        phoneCountry: country,
        deviceId: input.device_id,
        appVersion: input.app_version,
        language: input.language,
        state: existing ? 'sign_in_required' : 'phone_checked',
        expiresAt,
        // An existing customer's pointer to sign-in is no registration started: the funnel counts phone_check only.
        stepTimes: { [existing ? 'sign_in_pointed' : 'phone_check']: new Date().toISOString() },
      });
      await writeAudit(tx, context, {
        action: 'onboarding.phone_check',
        entityType: 'registration',
        entityId: id,
        after: {
          state: existing ? 'sign_in_required' : 'phone_checked',
          phone: maskPhone(phone),
          country,
          app_version: input.app_version,
        },
      });
      this.#metrics.started(existing ? 'existing_customer' : 'eligible');
      return existing
        ? {
            registration_token: token,
            expires_at: expiresAt.toISOString(),
            next_step: 'sign_in',
            expected_steps: SIGN_IN_STEPS,
          }
        : {
            registration_token: token,
            expires_at: expiresAt.toISOString(),
            next_step: 'identity',
            expected_steps: expectedSteps('phone_checked'),
          };
    });
  }

  /** Where a registration stands (the app resumes from it). */
  status(row: RegistrationRow): Static<typeof StatusAnswer> {
    const state = stateOf(row);
    const summary = (row.identitySummary ?? null) as {
      assurance?: string | null;
      mismatches?: string[];
      didit_status?: string | null;
    } | null;
    return {
      state,
      path: (row.path as 'cbs' | 'didit' | null) ?? null,
      expected_steps: state === 'sign_in_required' ? SIGN_IN_STEPS : expectedSteps(state),
      expires_at: row.expiresAt.toISOString(),
      phone: maskPhone(row.phone),
      language: row.language,
      email_optional: this.#journey.config.ONBOARDING_EMAIL_OPTIONAL,
      phone_verified: row.phoneVerifiedAt !== null,
      email_verified: row.emailVerifiedAt !== null,
      email_skipped: row.emailSkipped,
      terms_accepted: row.consentAt !== null,
      credentials_set: row.pinHash !== null,
      device_bound: row.devicePublicKey !== null,
      identity: summary
        ? {
            assurance: summary.assurance ?? null,
            mismatches: summary.mismatches ?? [],
            didit_status: summary.didit_status ?? null,
          }
        : null,
      reason: row.outcomeReason,
      reopened_step: row.reopenedStep,
      customer_id: row.customerId,
      version: row.version,
    };
  }
}

/** The step an app resumes at, in the words of the phone check's answer. */
function nextStepName(row: RegistrationRow): string {
  const state = stateOf(row);
  if (state === 'phone_checked' || state === 'identity_expired') return 'identity';
  return expectedSteps(state)[0] ?? state;
}
