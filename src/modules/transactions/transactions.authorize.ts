/**
 * The authorization step of every customer payment: the transaction PIN (one guarded statement), then — at or above
 * `payments.otp_threshold_minor` — a one-time code bound to type, source, payee, amount and currency. Without a code the
 * first call issues one into the outbox and answers 428 OTP_REQUIRED; a code for another payee or amount fails.
 */
import { inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { OtpService, otpRequested, otpRequestedEvent } from '../../platform/otp.ts';
import { emitEvent } from '../../platform/outbox.ts';
import type { CustomerAuth } from '../customers/index.ts';
import type { SettingsService } from '../settings/index.ts';
import { transactionErrors } from './transactions.errors.ts';

export interface Authorization {
  pin?: string;
  otp?: { challenge_id: string; code: string };
}

export interface AuthorizationBinding {
  type: string;
  source: string;
  payee: string;
  amount: bigint;
  currency: string;
  /** What else identifies the payment to the customer (bill account, QR code): a code for one is void for another. */
  detail?: string;
}

/**
 * A customer's PIN to be compared inside the payment's commit call: the attempt's keyed hash, and the full check
 * (counting failures, locking) for when the commit finds it is not a right PIN with nothing to reset.
 */
export interface PinCheck {
  customerId: string;
  candidate: string;
  verify(): Promise<void>;
}

export class PaymentAuthorizer {
  readonly #deps: Dependencies;
  readonly #pins: CustomerAuth;
  readonly #settings: SettingsService;

  /** `pins`: the customers module's PIN checks (its PIN lock and counters), shared with PIN sign-in. */
  constructor(deps: Dependencies, pins: CustomerAuth, settings: SettingsService) {
    this.#deps = deps;
    this.#pins = pins;
    this.#settings = settings;
  }

  async authorize(
    customerId: string,
    binding: AuthorizationBinding,
    authorization: Authorization,
  ): Promise<void> {
    await (await this.authorizeAtCommit(customerId, binding, authorization))?.verify();
  }

  /**
   * `authorize` for a payment that commits next: when no one-time code is needed, the PIN is left to the commit, which
   * compares it inside its one call (`PinCheck`); otherwise everything is checked now and this returns null.
   */
  async authorizeAtCommit(
    customerId: string,
    binding: AuthorizationBinding,
    authorization: Authorization,
  ): Promise<PinCheck | null> {
    const pin = authorization.pin;
    if (!pin) throw transactionErrors.pinRequired();
    if (!(await this.#needsCode(binding)))
      return {
        customerId,
        candidate: this.#pins.pinCandidate(customerId, pin),
        verify: () => this.#pins.verifyPin(customerId, pin),
      };
    await this.#pins.verifyPin(customerId, pin);
    await this.#code(customerId, binding, authorization);
    return null;
  }

  async #needsCode(binding: AuthorizationBinding): Promise<boolean> {
    const thresholds = await this.#settings.get('payments.otp_threshold_minor');
    const threshold = thresholds[binding.currency];
    return threshold !== undefined && binding.amount >= BigInt(threshold);
  }

  /** The one-time code step: verifies the code given, or issues one and answers 428 OTP_REQUIRED. */
  async #code(
    customerId: string,
    binding: AuthorizationBinding,
    authorization: Authorization,
  ): Promise<void> {
    const otp = new OtpService({
      store: this.#deps.store,
      pepper: this.#deps.config.HMAC_PEPPER,
      ttlMs: (await this.#settings.get('auth.otp_ttl_seconds')) * 1000,
    });
    const bound = {
      type: binding.type,
      source: binding.source,
      payee: binding.payee,
      amount: binding.amount.toString(),
      currency: binding.currency,
      detail: binding.detail ?? '',
    };
    if (authorization.otp) {
      await otp.verify({
        purpose: 'transaction',
        challengeId: authorization.otp.challenge_id,
        code: authorization.otp.code,
        binding: bound,
      });
      return;
    }
    const issued = await otp.issue({ purpose: 'transaction', subject: customerId, binding: bound });
    const event = otpRequestedEvent(this.#deps.keys, customerId, 'transaction', issued, {
      amount: binding.amount.toString(),
      currency: binding.currency,
    });
    await inTransaction(this.#deps.database.db, (tx) =>
      emitEvent(tx, otpRequested, event.aggregate, event.payload),
    );
    throw transactionErrors.otpRequired(issued.challengeId, issued.expiresAt);
  }
}
