/**
 * The decision policy (pure): combines the internal scorecard with the credit bureau's answer into approve, refer
 * or decline, with a recommended limit and the reasons, the adverse ones first. See loans.scoring.scorecard.ts for
 * the scorecard and the thresholds' summary.
 */
import type { ScorecardResult, ScoringReason } from './loans.scoring.scorecard.ts';

export type ScoringDecision = 'approve' | 'refer' | 'decline';

/** What the bureau said, or why it said nothing. */
export type BureauOutcome =
  | { status: 'not_configured' }
  /** The customer has no identity document the bureau takes (or none on file). */
  | { status: 'no_identity' }
  | { status: 'ok'; score: number; delinquencyCode: string; delinquencySummary: string | null }
  /** The bureau answered has_error (or refused the request). */
  | { status: 'error'; code: string | null; message: string }
  | { status: 'timeout'; message: string }
  | { status: 'unavailable'; message: string };

export type BureauStatus = BureauOutcome['status'];

export const APPROVE_AT = 60;
export const DECLINE_BELOW = 35;

/** Metropol's scale runs 200–900: scaled to 0–100 to combine with the scorecard. */
export function bureauPoints(score: number): number {
  return Math.max(0, Math.min(100, Math.round((score - 200) / 7)));
}

/**
 * How the policy reads Metropol's delinquency code. "004" is Metropol's sample for "Current delinquency True" (a
 * non-performing, listed account) and "005" is read the same way; "003" as in arrears but not listed; "001"/"002" as
 * clear. Any other code refers the application to a person. Confirm the table with Metropol (INTEGRATIONS.md §7
 * notes the published API may have changed).
 */
export function delinquencyClass(code: string): 'clear' | 'arrears' | 'listed' | 'unknown' {
  if (code === '004' || code === '005') return 'listed';
  if (code === '003') return 'arrears';
  if (code === '001' || code === '002') return 'clear';
  return 'unknown';
}

export interface PolicyInput {
  scorecard: ScorecardResult;
  bureau: BureauOutcome;
  amountMinor: bigint;
  /** Inflows over the last 90 days divided by three (minor units). */
  averageMonthlyInflowMinor: bigint;
  productMaxMinor: bigint;
  /** The currency's exponent: the limit is rounded down to a whole unit. */
  exponent: number;
}

export interface PolicyResult {
  decision: ScoringDecision;
  /** The score the decision was taken on: the combined score with a bureau score, else the internal one. */
  final_score: number;
  recommended_limit_minor: bigint;
  /** Adverse reasons first (decisive ones before factors), then the informative ones. */
  reasons: ScoringReason[];
}

const ORDER: Record<ScoringDecision, number> = { approve: 0, refer: 1, decline: 2 };
const worse = (a: ScoringDecision, b: ScoringDecision): ScoringDecision => (ORDER[a] >= ORDER[b] ? a : b);

/** Months of average inflow the limit allows at a score. */
export function limitMultiple(score: number): bigint {
  if (score >= 75) return 3n;
  if (score >= APPROVE_AT) return 2n;
  return 1n;
}

export function decide(input: PolicyInput): PolicyResult {
  const { bureau, scorecard } = input;
  const decisive: ScoringReason[] = [...scorecard.knockouts];
  const info: ScoringReason[] = [];
  let cap: ScoringDecision = 'approve';
  let finalScore = scorecard.score;

  switch (bureau.status) {
    case 'not_configured':
      info.push({
        code: 'BUREAU_NOT_CONFIGURED',
        message: 'No credit bureau is configured: the decision rests on the internal score alone',
        adverse: false,
      });
      break;
    case 'no_identity':
      cap = 'refer';
      decisive.push({
        code: 'BUREAU_NO_IDENTITY',
        message:
          'We could not check your credit history: no identity document the credit bureau accepts is on file',
        adverse: false,
      });
      break;
    case 'error':
    case 'timeout':
    case 'unavailable':
      cap = 'refer';
      decisive.push({
        code: bureau.status === 'error' ? 'BUREAU_ERROR' : 'BUREAU_UNAVAILABLE',
        message: 'The credit bureau did not answer: the application needs a review by a loan officer',
        adverse: false,
      });
      break;
    case 'ok': {
      finalScore = Math.round((scorecard.score * 3 + bureauPoints(bureau.score) * 2) / 5);
      const delinquency = delinquencyClass(bureau.delinquencyCode);
      if (delinquency === 'listed')
        decisive.push({
          code: 'BUREAU_DELINQUENT',
          message: 'The credit bureau reports a loan in default in your name',
          adverse: true,
        });
      else if (delinquency === 'arrears' || delinquency === 'unknown') {
        cap = 'refer';
        decisive.push(
          delinquency === 'arrears'
            ? {
                code: 'BUREAU_IN_ARREARS',
                message: 'The credit bureau reports an overdue loan in your name',
                adverse: true,
              }
            : {
                code: 'BUREAU_STATUS_UNCLEAR',
                message: 'The credit bureau’s answer needs a review by a loan officer',
                adverse: false,
              },
        );
      }
      if (bureau.score < 300)
        decisive.push({
          code: 'BUREAU_SCORE_VERY_LOW',
          message: 'Your credit bureau score is very low',
          adverse: true,
        });
      else if (bureau.score < 450) {
        cap = 'refer';
        decisive.push({
          code: 'BUREAU_SCORE_LOW',
          message: 'Your credit bureau score is low',
          adverse: true,
        });
      }
      break;
    }
  }

  const knockedOut = decisive.some(
    (reason) =>
      reason.adverse &&
      ['LOAN_WRITTEN_OFF', 'LOAN_IN_ARREARS', 'BUREAU_DELINQUENT', 'BUREAU_SCORE_VERY_LOW'].includes(
        reason.code,
      ),
  );
  let decision: ScoringDecision =
    finalScore >= APPROVE_AT ? 'approve' : finalScore >= DECLINE_BELOW ? 'refer' : 'decline';
  if (decision === 'decline')
    decisive.push({
      code: 'SCORE_TOO_LOW',
      message: 'Your overall credit score is below what this loan needs',
      adverse: true,
    });
  if (knockedOut) decision = 'decline';
  decision = worse(decision, cap);

  const limit = decision === 'decline' ? 0n : recommendedLimit(input, finalScore);
  if (decision === 'approve' && input.amountMinor > limit) {
    decision = 'refer';
    decisive.push({
      code: 'AMOUNT_ABOVE_RECOMMENDED_LIMIT',
      message: 'The amount requested is above what your wallet activity supports',
      adverse: true,
    });
  }

  // The factors that cost the most points, as adverse-action reasons (at most four, as credit notices usually give).
  const factorReasons = scorecard.factors
    .filter((item) => item.adverse && !decisive.some((reason) => reason.code === item.reason_code))
    .sort((a, b) => b.max_points - b.points - (a.max_points - a.points))
    .slice(0, 4)
    .map((item) => ({ code: item.reason_code, message: item.reason, adverse: true }));
  return {
    decision,
    final_score: finalScore,
    recommended_limit_minor: limit,
    reasons: [...decisive, ...factorReasons, ...info],
  };
}

/** A multiple of the average monthly inflow by score, capped by the product's maximum, in whole currency units. */
export function recommendedLimit(input: PolicyInput, score: number): bigint {
  const raw = input.averageMonthlyInflowMinor * limitMultiple(score);
  let capped = raw;
  if (capped > input.productMaxMinor) capped = input.productMaxMinor;
  const unit = 10n ** BigInt(input.exponent);
  return capped <= 0n ? 0n : (capped / unit) * unit;
}
