/**
 * The benchmark's maintenance connection to the shared PostgreSQL server (creating and dropping its databases, machine
 * facts), and what every orchestrator step does when another engineer's reliability test restarts that server.
 */
import pg from 'pg';
import { log, sleep } from './format.ts';

export function isConnectionError(error: unknown): boolean {
  return /terminat|ECONNRESET|ECONNREFUSED|EPIPE|not yet accepting|shutting down|Connection terminated|57P0/i.test(
    `${String(error)} ${(error as { code?: string })?.code ?? ''}`,
  );
}

/** The maintenance connection; reconnects after the shared server restarts (other engineers' reliability tests do). */
export class AdminConnection {
  readonly #url: string;
  #client: pg.Client | null = null;

  constructor(url: string) {
    this.#url = url;
  }

  async #connected(): Promise<pg.Client> {
    if (this.#client) return this.#client;
    const client = new pg.Client({ connectionString: this.#url });
    client.on('error', () => {
      if (this.#client === client) this.#client = null;
    });
    await client.connect();
    this.#client = client;
    return client;
  }

  async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await (await this.#connected()).query<R>(text, values);
    } catch (error) {
      if (this.#client && !/terminat|ECONNRESET|EPIPE|not queryable/i.test(String(error))) throw error;
      this.#client?.end().catch(() => {});
      this.#client = null;
      await sleep(3000);
      return (await this.#connected()).query<R>(text, values);
    }
  }

  /** Until the shared PostgreSQL accepts connections again (at most two minutes). */
  async waitForPostgres(): Promise<void> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        await this.query('select 1');
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(2000);
      }
    }
  }

  /** An orchestrator step on the database, done again once if a server restart interrupted it. */
  async resilient<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      log(`PostgreSQL went away (${String(error).slice(0, 80)}); waiting and retrying`);
      await this.waitForPostgres();
      await sleep(2000);
      return work();
    }
  }

  /** When the server last started: a change between two readings means it restarted in between. */
  async postmasterStart(): Promise<string> {
    return (await this.query<{ started: string }>('select pg_postmaster_start_time()::text as started'))
      .rows[0]!.started;
  }

  async end(): Promise<void> {
    await this.#client?.end().catch(() => {});
    this.#client = null;
  }
}
