/**
 * The registration journey's core, which every area goes through: the token (opaque, given once, stored as a keyed
 * hash), `byToken`, and `advance` — the one place a registration changes state. `advance` checks the step against
 * TRANSITIONS, stores the step's answer per request hash (the same step sent again answers the same), bumps the
 * version, records the step's first time (the funnel) and writes the audit entry with PII masked.
 */
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { keyedHash, openEnvelope, randomToken, sealEnvelope } from '../../platform/crypto.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { canonicalJson, toJsonSafe } from '../../platform/json.ts';
import { emitEvent } from '../../platform/outbox.ts';
import type { JourneyConfig } from './onboarding.config.ts';
import { onboardingErrors } from './onboarding.errors.ts';
import { registrationEnded } from './onboarding.events.ts';
import {
  expectedSteps,
  isState,
  nextState,
  type RegistrationState,
  type RegistrationStep,
} from './onboarding.machine.ts';
import type { JourneyMetrics } from './onboarding.metrics.ts';
import {
  findRegistration,
  findRegistrationByTokenHash,
  findStep,
  insertStep,
  lockRegistration,
  type RegistrationPatch,
  type RegistrationRow,
  updateRegistration,
} from './onboarding.repository.ts';

export type { RegistrationPatch, RegistrationRow } from './onboarding.repository.ts';

export interface AdvanceOptions {
  /** `journey.requestHash(...)` of the request: with it the answer is stored, and a repeat gets it back. */
  requestHash?: string;
  /** The answer to store (a function receives the updated row); returned as `answer`. */
  answer?: unknown | ((row: RegistrationRow) => unknown);
  /** HTTP status of the answer (default 200). */
  statusCode?: number;
  /** Who acts (the audit entry); the system when absent. */
  context?: RequestContext;
  /** Extra non-PII facts for the audit entry (never names, numbers, dates of birth). */
  audit?: Record<string, unknown>;
}

export interface Advanced<A = unknown> {
  registration: RegistrationRow;
  answer: A;
  statusCode: number;
  /** True when the same step with the same request was done before: nothing changed, the stored answer is given. */
  replayed: boolean;
}

const SYSTEM: RequestContext = {
  actor: { type: 'system', id: null },
  ip: null,
  userAgent: null,
  requestId: null,
};

/** +254711****78: enough for an operator to tell numbers apart, not to dial one. */
export function maskPhone(phone: string | null): string | null {
  if (!phone) return null;
  return phone.length <= 8 ? '****' : `${phone.slice(0, 7)}****${phone.slice(-2)}`;
}

export function stateOf(row: RegistrationRow): RegistrationState {
  if (!isState(row.state)) throw new Error(`registration ${row.id} has an unknown state ${row.state}`);
  return row.state;
}

export class Journey {
  readonly #deps: Dependencies;
  readonly config: JourneyConfig;
  readonly #metrics: JourneyMetrics;

  constructor(deps: Dependencies, config: JourneyConfig, metrics: JourneyMetrics) {
    this.#deps = deps;
    this.config = config;
    this.#metrics = metrics;
  }

  get db(): Executor {
    return this.#deps.database.db;
  }

  #ttlMs(): number {
    return this.config.ONBOARDING_TOKEN_TTL_HOURS * 3_600_000;
  }

  /** A fresh token and the hash it is stored as. */
  newToken(): { token: string; tokenHash: string } {
    const token = `reg_${randomToken(32)}`;
    return { token, tokenHash: this.tokenHash(token) };
  }

  tokenHash(token: string): string {
    return keyedHash(this.#deps.config.HMAC_PEPPER, 'registration-token', token);
  }

  /** A keyed hash for deny lists and rate-limit keys (values never stored or keyed in clear). */
  index(purpose: string, value: string): string {
    return keyedHash(this.#deps.config.HMAC_PEPPER, `onboarding:${purpose}`, value);
  }

  /**
   * The registration a token names: 401 REGISTRATION_TOKEN_INVALID when unknown (or sent with another device id than
   * the one it is bound to), 410 REGISTRATION_EXPIRED once its lifetime passed or it was expired or purged.
   */
  async byToken(token: string | undefined, deviceId?: string, executor?: Executor): Promise<RegistrationRow> {
    if (!token || token.length > 200) throw onboardingErrors.REGISTRATION_TOKEN_INVALID();
    const row = await findRegistrationByTokenHash(executor ?? this.db, this.tokenHash(token));
    if (!row) throw onboardingErrors.REGISTRATION_TOKEN_INVALID();
    if (deviceId !== undefined && row.deviceId !== null && row.deviceId !== deviceId)
      throw onboardingErrors.REGISTRATION_TOKEN_INVALID();
    if (row.state === 'expired' || row.state === 'purged' || row.purgedAt)
      throw onboardingErrors.REGISTRATION_EXPIRED();
    // A finished registration stays readable (its status) after the token's lifetime; an unfinished one does not.
    const finished = ['completed', 'declined', 'rejected', 'in_review'].includes(row.state);
    if (!finished && row.expiresAt.getTime() <= Date.now()) throw onboardingErrors.REGISTRATION_EXPIRED();
    return row;
  }

  async byId(id: string, executor?: Executor): Promise<RegistrationRow | undefined> {
    return findRegistration(executor ?? this.db, id);
  }

  /**
   * The hash a step's request is remembered by: the step, its canonical body and the Idempotency-Key if sent. Keyed
   * by the server pepper, since a body may hold a PIN (a plain hash of 4–6 digits would give it away).
   */
  requestHash(step: RegistrationStep, body: unknown, idempotencyKey?: string): string {
    return keyedHash(
      this.#deps.config.HMAC_PEPPER,
      `registration-step:${step}`,
      `${canonicalJson(toJsonSafe(body ?? null))}\0${idempotencyKey ?? ''}`,
    );
  }

  /** The stored answer of a step already done with this request, if any (read before doing external work). */
  async replay(registrationId: string, step: RegistrationStep, requestHash: string) {
    const row = await findStep(this.db, registrationId, step, requestHash);
    return row ? { answer: row.answer, statusCode: row.statusCode } : null;
  }

  /**
   * Locks the registration for a step whose work is outside the database (an OTP issued or checked): the stored
   * answer when this request was answered before (parallel repeats wait here and get it), else the row, the step
   * checked against the table. Call `advance` on the same transaction afterwards.
   */
  async lockForStep(
    tx: Executor,
    registrationId: string,
    step: RegistrationStep,
    requestHash: string,
  ): Promise<{ row: RegistrationRow; stored: { answer: unknown } | null }> {
    const row = await lockRegistration(tx, registrationId);
    if (!row) throw onboardingErrors.REGISTRATION_TOKEN_INVALID();
    const stored = await findStep(tx, registrationId, step, requestHash);
    if (stored) return { row, stored: { answer: stored.answer } };
    this.assertAllowed(row, step);
    return { row, stored: null };
  }

  /**
   * 409 REGISTRATION_STEP_OUT_OF_ORDER unless the table allows `step` in the registration's state (a check before
   * external work; `advance` checks again under the row lock).
   */
  assertAllowed(row: RegistrationRow, step: RegistrationStep): RegistrationState {
    const state = stateOf(row);
    const next = nextState(state, step);
    if (!next)
      throw onboardingErrors.REGISTRATION_STEP_OUT_OF_ORDER({
        params: { step, state },
        details: { state, step, expected_steps: expectedSteps(state) },
      });
    return next;
  }

  /**
   * Moves the registration by one step inside the caller's transaction. A repeat of a stored request answers as the
   * first time did (`replayed`), whatever the state is now.
   */
  async advance<A = unknown>(
    tx: Executor,
    registrationId: string,
    step: RegistrationStep,
    patch: RegistrationPatch = {},
    options: AdvanceOptions = {},
  ): Promise<Advanced<A>> {
    const current = await lockRegistration(tx, registrationId);
    if (!current) throw onboardingErrors.REGISTRATION_TOKEN_INVALID();
    if (options.requestHash) {
      const stored = await findStep(tx, registrationId, step, options.requestHash);
      if (stored)
        return {
          registration: current,
          answer: stored.answer as A,
          statusCode: stored.statusCode,
          replayed: true,
        };
    }
    const from = stateOf(current);
    const to = this.assertAllowed(current, step);
    const now = new Date();
    const stepTimes = current.stepTimes[step]
      ? current.stepTimes
      : { ...current.stepTimes, [step]: now.toISOString() };
    // A step a reviewer reopened gives the applicant a whole token lifetime to do it (the review may have outlasted
    // the one they had), so housekeeping does not expire it at once.
    const renewed =
      to === 'info_requested' && patch.expiresAt === undefined
        ? { expiresAt: new Date(Math.max(current.expiresAt.getTime(), now.getTime() + this.#ttlMs())) }
        : {};
    const registration = await updateRegistration(tx, registrationId, {
      ...patch,
      ...renewed,
      state: to,
      stepTimes,
      version: current.version + 1,
      updatedAt: now,
    });
    const answer = (
      typeof options.answer === 'function'
        ? (options.answer as (row: RegistrationRow) => unknown)(registration)
        : options.answer
    ) as A;
    const statusCode = options.statusCode ?? 200;
    if (options.requestHash)
      await insertStep(tx, {
        registrationId,
        step,
        requestHash: options.requestHash,
        fromState: from,
        toState: to,
        statusCode,
        answer: answer === undefined ? null : toJsonSafe(answer),
      });
    await writeAudit(tx, options.context ?? SYSTEM, {
      action: `onboarding.${step}`,
      entityType: 'registration',
      entityId: registrationId,
      before: { state: from, version: current.version },
      after: {
        state: to,
        version: registration.version,
        phone: maskPhone(registration.phone),
        // Which fields changed, never their values (sealed PII, PIN hash, email).
        fields: Object.keys(patch).sort(),
        ...(options.audit ?? {}),
      },
    });
    if (from !== to && (to === 'completed' || to === 'declined' || to === 'rejected' || to === 'expired'))
      await emitEvent(
        tx,
        registrationEnded,
        { type: 'registration', id: registrationId },
        {
          registration_id: registrationId,
          outcome: to,
          path: (registration.path as 'cbs' | 'didit' | null) ?? null,
          customer_id: registration.customerId,
        },
      );
    this.#metrics.stepDone(step, from, to, current.createdAt);
    return { registration, answer, statusCode, replayed: false };
  }

  /** `advance` in its own transaction. */
  async advanceNow<A = unknown>(
    registrationId: string,
    step: RegistrationStep,
    patch: RegistrationPatch = {},
    options: AdvanceOptions = {},
  ): Promise<Advanced<A>> {
    return inTransaction(this.db, (tx) => this.advance<A>(tx, registrationId, step, patch, options));
  }

  /** Seals a PII value bound to the registration and the field (customers' envelope encryption). */
  seal(registrationId: string, field: string, value: unknown): string {
    const plaintext = Buffer.from(JSON.stringify(value));
    return JSON.stringify(
      sealEnvelope(this.#deps.keys, plaintext, `registration:${registrationId}:${field}`),
    );
  }

  open<T = unknown>(registrationId: string, field: string, sealed: string | null): T | null {
    if (!sealed) return null;
    const plaintext = openEnvelope(
      this.#deps.keys,
      JSON.parse(sealed),
      `registration:${registrationId}:${field}`,
    );
    return JSON.parse(plaintext.toString('utf8')) as T;
  }

  /** The registration's declared details (sealed by the identity steps), opened. */
  declared<T = Record<string, unknown>>(row: RegistrationRow): T | null {
    return this.open<T>(row.id, 'declared', row.declaredSealed);
  }

  /** The identity result (sealed by the identity areas), opened. */
  identity<T = Record<string, unknown>>(row: RegistrationRow): T | null {
    return this.open<T>(row.id, 'identity', row.identitySealed);
  }
}
