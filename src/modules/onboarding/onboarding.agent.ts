/**
 * Agent-assisted registration (issue 19): an agent's operator registers a customer who stands at the counter, through
 * the app's state machine and completion rules, recorded with channel `agent` and the registrar (agent and operator).
 * The PIN never passes through the operator: the customer sets it on their own phone over USSD.
 *
 *   1. `startFromAgent` (operator): the phone check's rules (a served country's mobile number, not deny-listed, not a
 *      customer), the details typed from the customer's ID (identity path A by national ID when the bank holds it,
 *      else declared), then a phone OTP to the customer's phone (phone_checked → identity_* → phone_otp_send).
 *   2. `verifyFromAgent` (operator): the customer reads the code from their phone; it proves the phone is theirs and
 *      present (phone_otp_verify → phone_verified → email_skip → email_verified). An SMS then tells the customer to
 *      dial the USSD service (with the terms link).
 *   3. `completeFromUssd` (the customer, on the phone just verified): accepts the terms, sets the PIN twice
 *      (terms_accept → pin_set → complete): active at ONBOARDING_TIER_AGENT, or the review queue (a declared identity
 *      waits for a reviewer unless ONBOARDING_USSD_DECLARED_AUTO_APPROVE), as activation's `reviewReasons` decide.
 *
 * Refusals are outcomes, not errors: the agents module's routes answer them with its own error codes.
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { CbsClientDirectory } from '../../integrations/fineract/fineract.client.ts';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { sealEnvelope } from '../../platform/crypto.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { AppError } from '../../platform/errors.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { OtpService, otpRequested } from '../../platform/otp.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { customerIdByPhone, pinVerdict } from '../customers/index.ts';
import type { NotificationsService } from '../notifications/index.ts';
import type { SettingsService } from '../settings/index.ts';
import type { Activation } from './onboarding.activation.ts';
import type { JourneyConfig } from './onboarding.config.ts';
import type { Consent } from './onboarding.consent.ts';
import type { Credentials } from './onboarding.credentials.ts';
import type { Journey, RegistrationRow } from './onboarding.journey.ts';
import { maskPhone, stateOf } from './onboarding.journey.ts';
import type { PhoneCheck } from './onboarding.phone.ts';
import { denyListed, insertRegistration } from './onboarding.repository.ts';
import { registrations } from './onboarding.tables.ts';
import type { UssdRegistrationConfig } from './onboarding.ussd.config.ts';
import {
  finishRegistration,
  identifyByCbs,
  parseUssdDetails,
  recordIdentity,
} from './onboarding.ussd.identity.ts';

const HOUR_MS = 3_600_000;
const MOBILE_TYPES = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE']);
/** The app's phone OTP purpose: the same codes, limits and delivery. */
const PHONE_PURPOSE = 'registration:phone';
/** The first key of the per-phone transaction lock ('AGRG'); the second is hashtext(phone). */
const LOCK_CLASS = 0x41475247;

export interface AgentRegistrationInput {
  /** The customer's phone (E.164 or national). */
  phone: string;
  fullName: string;
  nationalId: string;
  /** YYYY-MM-DD. */
  dateOfBirth: string;
  /** en, fr or sw. */
  language: string;
  /** The registrar: the operator's agent and the operator (agents module ids). */
  agentId: string;
  operatorId: string;
}

export type AgentRegistrationRefusal =
  /** The number is a customer's: nothing to register. */
  | 'exists'
  /** Not a served country's mobile number, or deny-listed. */
  | 'not_eligible'
  /** Self-registration is off, or no terms are published. */
  | 'unavailable'
  /** Fewer than two names, an impossible date of birth, or a malformed national ID. */
  | 'invalid_details'
  /** Another registration of this phone is under way (at an agent, or in review). */
  | 'in_progress';

export interface AgentRegistrationView {
  registration_id: string;
  state: string;
  /** Masked: the operator confirms the number, the code goes to the phone only. */
  phone: string;
  registrar_agent_id: string;
  registrar_operator_id: string;
  created_at: string;
}

export type AgentStartAnswer =
  | {
      outcome: 'started';
      registration: AgentRegistrationView;
      otp: { challenge_id: string; expires_at: string; sent_to: string };
    }
  | { outcome: 'refused'; reason: AgentRegistrationRefusal };

export type AgentPinAnswer =
  | { outcome: 'active' | 'in_review' }
  | { outcome: 'refused'; reason: 'weak_pin' | 'not_waiting' | 'unavailable' };

export interface AgentRegistrationConfig {
  readonly ONBOARDING_TOKEN_TTL_HOURS: number;
  readonly ONBOARDING_COUNTRIES: readonly string[];
  readonly ONBOARDING_NATIONAL_ID_TYPE: string;
}

export function agentRegistrationView(row: RegistrationRow): AgentRegistrationView {
  return {
    registration_id: row.id,
    state: stateOf(row),
    phone: maskPhone(row.phone) ?? '',
    registrar_agent_id: row.registrarAgentId ?? '',
    registrar_operator_id: row.registrarOperatorId ?? '',
    created_at: row.createdAt.toISOString(),
  };
}

export class AgentRegistration {
  readonly #deps: Dependencies;
  readonly #journey: Journey;
  readonly #phone: PhoneCheck;
  readonly #consent: Consent;
  readonly #credentials: Credentials;
  readonly #activation: Activation;
  readonly #notifications: NotificationsService;
  readonly #settings: SettingsService;
  readonly #directory: CbsClientDirectory | null;
  readonly #config: JourneyConfig & AgentRegistrationConfig & Partial<UssdRegistrationConfig>;

  constructor(
    deps: Dependencies,
    areas: { journey: Journey; phone: PhoneCheck; consent: Consent; credentials: Credentials },
    services: {
      activation: Activation;
      notifications: NotificationsService;
      settings: SettingsService;
      cbs: CbsClientDirectory | null;
    },
    config: JourneyConfig & AgentRegistrationConfig & Partial<UssdRegistrationConfig>,
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

  async #otp(): Promise<OtpService> {
    return new OtpService({
      store: this.#deps.store,
      pepper: this.#deps.config.HMAC_PEPPER,
      ttlMs: (await this.#settings.get('auth.otp_ttl_seconds')) * 1000,
    });
  }

  /** Step 1: the registration with the customer's details, and a phone OTP to the customer's phone. */
  async startFromAgent(input: AgentRegistrationInput, context: RequestContext): Promise<AgentStartAnswer> {
    const refused = (reason: AgentRegistrationRefusal): AgentStartAnswer => ({ outcome: 'refused', reason });
    let phone: string;
    try {
      phone = this.#phone.normalise(input.phone);
    } catch {
      return refused('not_eligible');
    }
    if (!(await this.#settings.get('features.self_registration'))) return refused('unavailable');
    const country = parsePhoneNumberFromString(phone)?.country ?? 'ZZ';
    if (!this.#config.ONBOARDING_COUNTRIES.includes(country)) return refused('not_eligible');
    if (!MOBILE_TYPES.has(parsePhoneNumberFromString(phone)?.getType() ?? '')) return refused('not_eligible');
    if (await denyListed(this.#journey.db, 'phone', this.#journey.index('deny:phone', phone)))
      return refused('not_eligible');
    if (await customerIdByPhone(this.#journey.db, phone)) return refused('exists');
    const parsed = parseUssdDetails(
      { ...input, msisdn: phone, pin: '' },
      this.#config.ONBOARDING_NATIONAL_ID_TYPE,
    );
    if (!parsed) return refused('invalid_details');
    try {
      await this.#consent.current(input.language);
    } catch (error) {
      if (error instanceof AppError && error.errorCode === 'REGISTRATION_DOCUMENT_MISSING')
        return refused('unavailable');
      throw error;
    }
    // Before a code is issued (its resend cooldown would answer a second start first); checked again under the lock.
    if (await this.#underWay(this.#journey.db, phone)) return refused('in_progress');
    // The bank is asked before the transaction opens: no row lock waits on a network call.
    const identified = await identifyByCbs(this.#directory, parsed, phone, country);
    const otp = await this.#otp();
    const id = uuidv7();
    const issued = await otp.issue({
      purpose: PHONE_PURPOSE,
      subject: phone,
      binding: { registration: id, phone },
    });
    const row = await inTransaction(this.#journey.db, async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(${phone}))`);
      if (await customerIdByPhone(tx, phone)) return 'exists' as const;
      if (await this.#underWay(tx, phone)) return 'in_progress' as const;
      const now = new Date();
      await insertRegistration(tx, {
        id,
        // Required and unique, never given out: the operator reaches it by id within their agent, the customer by phone.
        tokenHash: this.#journey.newToken().tokenHash,
        phone,
        phoneCountry: country,
        deviceId: null,
        appVersion: 'agent',
        channel: 'agent',
        registrarAgentId: input.agentId,
        registrarOperatorId: input.operatorId,
        language: input.language,
        state: 'phone_checked',
        expiresAt: new Date(now.getTime() + this.#config.ONBOARDING_TOKEN_TTL_HOURS * HOUR_MS),
        stepTimes: { phone_check: now.toISOString() },
      });
      const audit = {
        channel: 'agent',
        registrar_agent_id: input.agentId,
        registrar_operator_id: input.operatorId,
      };
      await writeAudit(tx, context, {
        action: 'onboarding.phone_check',
        entityType: 'registration',
        entityId: id,
        after: { state: 'phone_checked', phone: maskPhone(phone), country, ...audit },
      });
      await recordIdentity(
        this.#journey,
        tx,
        { id, pepper: this.#deps.config.HMAC_PEPPER, declared: parsed.declared, identified },
        { context, audit },
      );
      const { registration } = await this.#journey.advance(tx, id, 'phone_otp_send', {}, { context, audit });
      await emitEvent(
        tx,
        otpRequested,
        { type: 'registration', id },
        {
          // Not a customer yet: the registration id stands for the recipient, reached only at the phone given.
          customer_id: id,
          purpose: PHONE_PURPOSE,
          channel: 'sms',
          challenge_id: issued.challengeId,
          expires_at: issued.expiresAt.toISOString(),
          code_sealed: JSON.stringify(
            sealEnvelope(this.#deps.keys, Buffer.from(issued.code), `otp:${issued.challengeId}`),
          ),
          phone,
          language: input.language,
        },
      );
      return registration;
    });
    if (typeof row === 'string') {
      await otp.consume(issued.challengeId).catch(() => undefined);
      return refused(row);
    }
    return {
      outcome: 'started',
      registration: agentRegistrationView(row),
      otp: {
        challenge_id: issued.challengeId,
        expires_at: issued.expiresAt.toISOString(),
        sent_to: maskPhone(phone)!,
      },
    };
  }

  /** The agent's registration by id: null when it is not this agent's (the caller answers 404). */
  async ofAgent(registrationId: string, agentId: string): Promise<RegistrationRow | null> {
    const row = await this.#journey.byId(registrationId);
    return row && row.channel === 'agent' && row.registrarAgentId === agentId ? row : null;
  }

  /**
   * Step 2: the code the customer read from their phone. A wrong code is the OTP service's error (OTP_INVALID with
   * the attempts left, OTP_LOCKED); a registration not waiting for it is REGISTRATION_STEP_OUT_OF_ORDER. Then the
   * customer gets an SMS to dial USSD and set their PIN (with the terms link).
   */
  async verifyFromAgent(
    row: RegistrationRow,
    body: { challenge_id: string; code: string },
    context: RequestContext,
  ): Promise<AgentRegistrationView> {
    this.#journey.assertAllowed(row, 'phone_otp_verify');
    const otp = await this.#otp();
    const binding = { registration: row.id, phone: row.phone! };
    await otp.check({ purpose: PHONE_PURPOSE, challengeId: body.challenge_id, code: body.code, binding });
    const audit = { channel: 'agent', registrar_operator_id: context.actor.id };
    const done = await inTransaction(this.#journey.db, async (tx) => {
      await this.#journey.advance(
        tx,
        row.id,
        'phone_otp_verify',
        { phoneVerifiedAt: new Date() },
        { context, audit },
      );
      const { registration } = await this.#journey.advance(
        tx,
        row.id,
        'email_skip',
        { emailSkipped: true },
        { context, audit },
      );
      return registration;
    });
    await otp.consume(body.challenge_id).catch(() => undefined);
    return agentRegistrationView(done);
  }

  /** The phone's agent registration waiting for the customer's terms and PIN (USSD asks for them), if any. */
  async awaitingPin(msisdn: string): Promise<{ registrationId: string; language: string } | null> {
    let phone: string;
    try {
      phone = this.#phone.normalise(msisdn);
    } catch {
      return null;
    }
    const row = await this.#latest(this.#journey.db, phone);
    return row && row.state === 'email_verified' ? { registrationId: row.id, language: row.language } : null;
  }

  /**
   * Step 3, on the customer's own phone (the USSD gateway's MSISDN is the phone the OTP verified): the terms accepted
   * and the PIN, then completion by activation's rules, in one transaction. A retry after completion answers the
   * same outcome.
   */
  async completeFromUssd(msisdn: string, pin: string, context: RequestContext): Promise<AgentPinAnswer> {
    let phone: string;
    try {
      phone = this.#phone.normalise(msisdn);
    } catch {
      return { outcome: 'refused', reason: 'not_waiting' };
    }
    if (pinVerdict(pin)) return { outcome: 'refused', reason: 'weak_pin' };
    const found = await this.#latest(this.#journey.db, phone);
    if (!found) return { outcome: 'refused', reason: 'not_waiting' };
    let documents: Awaited<ReturnType<Consent['current']>>;
    try {
      documents = await this.#consent.current(found.language);
    } catch (error) {
      if (error instanceof AppError && error.errorCode === 'REGISTRATION_DOCUMENT_MISSING')
        return { outcome: 'refused', reason: 'unavailable' };
      throw error;
    }
    return inTransaction(this.#journey.db, async (tx): Promise<AgentPinAnswer> => {
      await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(${phone}))`);
      const row = await this.#latest(tx, phone);
      if (row?.state === 'completed') return { outcome: 'active' };
      if (row?.state === 'in_review' || row?.state === 'info_requested') return { outcome: 'in_review' };
      if (row?.state !== 'email_verified') return { outcome: 'refused', reason: 'not_waiting' };
      const audit = { channel: 'agent' };
      await this.#journey.advance(
        tx,
        row.id,
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
      await this.#journey.advance(
        tx,
        row.id,
        'pin_set',
        { pinCustomerId: customerId, pinHash: this.#credentials.pinHash(customerId, pin) },
        { context, audit: { ...audit, device_bound: false } },
      );
      return this.#complete(tx, row.id, context);
    });
  }

  /** Completion by activation's rules, on the same transaction: activation, or the review queue. */
  async #complete(tx: Executor, id: string, context: RequestContext): Promise<AgentPinAnswer> {
    const { registration: row } = await this.#journey.advance(tx, id, 'complete', {}, { context });
    const reasons = await this.#activation.reviewReasons(row, tx);
    return finishRegistration(
      { journey: this.#journey, activation: this.#activation, notifications: this.#notifications },
      tx,
      { registration: row, reasons },
      {
        context,
        audit: {
          channel: 'agent',
          registrar_agent_id: row.registrarAgentId,
          registrar_operator_id: row.registrarOperatorId,
        },
      },
    );
  }

  /** The phone's newest agent registration that has not lapsed. */
  async #latest(db: Executor, phone: string): Promise<RegistrationRow | null> {
    const [row] = await db
      .select()
      .from(registrations)
      .where(and(eq(registrations.channel, 'agent'), eq(registrations.phone, phone)))
      .orderBy(desc(registrations.createdAt))
      .limit(1);
    if (!row) return null;
    return row.expiresAt.getTime() > Date.now() || row.state === 'in_review' ? row : null;
  }

  /** Another agent registration of the phone still running or waiting for a reviewer. */
  async #underWay(db: Executor, phone: string): Promise<boolean> {
    const row = await this.#latest(db, phone);
    if (!row) return false;
    const state = stateOf(row);
    return !['completed', 'rejected', 'expired', 'declined', 'purged'].includes(state);
  }
}
