/**
 * Identity path B (issue 17): a Didit v3 session per registration, `vendor_data` = the registration id and the
 * declared details as `expected_details`. Its decision arrives three ways, all applied by one function under the
 * registration's lock: the signed webhook (verified, one effect per session and status), the browser callback (its
 * query is never trusted: the decision is fetched), and the polling job for sessions no webhook spoke of within
 * DIDIT_POLL_AFTER_MINUTES (backing off to DIDIT_POLL_MAX_INTERVAL_MINUTES, until a final status). A decision that is
 * older than the registration's state (In Review after Approved in a shuffled delivery) moves nothing, so any
 * delivery order ends in the same state. Mapping and comparison: onboarding.didit.mapping.ts. A `data.updated`
 * webhook (a reviewer at Didit corrected the data) is applied by onboarding.didit.corrections.ts.
 */
import type { Static } from 'typebox';
import {
  DiditClient,
  type DiditDecision,
  DiditError,
  type IdentityVerifier,
} from '../../integrations/didit/didit.client.ts';
import { type DiditHeaders, verifyDiditWebhook } from '../../integrations/didit/didit.signature.ts';
import type { RequestContext } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors, DependencyUnavailableError } from '../../platform/errors.ts';
import { nationalIdBlindIndex } from '../customers/index.ts';
import { applyDiditStatus, type DiditEffect } from './onboarding.didit.apply.ts';
import type { DiditConfigValues } from './onboarding.didit.config.ts';
import { applyDiditCorrection, correctionKey } from './onboarding.didit.corrections.ts';
import { countryAlpha3 } from './onboarding.didit.countries.ts';
import { type DiditDeclared, identitySummary, outcomeOf } from './onboarding.didit.mapping.ts';
import { DiditMetrics } from './onboarding.didit.metrics.ts';
import {
  dueDiditSessions,
  findDiditSession,
  insertDiditSession,
  insertReceipt,
  lockDiditSession,
  receiptExists,
  setReceiptEffect,
  updateDiditSession,
} from './onboarding.didit.repository.ts';
import type { DiditCallbackAnswer, DiditStartAnswer, DiditStartBody } from './onboarding.didit.schemas.ts';
import { onboardingErrors } from './onboarding.errors.ts';
import { type Journey, type RegistrationRow, stateOf } from './onboarding.journey.ts';
import { expectedSteps, nextState } from './onboarding.machine.ts';
import { lockRegistration, type RegistrationPatch } from './onboarding.repository.ts';

export type WebhookOutcome = DiditEffect | 'duplicate';
export type { DiditEffect };

const MINUTE = 60_000;

const UNVERIFIED: Record<string, string> = {
  malformed_body: 'the body is not a JSON object',
  missing_timestamp: 'X-Timestamp is missing',
  stale_timestamp: 'the timestamp is more than 300 seconds from now',
  bad_signature: 'no signature matches the webhook secret',
};

export class DiditArea {
  readonly #deps: Dependencies;
  readonly #journey: Journey;
  readonly #config: DiditConfigValues;
  readonly #verifier: IdentityVerifier | null;
  readonly metrics = new DiditMetrics();

  constructor(deps: Dependencies, journey: Journey, config: DiditConfigValues, verifier?: IdentityVerifier) {
    this.#deps = deps;
    this.#journey = journey;
    this.#config = config;
    this.#verifier =
      verifier ??
      (config.DIDIT_API_KEY && config.DIDIT_WORKFLOW_ID
        ? new DiditClient({
            baseUrl: config.DIDIT_BASE_URL,
            apiKey: config.DIDIT_API_KEY,
            workflowId: config.DIDIT_WORKFLOW_ID,
            timeoutMs: config.DIDIT_TIMEOUT_MS,
          })
        : null);
  }

  get configured(): boolean {
    return this.#verifier !== null;
  }

  /** The readiness probe: Didit answers HTTP (no session is created), or not configured on purpose. */
  async ping(): Promise<undefined | 'not_configured'> {
    if (!this.#verifier) return 'not_configured';
    await this.#verifier.ping();
    return undefined;
  }

  #callbackUrl(): string {
    return (
      this.#config.DIDIT_CALLBACK_URL ??
      `${this.#deps.config.PUBLIC_BASE_URL.replace(/\/$/, '')}/api/v1/mobile/register/didit/callback`
    );
  }

  #need(): IdentityVerifier {
    if (!this.#verifier) throw onboardingErrors.DIDIT_NOT_CONFIGURED();
    return this.#verifier;
  }

  /** Didit's refusals and outages as the 503 the app can retry (Didit's Retry-After passed on). */
  async #call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof DiditError || error instanceof DependencyUnavailableError) {
        const seconds = error instanceof DiditError ? (error.retryAfterSeconds ?? 30) : 5;
        throw onboardingErrors.DIDIT_UNAVAILABLE({ headers: { 'retry-after': String(seconds) } });
      }
      throw error;
    }
  }

  /** `POST /mobile/register/identity/didit`: the Didit session for the registration and its verification URL. */
  async start(
    headers: { token: string; deviceId?: string; idempotencyKey?: string },
    body: Static<typeof DiditStartBody>,
    context: RequestContext,
  ): Promise<{ statusCode: number; answer: Static<typeof DiditStartAnswer> }> {
    const row = await this.#journey.byToken(headers.token, headers.deviceId);
    const found = await this.#round(row, body, headers.idempotencyKey);
    if ('stored' in found) return found.stored;
    const { requestHash } = found;
    this.#journey.assertAllowed(row, 'identity_didit');
    const verifier = this.#need();
    const declared: DiditDeclared = {
      first_name: body.first_name.trim(),
      last_name: body.last_name.trim(),
      date_of_birth: body.date_of_birth,
      national_id: body.national_id.trim(),
      national_id_type: body.national_id_type ?? 'national_id',
      nationality: body.nationality ?? null,
      email: body.email ?? null,
    };
    // Didit answers the same unfinished session for the same vendor_data, so a retry after a crash reuses it.
    const session = await this.#call(() =>
      verifier.createSession({
        vendorData: row.id,
        callback: this.#callbackUrl(),
        callbackMethod: 'both',
        language: row.language.split('-')[0],
        expectedDetails: {
          first_name: declared.first_name,
          last_name: declared.last_name,
          date_of_birth: declared.date_of_birth,
          nationality: declared.nationality ? (countryAlpha3(declared.nationality) ?? undefined) : undefined,
          identification_number: declared.national_id ?? undefined,
        },
      }),
    );
    const now = new Date();
    const patch: RegistrationPatch = {
      path: 'didit',
      declaredSealed: this.#journey.seal(row.id, 'declared', declared),
      nationalIdIndex: declared.national_id
        ? nationalIdBlindIndex(
            this.#deps.config.HMAC_PEPPER,
            declared.national_id_type!,
            declared.national_id,
          )
        : null,
      diditSessionId: session.sessionId,
      identitySealed: null,
      identitySummary: identitySummary(session.status, null, []),
      outcomeReason: null,
    };
    const advanced = await inTransaction(this.#deps.database.db, async (tx) => {
      const result = await this.#journey.advance<Static<typeof DiditStartAnswer>>(
        tx,
        row.id,
        'identity_didit',
        patch,
        {
          requestHash,
          statusCode: 201,
          context,
          audit: { didit_session_id: session.sessionId },
          answer: (registration: RegistrationRow) => ({
            state: stateOf(registration),
            expected_steps: expectedSteps(stateOf(registration)),
            didit_session_id: session.sessionId,
            didit_status: session.status,
            verification_url: session.url,
          }),
        },
      );
      if (!result.replayed)
        await insertDiditSession(tx, {
          sessionId: session.sessionId,
          registrationId: row.id,
          status: session.status,
          createdAt: now,
          nextPollAt: new Date(now.getTime() + this.#config.DIDIT_POLL_AFTER_MINUTES * MINUTE),
        });
      return result;
    });
    return { statusCode: advanced.statusCode, answer: advanced.answer };
  }

  /**
   * Which round of the identity step a request belongs to. The same request answers the same while its session is
   * the registration's current one; once that session expired or was abandoned, the same request (same details) is a
   * restart, remembered under a hash chained to the dead session, so a retry of the restart answers the new session.
   */
  async #round(
    row: RegistrationRow,
    body: Static<typeof DiditStartBody>,
    idempotencyKey: string | undefined,
  ): Promise<
    { stored: { statusCode: number; answer: Static<typeof DiditStartAnswer> } } | { requestHash: string }
  > {
    const restartable = nextState(stateOf(row), 'identity_didit') !== null;
    let after: string | null = null;
    for (let round = 0; round < 20; round += 1) {
      const requestHash = this.#journey.requestHash(
        'identity_didit',
        after === null ? body : { ...body, restart_of: after },
        idempotencyKey,
      );
      const stored = await this.#journey.replay(row.id, 'identity_didit', requestHash);
      const answer = stored?.answer as Static<typeof DiditStartAnswer> | undefined;
      if (!stored || !answer) return { requestHash };
      const current = answer.didit_session_id === row.diditSessionId;
      if (current && !restartable) return { stored: { statusCode: stored.statusCode, answer } };
      after = answer.didit_session_id;
    }
    throw commonErrors.conflict('Too many identity verification restarts for this registration');
  }

  /**
   * `POST /mobile/register/didit/webhook`: verified (401 otherwise, nothing recorded), then recorded once per
   * (session, status) with its effect in the same transaction. The decision is read from the body only when V2 or V1
   * verified it; a delivery verified by Simple alone (which does not cover the decision) has it fetched.
   */
  async webhook(headers: DiditHeaders, rawBody: string): Promise<WebhookOutcome> {
    try {
      const outcome = await this.#webhook(headers, rawBody);
      this.metrics.event('webhook', outcome);
      return outcome;
    } catch (error) {
      const code = (error as { errorCode?: string }).errorCode;
      if (code === 'DIDIT_WEBHOOK_UNVERIFIED') this.metrics.event('webhook', 'rejected');
      else if (code === 'DIDIT_UNAVAILABLE') this.metrics.event('webhook', 'unavailable');
      throw error;
    }
  }

  async #webhook(headers: DiditHeaders, rawBody: string): Promise<WebhookOutcome> {
    const secrets = [this.#config.DIDIT_WEBHOOK_SECRET, this.#config.DIDIT_WEBHOOK_SECRET_PREVIOUS].filter(
      (secret): secret is string => Boolean(secret),
    );
    if (secrets.length === 0)
      throw onboardingErrors.DIDIT_WEBHOOK_UNVERIFIED({
        params: { reason: 'no webhook secret is configured' },
      });
    const verified = verifyDiditWebhook({ headers, rawBody, secrets });
    if (!verified.ok)
      throw onboardingErrors.DIDIT_WEBHOOK_UNVERIFIED({ params: { reason: UNVERIFIED[verified.reason]! } });
    const { session_id: sessionId, status, webhook_type: webhookType } = verified.body;
    if (typeof sessionId !== 'string' || typeof status !== 'string' || sessionId === '' || status === '')
      throw commonErrors.badRequest('session_id and status are required');
    const db = this.#deps.database.db;
    // Not a session of ours (another environment sharing the destination): answered 200 so Didit stops retrying.
    if (!(await findDiditSession(db, sessionId))) return 'ignored';
    if (webhookType === 'data.updated') return this.#dataUpdated(sessionId, verified.scheme);
    if (await receiptExists(db, sessionId, status)) return 'duplicate';
    let decision: Record<string, unknown> | null = null;
    const outcome = outcomeOf(status);
    if (outcome === 'approved' || outcome === 'declined') {
      const inBody = verified.body.decision;
      decision =
        verified.decisionTrusted && inBody && typeof inBody === 'object' && !Array.isArray(inBody)
          ? (inBody as Record<string, unknown>)
          : await this.#fetchDecision(sessionId);
    }
    return inTransaction(db, async (tx) => {
      const first = await insertReceipt(tx, {
        sessionId,
        status,
        webhookType: typeof webhookType === 'string' ? webhookType.slice(0, 64) : 'status.updated',
        scheme: verified.scheme,
        effect: 'pending',
      });
      if (!first) return 'duplicate';
      const effectiveStatus = typeof decision?.status === 'string' ? decision.status : status;
      const effect = await this.#apply(tx, sessionId, effectiveStatus, decision, 'webhook');
      await setReceiptEffect(tx, sessionId, status, effect);
      return effect;
    });
  }

  /**
   * A reviewer at Didit corrected the data (onboarding.didit.corrections.ts): the decision is fetched whatever the
   * body says, and recorded once per corrected data (a receipt keyed by it), so redeliveries have one effect.
   */
  async #dataUpdated(sessionId: string, scheme: string): Promise<WebhookOutcome> {
    const db = this.#deps.database.db;
    const decision = await this.#fetchDecision(sessionId);
    const key = correctionKey(sessionId, decision);
    if (await receiptExists(db, sessionId, key)) return 'duplicate';
    return inTransaction(db, async (tx) => {
      const first = await insertReceipt(tx, {
        sessionId,
        status: key,
        webhookType: 'data.updated',
        scheme,
        effect: 'pending',
      });
      if (!first) return 'duplicate';
      const minutes = this.#config.DIDIT_POLL_AFTER_MINUTES;
      const effect = await applyDiditCorrection(tx, this.#journey, minutes, sessionId, decision);
      await setReceiptEffect(tx, sessionId, key, effect);
      return effect;
    });
  }

  /** `GET /mobile/register/didit/callback`: the browser is back; the decision is fetched, never read from the query. */
  async callback(sessionId: string): Promise<Static<typeof DiditCallbackAnswer>> {
    const db = this.#deps.database.db;
    const session = await findDiditSession(db, sessionId);
    if (!session) throw commonErrors.notFound('Didit session');
    this.#need();
    const decision = await this.#fetchDecision(sessionId);
    const status = typeof decision.status === 'string' ? decision.status : session.status;
    return inTransaction(db, async (tx) => {
      this.metrics.event('callback', await this.#apply(tx, sessionId, status, decision, 'callback'));
      const registration = await lockRegistration(tx, session.registrationId);
      const state = stateOf(registration!);
      return { state, expected_steps: expectedSteps(state), didit_status: status };
    });
  }

  /**
   * The polling job: each open session no webhook or poll spoke of for a while gets its decision fetched and
   * applied; the next poll backs off (doubling, capped) until the status is final. A Didit failure only reschedules.
   */
  async pollDue(now: Date = new Date(), limit = 50): Promise<{ polled: number; applied: number }> {
    if (!this.#verifier) return { polled: 0, applied: 0 };
    const due = await dueDiditSessions(this.#deps.database.db, now, limit);
    let applied = 0;
    for (const session of due) {
      const backoff = this.#backoff(session.pollAttempts + 1);
      let decision: DiditDecision | null = null;
      try {
        decision = await this.#verifier.decision(session.sessionId);
      } catch (error) {
        if (!(error instanceof DiditError || error instanceof DependencyUnavailableError)) throw error;
        const wait =
          error instanceof DiditError && error.retryAfterSeconds ? error.retryAfterSeconds * 1000 : 0;
        await updateDiditSession(this.#deps.database.db, session.sessionId, {
          pollAttempts: session.pollAttempts + 1,
          nextPollAt: new Date(now.getTime() + Math.max(backoff, wait)),
        });
        this.metrics.event('poll', 'unavailable');
        continue;
      }
      const effect = await inTransaction(this.#deps.database.db, async (tx) => {
        const result = await this.#apply(tx, session.sessionId, decision.status, decision, 'poll');
        const after = await lockDiditSession(tx, session.sessionId);
        if (after && !after.finishedAt)
          await updateDiditSession(tx, session.sessionId, {
            pollAttempts: session.pollAttempts + 1,
            nextPollAt: new Date(now.getTime() + backoff),
          });
        return result;
      });
      this.metrics.event('poll', effect);
      if (effect === 'applied') applied += 1;
    }
    return { polled: due.length, applied };
  }

  #backoff(attempt: number): number {
    const first = this.#config.DIDIT_POLL_AFTER_MINUTES;
    const minutes = Math.min(
      first * 2 ** Math.min(attempt, 20),
      this.#config.DIDIT_POLL_MAX_INTERVAL_MINUTES,
    );
    return minutes * MINUTE;
  }

  #apply(
    tx: Executor,
    sessionId: string,
    status: string,
    decision: Record<string, unknown> | null,
    source: 'webhook' | 'callback' | 'poll',
  ): Promise<DiditEffect> {
    const minutes = this.#config.DIDIT_POLL_AFTER_MINUTES;
    return applyDiditStatus(tx, this.#journey, minutes, sessionId, status, decision, source);
  }

  async #fetchDecision(sessionId: string): Promise<DiditDecision> {
    const verifier = this.#need();
    return this.#call(() => verifier.decision(sessionId));
  }
}
