/**
 * Close of business (`runCob(date)`): walks the active loans not yet closed for the date in batches (keyset by id,
 * `batchSize` ids in memory at a time, whatever the portfolio's size) and closes each in its own short transaction
 * (loans.cob.loan.ts: interest, overdue, penalties, arrears; then reminders and collections), `concurrency` loans of
 * the batch in flight at once (a loan's close is ~8 short statements, so one at a time is bound by round trips, not
 * by work; memory stays one batch of ids plus the loans in flight). Concurrent loans do not deadlock: each locks only
 * its own rows (loan, instalments, collection case, its four ledger accounts) and the product's income house
 * accounts they share are deferred (`ledger_post` appends a delta row for a deferred credit and locks the accounts it
 * does lock in id order). One run row per
 * business date records the progress (`GET /api/v1/loan/cob/runs`) and each batch is logged. A rerun for the same date
 * finds no loan left and changes nothing (not even the run row); a run after a crash carries on with the loans the
 * crashed one did not reach. A loan that fails is counted and named on the run, stays unclosed for the date, and is
 * retried by the next run for that date.
 */
import { and, asc, desc, eq, gt, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import type { NotificationsService } from '../notifications/index.ts';
import { addDays } from './loans.calendar.ts';
import { checkedDate, closeLoanDay, today } from './loans.cob.loan.ts';
import { sendReminders } from './loans.cob.reminders.ts';
import { type CobFailure, loanCobRuns } from './loans.cob.tables.ts';
import type { CollectionsService } from './loans.collections.ts';
import { loansErrors } from './loans.errors.ts';
import type { LoanLedger } from './loans.ledger.ts';
import { loanProducts, loans } from './loans.tables.ts';

type RunRow = typeof loanCobRuns.$inferSelect;

export function cobRunView(row: RunRow) {
  return {
    id: row.id,
    business_date: row.businessDate,
    status: row.status,
    loans_processed: row.loansProcessed,
    loans_failed: row.loansFailed,
    batches: row.batches,
    failures: row.failures,
    triggered_by_type: row.triggeredByType,
    triggered_by_id: row.triggeredById,
    started_at: row.startedAt.toISOString(),
    finished_at: row.finishedAt?.toISOString() ?? null,
  };
}
export type CobRunView = ReturnType<typeof cobRunView>;

export interface CobProgress {
  business_date: string;
  batch: number;
  processed: number;
  failed: number;
  done: boolean;
}

export interface CloseOfBusinessOptions {
  db: Executor;
  ledger: LoanLedger;
  notifications: NotificationsService;
  collections: CollectionsService;
  /** Loan ids per batch (default 500). */
  batchSize?: number;
  /** Loans closed at once, each in its own transaction (default 1; PGlite, one connection, must keep 1). */
  concurrency?: number;
  /** Progress after each batch and at the end (the worker log). */
  log?: (progress: CobProgress) => void;
}

const MAX_FAILURES_KEPT = 50;

export class CloseOfBusiness {
  readonly #db: Executor;
  readonly #ledger: LoanLedger;
  readonly #notifications: NotificationsService;
  readonly #collections: CollectionsService;
  readonly #batchSize: number;
  readonly #concurrency: number;
  readonly #log: (progress: CobProgress) => void;
  readonly #ensured = new Set<string>();

  constructor(options: CloseOfBusinessOptions) {
    this.#db = options.db;
    this.#ledger = options.ledger;
    this.#notifications = options.notifications;
    this.#collections = options.collections;
    this.#batchSize = options.batchSize ?? 500;
    this.#concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
    this.#log = options.log ?? (() => {});
  }

  /** The business date the daily job closes: yesterday (UTC), the last day that has ended. */
  static previousBusinessDate(at: Date = new Date()): string {
    return addDays(at.toISOString().slice(0, 10), -1);
  }

  /** Closes one loan for the date in its own transaction; false when there was nothing to do. */
  async closeLoan(loanId: string, date: string): Promise<boolean> {
    return inTransaction(this.#db, async (tx) => {
      const outcome = await closeLoanDay(tx, this.#ledger, loanId, date);
      if (!outcome) return false;
      await sendReminders(tx, this.#notifications, outcome, date);
      await this.#collections.review(tx, outcome, date);
      return true;
    });
  }

  /** The loans still to close for the date after `afterId`, by id (uses loans_status_idx), with their product. */
  async #batch(date: string, afterId: string | null) {
    return this.#db
      .select({ id: loans.id, productCode: loanProducts.code, currency: loans.currency })
      .from(loans)
      .innerJoin(loanProducts, eq(loanProducts.id, loans.productId))
      .where(
        and(
          eq(loans.status, 'active'),
          lte(loans.disbursedOn, date),
          or(isNull(loans.lastCobDate), lt(loans.lastCobDate, date)),
          afterId ? gt(loans.id, afterId) : undefined,
        ),
      )
      .orderBy(asc(loans.id))
      .limit(this.#batchSize);
  }

  /**
   * The house accounts of the batch's products, created committed before any loan's transaction uses them (the
   * ledger caches house ids; one created in a transaction that rolled back would dangle). Once per process.
   */
  async #ensureHouseAccounts(batch: { productCode: string; currency: string }[]): Promise<void> {
    for (const { productCode, currency } of batch) {
      const key = `${productCode}:${currency}`;
      if (this.#ensured.has(key)) continue;
      await this.#ledger.ensureHouseAccounts(this.#db, productCode, currency);
      this.#ensured.add(key);
    }
  }

  /**
   * Closes business for `date` (YYYY-MM-DD, not after today). `trigger` is who asked: the daily job (system) or a
   * staff member (`POST /api/v1/loan/cob/run`).
   */
  async runCob(
    date: string,
    trigger: { type: 'system' | 'user'; id: string | null } = { type: 'system', id: null },
  ): Promise<CobRunView> {
    checkedDate(date, 'body.business_date');
    if (date > today())
      throw loansErrors.LOAN_COB_FUTURE_DATE({ params: { business_date: date, today: today() } });
    const [created] = await this.#db
      .insert(loanCobRuns)
      .values({
        id: uuidv7(),
        businessDate: date,
        status: 'running',
        triggeredByType: trigger.type,
        triggeredById: trigger.id,
      })
      .onConflictDoNothing({ target: loanCobRuns.businessDate })
      .returning();
    let run: RunRow = created ?? (await this.#run(date))!;
    let started = Boolean(created);
    let afterId: string | null = null;
    let processed = 0;
    let failed = 0;
    let batches = 0;
    const failures: CobFailure[] = [];
    for (;;) {
      const batch = await this.#batch(date, afterId);
      if (batch.length === 0) break;
      if (!started) {
        // A rerun that found loans left (new ones, or ones that failed): the run is running again.
        await this.#db
          .update(loanCobRuns)
          .set({ status: 'running', loansFailed: 0, failures: [], finishedAt: null, updatedAt: new Date() })
          .where(eq(loanCobRuns.id, run.id));
        started = true;
      }
      await this.#ensureHouseAccounts(batch);
      let batchProcessed = 0;
      let batchFailed = 0;
      // Workers take the batch's next loan until none is left: at most `concurrency` transactions open at once.
      let next = 0;
      const worker = async () => {
        while (next < batch.length) {
          const { id } = batch[next++]!;
          try {
            if (await this.closeLoan(id, date)) batchProcessed += 1;
          } catch (error) {
            batchFailed += 1;
            if (failures.length < MAX_FAILURES_KEPT)
              failures.push({ loan_id: id, error: error instanceof Error ? error.message : String(error) });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.#concurrency, batch.length) }, worker));
      afterId = batch.at(-1)!.id;
      batches += 1;
      processed += batchProcessed;
      failed += batchFailed;
      await this.#db
        .update(loanCobRuns)
        .set({
          loansProcessed: sql`${loanCobRuns.loansProcessed} + ${batchProcessed}`,
          loansFailed: failed,
          batches: sql`${loanCobRuns.batches} + 1`,
          failures,
          updatedAt: new Date(),
        })
        .where(eq(loanCobRuns.id, run.id));
      this.#log({ business_date: date, batch: batches, processed, failed, done: false });
      if (batch.length < this.#batchSize) break;
    }
    if (started) {
      const [finished] = await this.#db
        .update(loanCobRuns)
        .set({ status: failed > 0 ? 'failed' : 'completed', finishedAt: new Date(), updatedAt: new Date() })
        .where(eq(loanCobRuns.id, run.id))
        .returning();
      run = finished!;
      this.#log({ business_date: date, batch: batches, processed, failed, done: true });
    }
    return cobRunView(run);
  }

  async #run(date: string): Promise<RunRow | undefined> {
    const [row] = await this.#db
      .select()
      .from(loanCobRuns)
      .where(eq(loanCobRuns.businessDate, date))
      .limit(1);
    return row;
  }

  /** Runs, latest business date first. */
  async runs(query: { limit?: number; cursor?: string }) {
    const limit = query.limit ?? 20;
    const position = decodeCursor(query.cursor, ['business_date'] as const);
    if (position && !/^\d{4}-\d{2}-\d{2}$/.test(position.business_date))
      throw commonErrors.validation('Invalid cursor', {
        errors: [{ field: 'query.cursor', message: 'is not a cursor' }],
      });
    const rows = await this.#db
      .select()
      .from(loanCobRuns)
      .where(position ? lt(loanCobRuns.businessDate, position.business_date) : undefined)
      .orderBy(desc(loanCobRuns.businessDate))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map(cobRunView),
      next_cursor: rows.length > limit ? encodeCursor({ business_date: page.at(-1)!.businessDate }) : null,
    };
  }
}
