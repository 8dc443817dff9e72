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

/**
 * What the fraud rules need from other modules' services and from the phone-ownership provider, read before the
 * check's transaction: a service reads on its own connection and the provider over HTTP, and either inside a
 * transaction would wait for a connection the transaction holds (PGlite has one; a pool runs dry under load).
 */
export interface FraudPrefetch {
  customerId: string;
  currency: string;
  /** The customer's registered devices (identity). */
  devices: { deviceId: string; createdAt: Date }[];
  /** The customer's wallet in the currency (wallets), or null. */
  walletId: string | null;
  /** When the customer's approved KYC upgrades were decided (kyc). */
  kycApprovals: Date[];
  /** The provider's answer for `phone`; null when no provider is configured or the customer has no phone. */
  ownership: { phone: string; result: OwnershipResult } | null;
}

export type OwnershipResult =
  | { kind: 'answer'; ownerMatch: boolean | null; simSwapAt: Date | null; deviceChangeAt: Date | null }
  | { kind: 'unknown_number' }
  | { kind: 'error'; error: string };

/**
 * Runs every enabled fraud rule on an application inside the caller's transaction, stores the check and its evidence.
 * `prepare` runs first, outside any transaction; `check` then reads only through `tx` and the prefetch.
 */
export interface FraudChecker {
  prepare(customerId: string, currency: string): Promise<FraudPrefetch>;
  check(
    tx: Executor,
    applicationId: string,
    context: RequestContext,
    prefetched: FraudPrefetch,
  ): Promise<FraudOutcome>;
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
