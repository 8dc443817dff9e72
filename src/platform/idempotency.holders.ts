/**
 * The holders of idempotency claims (`ClaimHolder`, ADR 0006): which session of which process runs a claim, and
 * whether that holder is still alive. Used by `IdempotencyService` (idempotency.ts) only.
 */
import { randomInt } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { type SQL, sql } from 'drizzle-orm';
import pg from 'pg';
import type { Executor } from './db.ts';
import type { idempotencyKeys } from './platform.tables.ts';

/** The first key of the session-level advisory locks that mark live claim holders ('IDEM'); the second is the id. */
export const HOLDER_LOCK_CLASS = 0x4944454d;
/** This process's holder id on PGlite, where every session is this process's own. */
const PROCESS_HOLDER = randomInt(1, 2 ** 31 - 1);

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

export function holderFor(db: Executor, running: () => string[]): ClaimHolder {
  const client = (db as { $client?: unknown }).$client;
  if (client instanceof pg.Pool) return new SessionHolder(client.options, running);
  if (client instanceof PGlite) return new ProcessHolder();
  return new NoHolder();
}
