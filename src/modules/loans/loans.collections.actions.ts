/**
 * What collections does to a loan itself: reschedule and write-off (each filed for a second staff member, executed
 * once approved: `loan.reschedule`, `loan.write_off`) and recovery after a write-off.
 *
 * - Reschedule: instalments fully paid stay; a partly paid one shrinks to what was paid (and counts as paid); the
 *   others go. Their unpaid principal is the principal of a new schedule (`reschedule` of loans.schedule.recast.ts,
 *   the new term and rate, counting from the business date); their recognised unpaid interest, fees and penalties
 *   are due on the first new instalment (so the receivable accounts keep matching, nothing is posted). The next
 *   close of business finds the loan current (and closes its collection case as cured).
 * - Write-off: Dr write-off expense / Cr each of the loan's four accounts by its balance; the loan is `written_off`,
 *   its collection case closed.
 * - Recovery: money received on a written-off loan, from the customer's wallet or in cash / by bank:
 *   Dr wallet or `settlement:<CUR>` / Cr recovery income; never more than was written off and not yet recovered.
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { minorToJson } from '../../platform/money.ts';
import { emitEvent } from '../../platform/outbox.ts';
import type { WalletsService } from '../wallets/index.ts';
import { holidaysFrom } from './loans.accounts.repository.ts';
import { holidayCalendar } from './loans.calendar.ts';
import { today, unpaidOf } from './loans.cob.loan.ts';
import { loanInterestEarned } from './loans.cob.tables.ts';
import type { CollectionsService } from './loans.collections.ts';
import { loansErrors } from './loans.errors.ts';
import { loanClosed } from './loans.events.ts';
import { type LoanLedger, type LockedLoan, lockLoan } from './loans.ledger.ts';
import { reschedule } from './loans.schedule.recast.ts';
import { loanInstalments, loanProducts, loans, loanTransactions } from './loans.tables.ts';

export interface ReschedulePayload {
  loan_id: string;
  term: number;
  /** New nominal annual rate (percent string); the loan's current one when absent. */
  annual_rate?: string;
  reason: string;
  requested_by: string;
}

export interface WriteOffPayload {
  loan_id: string;
  reason: string;
  requested_by: string;
}

export interface RecoveryInput {
  loan_id: string;
  amount_minor: number;
  source: 'wallet' | 'cash' | 'bank';
  external_reference?: string;
}

/** The loan with its product's code, unlocked (to create the house accounts committed before a transaction). */
async function loanWithProduct(db: Executor, loanId: string) {
  const [row] = await db
    .select({ loan: loans, productCode: loanProducts.code })
    .from(loans)
    .innerJoin(loanProducts, eq(loanProducts.id, loans.productId))
    .where(eq(loans.id, loanId))
    .limit(1);
  if (!row) throw loansErrors.LOAN_NOT_FOUND();
  return { ...row.loan, productCode: row.productCode };
}

async function activeLoan(tx: Executor, loanId: string): Promise<LockedLoan> {
  const loan = await lockLoan(tx, loanId);
  if (!loan) throw loansErrors.LOAN_NOT_FOUND();
  if (loan.status !== 'active') throw loansErrors.LOAN_WRONG_STATE({ params: { status: loan.status } });
  return loan;
}

export class LoanWorkouts {
  readonly #db: Executor;
  readonly #ledger: LoanLedger;
  readonly #wallets: WalletsService;
  readonly #collections: CollectionsService;

  constructor(options: {
    db: Executor;
    ledger: LoanLedger;
    wallets: WalletsService;
    collections: CollectionsService;
  }) {
    this.#db = options.db;
    this.#ledger = options.ledger;
    this.#wallets = options.wallets;
    this.#collections = options.collections;
  }

  /** Refuses at filing what could not succeed at approval (unknown or inactive loan, impossible terms). */
  async checkReschedule(input: { loan_id: string; term: number; annual_rate?: string }) {
    const [loan] = await this.#db.select().from(loans).where(eq(loans.id, input.loan_id)).limit(1);
    if (!loan) throw loansErrors.LOAN_NOT_FOUND();
    if (loan.status !== 'active') throw loansErrors.LOAN_WRONG_STATE({ params: { status: loan.status } });
    try {
      reschedule({
        outstanding: 1_000_000n,
        currency: loan.currency,
        terms: loan.terms,
        term: input.term,
        annualRate: input.annual_rate,
        from: today(),
        firstSeq: 1,
      });
    } catch (error) {
      throw loansErrors.LOAN_RESCHEDULE_INVALID({ params: { reason: (error as Error).message } });
    }
    return loan;
  }

  async executeReschedule(payload: ReschedulePayload, context: RequestContext, on: string = today()) {
    return inTransaction(this.#db, async (tx) => {
      const loan = await activeLoan(tx, payload.loan_id);
      const rows = await tx
        .select()
        .from(loanInstalments)
        .where(eq(loanInstalments.loanId, loan.id))
        .orderBy(asc(loanInstalments.seq));
      let principal = 0n;
      let interest = 0n;
      let fee = 0n;
      let penalty = 0n;
      const removed: number[] = [];
      let keptSeq = 0;
      for (const row of rows) {
        if (unpaidOf(row) <= 0n) {
          keptSeq = Math.max(keptSeq, row.seq);
          continue;
        }
        principal += row.principalDue - row.principalPaid;
        interest += row.interestAccrued > row.interestPaid ? row.interestAccrued - row.interestPaid : 0n;
        fee += row.feeDue - row.feePaid;
        penalty += row.penaltyDue - row.penaltyPaid;
        const paidAny = row.principalPaid + row.interestPaid + row.feePaid + row.penaltyPaid > 0n;
        if (!paidAny) {
          removed.push(row.seq);
          continue;
        }
        keptSeq = Math.max(keptSeq, row.seq);
        await tx
          .update(loanInstalments)
          .set({
            principalDue: row.principalPaid,
            interestDue: row.interestPaid,
            interestAccrued: row.interestPaid,
            feeDue: row.feePaid,
            penaltyDue: row.penaltyPaid,
            status: 'paid',
            paidAt: new Date(),
          })
          .where(and(eq(loanInstalments.loanId, loan.id), eq(loanInstalments.seq, row.seq)));
      }
      if (principal <= 0n)
        throw loansErrors.LOAN_RESCHEDULE_INVALID({ params: { reason: 'no principal is outstanding' } });
      let lines: ReturnType<typeof reschedule>;
      try {
        lines = reschedule({
          outstanding: principal,
          currency: loan.currency,
          terms: loan.terms,
          term: payload.term,
          annualRate: payload.annual_rate,
          from: on,
          firstSeq: keptSeq + 1,
          // New due dates skip the holiday calendar as well as weekends, like the schedule made at disbursement.
          isWorkingDay: holidayCalendar(await holidaysFrom(tx, on)),
        });
      } catch (error) {
        throw loansErrors.LOAN_RESCHEDULE_INVALID({ params: { reason: (error as Error).message } });
      }
      if (removed.length > 0)
        await tx
          .delete(loanInstalments)
          .where(and(eq(loanInstalments.loanId, loan.id), inArray(loanInstalments.seq, removed)));
      await tx.delete(loanInterestEarned).where(eq(loanInterestEarned.loanId, loan.id));
      await tx.insert(loanInstalments).values(
        lines.map((line, index) => ({
          loanId: loan.id,
          seq: line.seq,
          dueDate: line.due_date,
          principalDue: line.principal_due,
          interestDue: line.interest_due + (index === 0 ? interest : 0n),
          interestAccrued: index === 0 ? interest : 0n,
          feeDue: line.fee_due + (index === 0 ? fee : 0n),
          penaltyDue: index === 0 ? penalty : 0n,
          status: 'pending' as const,
        })),
      );
      if (loan.terms.interest_calculation === 'daily' && interest > 0n)
        await tx
          .insert(loanInterestEarned)
          .values({ loanId: loan.id, seq: lines[0]!.seq, earnedMinor: interest });
      const terms = { ...loan.terms, annual_rate: payload.annual_rate ?? loan.terms.annual_rate };
      await tx
        .update(loans)
        .set({ terms, term: keptSeq + lines.length, updatedAt: new Date() })
        .where(eq(loans.id, loan.id));
      await writeAudit(tx, context, {
        action: 'loan.reschedule',
        entityType: 'loan',
        entityId: loan.id,
        before: { term: loan.term, annual_rate: loan.terms.annual_rate },
        after: {
          term: keptSeq + lines.length,
          annual_rate: terms.annual_rate,
          rescheduled_principal_minor: minorToJson(principal),
          reason: payload.reason,
          requested_by: payload.requested_by,
        },
      });
      return { loan_id: loan.id, number: loan.number, first_seq: keptSeq + 1, instalments: lines.length };
    });
  }

  async checkWriteOff(loanId: string) {
    const [loan] = await this.#db.select().from(loans).where(eq(loans.id, loanId)).limit(1);
    if (!loan) throw loansErrors.LOAN_NOT_FOUND();
    if (loan.status !== 'active') throw loansErrors.LOAN_WRONG_STATE({ params: { status: loan.status } });
    return loan;
  }

  async executeWriteOff(payload: WriteOffPayload, context: RequestContext, on: string = today()) {
    const found = await loanWithProduct(this.#db, payload.loan_id);
    await this.#ledger.ensureHouseAccounts(this.#db, found.productCode, found.currency);
    return inTransaction(this.#db, async (tx) => {
      const loan = await activeLoan(tx, payload.loan_id);
      const outstanding = await this.#ledger.loanOutstanding(tx, loan);
      const key = `loan:${loan.id}:write-off`;
      const batch = await this.#ledger.postLoanMovement(tx, {
        key,
        code: 'loan_write_off',
        loan,
        legs: (['principal', 'interest', 'fee', 'penalty'] as const).map((part) => ({
          debit: 'write_off_expense' as const,
          credit: part,
          amount: outstanding[part],
          code: `write_off_${part}`,
        })),
        narration: `Loan ${loan.number} write-off`,
      });
      await tx.insert(loanTransactions).values({
        id: uuidv7(),
        loanId: loan.id,
        type: 'write_off',
        amountMinor: outstanding.total,
        currency: loan.currency,
        allocation: {
          principal: minorToJson(outstanding.principal),
          interest: minorToJson(outstanding.interest),
          fee: minorToJson(outstanding.fee),
          penalty: minorToJson(outstanding.penalty),
        },
        ledgerBatchId: batch?.batchId ?? null,
        dedupeKey: key,
        businessDate: on,
        actorType: 'user',
        actorId: payload.requested_by,
      });
      const now = new Date();
      await tx
        .update(loans)
        .set({ status: 'written_off', writtenOffAt: now, updatedAt: now })
        .where(eq(loans.id, loan.id));
      await this.#collections.closeCase(tx, loan.id, on, 'written_off', context.actor.id);
      await emitEvent(
        tx,
        loanClosed,
        { type: 'loan', id: loan.id },
        {
          loan_id: loan.id,
          number: loan.number,
          customer_id: loan.customerId,
          status: 'written_off',
        },
      );
      await writeAudit(tx, context, {
        action: 'loan.write_off',
        entityType: 'loan',
        entityId: loan.id,
        after: {
          written_off_minor: minorToJson(outstanding.total),
          reason: payload.reason,
          requested_by: payload.requested_by,
        },
      });
      return { loan_id: loan.id, number: loan.number, written_off_minor: minorToJson(outstanding.total) };
    });
  }

  /** `POST /api/v1/loan/loan/recovery`: keyed by the Idempotency-Key (`dedupeKey`). */
  async recover(
    input: RecoveryInput,
    dedupeKey: string,
    claim: IdempotencyClaim | null,
    context: RequestContext,
    on: string = today(),
  ) {
    const found = await loanWithProduct(this.#db, input.loan_id);
    if (found.status !== 'written_off')
      throw loansErrors.LOAN_WRONG_STATE({ params: { status: found.status } });
    const settlement =
      input.source === 'wallet'
        ? null
        : await this.#ledger.ledger.houseAccount(`settlement:${found.currency}`);
    const amount = BigInt(input.amount_minor);
    await this.#ledger.ensureHouseAccounts(this.#db, found.productCode, found.currency);
    return inTransaction(this.#db, async (tx) => {
      const loan = (await lockLoan(tx, input.loan_id))!;
      if (loan.status !== 'written_off')
        throw loansErrors.LOAN_WRONG_STATE({ params: { status: loan.status } });
      const [totals] = await tx
        .select({
          writtenOff: sql<string>`coalesce(sum(${loanTransactions.amountMinor}) filter (where ${loanTransactions.type} = 'write_off'), 0)::text`,
          recovered: sql<string>`coalesce(sum(${loanTransactions.amountMinor}) filter (where ${loanTransactions.type} = 'recovery'), 0)::text`,
        })
        .from(loanTransactions)
        .where(eq(loanTransactions.loanId, loan.id));
      const left = BigInt(totals!.writtenOff) - BigInt(totals!.recovered);
      if (amount > left)
        throw commonErrors.validation('The recovery is more than is left of the written-off amount', {
          errors: [{ field: 'body.amount_minor', message: `must be at most ${left}` }],
        });
      let source: string;
      if (settlement) source = settlement;
      else {
        const wallet = (await this.#wallets.lock(tx, [loan.walletId])).get(loan.walletId);
        if (!wallet) throw loansErrors.LOAN_NOT_FOUND();
        const balance = await this.#ledger.ledger.balance(wallet.id, tx);
        if (balance.available < amount)
          throw loansErrors.LOAN_RECOVERY_INSUFFICIENT_FUNDS({
            details: { required: Number(amount), available: Number(balance.available) },
          });
        source = wallet.id;
      }
      const key = `loan:${loan.id}:recovery:${dedupeKey}`;
      const batch = await this.#ledger.postLoanMovement(tx, {
        key,
        code: 'loan_recovery',
        loan,
        legs: [{ debit: { account: source }, credit: 'recovery_income', amount, code: 'recovery' }],
        narration: `Loan ${loan.number} recovery`,
      });
      const id = uuidv7();
      await tx.insert(loanTransactions).values({
        id,
        loanId: loan.id,
        type: 'recovery',
        amountMinor: amount,
        currency: loan.currency,
        source: input.source,
        externalReference: input.external_reference ?? null,
        ledgerBatchId: batch?.batchId ?? null,
        dedupeKey: key,
        businessDate: on,
        actorType: 'user',
        actorId: context.actor.id,
      });
      await writeAudit(tx, context, {
        action: 'loan.recovery',
        entityType: 'loan',
        entityId: loan.id,
        after: { transaction_id: id, amount_minor: minorToJson(amount), source: input.source },
      });
      const result = {
        transaction_id: id,
        loan_id: loan.id,
        number: loan.number,
        amount_minor: amount,
        currency: loan.currency,
        source: input.source,
        recovered_minor: BigInt(totals!.recovered) + amount,
        written_off_minor: BigInt(totals!.writtenOff),
        business_date: on,
      };
      await claim?.commit(tx, 201, result);
      return result;
    });
  }
}
