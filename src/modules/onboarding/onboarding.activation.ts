/**
 * Completion and activation. `POST /mobile/register/complete` (after the PIN) approves automatically when every rule
 * holds — identity verified with no mismatch, a national ID no customer and no other registration in review holds,
 * no deny-list or screening hit, the phone OTP done — and otherwise sends the registration to the review queue with
 * the reasons named (for the back office only). Activation, automatic or a reviewer's approval, is ONE transaction:
 * the customer (KYC tier by the identity path, configurable), the default wallet, the PIN credentials (hashed by the
 * PIN step, keyed by the customer id chosen then), the bound device (registered with identity for push approvals when
 * the PIN step sent its public key), the welcome event and the registration's move to `completed`. Any failure leaves none of them. An automatic activation answers the session tokens, as customer
 * sign-in does.
 */
import { and, eq, inArray, ne } from 'drizzle-orm';
import type { ScreeningPort } from '../../integrations/ports.ts';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { AppError } from '../../platform/errors.ts';
import type { DomainEvent } from '../../platform/events.ts';
import { emitEvent } from '../../platform/outbox.ts';
import {
  createOnboardedCustomer,
  customerDisplayName,
  customerIdByCbsClientId,
  customerIdByNationalId,
} from '../customers/index.ts';
import { type IdentityService, registerCustomerDevice } from '../identity/index.ts';
import type { NotificationsService } from '../notifications/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import type { ActivationConfig } from './onboarding.activation.config.ts';
import { registrationActivated } from './onboarding.activation.events.ts';
import type { AgentTierConfig } from './onboarding.agent.config.ts';
import type { DeclaredDetails, IdentityResult } from './onboarding.cbs.ts';
import { mismatchCodes, normaliseNationalIdValue } from './onboarding.cbs.ts';
import type { Journey, RegistrationRow } from './onboarding.journey.ts';
import type { RegistrationState } from './onboarding.machine.ts';
import { denyListed } from './onboarding.repository.ts';
import { registrations } from './onboarding.tables.ts';
import type { UssdRegistrationConfig } from './onboarding.ussd.config.ts';

type TokenPair = Awaited<ReturnType<IdentityService['sessions']['openSession']>>;

export interface CompleteAnswer {
  state: RegistrationState;
  customer_id: string | null;
  wallet_id: string | null;
  kyc_tier: string | null;
  message: string;
  tokens: TokenPair | null;
}

export interface Activated {
  customerId: string;
  walletId: string;
  kycTier: string;
}

const REVIEW_MESSAGE =
  'Thank you. Your registration is being reviewed by our team; you will be told when your account is ready.';
const DONE_MESSAGE = 'Your account is ready.';
/** The device's name in the customer's device list when the app sent none. */
const DEFAULT_DEVICE_NAME = 'Phone used to register';

/** States in which another registration's hold on a national ID blocks automatic approval. */
const HOLDING_STATES = ['in_review', 'completed'];

export class Activation {
  readonly #deps: Dependencies;
  readonly #journey: Journey;
  readonly #identity: IdentityService;
  readonly #wallets: WalletsService;
  #screening: ScreeningPort;
  readonly #config: ActivationConfig & Partial<UssdRegistrationConfig> & Partial<AgentTierConfig>;

  constructor(
    deps: Dependencies,
    journey: Journey,
    services: { identity: IdentityService; wallets: WalletsService; screening: ScreeningPort },
    config: ActivationConfig & Partial<UssdRegistrationConfig>,
  ) {
    this.#deps = deps;
    this.#journey = journey;
    this.#identity = services.identity;
    this.#wallets = services.wallets;
    this.#screening = services.screening;
    this.#config = config;
  }

  get screening(): ScreeningPort {
    return this.#screening;
  }

  /** Replaces the screening port (the AML module sets its own when it is built, after this module). */
  useScreening(port: ScreeningPort): void {
    this.#screening = port;
  }

  /** The customer's completion request: activation and tokens, or the review queue. */
  async complete(
    registration: RegistrationRow,
    context: RequestContext,
    idempotencyKey?: string,
  ): Promise<CompleteAnswer> {
    const requestHash = this.#journey.requestHash('complete', {}, idempotencyKey);
    const stored = await this.#stored(registration.id, requestHash);
    if (stored) return stored;
    try {
      return await this.#complete(registration, context, requestHash);
    } catch (error) {
      // The same request racing itself: the one that lost the row lock answers what the winner stored.
      if (!(error instanceof AppError && error.errorCode === 'REGISTRATION_STEP_OUT_OF_ORDER')) throw error;
      const raced = await this.#stored(registration.id, requestHash);
      if (raced) return raced;
      throw error;
    }
  }

  async #stored(registrationId: string, requestHash: string): Promise<CompleteAnswer | null> {
    for (const step of ['complete_approved', 'complete_review'] as const) {
      const stored = await this.#journey.replay(registrationId, step, requestHash);
      if (stored) return stored.answer as CompleteAnswer;
    }
    return null;
  }

  async #complete(
    registration: RegistrationRow,
    context: RequestContext,
    requestHash: string,
  ): Promise<CompleteAnswer> {
    this.#journey.assertAllowed(registration, 'complete');
    const reasons = await this.reviewReasons(registration);
    if (reasons.length === 0) {
      try {
        return await this.#approveAutomatically(registration, context, requestHash);
      } catch (error) {
        // Another registration became this phone's, email's or national ID's customer meanwhile: a person decides.
        if (!(error instanceof AppError && error.errorCode === 'CUSTOMER_EXISTS')) throw error;
        reasons.push(
          `duplicate_at_activation: ${String((error.details as { field?: string })?.field ?? '')}`,
        );
      }
    }
    return inTransaction(this.#journey.db, async (tx) => {
      await this.#journey.advance(tx, registration.id, 'complete', {}, { context });
      const { answer } = await this.#journey.advance<CompleteAnswer>(
        tx,
        registration.id,
        'complete_review',
        { reviewReasons: reasons },
        {
          requestHash,
          context,
          audit: { reasons: reasons.map((reason) => reason.split(':')[0]) },
          answer: (row: RegistrationRow) => ({
            state: row.state as RegistrationState,
            customer_id: null,
            wallet_id: null,
            kyc_tier: null,
            message: REVIEW_MESSAGE,
            tokens: null,
          }),
        },
      );
      return answer;
    });
  }

  async #approveAutomatically(
    registration: RegistrationRow,
    context: RequestContext,
    requestHash: string,
  ): Promise<CompleteAnswer> {
    return inTransaction(this.#journey.db, async (tx) => {
      const { registration: current } = await this.#journey.advance(
        tx,
        registration.id,
        'complete',
        {},
        { context },
      );
      const activated = await this.activate(tx, current, context, 'automatic');
      const tokens = await this.#identity.sessions.openSession(
        tx,
        { type: 'customer', id: activated.customerId },
        context,
        'mobile',
      );
      // The stored answer (a repeat of this request) carries no tokens: the app signs in with phone and PIN then.
      const { answer } = await this.#journey.advance<CompleteAnswer>(
        tx,
        registration.id,
        'complete_approved',
        { customerId: activated.customerId, completedAt: new Date() },
        {
          requestHash,
          context,
          audit: { customer_id: activated.customerId, kyc_tier: activated.kycTier },
          answer: (row: RegistrationRow) => ({
            state: row.state as RegistrationState,
            customer_id: activated.customerId,
            wallet_id: activated.walletId,
            kyc_tier: activated.kycTier,
            message: DONE_MESSAGE,
            tokens: null,
          }),
        },
      );
      return { ...answer, tokens };
    });
  }

  /**
   * Why a registration cannot be approved automatically (empty: it can). Codes first, a detail after a colon; they
   * are for the back office and never shown to the customer (a screening hit must not be).
   */
  async reviewReasons(row: RegistrationRow, executor?: Executor): Promise<string[]> {
    const reasons: string[] = [];
    // USSD completes inside its one transaction: reads go on it (the embedded database has one connection).
    const db = executor ?? this.#journey.db;
    if (!this.#config.ONBOARDING_AUTO_APPROVE) reasons.push('automatic_approval_off');
    if (declaredIdentity(row)) {
      // Nobody confirmed a typed identity: a person looks, unless the operator accepts it at the USSD tier.
      if (!this.#config.ONBOARDING_USSD_DECLARED_AUTO_APPROVE) reasons.push('identity_declared');
    } else {
      const mismatches = mismatchCodes(this.#journey, row);
      if (mismatches === null) reasons.push('identity_not_verified');
      else if (mismatches.length > 0) reasons.push(`identity_mismatch: ${mismatches.join(', ')}`);
    }
    if (row.path === 'cbs' && !row.cbsClientId) reasons.push('cbs_client_not_linked');
    // One bank client is one customer: a client already linked is not linked again (customers' unique index refuses
    // it too, which a race turns into `duplicate_at_activation`).
    else if (row.path === 'cbs' && (await customerIdByCbsClientId(db, row.cbsClientId!)))
      reasons.push('cbs_client_in_use');
    if (!row.phoneVerifiedAt) reasons.push('phone_not_verified');
    const declared = this.#journey.declared<DeclaredDetails>(row);
    const identity = this.#journey.identity<IdentityResult>(row);
    const nationalId = declared?.national_id ?? identity?.document_number ?? null;
    const idType = declared?.national_id_type ?? this.#config.ONBOARDING_NATIONAL_ID_TYPE;
    if (!nationalId || !row.nationalIdIndex) reasons.push('national_id_missing');
    else {
      if (await customerIdByNationalId(db, idType, row.nationalIdIndex)) reasons.push('national_id_in_use');
      const [other] = await db
        .select({ id: registrations.id })
        .from(registrations)
        .where(
          and(
            eq(registrations.nationalIdIndex, row.nationalIdIndex),
            ne(registrations.id, row.id),
            inArray(registrations.state, HOLDING_STATES),
          ),
        )
        .limit(1);
      if (other) reasons.push('national_id_in_other_registration');
      const idIndex = this.#journey.index('deny:national_id', normaliseNationalIdValue(nationalId));
      if (await denyListed(db, 'national_id', idIndex)) reasons.push('deny_list: national_id');
    }
    if (row.phone && (await denyListed(db, 'phone', this.#journey.index('deny:phone', row.phone))))
      reasons.push('deny_list: phone');
    if (row.deviceId && (await denyListed(db, 'device', this.#journey.index('deny:device', row.deviceId))))
      reasons.push('deny_list: device');
    const names = personNames(declared, identity);
    const screened = await this.#screening.screen({
      fullName: [names.first, names.middle, names.last].filter(Boolean).join(' '),
      ...(names.dateOfBirth ? { dateOfBirth: names.dateOfBirth } : {}),
      ...(identity?.nationality || declared?.nationality
        ? { nationality: (identity?.nationality ?? declared?.nationality)! }
        : {}),
      country: row.phoneCountry,
    });
    if (screened.hit) reasons.push(`screening_hit: ${screened.matches.join('; ')}`);
    return reasons;
  }

  /**
   * Creates the customer, the default wallet and the credentials for the registration on `tx` and publishes the
   * welcome event. The caller moves the registration to `completed` in the same transaction.
   */
  async activate(
    tx: Executor,
    row: RegistrationRow,
    context: RequestContext,
    approval: 'automatic' | 'manual',
  ): Promise<Activated> {
    if (!row.pinHash || !row.pinCustomerId || !row.phone || !row.phoneVerifiedAt)
      throw new Error(`registration ${row.id} reached activation without its PIN or verified phone`);
    const declared = this.#journey.declared<DeclaredDetails>(row);
    const identity = this.#journey.identity<IdentityResult>(row);
    const names = personNames(declared, identity);
    if (!names.first || !names.last)
      throw new Error(`registration ${row.id} reached activation without a name`);
    const path = row.path === 'cbs' ? 'cbs' : declaredIdentity(row) ? 'declared' : 'didit';
    // USSD: whatever the identity path, no document was seen and no device bound, so the USSD tier (Basic).
    // Agent: the tier of ONBOARDING_TIER_AGENT (the operator saw the ID; no device bound).
    const kycTier =
      row.channel === 'ussd'
        ? (this.#config.ONBOARDING_TIER_USSD ?? this.#config.ONBOARDING_TIER_DIDIT)
        : row.channel === 'agent'
          ? (this.#config.ONBOARDING_TIER_AGENT ?? this.#config.ONBOARDING_TIER_DIDIT)
          : path === 'cbs'
            ? this.#config.ONBOARDING_TIER_CBS
            : this.#config.ONBOARDING_TIER_DIDIT;
    const email = row.emailVerifiedAt ? this.#journey.open<string>(row.id, 'email', row.emailSealed) : null;
    const nationalId = declared?.national_id ?? identity?.document_number ?? null;
    const actor: RequestContext = context;
    const customer = await createOnboardedCustomer(
      tx,
      this.#deps,
      {
        id: row.pinCustomerId,
        first_name: names.first,
        middle_name: names.middle,
        last_name: names.last,
        phone: row.phone,
        phone_verified_at: row.phoneVerifiedAt,
        email,
        email_verified_at: row.emailVerifiedAt,
        date_of_birth: names.dateOfBirth,
        national_id: nationalId,
        national_id_type: nationalId
          ? (declared?.national_id_type ?? this.#config.ONBOARDING_NATIONAL_ID_TYPE)
          : null,
        nationality: alpha2(declared?.nationality) ?? alpha2(identity?.nationality),
        kyc_tier: kycTier,
        pin_hash: row.pinHash,
        channel: row.channel === 'app' ? 'mobile' : row.channel,
        cbs_client_id: row.path === 'cbs' ? row.cbsClientId : null,
      },
      actor,
    );
    const wallet = await this.#wallets.openCustomerWallet(
      tx,
      customer.id,
      this.#config.ONBOARDING_WALLET_CURRENCY,
    );
    // The device the PIN was set on, with the key it sent then: the customer's first device for push approvals.
    const deviceRegistered = Boolean(row.devicePublicKey && row.deviceId && row.devicePlatform);
    if (deviceRegistered)
      await registerCustomerDevice(
        tx,
        {
          customerId: customer.id,
          deviceId: row.deviceId!,
          publicKeyPem: row.devicePublicKey!,
          platform: row.devicePlatform!,
          name: row.deviceName ?? DEFAULT_DEVICE_NAME,
          pushToken: row.devicePushToken,
        },
        actor,
      );
    await emitEvent(
      tx,
      registrationActivated,
      { type: 'customer', id: customer.id },
      {
        registration_id: row.id,
        customer_id: customer.id,
        wallet_id: wallet.id,
        path,
        kyc_tier: kycTier,
        language: row.language,
        approval,
      },
    );
    await writeAudit(tx, actor, {
      action: 'onboarding.activated',
      entityType: 'registration',
      entityId: row.id,
      after: {
        customer_id: customer.id,
        wallet_id: wallet.id,
        kyc_tier: kycTier,
        path,
        approval,
        cbs_client_id: row.cbsClientId,
        // The device the registration was bound to (its PIN was set on it) is the customer's first device.
        device_id: row.deviceId,
        device_registered: deviceRegistered,
      },
    });
    return { customerId: customer.id, walletId: wallet.id, kycTier };
  }
}

/**
 * The welcome message, from the activation event (onboarding's own consumer, in the worker): SMS and in-app, in the
 * registration's language, once per event (its dedupe key) however often the event is delivered.
 */
export async function queueWelcome(
  notifications: NotificationsService,
  tx: Executor,
  event: DomainEvent<typeof registrationActivated>,
): Promise<void> {
  const { customer_id: customerId, language, wallet_id: walletId } = event.payload;
  await notifications.queue(tx, {
    recipient: { type: 'customer', id: customerId },
    template: 'onboarding.welcome',
    variables: { name: (await customerDisplayName(tx, customerId)) ?? '' },
    language: language.split('-')[0],
    dedupeKey: `event:${event.id}:onboarding.welcome:customer:${customerId}`,
    sourceEventId: event.id,
    data: { kind: 'welcome', wallet_id: walletId },
  });
}

/** The identity the customer typed on USSD and the bank did not confirm (onboarding.ussd.ts). */
export function declaredIdentity(row: RegistrationRow): boolean {
  return (row.identitySummary as { source?: unknown } | null)?.source === 'declared';
}

/** Customers keep nationality as ISO 3166 alpha-2; a document's alpha-3 (Didit) is not guessed into one. */
function alpha2(value: string | null | undefined): string | null {
  return value && /^[A-Z]{2}$/.test(value) ? value : null;
}

/** The person's names and birth date: the identity source's (bank or document) when whole, else the declared ones. */
function personNames(declared: DeclaredDetails | null, identity: IdentityResult | null) {
  const fromIdentity = Boolean(identity?.first_name && identity?.last_name);
  return {
    first: (fromIdentity ? identity?.first_name : declared?.first_name) ?? null,
    middle: (fromIdentity ? identity?.middle_name : declared?.middle_name) ?? null,
    last: (fromIdentity ? identity?.last_name : declared?.last_name) ?? null,
    dateOfBirth: identity?.date_of_birth ?? declared?.date_of_birth ?? null,
  };
}
