/**
 * Credentials: the PIN, under the same weak-PIN rules as everywhere (customers' `pinVerdict`), and the device the
 * registration started on, bound. The PIN is kept the way customers' credentials keep it — keyedHash(pepper,
 * `pin:<customer id>`, pin) — keyed by the customer id chosen here (`pin_customer_id`), so activation creates the
 * customer with that id and copies the hash; the PIN itself is never stored.
 *
 * The app may send the device's Ed25519 public key (SPKI PEM; the private key stays on the device), its platform,
 * a name and a push token: activation then registers the device with identity for push approvals, so the new
 * customer's first push challenge can be answered at once. The key is checked here by identity's own rules (422
 * INVALID_PUBLIC_KEY), so a registration never reaches activation with a key identity would refuse. Without a key the
 * device is only recorded (`device_bound: false`) and the app registers it after sign-in.
 */
import type { Static } from 'typebox';
import { keyedHash } from '../../platform/crypto.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors } from '../../platform/errors.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { pinErrors, pinVerdict } from '../customers/index.ts';
import { DEVICE_ID_PATTERN, parseDevicePublicKey } from '../identity/index.ts';
import { type StepRequest, stepAnswer } from './onboarding.contacts.ts';
import type { PinSetAnswer, PinSetBody } from './onboarding.journey.schemas.ts';
import type { Journey, RegistrationPatch, RegistrationRow } from './onboarding.journey.ts';

type Answer = Static<typeof PinSetAnswer>;

/** The PIN step's answer: the state, and whether activation will register the device for push approvals. */
export function pinSetAnswer(row: RegistrationRow): Answer {
  return { ...stepAnswer(row), device_bound: row.devicePublicKey !== null };
}

function invalidField(field: string, message: string) {
  return commonErrors.validation(message, { errors: [{ field: `body.${field}`, message }] });
}

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

  async setPin(request: StepRequest, body: Static<typeof PinSetBody>): Promise<Answer> {
    const row = await this.#journey.byToken(request.token, request.deviceId);
    const requestHash = this.#journey.requestHash('pin_set', body, request.idempotencyKey);
    const stored = await this.#journey.replay(row.id, 'pin_set', requestHash);
    if (stored) return stored.answer as Answer;
    this.#journey.assertAllowed(row, 'pin_set');
    const verdict = pinVerdict(body.pin);
    if (verdict)
      throw verdict.weakness === 'format' ? pinErrors.malformed(verdict.reason) : pinErrors.weak(verdict);
    const device = this.#device(row, body);
    const customerId = row.pinCustomerId ?? uuidv7();
    const done = await this.#journey.advanceNow<Answer>(
      row.id,
      'pin_set',
      {
        pinCustomerId: customerId,
        pinHash: this.pinHash(customerId, body.pin),
        deviceBoundAt: new Date(),
        ...device,
      },
      {
        requestHash,
        answer: pinSetAnswer,
        context: request.context,
        audit: { device_bound: device.devicePublicKey !== null, device_platform: device.devicePlatform },
      },
    );
    return done.answer;
  }

  /**
   * The device fields of the PIN step, checked: a key needs its platform, and the registration's device id must be
   * one identity's device routes accept (the device answers challenges with it); the other fields need the key. The
   * latest PIN step decides (a PIN set again without a key forgets an earlier one).
   */
  #device(row: RegistrationRow, body: Static<typeof PinSetBody>): RegistrationPatch {
    const key = body.device_public_key;
    if (key === undefined) {
      for (const field of ['device_platform', 'device_name', 'push_token'] as const)
        if (body[field] !== undefined) throw invalidField(field, 'send it with device_public_key');
      return { devicePublicKey: null, devicePlatform: null, deviceName: null, devicePushToken: null };
    }
    if (!body.device_platform) throw invalidField('device_platform', 'required with device_public_key');
    if (!row.deviceId || !DEVICE_ID_PATTERN.test(row.deviceId))
      throw invalidField(
        'device_public_key',
        'the device id of this registration cannot register for push approvals (letters, digits, ".", "_", ":", "-")',
      );
    // node:crypto's createPublicKey, Ed25519 only, private keys refused; stored as identity re-exports it.
    const publicKey = parseDevicePublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
    return {
      devicePublicKey: publicKey,
      devicePlatform: body.device_platform,
      deviceName: body.device_name ?? null,
      devicePushToken: body.push_token ?? null,
    };
  }
}
