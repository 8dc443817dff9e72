/**
 * The application pipeline after submission (design §"The pipeline"): scoring outside any transaction, then the
 * decision in one transaction — decline (with the adverse-action reasons), refer to a loan officer, or approve
 * automatically when scoring says approve and the amount is within the product's auto-approval limit (the accounts
 * area's `LoanApprover` creates the loan). A scorer that throws leaves the application `referred`: it is never lost.
 * Each outcome is announced once, by the `loans.application_decided` event (the customer's message follows from it).
 */
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { emitEvent } from '../../platform/outbox.ts';
import {
  type ApplicationRow,
  loadApplication,
  lockApplication,
  updateApplication,
} from './loans.applications.repository.ts';
import { type ApplicationView, applicationView } from './loans.applications.views.ts';
import { loanApplicationDecided } from './loans.events.ts';
import type { FraudChecker, LoanApprover, ReasonCode, Scorer, ScoringOutcome } from './loans.ports.ts';
import type { LoanProductsService } from './loans.products.ts';

/** The other areas the pipeline calls; index.ts connects them once every area is built. */
export interface PipelinePorts {
  fraud?: FraudChecker;
  scoring?: Scorer;
  approver?: LoanApprover;
}

export type AnnouncedStatus = Extract<
  ApplicationRow['status'],
  'approved' | 'declined' | 'referred' | 'flagged'
>;

const SYSTEM = { type: 'system', id: 'system' } as const;

export class ApplicationPipeline {
  readonly #db: Executor;
  readonly #products: LoanProductsService;
  ports: PipelinePorts = {};

  constructor(options: { db: Executor; products: LoanProductsService }) {
    this.#db = options.db;
    this.#products = options.products;
  }

  /**
   * Emits `loans.application_decided` in the caller's transaction (the customer's message follows from it:
   * loans.applications.notify.ts).
   */
  async announce(
    tx: Executor,
    row: ApplicationRow,
    status: AnnouncedStatus,
    reasons: ReasonCode[],
  ): Promise<void> {
    await emitEvent(
      tx,
      loanApplicationDecided,
      { type: 'loan_application', id: row.id },
      { application_id: row.id, number: row.number, customer_id: row.customerId, status, reasons },
    );
  }

  /**
   * Scores a `submitted` application and records the decision; returns the resulting view. `claim` (the submission's
   * Idempotency-Key) stores each newer answer, so a replay answers what the request finally answered.
   */
  async scoreAndDecide(
    applicationId: string,
    context: RequestContext,
    claim: IdempotencyClaim | null,
    shown: (view: ApplicationView) => ApplicationView,
  ): Promise<ApplicationView> {
    const { scoring, approver } = this.ports;
    let outcome: ScoringOutcome | null = null;
    let failure: string | null = null;
    if (scoring) {
      try {
        outcome = await scoring.score(applicationId, context);
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
      }
    }
    const autoApprove = await inTransaction(this.#db, async (tx) => {
      const row = await lockApplication(tx, applicationId);
      // Withdrawn (or decided by staff) while it was being scored: that outcome stands.
      if (row?.status !== 'submitted') return false;
      const terms = await this.#products.version(row.productId, row.productVersion, tx);
      const limit = BigInt(terms.auto_approve_limit_minor);
      const auto =
        outcome?.decision === 'approve' && approver !== undefined && limit > 0n && row.amountMinor <= limit;
      const declined = outcome?.decision === 'decline';
      const status = declined ? 'declined' : 'referred';
      const reasons: ReasonCode[] = outcome
        ? outcome.reasons
        : [
            failure === null
              ? { code: 'MANUAL_REVIEW', message: 'No automatic scoring: a loan officer decides' }
              : { code: 'SCORING_UNAVAILABLE', message: 'Scoring failed: a loan officer decides' },
          ];
      await updateApplication(tx, row.id, {
        status,
        ...(outcome
          ? {
              scoringResultId: outcome.result_id,
              decision: outcome.decision,
              recommendedLimitMinor: outcome.recommended_limit_minor,
            }
          : {}),
        ...(declined ? { declineReasons: reasons, decidedById: SYSTEM.id, decidedAt: new Date() } : {}),
      });
      await writeAudit(tx, context, {
        action: failure === null ? 'loan_application.scored' : 'loan_application.scoring_failed',
        entityType: 'loan_application',
        entityId: row.id,
        before: { status: row.status },
        after: { status, decision: outcome?.decision ?? null, reasons, auto_approve: auto, error: failure },
      });
      // An automatic approval is announced once the loan exists (or as a referral when approval fails).
      if (!auto) await this.announce(tx, row, status, declined ? reasons : []);
      await claim?.commit(tx, 201, shown(applicationView((await loadApplication(tx, row.id))!)));
      return auto;
    });
    if (autoApprove && approver) await this.#approve(applicationId, approver, context, claim, shown);
    return shown(applicationView((await loadApplication(this.#db, applicationId))!));
  }

  async #approve(
    applicationId: string,
    approver: LoanApprover,
    context: RequestContext,
    claim: IdempotencyClaim | null,
    shown: (view: ApplicationView) => ApplicationView,
  ): Promise<void> {
    let failure: string | null = null;
    try {
      await approver.approveApplication(applicationId, SYSTEM, context);
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    await inTransaction(this.#db, async (tx) => {
      const row = await lockApplication(tx, applicationId);
      if (!row) return;
      if (failure !== null)
        await writeAudit(tx, context, {
          action: 'loan_application.auto_approval_failed',
          entityType: 'loan_application',
          entityId: row.id,
          after: { status: row.status, error: failure },
        });
      if (row.status === 'approved' || row.status === 'referred')
        await this.announce(tx, row, row.status, []);
      await claim?.commit(tx, 201, shown(applicationView((await loadApplication(tx, row.id))!)));
    });
  }
}
