/**
 * Collections: an overdue loan opens a collection case at close of business (one open case per loan), which staff
 * assign, annotate and close, and on which they record promises to pay (a date and an amount). Close of business
 * keeps the case's arrears current, closes it when the loan is cured, reminds the customer the day before a promised
 * date, and settles each promise: kept once repayments since it was made reach the amount, broken when the date
 * passes short of it. Reschedule, write-off and recovery (loans.collections.actions.ts) hang off the same service.
 */
import { and, asc, desc, eq, gte, inArray, lt, lte, sql } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/http.ts';
import { humanNumber, uuidv7 } from '../../platform/ids.ts';
import { formatMoney } from '../../platform/money.ts';
import { userContact } from '../identity/index.ts';
import type { NotificationsService } from '../notifications/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import { addDays, daysBetween } from './loans.calendar.ts';
import { checkedDate, type LoanDayOutcome, today } from './loans.cob.loan.ts';
import { loanCollectionCases, loanCollectionNotes, loanPromisesToPay } from './loans.cob.tables.ts';
import { LoanWorkouts } from './loans.collections.actions.ts';
import { loansErrors } from './loans.errors.ts';
import type { LoanLedger } from './loans.ledger.ts';
import { loans, loanTransactions } from './loans.tables.ts';

type CaseRow = typeof loanCollectionCases.$inferSelect;
type NoteRow = typeof loanCollectionNotes.$inferSelect;
type PromiseRow = typeof loanPromisesToPay.$inferSelect;

export function promiseView(row: PromiseRow) {
  return {
    id: row.id,
    case_id: row.caseId,
    loan_id: row.loanId,
    promised_on: row.promisedOn,
    amount_minor: row.amountMinor,
    currency: row.currency,
    made_on: row.madeOn,
    status: row.status,
    paid_minor: row.paidMinor,
    settled_on: row.settledOn,
    reminded_on: row.remindedOn,
    created_by_id: row.createdById,
    created_at: row.createdAt.toISOString(),
  };
}

export function caseView(row: CaseRow, loanNumber: string) {
  return {
    id: row.id,
    number: row.number,
    loan_id: row.loanId,
    loan_number: loanNumber,
    customer_id: row.customerId,
    status: row.status,
    assignee_id: row.assigneeId,
    opened_on: row.openedOn,
    days_past_due: row.daysPastDue,
    arrears_bucket: row.arrearsBucket,
    closed_on: row.closedOn,
    close_reason: row.closeReason,
    closed_by_id: row.closedById,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

function noteView(row: NoteRow) {
  return { id: row.id, text: row.text, author_id: row.authorId, created_at: row.createdAt.toISOString() };
}

/** Repayments (customer, staff, automatic collection) on a loan between two business dates, inclusive. */
async function repaidBetween(tx: Executor, loanId: string, from: string, to: string): Promise<bigint> {
  const [row] = await tx
    .select({ total: sql<string>`coalesce(sum(${loanTransactions.amountMinor}), 0)::text` })
    .from(loanTransactions)
    .where(
      and(
        eq(loanTransactions.loanId, loanId),
        inArray(loanTransactions.type, ['repayment', 'auto_collection']),
        gte(loanTransactions.businessDate, from),
        lte(loanTransactions.businessDate, to),
      ),
    );
  return BigInt(row?.total ?? '0');
}

export class CollectionsService {
  readonly #db: Executor;
  readonly #notifications: NotificationsService;
  /** Reschedule, write-off and recovery. */
  readonly workouts: LoanWorkouts;

  constructor(options: {
    db: Executor;
    notifications: NotificationsService;
    ledger: LoanLedger;
    wallets: WalletsService;
  }) {
    this.#db = options.db;
    this.#notifications = options.notifications;
    this.workouts = new LoanWorkouts({
      db: options.db,
      ledger: options.ledger,
      wallets: options.wallets,
      collections: this,
    });
  }

  /**
   * Close of business for the loan's collections, in its transaction: opens, updates or (cured) closes the case,
   * reminds and settles promises to pay.
   */
  async review(tx: Executor, outcome: LoanDayOutcome, date: string): Promise<void> {
    const { loan, daysPastDue } = outcome;
    // Cases and promises exist only while the loan is in arrears (or was at the last close: then it is cured).
    if (daysPastDue === 0 && loan.daysPastDue === 0) return;
    await this.#settlePromises(tx, outcome, date);
    await this.#reviewCase(tx, outcome, date);
  }

  async #settlePromises(tx: Executor, outcome: LoanDayOutcome, date: string): Promise<void> {
    const { loan } = outcome;
    const pending = await tx
      .select()
      .from(loanPromisesToPay)
      .where(and(eq(loanPromisesToPay.loanId, loan.id), eq(loanPromisesToPay.status, 'pending')));
    for (const promise of pending) {
      const until = promise.promisedOn < date ? promise.promisedOn : date;
      const paid = await repaidBetween(tx, loan.id, promise.madeOn, until);
      const kept = paid >= promise.amountMinor;
      const broken = !kept && date >= promise.promisedOn;
      const remind =
        !kept && !promise.remindedOn && date < promise.promisedOn && addDays(promise.promisedOn, -1) <= date;
      if (remind)
        await this.#notifications.queue(tx, {
          recipient: { type: 'customer', id: loan.customerId },
          template: 'loan.promise.reminder',
          variables: {
            number: loan.number,
            amount: formatMoney(promise.amountMinor - paid, promise.currency),
            promised_on: promise.promisedOn,
          },
          dedupeKey: `loan-promise-reminder:${promise.id}`,
          data: { kind: 'loan_promise', loan_id: loan.id },
          createdBy: { type: 'system', id: null },
        });
      if (!kept && !broken && !remind && paid === promise.paidMinor) continue;
      await tx
        .update(loanPromisesToPay)
        .set({
          status: kept ? 'kept' : broken ? 'broken' : 'pending',
          paidMinor: paid,
          settledOn: kept || broken ? date : null,
          remindedOn: remind ? date : promise.remindedOn,
          updatedAt: new Date(),
        })
        .where(eq(loanPromisesToPay.id, promise.id));
    }
  }

  async #reviewCase(tx: Executor, outcome: LoanDayOutcome, date: string): Promise<void> {
    const { loan, daysPastDue, bucket } = outcome;
    const [latest] = await tx
      .select()
      .from(loanCollectionCases)
      .where(eq(loanCollectionCases.loanId, loan.id))
      .orderBy(desc(loanCollectionCases.id))
      .limit(1);
    const open = latest?.status === 'open' ? latest : undefined;
    // Staff who closed a case during this spell of arrears decided it: no new case until the loan is cured.
    const closedThisSpell =
      latest?.status === 'closed' &&
      latest.closedById !== null &&
      latest.closedOn !== null &&
      latest.closedOn >= addDays(date, -daysPastDue);
    if (!open && daysPastDue > 0 && !closedThisSpell) {
      await tx.insert(loanCollectionCases).values({
        id: uuidv7(),
        number: humanNumber('LC'),
        loanId: loan.id,
        customerId: loan.customerId,
        status: 'open',
        openedOn: date,
        daysPastDue,
        arrearsBucket: bucket,
      });
    } else if (open && daysPastDue > 0) {
      await tx
        .update(loanCollectionCases)
        .set({ daysPastDue, arrearsBucket: bucket, updatedAt: new Date() })
        .where(eq(loanCollectionCases.id, open.id));
    } else if (open) {
      await tx
        .update(loanCollectionCases)
        .set({
          status: 'closed',
          daysPastDue: 0,
          arrearsBucket: 'current',
          closedOn: date,
          closeReason: 'cured',
          updatedAt: new Date(),
        })
        .where(eq(loanCollectionCases.id, open.id));
      // Promises not kept by now no longer matter: nothing is overdue.
      await tx
        .update(loanPromisesToPay)
        .set({ status: 'cancelled', settledOn: date, updatedAt: new Date() })
        .where(and(eq(loanPromisesToPay.loanId, loan.id), eq(loanPromisesToPay.status, 'pending')));
    }
  }

  async list(query: {
    status?: 'open' | 'closed';
    assignee_id?: string;
    loan_id?: string;
    limit?: number;
    cursor?: string;
  }) {
    const limit = query.limit ?? 20;
    const position = decodeCursor(query.cursor, ['id'] as const);
    const rows = await this.#db
      .select({ row: loanCollectionCases, loanNumber: loans.number })
      .from(loanCollectionCases)
      .innerJoin(loans, eq(loans.id, loanCollectionCases.loanId))
      .where(
        and(
          query.status ? eq(loanCollectionCases.status, query.status) : undefined,
          query.assignee_id ? eq(loanCollectionCases.assigneeId, query.assignee_id) : undefined,
          query.loan_id ? eq(loanCollectionCases.loanId, query.loan_id) : undefined,
          position ? lt(loanCollectionCases.id, position.id) : undefined,
        ),
      )
      .orderBy(desc(loanCollectionCases.id))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map(({ row, loanNumber }) => caseView(row, loanNumber)),
      next_cursor: rows.length > limit ? encodeCursor({ id: page.at(-1)!.row.id }) : null,
    };
  }

  async #case(executor: Executor, id: string, lock = false) {
    const query = executor
      .select({ row: loanCollectionCases, loanNumber: loans.number, currency: loans.currency })
      .from(loanCollectionCases)
      .innerJoin(loans, eq(loans.id, loanCollectionCases.loanId))
      .where(eq(loanCollectionCases.id, id))
      .limit(1);
    const [found] = lock ? await query.for('update', { of: loanCollectionCases }) : await query;
    if (!found) throw commonErrors.notFound('Collection case');
    return found;
  }

  async get(id: string) {
    const { row, loanNumber } = await this.#case(this.#db, id);
    const notes = await this.#db
      .select()
      .from(loanCollectionNotes)
      .where(eq(loanCollectionNotes.caseId, id))
      .orderBy(asc(loanCollectionNotes.id));
    const promises = await this.#db
      .select()
      .from(loanPromisesToPay)
      .where(eq(loanPromisesToPay.caseId, id))
      .orderBy(asc(loanPromisesToPay.id));
    return { ...caseView(row, loanNumber), notes: notes.map(noteView), promises: promises.map(promiseView) };
  }

  /** Locks an open case for a change by staff (a closed one refuses). */
  async #openCase(tx: Executor, id: string) {
    const found = await this.#case(tx, id, true);
    if (found.row.status !== 'open')
      throw loansErrors.LOAN_CASE_CLOSED({ params: { number: found.row.number } });
    return found;
  }

  async assign(input: { case_id: string; assignee_id: string }, context: RequestContext) {
    await inTransaction(this.#db, async (tx) => {
      const { row } = await this.#openCase(tx, input.case_id);
      if (!(await userContact(tx, input.assignee_id))) throw commonErrors.notFound('User');
      await tx
        .update(loanCollectionCases)
        .set({ assigneeId: input.assignee_id, updatedAt: new Date() })
        .where(eq(loanCollectionCases.id, row.id));
      await writeAudit(tx, context, {
        action: 'loan.collection.assign',
        entityType: 'loan_collection_case',
        entityId: row.id,
        before: { assignee_id: row.assigneeId },
        after: { assignee_id: input.assignee_id },
      });
    });
    return this.get(input.case_id);
  }

  async note(input: { case_id: string; text: string }, context: RequestContext) {
    await inTransaction(this.#db, async (tx) => {
      const { row } = await this.#case(tx, input.case_id, true);
      const id = uuidv7();
      await tx
        .insert(loanCollectionNotes)
        .values({ id, caseId: row.id, text: input.text, authorId: context.actor.id });
      await writeAudit(tx, context, {
        action: 'loan.collection.note',
        entityType: 'loan_collection_case',
        entityId: row.id,
        after: { note_id: id },
      });
    });
    return this.get(input.case_id);
  }

  async promise(
    input: { case_id: string; promised_on: string; amount_minor: number },
    context: RequestContext,
    on: string = today(),
  ) {
    const days = daysBetween(on, checkedDate(input.promised_on, 'body.promised_on'));
    if (days < 0 || days > 90)
      throw commonErrors.validation('The promised date must be between today and 90 days ahead', {
        errors: [{ field: 'body.promised_on', message: 'must be between today and 90 days ahead' }],
      });
    return inTransaction(this.#db, async (tx) => {
      const { row, currency } = await this.#openCase(tx, input.case_id);
      const [created] = await tx
        .insert(loanPromisesToPay)
        .values({
          id: uuidv7(),
          caseId: row.id,
          loanId: row.loanId,
          promisedOn: input.promised_on,
          amountMinor: BigInt(input.amount_minor),
          currency,
          madeOn: on,
          status: 'pending',
          createdById: context.actor.id,
        })
        .returning();
      await writeAudit(tx, context, {
        action: 'loan.collection.promise',
        entityType: 'loan_collection_case',
        entityId: row.id,
        after: promiseView(created!),
      });
      return promiseView(created!);
    });
  }

  async close(input: { case_id: string; reason: string }, context: RequestContext, on: string = today()) {
    await inTransaction(this.#db, async (tx) => {
      const { row } = await this.#openCase(tx, input.case_id);
      await this.closeCase(tx, row.loanId, on, input.reason, context.actor.id);
      await writeAudit(tx, context, {
        action: 'loan.collection.close',
        entityType: 'loan_collection_case',
        entityId: row.id,
        after: { reason: input.reason },
      });
    });
    return this.get(input.case_id);
  }

  /** Closes the loan's open case (if any) and cancels its pending promises, in the caller's transaction. */
  async closeCase(
    tx: Executor,
    loanId: string,
    on: string,
    reason: string,
    by: string | null,
  ): Promise<void> {
    await tx
      .update(loanCollectionCases)
      .set({ status: 'closed', closedOn: on, closeReason: reason, closedById: by, updatedAt: new Date() })
      .where(and(eq(loanCollectionCases.loanId, loanId), eq(loanCollectionCases.status, 'open')));
    await tx
      .update(loanPromisesToPay)
      .set({ status: 'cancelled', settledOn: on, updatedAt: new Date() })
      .where(and(eq(loanPromisesToPay.loanId, loanId), eq(loanPromisesToPay.status, 'pending')));
  }
}
