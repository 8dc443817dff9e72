/**
 * Credentials: the PIN, under the same weak-PIN rules as everywhere (customers' `pinVerdict`), and the device the
 * registration started on, bound. The PIN is kept the way customers' credentials keep it — keyedHash(pepper,
 * `pin:<customer id>`, pin) — keyed by the customer id chosen here (`pin_customer_id`), so activation creates the
 * customer with that id and copies the hash; the PIN itself is never stored.
 */
import type { Static } from 'typebox';
import { keyedHash } from '../../platform/crypto.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { pinErrors, pinVerdict } from '../customers/index.ts';
import { type StepRequest, stepAnswer } from './onboarding.contacts.ts';
import type { StepAnswer } from './onboarding.journey.schemas.ts';
import type { Journey } from './onboarding.journey.ts';

export class Credentials {
  readonly #deps: Dependencies;
  readonly #journey: Journey;

  constructor(deps: Dependencies, journey: Journey) {
    this.#deps = deps;
    this.#journey = journey;
  }

  /** customers.auth.ts's PIN hash, for the customer id activation will create. */
  pinHash(customerId: string, pin: string): string {
    return keyedHash(this.#deps.config.HMAC_PEPPER, `pin:${customerId}`, pin);
  }

  async setPin(request: StepRequest, body: { pin: string }): Promise<Static<typeof StepAnswer>> {
    const row = await this.#journey.byToken(request.token, request.deviceId);
    const requestHash = this.#journey.requestHash('pin_set', body, request.idempotencyKey);
    const stored = await this.#journey.replay(row.id, 'pin_set', requestHash);
    if (stored) return stored.answer as Static<typeof StepAnswer>;
    this.#journey.assertAllowed(row, 'pin_set');
    const verdict = pinVerdict(body.pin);
    if (verdict)
      throw verdict.weakness === 'format' ? pinErrors.malformed(verdict.reason) : pinErrors.weak(verdict);
    const customerId = row.pinCustomerId ?? uuidv7();
    const done = await this.#journey.advanceNow<Static<typeof StepAnswer>>(
      row.id,
      'pin_set',
      { pinCustomerId: customerId, pinHash: this.pinHash(customerId, body.pin), deviceBoundAt: new Date() },
      { requestHash, answer: stepAnswer, context: request.context, audit: { device_bound: true } },
    );
    return done.answer;
  }
}
