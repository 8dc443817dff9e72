/**
 * Idempotency-Key (Stripe semantics, IETF draft): the same key and body replays the stored response byte for byte;
 * the same key with another body is a 422; a request still running under the key is a 409; keys live
 * IDEMPOTENCY_TTL_HOURS (>= 24 h), scoped to the principal.
 *
 * A claim row is written in its own short transaction before the use case runs. The use case stores its response
 * through `claim.commit(tx, …)` inside its own transaction, so the effect and the stored response commit together.
 * A definite 4xx is stored after the rollback; a 5xx releases the claim so a retry runs again (nothing committed).
 */
import { createHash } from 'node:crypto';
import { and, eq, lt, sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { crashPoint } from './crashpoints.ts';
import type { Executor } from './db.ts';
import { AppError, DependencyUnavailableError, errorBody, toAppError } from './errors.ts';
import { uuidv7 } from './ids.ts';
import { canonicalJson, stringifyWithBigInt } from './json.ts';
import { idempotencyKeys } from './platform.tables.ts';

export type IdempotencyMode = 'required' | 'optional';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `required` on every money-moving POST. */
    idempotency?: IdempotencyMode;
  }
  interface FastifyRequest {
    idempotency: IdempotencyClaim | null;
  }
}

/** How long a running claim blocks others before a crashed holder's claim may be taken over. */
const CLAIM_LOCK_MS = 60_000;
const KEY_PATTERN = /^[\x21-\x7e]{8,255}$/;
/** Outcomes stored for replay after a rollback: definite refusals, not transient ones. */
const STORABLE_FAILURES = new Set([400, 404, 422]);

export const idempotencyErrors = {
  keyRequired: () =>
    new AppError(
      400,
      'IDEMPOTENCY_KEY_REQUIRED',
      'This operation requires an Idempotency-Key header (8–255 printable characters)',
    ),
  keyInvalid: () =>
    new AppError(400, 'IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key must be 8–255 printable ASCII characters'),
  keyReused: () =>
    new AppError(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request'),
  inProgress: () =>
    new AppError(
      409,
      'IDEMPOTENCY_IN_PROGRESS',
      'A request with this Idempotency-Key is still being processed',
      null,
      {
        'retry-after': '1',
      },
    ),
};

export class IdempotencyClaim {
  readonly id: string;
  /** The lock this holder set; a retry that took the claim over after it lapsed set another one. */
  readonly lockedUntil: Date;
  /**
   * The exact bytes stored with the effect, sent instead of a fresh serialisation. Trusted only when the handler
   * succeeded: a transaction that stored them and then rolled back leaves the claim `in_progress` instead.
   */
  response: { status: number; body: string } | null = null;

  constructor(id: string, lockedUntil: Date) {
    this.id = id;
    this.lockedUntil = lockedUntil;
  }

  /**
   * Stores the response inside the use case's transaction. Only the current holder may: when a retry took the claim
   * over (this holder ran past its lock), this throws and the use case's transaction rolls back, so the effect is
   * applied once — by whichever holder stores first.
   */
  async commit(tx: Executor, status: number, payload: unknown): Promise<void> {
    const body = stringifyWithBigInt(payload);
    const stored = await tx
      .update(idempotencyKeys)
      .set({ state: 'completed', responseStatus: status, responseBody: body, updatedAt: new Date() })
      // The lock is the holder's token: a takeover replaces it, and a completed claim is never taken over. The same
      // holder may store again (a bank transfer stores "outcome unknown", then the outcome).
      .where(and(eq(idempotencyKeys.id, this.id), eq(idempotencyKeys.lockedUntil, this.lockedUntil)))
      .returning({ id: idempotencyKeys.id });
    if (stored.length === 0) throw idempotencyErrors.inProgress();
    this.response = { status, body };
  }

  /** Records that a use case stored these bytes itself, inside its own statement (see `payment_commit`). */
  stored(status: number, body: string): void {
    this.response = { status, body };
  }
}

export function requestHash(method: string, route: string, params: unknown, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${route}\n${canonicalJson(params ?? {})}\n${canonicalJson(body ?? null)}`)
    .digest('hex');
}

type Begin = { kind: 'proceed'; claim: IdempotencyClaim } | { kind: 'replay'; status: number; body: string };

export class IdempotencyService {
  readonly #db: Executor;
  readonly #ttlMs: number;

  constructor(db: Executor, ttlHours: number) {
    this.#db = db;
    this.#ttlMs = ttlHours * 3600 * 1000;
  }

  async begin(scope: string, key: string, hash: string): Promise<Begin> {
    const now = new Date();
    const id = uuidv7();
    const lockedUntil = new Date(now.getTime() + CLAIM_LOCK_MS);
    const inserted = await this.#db
      .insert(idempotencyKeys)
      .values({
        id,
        scope,
        key,
        requestHash: hash,
        state: 'in_progress',
        lockedUntil,
        expiresAt: new Date(now.getTime() + this.#ttlMs),
      })
      .onConflictDoNothing()
      .returning({ id: idempotencyKeys.id });
    if (inserted.length > 0) return { kind: 'proceed', claim: new IdempotencyClaim(id, lockedUntil) };
    const [existing] = await this.#db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
      .limit(1);
    if (!existing) return this.begin(scope, key, hash);
    if (existing.expiresAt.getTime() <= now.getTime()) {
      await this.#db.delete(idempotencyKeys).where(eq(idempotencyKeys.id, existing.id));
      return this.begin(scope, key, hash);
    }
    if (existing.requestHash !== hash) throw idempotencyErrors.keyReused();
    if (existing.state === 'completed') {
      return {
        kind: 'replay',
        status: existing.responseStatus ?? 200,
        body: existing.responseBody ?? 'null',
      };
    }
    // A claim whose holder died (crash, kill) is taken over once its lock has lapsed.
    const taken = await this.#db
      .update(idempotencyKeys)
      .set({ lockedUntil, updatedAt: now })
      .where(
        and(
          eq(idempotencyKeys.id, existing.id),
          eq(idempotencyKeys.state, 'in_progress'),
          lt(idempotencyKeys.lockedUntil, now),
        ),
      )
      .returning({ id: idempotencyKeys.id });
    if (taken.length > 0) return { kind: 'proceed', claim: new IdempotencyClaim(existing.id, lockedUntil) };
    throw idempotencyErrors.inProgress();
  }

  /** A definite refusal is kept so a retry gets the same answer. */
  async storeFailure(claim: IdempotencyClaim, status: number, body: string): Promise<void> {
    await this.#db
      .update(idempotencyKeys)
      .set({ state: 'completed', responseStatus: status, responseBody: body, updatedAt: new Date() })
      .where(and(eq(idempotencyKeys.id, claim.id), eq(idempotencyKeys.state, 'in_progress')));
  }

  async release(claim: IdempotencyClaim): Promise<void> {
    await this.#db
      .delete(idempotencyKeys)
      .where(and(eq(idempotencyKeys.id, claim.id), eq(idempotencyKeys.state, 'in_progress')));
  }

  async purgeExpired(): Promise<number> {
    const removed = await this.#db
      .delete(idempotencyKeys)
      .where(lt(idempotencyKeys.expiresAt, sql`now()`))
      .returning({ id: idempotencyKeys.id });
    return removed.length;
  }
}

function scopeOf(request: FastifyRequest): string {
  const principal = request.principal;
  return principal ? `${principal.type}:${principal.id}` : `anonymous:${request.ip}`;
}

/** Wires the `idempotency` route option: claim before the handler, stored bytes out, release on failure. */
export function registerIdempotency(app: FastifyInstance, service: IdempotencyService): void {
  app.decorateRequest('idempotency', null);
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const mode = request.routeOptions.config?.idempotency;
    if (!mode) return;
    const header = request.headers['idempotency-key'];
    if (header === undefined) {
      if (mode === 'required') throw idempotencyErrors.keyRequired();
      return;
    }
    if (typeof header !== 'string' || !KEY_PATTERN.test(header)) throw idempotencyErrors.keyInvalid();
    const hash = requestHash(
      request.method,
      request.routeOptions.url ?? request.url,
      request.params,
      request.body,
    );
    const outcome = await service.begin(scopeOf(request), header, hash);
    if (outcome.kind === 'replay') {
      return reply
        .code(outcome.status)
        .header('idempotent-replayed', 'true')
        .type('application/json; charset=utf-8')
        .send(outcome.body);
    }
    request.idempotency = outcome.claim;
    crashPoint('transfer.after-claim');
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotency;
    if (!claim) return payload;
    request.idempotency = null;
    if (claim.response && reply.statusCode < 400) {
      crashPoint('transfer.before-response');
      reply.code(claim.response.status);
      return claim.response.body;
    }
    if (STORABLE_FAILURES.has(reply.statusCode) && typeof payload === 'string') {
      // A refusal is definite only once stored: unstored, a retry after the lock lapses would run again (and might
      // succeed). So it is answered as what it then is, an unknown outcome (503; the client retries with its key).
      const stored = await service.storeFailure(claim, reply.statusCode, payload).then(
        () => true,
        () => false,
      );
      if (!stored) {
        await service.release(claim).catch(() => {});
        const unavailable = toAppError(new DependencyUnavailableError('postgres'));
        reply.code(unavailable.statusCode).headers(unavailable.headers);
        return JSON.stringify(errorBody(unavailable, request.id));
      }
    } else {
      // Deletes only a claim still in progress: one whose transaction committed keeps its stored response.
      await service.release(claim).catch(() => {});
    }
    return payload;
  });
}
