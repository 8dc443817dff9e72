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
import { createHash, randomInt } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { and, eq, isNotNull, lt, or, type SQL, sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import pg from 'pg';
import { crashPoint } from './crashpoints.ts';
import { type Executor, preparedRows } from './db.ts';
import {
  DependencyUnavailableError,
  errorBody,
  platformErrorCatalogue as platform,
  toAppError,
} from './errors.ts';
import { GroupBatcher } from './group-batch.ts';
import { uuidv7 } from './ids.ts';
import { canonicalJson, stringifyWithBigInt } from './json.ts';
import { processCounter } from './metrics.ts';
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

/**
 * How long a claim blocks others while its holder's session looks alive: the backstop for a holder whose host vanished
 * without closing its connection (until PostgreSQL's keepalives notice), and for a claim without a known holder.
 */
const CLAIM_LOCK_MS = 60_000;
/** The first key of the session-level advisory locks that mark live claim holders ('IDEM'); the second is the id. */
export const HOLDER_LOCK_CLASS = 0x4944454d;
/** This process's holder id on PGlite, where every session is this process's own. */
const PROCESS_HOLDER = randomInt(1, 2 ** 31 - 1);
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

/**
 * Who holds this process's claims, and whether the holder of a claim is alive.
 *
 * PostgreSQL: one dedicated connection (not from the pool: it lives as long as the process) holds the session-level
 * advisory lock (HOLDER_LOCK_CLASS, id) with an id no other live session holds. PostgreSQL releases it the moment the
 * session ends — the process was killed (the kernel closes its socket), the backend was terminated, the connection was
 * lost — so a claim whose holder's lock is gone from `pg_locks` belongs to no running request. A holder that loses its
 * session while its process lives opens a new one at once (and retries each second until it has one) and names it the
 * holder of the claims it still runs, so a retry of a request still running keeps answering 409. A retry that came in
 * the gap (the old lock gone, the new one not yet taken) took the claim over: the running request's commit then fails
 * on the token (409), so the effect still applies once. A heartbeat on the session notices a link that died silently
 * (no error, no end) within HEARTBEAT_MS + HEARTBEAT_TIMEOUT_MS.
 *
 * PGlite: the database lives inside this one process, so a claim held by this process is live and any other holder is
 * a previous life of the process (killed before it completed the claim).
 */
export interface ClaimHolder {
  /** This process's holder id; null when its session cannot be had now (the claim then relies on its lease). */
  current(): Promise<number | null>;
  /** SQL true when the claim row's holder is alive. */
  alive(holder: SQL | typeof idempotencyKeys.holder): SQL;
  close(): Promise<void>;
}

/** How often the holder's session is checked, and how long the check may take before the session counts as lost. */
const HEARTBEAT_MS = 5_000;
const HEARTBEAT_TIMEOUT_MS = 5_000;

class SessionHolder implements ClaimHolder {
  readonly #config: pg.ClientConfig;
  #client: pg.Client | null = null;
  #id: number | null = null;
  /** Ids of this process's lost sessions: their claims that are still running are named to the next session. */
  #lostIds: number[] = [];
  #reopen: NodeJS.Timeout | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #opening: Promise<number | null> | null = null;
  /** After a failed open, claims go without a holder (lease only) until this time instead of waiting each time. */
  #retryAt = 0;
  #closed = false;
  /** The claims this process's requests are running now (the only ones a new session takes back). */
  readonly #running: () => string[];

  constructor(config: pg.ClientConfig, running: () => string[]) {
    this.#config = config;
    this.#running = running;
  }

  current(): Promise<number | null> {
    if (this.#id !== null) return Promise.resolve(this.#id);
    if (this.#closed || Date.now() < this.#retryAt) return Promise.resolve(null);
    this.#opening ??= this.#open().finally(() => {
      this.#opening = null;
    });
    return this.#opening;
  }

  alive(holder: SQL | typeof idempotencyKeys.holder): SQL {
    return sql`exists (select 1 from pg_locks l where l.locktype = 'advisory' and l.granted
      and l.database = (select oid from pg_database where datname = current_database())
      and l.classid = ${HOLDER_LOCK_CLASS}::oid and l.objid = (${holder})::oid and l.objsubid = 2)`;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#reopen) clearTimeout(this.#reopen);
    await this.#opening;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    const client = this.#client;
    this.#client = null;
    this.#id = null;
    await client?.end().catch(() => {});
  }

  /** The session ended under a live process: open the next one now, not at the next claim (see the class comment). */
  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    if (this.#id !== null) this.#lostIds.push(this.#id);
    this.#client = null;
    this.#id = null;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    client.end().catch(() => {});
    this.#scheduleReopen(0);
  }

  #scheduleReopen(delayMs: number): void {
    if (this.#closed || this.#reopen) return;
    this.#reopen = setTimeout(() => {
      this.#reopen = null;
      if (this.#closed || this.#id !== null) return;
      this.#retryAt = 0;
      void this.current().then((id) => {
        if (id === null && this.#lostIds.length > 0) this.#scheduleReopen(1_000);
      });
    }, delayMs);
    this.#reopen.unref();
  }

  /**
   * Names this session the holder of the claims of requests this process still runs that its lost sessions held
   * (in progress, not taken over meanwhile: a takeover names another holder).
   */
  async #adopt(client: pg.Client, id: number): Promise<void> {
    if (this.#lostIds.length === 0) return;
    const lost = [...this.#lostIds];
    const running = this.#running();
    if (running.length > 0)
      await client.query(
        `update idempotency_keys set holder = $1
          where id = any($2::uuid[]) and state = 'in_progress' and holder = any($3::integer[])`,
        [id, running, lost],
      );
    this.#lostIds = this.#lostIds.filter((old) => !lost.includes(old));
  }

  #watch(client: pg.Client): void {
    this.#heartbeat = setInterval(() => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('holder heartbeat timed out')), HEARTBEAT_TIMEOUT_MS);
      });
      Promise.race([client.query('select 1'), timeout])
        .catch(() => this.#lost(client))
        .finally(() => clearTimeout(timer));
    }, HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  async #open(): Promise<number | null> {
    const client = new pg.Client({
      ...this.#config,
      application_name: 'codeforge-suite idempotency holder',
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
    });
    const lost = () => this.#lost(client);
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      // The session must outlive idle periods; and a holder whose host vanished is noticed within ~20 s.
      await client.query(`select set_config(name, value, false) from (values
        ('idle_session_timeout', '0'), ('tcp_keepalives_idle', '10'), ('tcp_keepalives_interval', '3'),
        ('tcp_keepalives_count', '3')) as wanted(name, value) where name in (select name from pg_settings)`);
      for (let attempt = 0; attempt < 16; attempt += 1) {
        const id = randomInt(1, 2 ** 31 - 1);
        const result = await client.query<{ locked: boolean }>(
          'select pg_try_advisory_lock($1, $2) as locked',
          [HOLDER_LOCK_CLASS, id],
        );
        if (result.rows[0]?.locked) {
          if (this.#closed) break;
          // Before the id is given to new claims: a failure here loses this session too (retried shortly).
          await this.#adopt(client, id);
          this.#client = client;
          this.#id = id;
          this.#watch(client);
          return id;
        }
      }
    } catch {
      // No holder for now: claims rely on their lease, and the session is tried again shortly.
    }
    this.#retryAt = Date.now() + 1_000;
    await client.end().catch(() => {});
    return null;
  }
}

class ProcessHolder implements ClaimHolder {
  current(): Promise<number | null> {
    return Promise.resolve(PROCESS_HOLDER);
  }

  alive(holder: SQL | typeof idempotencyKeys.holder): SQL {
    return sql`(${holder}) = ${PROCESS_HOLDER}`;
  }

  async close(): Promise<void> {}
}

/** Claims without a holder: only the lease (a database this module does not know how to watch). */
class NoHolder implements ClaimHolder {
  current(): Promise<number | null> {
    return Promise.resolve(null);
  }

  alive(): SQL {
    return sql`true`;
  }

  async close(): Promise<void> {}
}

function holderFor(db: Executor, running: () => string[]): ClaimHolder {
  const client = (db as { $client?: unknown }).$client;
  if (client instanceof pg.Pool) return new SessionHolder(client.options, running);
  if (client instanceof PGlite) return new ProcessHolder();
  return new NoHolder();
}

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
