/**
 * Idempotency-Key (Stripe semantics, IETF draft): the same key and body replays the stored response byte for byte;
 * the same key with another body is a 422; a request still running under the key is a 409; keys live
 * IDEMPOTENCY_TTL_HOURS (>= 24 h), scoped to the principal.
 *
 * A claim row is written in its own short transaction before the use case runs (claims that arrive together are
 * inserted together: one statement and one commit for the lot). The use case stores its response
 * through `claim.commit(tx, …)` inside its own transaction, so the effect and the stored response commit together —
 * a refusal the use case records (a failed transaction) likewise stores its answer with its record. Any other
 * definite 4xx is stored after the rollback; a 5xx releases the claim so a retry runs again (nothing committed).
 *
 * A claim names its holder: the database session of the process that runs it (`ClaimHolder`). A claim whose holder's
 * session has ended — the process was killed, its backend terminated, its connection lost — is taken over by the
 * next request at once; a claim whose holder is alive answers 409 until it completes or its lease lapses (ADR 0006).
 */
import { createHash } from 'node:crypto';
import { and, eq, isNotNull, lt, or, sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { crashPoint } from './crashpoints.ts';
import { type Executor, preparedRows } from './db.ts';
import {
  DependencyUnavailableError,
  errorBody,
  platformErrorCatalogue as platform,
  toAppError,
} from './errors.ts';
import { GroupBatcher } from './group-batch.ts';
import { type ClaimHolder, holderFor } from './idempotency.holders.ts';
import { uuidv7 } from './ids.ts';
import { canonicalJson, stringifyWithBigInt } from './json.ts';
import { processCounter } from './metrics.ts';
import { idempotencyKeys } from './platform.tables.ts';

export { HOLDER_LOCK_CLASS } from './idempotency.holders.ts';

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

/**
 * How long a claim blocks others while its holder's session looks alive: the backstop for a holder whose host vanished
 * without closing its connection (until PostgreSQL's keepalives notice), and for a claim without a known holder.
 */
const CLAIM_LOCK_MS = 60_000;
const KEY_PATTERN = /^[\x21-\x7e]{8,255}$/;
/**
 * Group commit of claims (issue 21): the claims of requests that arrive while CLAIM_CALLS claim inserts are in flight
 * go together in one multi-row insert (one round trip, one commit), up to CLAIM_BATCH.
 */
const CLAIM_CALLS = 2;
const CLAIM_BATCH = 64;

interface NewClaim {
  id: string;
  scope: string;
  key: string;
  requestHash: string;
  lockedUntil: Date;
  holder: number | null;
  expiresAt: Date;
}

/** The claims of one call as one statement (prepared: the same text whatever their number). */
const CLAIM_INSERT = `insert into idempotency_keys (id, scope, key, request_hash, state, locked_until, holder, expires_at)
  select c.id, c.scope, c.key, c.request_hash, 'in_progress', c.locked_until, c.holder, c.expires_at
    from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::integer[], $7::timestamptz[])
      as c(id, scope, key, request_hash, locked_until, holder, expires_at)
  on conflict do nothing
  returning id`;
/** Outcomes stored for replay after a rollback: definite refusals, not transient ones. */
const STORABLE_FAILURES = new Set([400, 404, 422]);

export const idempotencyErrors = {
  keyRequired: () => platform.IDEMPOTENCY_KEY_REQUIRED(),
  keyInvalid: () => platform.IDEMPOTENCY_KEY_INVALID(),
  keyReused: () => platform.IDEMPOTENCY_KEY_REUSED(),
  inProgress: () => platform.IDEMPOTENCY_IN_PROGRESS({ headers: { 'retry-after': '1' } }),
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

  /**
   * Forgets an answer `commit` wrote in a transaction that then failed (at COMMIT, or rolled back after it): nothing
   * was stored, so the answer must not be sent as the stored one.
   */
  forget(): void {
    this.response = null;
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
  readonly #holder: ClaimHolder;
  /** Ids of the claims this process's requests run now: begun here and not yet `finished`. */
  readonly #running = new Set<string>();
  /** New claims, inserted together when they arrive together: true for each one inserted, false on a conflict. */
  readonly #claims: GroupBatcher<NewClaim, boolean>;

  constructor(db: Executor, ttlHours: number, holder?: ClaimHolder) {
    this.#db = db;
    this.#ttlMs = ttlHours * 3600 * 1000;
    this.#holder = holder ?? holderFor(db, () => [...this.#running]);
    this.#claims = new GroupBatcher(
      async (claims) => {
        const inserted = await preparedRows<{ id: string }>(this.#db, 'idempotency_claims', CLAIM_INSERT, [
          claims.map((claim) => claim.id),
          claims.map((claim) => claim.scope),
          claims.map((claim) => claim.key),
          claims.map((claim) => claim.requestHash),
          claims.map((claim) => claim.lockedUntil.toISOString()),
          claims.map((claim) => claim.holder),
          claims.map((claim) => claim.expiresAt.toISOString()),
        ]);
        const ids = new Set(inserted.map((row) => row.id));
        return claims.map((claim) => ({ ok: true, value: ids.has(claim.id) }));
      },
      {
        maxBatch: CLAIM_BATCH,
        concurrency: CLAIM_CALLS,
        counters: {
          calls: processCounter(
            'idempotency_claim_calls_total',
            'Claim insert calls (each a group of claims)',
          ),
          items: processCounter('idempotency_claim_inserts_total', 'Claims the claim insert calls carried'),
        },
      },
    );
  }

  /** The request that ran under this claim is over (answered): its claim is no longer this process's to hold. */
  finished(claim: IdempotencyClaim): void {
    this.#running.delete(claim.id);
  }

  /** Opens the holder's session ahead of the first claim (a failure only means claims wait for it or go on leases). */
  async warm(): Promise<void> {
    await this.#holder.current();
  }

  /** Ends the holder's session (its claims are then free to be taken over). */
  close(): Promise<void> {
    return this.#holder.close();
  }

  async begin(scope: string, key: string, hash: string): Promise<Begin> {
    const now = new Date();
    const id = uuidv7();
    const lockedUntil = new Date(now.getTime() + CLAIM_LOCK_MS);
    const holder = await this.#holder.current();
    const inserted = await this.#claims.submit({
      id,
      scope,
      key,
      requestHash: hash,
      lockedUntil,
      holder,
      expiresAt: new Date(now.getTime() + this.#ttlMs),
    });
    if (inserted) {
      this.#running.add(id);
      return { kind: 'proceed', claim: new IdempotencyClaim(id, lockedUntil) };
    }
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
    // A claim whose holder's session has ended (the process was killed, its backend terminated) is taken over at
    // once; one whose holder is alive only once its lease has lapsed. The new lease is the new holder's token: it
    // differs from the old one even within the same millisecond.
    const lease = new Date(Math.max(lockedUntil.getTime(), existing.lockedUntil.getTime() + 1));
    const taken = await this.#db
      .update(idempotencyKeys)
      .set({ lockedUntil: lease, holder, updatedAt: now })
      .where(
        and(
          eq(idempotencyKeys.id, existing.id),
          eq(idempotencyKeys.state, 'in_progress'),
          or(
            lt(idempotencyKeys.lockedUntil, now),
            and(isNotNull(idempotencyKeys.holder), sql`not ${this.#holder.alive(idempotencyKeys.holder)}`),
          ),
        ),
      )
      .returning({ id: idempotencyKeys.id });
    if (taken.length > 0) {
      this.#running.add(existing.id);
      return { kind: 'proceed', claim: new IdempotencyClaim(existing.id, lease) };
    }
    throw idempotencyErrors.inProgress();
  }

  /**
   * A definite refusal is kept so a retry gets the same answer. False when the claim is no longer this holder's (a
   * retry took it over): the refusal is then not the request's answer.
   */
  async storeFailure(claim: IdempotencyClaim, status: number, body: string): Promise<boolean> {
    const stored = await this.#db
      .update(idempotencyKeys)
      .set({ state: 'completed', responseStatus: status, responseBody: body, updatedAt: new Date() })
      .where(this.#held(claim))
      .returning({ id: idempotencyKeys.id });
    return stored.length > 0;
  }

  /** Deletes the claim while it is still this holder's and in progress (never a retry's that took it over). */
  async release(claim: IdempotencyClaim): Promise<void> {
    await this.#db.delete(idempotencyKeys).where(this.#held(claim));
  }

  #held(claim: IdempotencyClaim) {
    return and(
      eq(idempotencyKeys.id, claim.id),
      eq(idempotencyKeys.state, 'in_progress'),
      eq(idempotencyKeys.lockedUntil, claim.lockedUntil),
    );
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
  app.addHook('onReady', () => service.warm());
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
    try {
      const stored = claim.response;
      // The bytes stored with the effect — or with the record of a refusal (the same status): what every replay sends.
      if (stored && (reply.statusCode < 400 || reply.statusCode === stored.status)) {
        crashPoint('transfer.before-response');
        reply.code(stored.status);
        return stored.body;
      }
      if (STORABLE_FAILURES.has(reply.statusCode) && typeof payload === 'string') {
        // A refusal is definite only once stored: unstored, a retry would run again (and might succeed). So it is
        // answered as what it then is, an unknown outcome (503; the client retries with its key) — or, when a retry
        // took the claim over meanwhile, as in progress: the retry's answer is the request's.
        const outcome = await service.storeFailure(claim, reply.statusCode, payload).then(
          (done) => (done ? 'stored' : 'taken'),
          () => 'failed' as const,
        );
        if (outcome !== 'stored') {
          if (outcome === 'failed') await service.release(claim).catch(() => {});
          const error = toAppError(
            outcome === 'taken' ? idempotencyErrors.inProgress() : new DependencyUnavailableError('postgres'),
          );
          reply.code(error.statusCode).headers(error.headers);
          return JSON.stringify(errorBody(error, request.id));
        }
      } else {
        // Deletes only a claim still in progress: one whose transaction committed keeps its stored response.
        await service.release(claim).catch(() => {});
      }
      return payload;
    } finally {
      service.finished(claim);
    }
  });
}
