/**
 * Registration from USSD (issue 18): an unknown number registers from a feature phone through the same state machine
 * and rules as the app, recorded with channel `ussd`. The USSD collects everything first (name, national ID, date of
 * birth, consent, PIN twice) and submits once, so the whole journey is ONE use case in ONE transaction:
 *
 *   phone_checked → identity_cbs (the bank found the national ID: matched as the app does) or identity_declared
 *   → phone_network (the gateway's MSISDN: the mobile network proved the phone, so no OTP) → email_skip → terms_accept
 *   → pin_set → complete → completed (customer, USSD tier, wallet) or in_review (the manual queue).
 *
 * A declared identity goes to review unless ONBOARDING_USSD_DECLARED_AUTO_APPROVE; every other rule of completion
 * (national ID duplicates, deny lists, screening) is activation's own `reviewReasons`. A gateway retrying the
 * submission (or the customer dialling again) finds the phone's USSD registration under a per-phone lock and gets
 * its outcome: one registration, one customer. Refusals are outcomes, not errors: the USSD shows them as screens.
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { CbsClientDirectory } from '../../integrations/fineract/fineract.client.ts';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { keyedHash } from '../../platform/crypto.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { AppError } from '../../platform/errors.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { customerIdByPhone, pinVerdict } from '../customers/index.ts';
import type { NotificationsService } from '../notifications/index.ts';
import type { SettingsService } from '../settings/index.ts';
import type { ActivationConfig } from './onboarding.activation.config.ts';
import type { Activation } from './onboarding.activation.ts';
import type { JourneyConfig } from './onboarding.config.ts';
import type { Consent } from './onboarding.consent.ts';
import type { Credentials } from './onboarding.credentials.ts';
import type { Journey, RegistrationRow } from './onboarding.journey.ts';
import { maskPhone } from './onboarding.journey.ts';
import type { RegistrationState } from './onboarding.machine.ts';
import type { PhoneCheck } from './onboarding.phone.ts';
import { denyListed, insertRegistration } from './onboarding.repository.ts';
import { registrations } from './onboarding.tables.ts';
import type {
  UssdRefusal,
  UssdRegistrationAnswer,
  UssdRegistrationConfig,
  UssdRegistrationInput,
} from './onboarding.ussd.config.ts';
import {
  finishRegistration,
  type Identified,
  identifyByCbs,
  type Parsed,
  parseUssdDetails,
  recordIdentity,
} from './onboarding.ussd.identity.ts';

export {
  type UssdRefusal,
  type UssdRegistrationAnswer,
  type UssdRegistrationConfig,
  type UssdRegistrationInput,
  ussdRegistrationConfig,
} from './onboarding.ussd.config.ts';

const HOUR_MS = 3_600_000;
const MOBILE_TYPES = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE']);
/** Terms links one phone may be sent per hour: the SMS costs money and must not become a spam tool. */
export const TERMS_SMS_PER_HOUR = 3;
/** The first key of the per-phone transaction lock ('USRG'); the second is hashtext(phone). */
const LOCK_CLASS = 0x55535247;

const refused = (reason: UssdRefusal): UssdRegistrationAnswer => ({ outcome: 'refused', reason });

export class UssdRegistration {
  readonly #deps: Dependencies;
  readonly #journey: Journey;
  readonly #phone: PhoneCheck;
  readonly #consent: Consent;
  readonly #credentials: Credentials;
  readonly #activation: Activation;
  readonly #notifications: NotificationsService;
  readonly #settings: SettingsService;
  readonly #directory: CbsClientDirectory | null;
  readonly #config: ActivationConfig & JourneyConfig & UssdRegistrationConfig;

  constructor(
    deps: Dependencies,
    areas: { journey: Journey; phone: PhoneCheck; consent: Consent; credentials: Credentials },
    services: {
      activation: Activation;
      notifications: NotificationsService;
      settings: SettingsService;
      cbs: CbsClientDirectory | null;
    },
    config: ActivationConfig & JourneyConfig & UssdRegistrationConfig,
  ) {
    this.#deps = deps;
    this.#journey = areas.journey;
    this.#phone = areas.phone;
    this.#consent = areas.consent;
    this.#credentials = areas.credentials;
    this.#activation = services.activation;
    this.#notifications = services.notifications;
    this.#settings = services.settings;
    this.#directory = services.cbs;
    this.#config = config;
  }

  /** The link the terms SMS carries. */
  termsUrl(language: string): string {
    return (
      this.#config.ONBOARDING_USSD_TERMS_URL ??
      `${this.#deps.config.PUBLIC_BASE_URL}/api/v1/mobile/register/documents?language=${language}`
    );
  }

  /**
   * The SMS with the terms link, sent when the USSD shows its short terms: at most TERMS_SMS_PER_HOUR per phone
   * (beyond it nothing is sent and `sent` is false; the customer already has the link).
   */
  async sendTermsLink(msisdn: string, language: string): Promise<{ sent: boolean }> {
    const phone = this.#normalise(msisdn);
    if (!phone) return { sent: false };
    const { count } = await this.#deps.store.hit(
      `onboarding:ussd:terms:${this.#journey.index('rate:ussd_terms', phone)}`,
      HOUR_MS,
    );
    if (count > TERMS_SMS_PER_HOUR) return { sent: false };
    await inTransaction(this.#journey.db, (tx) =>
      this.#notifications.queue(tx, {
        recipient: { type: 'customer', id: this.#phoneRecipient(phone) },
        template: 'onboarding.ussd_terms',
        channels: ['sms'],
        variables: { link: this.termsUrl(language) },
        addresses: { sms: phone },
        language,
        dedupeKey: `onboarding.ussd_terms:${uuidv7()}`,
        data: { kind: 'terms' },
      }),
    );
    return { sent: true };
  }

  async registerFromUssd(
    input: UssdRegistrationInput,
    context: RequestContext,
  ): Promise<UssdRegistrationAnswer> {
    const phone = this.#normalise(input.msisdn);
    if (!phone) return refused('not_eligible');
    const db = this.#journey.db;
    // A retry (the gateway's, or the customer dialling again) answers what the first submission decided.
    const earlier = await this.#earlier(db, phone);
    if (earlier) return earlier;
    if (!(await this.#settings.get('features.self_registration'))) return refused('unavailable');
    const country = parsePhoneNumberFromString(phone)?.country ?? 'ZZ';
    if (!(await this.#eligible(phone, country))) return refused('not_eligible');
    if (await customerIdByPhone(db, phone)) return refused('exists');
    const parsed = parseUssdDetails(input, this.#config.ONBOARDING_NATIONAL_ID_TYPE);
    if (!parsed) return refused('invalid_details');
    if (pinVerdict(input.pin)) return refused('weak_pin');
    let documents: Awaited<ReturnType<Consent['current']>>;
    try {
      documents = await this.#consent.current(input.language);
    } catch (error) {
      if (error instanceof AppError && error.errorCode === 'REGISTRATION_DOCUMENT_MISSING')
        return refused('unavailable');
      throw error;
    }
    if (this.#directory && !(await this.#lookupAllowed(phone))) return refused('rate_limited');
    // The bank is asked before the transaction opens: no row lock waits on a network call.
    const identified = await identifyByCbs(this.#directory, parsed, phone, country);
    const language = input.language;
    return inTransaction(db, async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(${phone}))`);
      const raced = await this.#earlier(tx, phone);
      if (raced) return raced;
      if (await customerIdByPhone(tx, phone)) return refused('exists');
      const row = await this.#walk(
        tx,
        { phone, country, language, parsed, identified, documents },
        input.pin,
        context,
      );
      return this.#complete(tx, row, context);
    });
  }

  /** The steps up to the PIN, each through `journey.advance` (the table, the audit, the funnel's step times). */
  async #walk(
    tx: Executor,
    facts: {
      phone: string;
      country: string;
      language: string;
      parsed: Parsed;
      identified: Identified;
      documents: Awaited<ReturnType<Consent['current']>>;
    },
    pin: string,
    context: RequestContext,
  ): Promise<RegistrationRow> {
    const { phone, parsed, identified, documents } = facts;
    const id = uuidv7();
    const now = new Date();
    await insertRegistration(tx, {
      id,
      // Required and unique, never given out: a USSD registration is reached by its phone, not a token.
      tokenHash: this.#journey.newToken().tokenHash,
      phone,
      phoneCountry: facts.country,
      deviceId: null,
      appVersion: 'ussd',
      channel: 'ussd',
      language: facts.language,
      state: 'phone_checked',
      expiresAt: new Date(now.getTime() + this.#config.ONBOARDING_TOKEN_TTL_HOURS * HOUR_MS),
      stepTimes: { phone_check: now.toISOString() },
    });
    await writeAudit(tx, context, {
      action: 'onboarding.phone_check',
      entityType: 'registration',
      entityId: id,
      after: { state: 'phone_checked', phone: maskPhone(phone), country: facts.country, channel: 'ussd' },
    });
    const audit = { channel: 'ussd' };
    await recordIdentity(
      this.#journey,
      tx,
      { id, pepper: this.#deps.config.HMAC_PEPPER, declared: parsed.declared, identified },
      { context, audit },
    );
    await this.#journey.advance(tx, id, 'phone_network', { phoneVerifiedAt: new Date() }, { context, audit });
    await this.#journey.advance(tx, id, 'email_skip', { emailSkipped: true }, { context, audit });
    await this.#journey.advance(
      tx,
      id,
      'terms_accept',
      {
        termsVersionHash: documents.terms.content_hash,
        privacyVersionHash: documents.privacy.content_hash,
        consentAt: new Date(),
        consentIp: null,
        consentDeviceId: null,
      },
      {
        context,
        audit: {
          ...audit,
          terms_version: documents.terms.version,
          privacy_version: documents.privacy.version,
        },
      },
    );
    const customerId = uuidv7();
    const { registration } = await this.#journey.advance(
      tx,
      id,
      'pin_set',
      { pinCustomerId: customerId, pinHash: this.#credentials.pinHash(customerId, pin) },
      { context, audit: { ...audit, device_bound: false } },
    );
    return registration;
  }

  /** Completion by activation's rules, on the same transaction: activation, or the review queue and its SMS. */
  async #complete(
    tx: Executor,
    row: RegistrationRow,
    context: RequestContext,
  ): Promise<UssdRegistrationAnswer> {
    const reasons = await this.#activation.reviewReasons(row, tx);
    const { registration } = await this.#journey.advance(tx, row.id, 'complete', {}, { context });
    return finishRegistration(
      { journey: this.#journey, activation: this.#activation, notifications: this.#notifications },
      tx,
      { registration, reasons },
      { context, audit: { channel: 'ussd' } },
    );
  }

  /** The phone's USSD registration that decides a retry's answer, if any. */
  async #earlier(db: Executor, phone: string): Promise<UssdRegistrationAnswer | null> {
    const [row] = await db
      .select({ state: registrations.state, expiresAt: registrations.expiresAt })
      .from(registrations)
      .where(and(eq(registrations.channel, 'ussd'), eq(registrations.phone, phone)))
      .orderBy(desc(registrations.createdAt))
      .limit(1);
    if (!row) return null;
    const state = row.state as RegistrationState;
    // Pending a reviewer's decision, it answers so however long the review takes.
    if (state === 'in_review' || state === 'info_requested') return { outcome: 'in_review' };
    // An ended one answers within the token lifetime (a retry); later the number starts afresh (or is a customer).
    if (row.expiresAt.getTime() <= Date.now()) return null;
    if (state === 'completed') return { outcome: 'active' };
    if (state === 'rejected') return refused('rejected');
    return null;
  }

  #normalise(msisdn: string): string | null {
    try {
      return this.#phone.normalise(msisdn);
    } catch {
      return null;
    }
  }

  /** The phone check's rules: a served country's mobile number, not deny-listed. */
  async #eligible(phone: string, country: string): Promise<boolean> {
    if (!this.#config.ONBOARDING_COUNTRIES.includes(country)) return false;
    if (!MOBILE_TYPES.has(parsePhoneNumberFromString(phone)?.getType() ?? '')) return false;
    return !(await denyListed(this.#journey.db, 'phone', this.#journey.index('deny:phone', phone)));
  }

  /** Bank lookups per phone and hour (the app's cap per registration): a phone cannot probe national IDs. */
  async #lookupAllowed(phone: string): Promise<boolean> {
    const { count } = await this.#deps.store.hit(
      `onboarding:ussd:cbs:${this.#journey.index('rate:ussd_cbs', phone)}`,
      HOUR_MS,
    );
    return count <= this.#config.ONBOARDING_CBS_LOOKUPS_PER_HOUR;
  }

  /** A stable recipient id for a number that is no customer yet (its messages can be found together). */
  #phoneRecipient(phone: string): string {
    const hex = keyedHash(this.#deps.config.HMAC_PEPPER, 'onboarding:ussd-recipient', phone);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}
