/**
 * How the loans module's areas call each other (the application pipeline: fraud check → scoring → decision →
 * approval). Each area implements its side in its own file; index.ts wires the instances together.
 */
import type { RequestContext } from '../../platform/audit.ts';
import type { Executor } from '../../platform/db.ts';
import type { Principal } from '../../platform/http.ts';

export interface ReasonCode {
  code: string;
  message: string;
}

export interface FraudOutcome {
  /** The stored check (loan_fraud_checks.id). */
  check_id: string;
  score: number;
  threshold: number;
  /** score >= threshold: the application waits for an investigation (a fraud flag was opened). */
  flagged: boolean;
  flag_id: string | null;
}

/** Runs every enabled fraud rule on an application inside the caller's transaction, stores the check and its evidence. */
export interface FraudChecker {
  check(tx: Executor, applicationId: string, context: RequestContext): Promise<FraudOutcome>;
}

export interface ScoringOutcome {
  /** The stored result (loan_scoring_results.id). */
  result_id: string;
  decision: 'approve' | 'refer' | 'decline';
  recommended_limit_minor: bigint;
  /** Reason codes of the internal scorecard and the bureau (adverse-action reasons when declined). */
  reasons: ReasonCode[];
}

/** Scores an application (internal scorecard + bureau; may call the bureau over HTTP, so never inside a transaction). */
export interface Scorer {
  score(applicationId: string, context: RequestContext): Promise<ScoringOutcome>;
}

/**
 * Approves an application: fixes the terms, creates the loan and its schedule (state `approved`, not yet disbursed).
 * `principal` is the loan officer, or the system for automatic approval.
 */
export interface LoanApprover {
  approveApplication(
    applicationId: string,
    principal: Principal | { type: 'system'; id: 'system' },
    context: RequestContext,
  ): Promise<{ loan_id: string }>;
}
