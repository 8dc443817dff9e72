/**
 * Background jobs on pg-boss in the same PostgreSQL. `enqueue(tx, …)` writes the job inside the business
 * transaction (transactional outbox): a rolled-back use case sends nothing, a committed one exactly once
 * (handlers must be idempotent, since a worker killed mid-job runs it again).
 */
import { sql } from 'drizzle-orm';
import { fromDrizzle, fromPglite, type JobResult, PgBoss, type SendOptions } from 'pg-boss';
import { type Database, type Executor, openTransactionOf } from './db.ts';
import { serializeError } from './logging.ts';

export interface JobDefinition<T extends object> {
  name: string;
  /** Retries with exponential backoff before the job lands in the dead-letter queue. */
  retryLimit?: number;
  retryDelaySeconds?: number;
  expireInSeconds?: number;
  batchSize?: number;
  /** Cron expression (UTC): the worker process enqueues the job on this schedule. */
  schedule?: string;
  handle: (data: T, meta: { id: string; retryCount: number }) => Promise<void>;
}

export interface JobQueueStats {
  name: string;
  queued: number;
  active: number;
  failed: number;
}

/**
 * pg-boss on PGlite, whose one connection an open transaction holds: a statement pg-boss sends from inside a
 * transaction's async context (looking a queue up while a job is enqueued in a use case's transaction) runs in that
 * transaction, as the database's own queries do there (`reentrant` in db.ts); sent on the connection, it would wait
 * for the transaction that waits for it, and the embedded API would stop.
 */
function reentrantPglite(direct: ReturnType<typeof fromPglite>): ReturnType<typeof fromPglite> {
  return Object.assign(Object.create(direct) as ReturnType<typeof fromPglite>, {
    executeSql(text: string, values?: unknown[]) {
      const tx = openTransactionOf();
      return tx
        ? fromDrizzle(tx as unknown as Parameters<typeof fromDrizzle>[0], sql).executeSql(text, values)
        : direct.executeSql(text, values);
    },
  });
}

export class Jobs {
  readonly boss: PgBoss;
  readonly #definitions = new Map<string, JobDefinition<object>>();
  #started = false;
  #working = false;
  readonly #supervise: boolean;

  constructor(database: Database, options: { supervise: boolean }) {
    this.#supervise = options.supervise;
    const common = {
      supervise: options.supervise,
      schedule: options.supervise,
      migrate: true,
      createSchema: true,
    };
    this.boss =
      database.kind === 'pglite'
        ? new PgBoss({ ...common, db: reentrantPglite(fromPglite(database.pglite!)), backend: 'pglite' })
        : new PgBoss({ ...common, connectionString: database.connectionString!, max: 3 });
    this.boss.on('error', () => {});
  }

  define<T extends object>(definition: JobDefinition<T>): void {
    if (this.#definitions.has(definition.name)) throw new Error(`job ${definition.name} defined twice`);
    this.#definitions.set(definition.name, definition as unknown as JobDefinition<object>);
  }

  get names(): string[] {
    return [...this.#definitions.keys()];
  }

  async start(): Promise<void> {
    if (this.#started) return;
    await this.boss.start();
    for (const definition of this.#definitions.values()) {
      const deadLetter = `${definition.name}.dead`;
      await this.boss.createQueue(deadLetter);
      await this.boss.createQueue(definition.name, {
        retryLimit: definition.retryLimit ?? 8,
        retryDelay: definition.retryDelaySeconds ?? 5,
        retryBackoff: true,
        expireInSeconds: definition.expireInSeconds ?? 300,
        deadLetter,
      });
      if (definition.schedule && this.#supervise)
        await this.boss.schedule(definition.name, definition.schedule, {});
    }
    this.#started = true;
  }

  /** Enqueues inside the caller's transaction. */
  async enqueue(tx: Executor, name: string, data: object, options: SendOptions = {}): Promise<string | null> {
    if (!this.#definitions.has(name)) throw new Error(`job ${name} is not defined`);
    return this.boss.send(name, data, {
      ...options,
      db: fromDrizzle(tx as unknown as Parameters<typeof fromDrizzle>[0], sql),
    });
  }

  /** Starts consuming every defined queue in this process. */
  async work(): Promise<void> {
    if (this.#working) return;
    this.#working = true;
    for (const definition of this.#definitions.values()) {
      // Each job of a batch is settled on its own: one failing job must not re-run (or dead-letter)
      // the healthy jobs fetched with it, as throwing from the batch handler would.
      await this.boss.work(
        definition.name,
        { batchSize: definition.batchSize ?? 10, pollingIntervalSeconds: 1, perJobResults: true },
        async (jobs) => {
          const results: JobResult[] = [];
          for (const job of jobs) {
            try {
              await definition.handle(job.data as object, { id: job.id, retryCount: job.retryCount });
              results.push({ id: job.id, status: 'completed' });
            } catch (error) {
              // Stored in the job table: a failed query is kept by statement name and SQLSTATE, never its
              // parameters or the database's message quoting them (the same rule as the logs, F4).
              results.push({ id: job.id, status: 'failed', output: serializeError(error) as object });
            }
          }
          return results;
        },
      );
    }
  }

  async stats(): Promise<JobQueueStats[]> {
    if (!this.#started) return [];
    const queues = await this.boss.getQueues();
    return queues.map((queue) => ({
      name: queue.name,
      queued: queue.queuedCount,
      active: queue.activeCount,
      failed: queue.failedCount,
    }));
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    await this.boss.stop({ graceful: true, timeout: 5000, close: true });
  }
}
