/**
 * Customer sign-in with phone + PIN (mobile and USSD) and PIN management. Wrong PINs are counted in the database
 * before the PIN is checked, with a guarded update, so parallel guesses cannot exceed the configured count: the
 * lock holds until staff reset the PIN. The PIN itself is an HMAC keyed by the server pepper, never logged.
 */
import { eq, sql } from 'drizzle-orm';
import { addressBucket } from '../../platform/address-bucket.ts';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { constantTimeEqualHex, keyedHash } from '../../platform/crypto.ts';
import { type Executor, inTransaction, rawRows } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { AppError, commonErrors } from '../../platform/errors.ts';
import { OtpService, otpRequested, otpRequestedEvent } from '../../platform/otp.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { type IdentityService, identityErrorCatalogue } from '../identity/index.ts';
import type { PinSettings } from './customers.config.ts';
import { customerErrorCatalogue as codes } from './customers.errors.ts';
import { type PinVerdict, pinVerdict } from './customers.pin-policy.ts';
import { customerErrors, normaliseNationalId, normalisePhone } from './customers.service.ts';
import { customerCredentials, customerPhones, customers } from './customers.tables.ts';

const PUSH_LOGIN_TOKEN = 'customer-push-login+jwt';
const PUSH_LOGIN_TTL_SECONDS = 150;
/** Stands in for the customer id of an unknown number, so its PIN check runs the same statement (matching no row). */
const NO_CUSTOMER_ID = '00000000-0000-0000-0000-000000000000';

export const pinErrors = {
  invalidCredentials: () =>
    identityErrorCatalogue.INVALID_CREDENTIALS({ message: 'Invalid phone number or PIN' }),
  wrongPin: (attemptsLeft: number) => codes.INVALID_PIN({ details: { attempts_left: attemptsLeft } }),
  locked: () => codes.PIN_LOCKED(),
  notSet: () => codes.PIN_NOT_SET(),
  malformed: (reason: string) => codes.PIN_POLICY({ params: { reason }, details: { reason } }),
  weak: (verdict: PinVerdict) =>
    codes.WEAK_PIN({
      params: { reason: verdict.reason },
      details: { reason: verdict.reason, weakness: verdict.weakness },
    }),
  sameAsCurrent: () => {
    const reason = 'must differ from the current PIN';
    return codes.PIN_POLICY({ params: { reason }, details: { reason } });
  },
  inactive: () => identityErrorCatalogue.ACCOUNT_INACTIVE({ message: 'This customer account is not active' }),
  pushNotApproved: (status: string) => identityErrorCatalogue.PUSH_NOT_APPROVED({ details: { status } }),
  identityMismatch: () => codes.IDENTITY_MISMATCH(),
};

/** 422 `PIN_POLICY` for a malformed PIN, 422 `WEAK_PIN` for a guessable one. */
function assertPinAllowed(pin: string): void {
  const verdict = pinVerdict(pin);
  if (!verdict) return;
  throw verdict.weakness === 'format' ? pinErrors.malformed(verdict.reason) : pinErrors.weak(verdict);
}

export class CustomerAuth {
  readonly #deps: Dependencies;
  readonly #identity: IdentityService;
  /** PIN_MAX_FAILURES and the PIN sign-in velocity limits (the module's variables). */
  readonly #pins: PinSettings;

  constructor(deps: Dependencies, identity: IdentityService, pins: PinSettings) {
    this.#deps = deps;
    this.#identity = identity;
    this.#pins = pins;
  }

  get #db(): Executor {
    return this.#deps.database.db;
  }

  #hash(customerId: string, pin: string): string {
    return keyedHash(this.#deps.config.HMAC_PEPPER, `pin:${customerId}`, pin);
  }

  /**
   * The keyed hash a PIN attempt is compared as, for a caller that compares it inside its own statement (the payment
   * commit: a right PIN with nothing to reset, otherwise it writes nothing and `verifyPin` runs).
   */
  pinCandidate(customerId: string, pin: string): string {
    return this.#hash(customerId, pin);
  }

  /** Staff set or reset a PIN (this also lifts a lock). */
  async setPin(customerId: string, pin: string, context: RequestContext): Promise<void> {
    assertPinAllowed(pin);
    await inTransaction(this.#db, async (tx) => {
      const [customer] = await tx
        .select({ id: customers.id, erasedAt: customers.erasedAt })
        .from(customers)
        .where(eq(customers.id, customerId))
        .limit(1);
      if (!customer) throw commonErrors.notFound('Customer');
      if (customer.erasedAt) throw customerErrors.erased();
      const values = {
        pinHash: this.#hash(customerId, pin),
        pinFailedAttempts: 0,
        pinLockedAt: null,
        pinChangedAt: new Date(),
        updatedAt: new Date(),
      };
      await tx
        .insert(customerCredentials)
        .values({ customerId, ...values })
        .onConflictDoUpdate({ target: customerCredentials.customerId, set: values });
      await writeAudit(tx, context, {
        action: 'customer.pin_set',
        entityType: 'customer',
        entityId: customerId,
      });
    });
  }

  /**
   * One guarded statement compares and counts: the HMAC of the candidate is compared with the stored one inside the
   * UPDATE, so parallel tries on one customer serialise on the row. A wrong PIN adds one (and locks at
   * PIN_MAX_FAILURES), a right one resets the count; exactly PIN_MAX_FAILURES wrong PINs are ever checked, and
   * parallel right PINs (one customer's parallel payments) never lock each other out. A right PIN with no failures
   * to reset writes nothing (the common case of every payment: no row version, no WAL flush); the statement's own
   * read of the row tells that case apart from a locked or missing credential.
   */
  async verifyPin(customerId: string, pin: string): Promise<void> {
    const max = this.#pins.PIN_MAX_FAILURES;
    const candidate = this.#hash(customerId, pin);
    const [row] = await rawRows<{
      matched: boolean;
      attempts: number;
      locked: boolean;
      counted: boolean;
      counted_attempts: number | null;
      counted_locked: boolean | null;
    }>(
      this.#db,
      sql`with seen as (
            select pin_hash = ${candidate} as matched, pin_failed_attempts as attempts,
                   pin_locked_at is not null as locked
            from customer_credentials where customer_id = ${customerId}
          ), counted as (
            update customer_credentials
            set pin_failed_attempts = case when pin_hash = ${candidate} then 0 else pin_failed_attempts + 1 end,
                pin_locked_at = case when pin_hash <> ${candidate} and pin_failed_attempts + 1 >= ${max}
                                     then now() else null end
            where customer_id = ${customerId} and pin_locked_at is null
              and not (pin_hash = ${candidate} and pin_failed_attempts = 0)
            returning pin_failed_attempts, pin_locked_at
          )
          select seen.matched, seen.attempts, seen.locked, counted.pin_failed_attempts is not null as counted,
                 counted.pin_failed_attempts as counted_attempts, counted.pin_locked_at is not null as counted_locked
          from seen left join counted on true`,
    );
    if (!row) throw pinErrors.notSet();
    if (row.counted) {
      if (row.counted_locked) throw pinErrors.locked();
      if ((row.counted_attempts ?? 0) > 0) throw pinErrors.wrongPin(max - row.counted_attempts!);
      return;
    }
    // Nothing was written: either the PIN was right with nothing to reset, or the row was (or just became) locked.
    if (row.locked || !row.matched || row.attempts !== 0) throw pinErrors.locked();
  }

  async changePin(customerId: string, current: string, next: string, context: RequestContext): Promise<void> {
    // A weak new PIN is refused before the current one is checked, so the refusal spends no attempt.
    assertPinAllowed(next);
    await this.verifyPin(customerId, current);
    if (current === next) throw pinErrors.sameAsCurrent();
    await this.setPin(customerId, next, context);
  }

  #otp(): OtpService {
    return new OtpService({ store: this.#deps.store, pepper: this.#deps.config.HMAC_PEPPER });
  }

  /**
   * Forgotten PIN, step 1: a code to the registered phone. Unknown numbers get the same answer (and the same cooldown
   * and hourly cap) but no message, so the answer does not tell who is a customer.
   */
  async requestPinReset(phone: string): Promise<{ challenge_id: string; expires_at: string }> {
    let normalised: string;
    try {
      normalised = normalisePhone(phone);
    } catch {
      throw customerErrors.invalidPhone(phone);
    }
    const issued = await this.#otp().issue({
      purpose: 'pin_reset',
      subject: normalised,
      binding: { phone: normalised },
    });
    const [found] = await this.#db
      .select({ id: customers.id })
      .from(customerPhones)
      .innerJoin(customers, eq(customers.id, customerPhones.customerId))
      .where(eq(customerPhones.phone, normalised))
      .limit(1);
    if (found) {
      const event = otpRequestedEvent(this.#deps.keys, found.id, 'pin_reset', issued, { phone: normalised });
      await inTransaction(this.#db, (tx) => emitEvent(tx, otpRequested, event.aggregate, event.payload));
    }
    return { challenge_id: issued.challengeId, expires_at: issued.expiresAt.toISOString() };
  }

  /**
   * Step 2: the code, the new PIN and — when the customer has an ID on file — the ID number, so a swapped SIM alone
   * does not take over the wallet. Lifts a PIN lock.
   */
  async confirmPinReset(
    input: { phone: string; challenge_id: string; code: string; new_pin: string; national_id?: string },
    context: RequestContext,
  ): Promise<void> {
    assertPinAllowed(input.new_pin);
    let normalised: string;
    try {
      normalised = normalisePhone(input.phone);
    } catch {
      throw customerErrors.invalidPhone(input.phone);
    }
    await this.#otp().verify({
      purpose: 'pin_reset',
      challengeId: input.challenge_id,
      code: input.code,
      binding: { phone: normalised },
    });
    const [found] = await this.#db
      .select({ id: customers.id, idType: customers.nationalIdType, idIndex: customers.nationalIdIndex })
      .from(customerPhones)
      .innerJoin(customers, eq(customers.id, customerPhones.customerId))
      .where(eq(customerPhones.phone, normalised))
      .limit(1);
    if (!found) throw pinErrors.invalidCredentials();
    if (found.idIndex) {
      const given = input.national_id
        ? keyedHash(
            this.#deps.config.HMAC_PEPPER,
            `national-id:${found.idType}`,
            normaliseNationalId(input.national_id),
          )
        : '';
      if (!constantTimeEqualHex(given, found.idIndex)) throw pinErrors.identityMismatch();
    }
    await this.setPin(found.id, input.new_pin, { ...context, actor: { type: 'customer', id: found.id } });
  }

  /**
   * A number that is no customer's, or a customer's with no PIN yet, answers exactly as a wrong PIN would (same code,
   * same attempts count, same lock), so the answers do not tell which numbers are customers or which have a PIN.
   * The count lives in the ephemeral store for 30 days.
   */
  async #refuseWithoutPin(phone: string): Promise<never> {
    const max = this.#pins.PIN_MAX_FAILURES;
    const tries = await this.#deps.store.increment(`pin:unknown:${phone}`, 30 * 24 * 3600 * 1000);
    throw tries >= max ? pinErrors.locked() : pinErrors.wrongPin(max - tries);
  }

  /**
   * Velocity limits of PIN sign-in per IP address and per device, shared across nodes (the ephemeral store), so one
   * client cannot spray common PINs over many numbers (each number locks on its own after PIN_MAX_FAILURES, which
   * alone does not stop that). Every attempt is counted before its PIN is checked (parallel tries cannot slip past)
   * and a right PIN counts as a success; the limit is on attempts minus successes in a fixed window, so the many
   * customers behind one carrier NAT who sign in correctly never use it up. Both counters of a window expire
   * together (the window is in their key).
   */
  async #checkVelocity(keys: string[]): Promise<string[]> {
    const { store } = this.#deps;
    const config = this.#pins;
    const windowMs = config.PIN_LOGIN_WINDOW_SECONDS * 1000;
    const now = Date.now();
    const window = Math.floor(now / windowMs);
    const retryAfter = Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000));
    const counted = keys.map((key) => `pin-login:${key}:${window}`);
    for (const [index, key] of counted.entries()) {
      const max = keys[index]!.startsWith('ip:')
        ? config.PIN_LOGIN_MAX_FAILURES_PER_IP
        : config.PIN_LOGIN_MAX_FAILURES_PER_DEVICE;
      const attempts = await store.increment(`${key}:attempts`, windowMs);
      const successes = Number((await store.get(`${key}:successes`)) ?? 0);
      if (attempts - successes > max)
        throw commonErrors.tooManyRequests(retryAfter, 'Too many sign-in attempts; try again later');
    }
    return counted;
  }

  async #countSuccess(counted: string[]): Promise<void> {
    const windowMs = this.#pins.PIN_LOGIN_WINDOW_SECONDS * 1000;
    for (const key of counted) await this.#deps.store.increment(`${key}:successes`, windowMs);
  }

  /**
   * Phone + PIN login for customers. Every path does the same work — the velocity limits, one lookup of the number,
   * the keyed hash of the PIN compared in the same statement (against no row for an unknown number) — and an unknown
   * number, a customer without a PIN and a wrong PIN answer alike.
   */
  async login(phone: string, pin: string, context: RequestContext, deviceId?: string) {
    const counted = await this.#checkVelocity([
      // An IPv6 client counts by its /64 (it holds them all), an IPv4-mapped one as its IPv4 address.
      `ip:${addressBucket(context.ip ?? 'unknown')}`,
      ...(deviceId ? [`device:${deviceId}`] : []),
    ]);
    let normalised: string;
    try {
      normalised = normalisePhone(phone);
    } catch {
      throw pinErrors.invalidCredentials();
    }
    const [found] = await this.#db
      .select({ id: customers.id, status: customers.status })
      .from(customerPhones)
      .innerJoin(customers, eq(customers.id, customerPhones.customerId))
      .where(eq(customerPhones.phone, normalised))
      .limit(1);
    try {
      await this.verifyPin(found?.id ?? NO_CUSTOMER_ID, pin);
    } catch (error) {
      if (error instanceof AppError && error.errorCode === 'PIN_NOT_SET')
        return this.#refuseWithoutPin(normalised);
      throw error;
    }
    // verifyPin passes only on a stored PIN, so a customer was found.
    if (!found) throw pinErrors.invalidCredentials();
    await this.#countSuccess(counted);
    if (found.status === 'suspended' || found.status === 'closed') throw pinErrors.inactive();
    // With push approval on, a customer with a registered device approves the sign-in on it; the app polls.
    if (await this.#identity.passwordSettings?.customerPushLogin?.()) {
      const challenge = await this.#identity.push
        .createChallenge(
          { type: 'customer', id: found.id },
          { purpose: 'login', details: { channel: 'mobile' } },
        )
        .catch((error: unknown) => {
          if (error instanceof AppError && error.errorCode === 'NO_DEVICE') return null;
          throw error;
        });
      if (challenge) {
        const mfaToken = await this.#identity.tokens.signPurpose(
          { sub: found.id, ptype: 'customer', sid: 'push-login', ch: challenge.challenge_id },
          PUSH_LOGIN_TOKEN,
          PUSH_LOGIN_TTL_SECONDS,
        );
        return {
          mfa_required: true as const,
          factors: ['push'],
          mfa_token: mfaToken,
          push_challenge_id: challenge.challenge_id,
          expires_in: PUSH_LOGIN_TTL_SECONDS,
        };
      }
    }
    return this.#openSession(found.id, context, 'pin');
  }

  /**
   * The polling step of a push-approved sign-in: pending answers 202 (poll again), approved opens the session once,
   * denied or expired end it.
   */
  async completePushLogin(mfaToken: string, context: RequestContext) {
    const claims = await this.#identity.tokens.verify(mfaToken, PUSH_LOGIN_TOKEN);
    const principal = { type: 'customer' as const, id: String(claims.sub) };
    const challengeId = String(claims.ch);
    const { status } = await this.#identity.push.status(principal, challengeId);
    if (status === 'pending') return { status: 'pending' as const, retry_after_seconds: 2 };
    if (
      status !== 'approved' ||
      !(await this.#identity.push.consumeApproval(principal, challengeId, 'login'))
    )
      throw pinErrors.pushNotApproved(status);
    const [customer] = await this.#db
      .select({ status: customers.status })
      .from(customers)
      .where(eq(customers.id, principal.id))
      .limit(1);
    if (!customer || customer.status === 'suspended' || customer.status === 'closed')
      throw pinErrors.inactive();
    return this.#openSession(principal.id, context, 'pin+push');
  }

  async #openSession(customerId: string, context: RequestContext, method: string) {
    return inTransaction(this.#db, async (tx) => {
      // Phone + PIN is the customer app's sign-in: its sessions are on the mobile channel (the USSD gateway and
      // agent devices will open theirs on `ussd` and `agent`).
      const tokens = await this.#identity.sessions.openSession(
        tx,
        { type: 'customer', id: customerId },
        context,
        'mobile',
      );
      await writeAudit(
        tx,
        { ...context, actor: { type: 'customer', id: customerId } },
        {
          action: 'auth.login',
          entityType: 'customer',
          entityId: customerId,
          after: { method },
        },
      );
      return tokens;
    });
  }
}
