/**
 * Fraud flags and their investigations. A check at or above the product's threshold opens a flag; staff escalate it
 * to a case (an assignee, notes with evidence), then decide: `confirm` declines the application (reason
 * LOAN_FRAUD_CONFIRMED) and may deny-list its identifiers; `clear` returns it to `submitted` and, once committed,
 * sends it on to scoring through the applications area's continuation.
 */
import { and, asc, desc, eq, lt, type SQL } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { decodeCursor, type Principal, paginate } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { toJsonSafe } from '../../platform/json.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { findUserById } from '../identity/index.ts';
import { loansErrors } from './loans.errors.ts';
import { loanApplicationDecided } from './loans.events.ts';
import type { DenyList, denyView } from './loans.fraud.denylist.ts';
import {
  type FlagState,
  loanFraudCases,
  loanFraudChecks,
  loanFraudFlags,
  loanFraudNotes,
  loanFraudResults,
} from './loans.fraud.tables.ts';
import { loanApplications } from './loans.tables.ts';

type FlagRow = typeof loanFraudFlags.$inferSelect;
type CaseRow = typeof loanFraudCases.$inferSelect;
type NoteRow = typeof loanFraudNotes.$inferSelect;

/** The adverse-action reason of a confirmed case (shown to the customer, so it names no rule). */
export const FRAUD_DECLINE_REASON = {
  code: 'LOAN_FRAUD_CONFIRMED',
  message: 'The application was declined after a review of the information provided',
};
const DECLINABLE = new Set(['submitted', 'flagged', 'referred']);

function flagView(
  row: FlagRow,
  application: { number: string; customerId: string },
  fraudCase: CaseRow | null,
) {
  return {
    id: row.id,
    application_id: row.applicationId,
    application_number: application.number,
    customer_id: application.customerId,
    check_id: row.checkId,
    score: row.score,
    threshold: row.threshold,
    status: row.status,
    case: fraudCase
      ? {
          id: fraudCase.id,
          assignee_id: fraudCase.assigneeId,
          opened_by_id: fraudCase.openedById,
          created_at: fraudCase.createdAt.toISOString(),
          updated_at: fraudCase.updatedAt.toISOString(),
        }
      : null,
    decision_reason: row.decisionReason,
    decided_by_id: row.decidedById,
    decided_at: row.decidedAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function noteView(row: NoteRow) {
  return {
    id: row.id,
    flag_id: row.flagId,
    author_type: row.authorType,
    author_id: row.authorId,
    note: row.note,
    evidence: row.evidence,
    created_at: row.createdAt.toISOString(),
  };
}

export class FraudCases {
  readonly #db: Executor;
  readonly #denyList: DenyList;
  readonly #continueAfterFraud: (applicationId: string, context: RequestContext) => Promise<unknown>;

  constructor(
    db: Executor,
    denyList: DenyList,
    continueAfterFraud: (applicationId: string, context: RequestContext) => Promise<unknown>,
  ) {
    this.#db = db;
    this.#denyList = denyList;
    this.#continueAfterFraud = continueAfterFraud;
  }

  async list(query: { status?: FlagState; application_id?: string; limit?: number; cursor?: string }) {
    const limit = query.limit ?? 20;
    const position = decodeCursor(query.cursor, ['id']);
    const conditions: SQL[] = [];
    if (query.status) conditions.push(eq(loanFraudFlags.status, query.status));
    if (query.application_id) conditions.push(eq(loanFraudFlags.applicationId, query.application_id));
    if (position) conditions.push(lt(loanFraudFlags.id, position.id));
    const rows = await this.#db
      .select({ flag: loanFraudFlags, application: loanApplications, fraudCase: loanFraudCases })
      .from(loanFraudFlags)
      .innerJoin(loanApplications, eq(loanApplications.id, loanFraudFlags.applicationId))
      .leftJoin(loanFraudCases, eq(loanFraudCases.flagId, loanFraudFlags.id))
      .where(and(...conditions))
      .orderBy(desc(loanFraudFlags.id))
      .limit(limit + 1);
    const page = paginate(rows, limit, (row) => ({ id: row.flag.id }));
    return {
      items: page.items.map((row) => flagView(row.flag, row.application, row.fraudCase)),
      next_cursor: page.next_cursor,
    };
  }

  /** A flag with its case, the rule results of the check that opened it, and the notes. */
  async get(id: string, executor: Executor = this.#db) {
    const [row] = await executor
      .select({ flag: loanFraudFlags, application: loanApplications, fraudCase: loanFraudCases })
      .from(loanFraudFlags)
      .innerJoin(loanApplications, eq(loanApplications.id, loanFraudFlags.applicationId))
      .leftJoin(loanFraudCases, eq(loanFraudCases.flagId, loanFraudFlags.id))
      .where(eq(loanFraudFlags.id, id))
      .limit(1);
    if (!row) throw commonErrors.notFound('Fraud flag');
    const results = await executor
      .select()
      .from(loanFraudResults)
      .where(eq(loanFraudResults.checkId, row.flag.checkId))
      .orderBy(asc(loanFraudResults.ruleCode));
    const notes = await executor
      .select()
      .from(loanFraudNotes)
      .where(eq(loanFraudNotes.flagId, id))
      .orderBy(asc(loanFraudNotes.createdAt), asc(loanFraudNotes.id));
    return {
      ...flagView(row.flag, row.application, row.fraudCase),
      application_status: row.application.status,
      results: results.map((result) => ({
        rule: result.ruleCode,
        tripped: result.tripped,
        weight: result.weight,
        score: result.score,
        evidence: result.evidence,
      })),
      notes: notes.map(noteView),
    };
  }

  /** Opens the flag's investigation case (or reassigns it), with an optional first note. */
  escalate(
    principal: Principal,
    input: { flag_id: string; assignee_id: string; note?: string; evidence?: Record<string, unknown> },
    context: RequestContext,
  ) {
    return inTransaction(this.#db, async (tx) => {
      const flag = await this.#lockUndecided(tx, input.flag_id);
      const assignee = await findUserById(tx, input.assignee_id);
      if (assignee?.status !== 'active') throw loansErrors.LOAN_FRAUD_ASSIGNEE_UNKNOWN();
      const now = new Date();
      const [fraudCase] = await tx
        .insert(loanFraudCases)
        .values({ id: uuidv7(), flagId: flag.id, assigneeId: assignee.id, openedById: principal.id })
        .onConflictDoUpdate({
          target: loanFraudCases.flagId,
          set: { assigneeId: assignee.id, updatedAt: now },
        })
        .returning();
      await tx
        .update(loanFraudFlags)
        .set({ status: 'investigating', updatedAt: now })
        .where(eq(loanFraudFlags.id, flag.id));
      if (input.note) await this.#insertNote(tx, principal, flag.id, input.note, input.evidence);
      await writeAudit(tx, context, {
        action: 'loan.fraud_case_opened',
        entityType: 'loan_fraud_flag',
        entityId: flag.id,
        after: { case_id: fraudCase!.id, assignee_id: assignee.id },
      });
      return this.get(flag.id, tx);
    });
  }

  /** A note on a flag (also after its decision: an investigation may learn more later). */
  note(
    principal: Principal,
    input: { flag_id: string; note: string; evidence?: Record<string, unknown> },
    context: RequestContext,
  ) {
    return inTransaction(this.#db, async (tx) => {
      const [flag] = await tx
        .select({ id: loanFraudFlags.id })
        .from(loanFraudFlags)
        .where(eq(loanFraudFlags.id, input.flag_id))
        .limit(1);
      if (!flag) throw commonErrors.notFound('Fraud flag');
      const row = await this.#insertNote(tx, principal, flag.id, input.note, input.evidence);
      await writeAudit(tx, context, {
        action: 'loan.fraud_note_added',
        entityType: 'loan_fraud_flag',
        entityId: flag.id,
        after: { note_id: row.id },
      });
      return noteView(row);
    });
  }

  async decide(
    principal: Principal,
    input: { flag_id: string; decision: 'clear' | 'confirm'; reason: string; add_to_deny_list?: boolean },
    context: RequestContext,
  ) {
    const decided = await inTransaction(this.#db, async (tx) => {
      const flag = await this.#lockUndecided(tx, input.flag_id);
      if (flag.status === 'open') throw loansErrors.LOAN_FRAUD_CASE_REQUIRED();
      const [fraudCase] = await tx
        .select()
        .from(loanFraudCases)
        .where(eq(loanFraudCases.flagId, flag.id))
        .limit(1);
      const [application] = await tx
        .select()
        .from(loanApplications)
        .where(eq(loanApplications.id, flag.applicationId))
        .for('update')
        .limit(1);
      const now = new Date();
      const status = input.decision === 'confirm' ? 'confirmed' : 'cleared';
      await tx
        .update(loanFraudFlags)
        .set({
          status,
          decisionReason: input.reason,
          decidedById: principal.id,
          decidedAt: now,
          updatedAt: now,
        })
        .where(eq(loanFraudFlags.id, flag.id));
      let applicationStatus = application!.status;
      let denied: ReturnType<typeof denyView>[] = [];
      if (input.decision === 'confirm') {
        if (DECLINABLE.has(applicationStatus)) {
          applicationStatus = 'declined';
          await tx
            .update(loanApplications)
            .set({
              status: 'declined',
              declineReasons: [FRAUD_DECLINE_REASON],
              decidedById: principal.id,
              decidedAt: now,
              updatedAt: now,
            })
            .where(eq(loanApplications.id, application!.id));
          await emitEvent(
            tx,
            loanApplicationDecided,
            { type: 'loan_application', id: application!.id },
            {
              application_id: application!.id,
              number: application!.number,
              customer_id: application!.customerId,
              status: 'declined',
              reasons: [FRAUD_DECLINE_REASON],
            },
          );
        }
        if (input.add_to_deny_list) {
          const [check] = await tx
            .select()
            .from(loanFraudChecks)
            .where(eq(loanFraudChecks.id, flag.checkId))
            .limit(1);
          denied = await this.#denyList.addFromCase(
            tx,
            [
              { kind: 'national_id_index', value: check?.nationalIdIndex ?? null },
              { kind: 'phone', value: check?.phone ?? null },
              { kind: 'device', value: check?.deviceId ?? application!.deviceId },
            ],
            fraudCase!.id,
            input.reason,
            principal.id,
          );
        }
      } else if (applicationStatus === 'flagged') {
        applicationStatus = 'submitted';
        await tx
          .update(loanApplications)
          .set({ status: 'submitted', updatedAt: now })
          .where(eq(loanApplications.id, application!.id));
      }
      await writeAudit(tx, context, {
        action: input.decision === 'confirm' ? 'loan.fraud_confirmed' : 'loan.fraud_cleared',
        entityType: 'loan_fraud_flag',
        entityId: flag.id,
        after: toJsonSafe({
          case_id: fraudCase!.id,
          application_id: application!.id,
          application_status: applicationStatus,
          deny_listed: denied.length,
        }),
      });
      return {
        applicationId: application!.id,
        resume: input.decision === 'clear' && applicationStatus === 'submitted',
        denied,
      };
    });
    // Scoring may call the bureau, so the continuation runs after the decision committed, never inside it.
    if (decided.resume) await this.#continueAfterFraud(decided.applicationId, context);
    return { ...(await this.get(input.flag_id)), deny_listed: decided.denied };
  }

  async #lockUndecided(tx: Executor, flagId: string): Promise<FlagRow> {
    const [flag] = await tx
      .select()
      .from(loanFraudFlags)
      .where(eq(loanFraudFlags.id, flagId))
      .for('update')
      .limit(1);
    if (!flag) throw commonErrors.notFound('Fraud flag');
    if (flag.status === 'cleared' || flag.status === 'confirmed')
      throw loansErrors.LOAN_FRAUD_FLAG_DECIDED({
        params: { status: flag.status },
        details: { status: flag.status },
      });
    return flag;
  }

  async #insertNote(
    tx: Executor,
    principal: Principal,
    flagId: string,
    note: string,
    evidence: Record<string, unknown> | undefined,
  ): Promise<NoteRow> {
    const [row] = await tx
      .insert(loanFraudNotes)
      .values({
        id: uuidv7(),
        flagId,
        authorType: principal.type,
        authorId: principal.id,
        note,
        evidence: evidence ?? null,
      })
      .returning();
    return row!;
  }
}
