/**
 * The internal scorecard and the decision policy, as pure functions (no I/O): the service gathers the facts and the
 * bureau's answer, these turn them into points, reason codes, a decision and a recommended limit.
 *
 * Scorecard (0–100 points, each factor with a reason code and whether it counts against the applicant):
 *   wallet tenure 20 · average balance over 90 days (relative to the amount asked) 20 · inflow regularity (months of
 *   the last three with an inflow) 20 · past loan performance 25 · KYC tier 15.
 * Policy: with a bureau answer the score is 60 % internal + 40 % bureau (Metropol's 200–900 scaled to 0–100); at
 * least 60 approves, under 35 declines, between refers. Knock-outs decline whatever the score (a written-off loan,
 * a loan more than 30 days in arrears, a bureau listing); a missing bureau answer when one is configured never
 * approves (refer). The recommended limit is 1, 2 or 3 months of average inflow (by score), capped by the product's
 * maximum; an approval above it becomes a referral.
 */

export const FACTOR_NAMES = [
  'wallet_tenure',
  'average_balance',
  'inflow_regularity',
  'loan_performance',
  'kyc_tier',
] as const;
export type FactorName = (typeof FACTOR_NAMES)[number];

export interface ScoringReason {
  code: string;
  /** Worded for the applicant: it may be shown to them as an adverse-action reason. */
  message: string;
  /** Counts against the applicant (an adverse-action reason when the application is declined). */
  adverse: boolean;
}

export interface ScorecardFactor {
  factor: FactorName;
  /** The fact scored, readable by staff: "412 days", "3 of 3 months", "38 % of the amount". */
  value: string;
  points: number;
  max_points: number;
  reason_code: string;
  reason: string;
  adverse: boolean;
}

export interface LoanHistory {
  /** Loans closed with every instalment paid by its due date. */
  closedOnTime: number;
  /** Loans closed with an instalment paid after its due date. */
  closedLate: number;
  writtenOff: number;
  /** Approved or disbursed loans still running. */
  active: number;
  /** The worst days past due among running loans now. */
  currentDaysPastDue: number;
  /** The most days any instalment of any loan was paid (or is still unpaid) after its due date. */
  worstDaysLate: number;
}

export interface ScorecardInput {
  /** Days since the wallet in the application's currency was opened; null when there is none. */
  walletTenureDays: number | null;
  /** Time-weighted average balance over the last 90 days (minor units). */
  averageBalanceMinor: bigint;
  /** Of the last three 30-day periods, how many had an inflow (0–3). */
  monthsWithInflows: number;
  loans: LoanHistory;
  kycTier: string;
  /** The tier's rank in the KYC module's order (1 = the lowest; 0 when unknown). */
  kycTierRank: number;
  amountMinor: bigint;
}

export interface ScorecardResult {
  score: number;
  max_score: number;
  factors: ScorecardFactor[];
  /** Reasons that decline whatever the score (a written-off loan, serious arrears). */
  knockouts: ScoringReason[];
}

interface Band {
  points: number;
  code: string;
  message: string;
  adverse: boolean;
}

const band = (points: number, code: string, message: string, adverse: boolean): Band => ({
  points,
  code,
  message,
  adverse,
});

function factor(name: FactorName, value: string, max: number, chosen: Band): ScorecardFactor {
  return {
    factor: name,
    value,
    points: chosen.points,
    max_points: max,
    reason_code: chosen.code,
    reason: chosen.message,
    adverse: chosen.adverse,
  };
}

function tenure(days: number | null): ScorecardFactor {
  const value = days === null ? 'no wallet' : `${days} days`;
  if (days === null)
    return factor(
      'wallet_tenure',
      value,
      20,
      band(0, 'NO_WALLET', 'You have no wallet in this currency', true),
    );
  if (days >= 365)
    return factor(
      'wallet_tenure',
      value,
      20,
      band(20, 'WALLET_TENURE_LONG', 'Your wallet is over a year old', false),
    );
  if (days >= 180)
    return factor(
      'wallet_tenure',
      value,
      20,
      band(15, 'WALLET_TENURE_ESTABLISHED', 'Your wallet is over six months old', false),
    );
  if (days >= 90)
    return factor(
      'wallet_tenure',
      value,
      20,
      band(10, 'WALLET_TENURE_MODERATE', 'Your wallet is over three months old', false),
    );
  return factor(
    'wallet_tenure',
    value,
    20,
    band(days >= 30 ? 5 : 0, 'WALLET_TENURE_SHORT', 'Your wallet has been open for a short time', true),
  );
}

/** Whole percent of the amount asked that the average balance covers (0 when the balance is not positive). */
export function balanceCoverPercent(averageBalanceMinor: bigint, amountMinor: bigint): number {
  if (averageBalanceMinor <= 0n || amountMinor <= 0n) return 0;
  const percent = (averageBalanceMinor * 100n) / amountMinor;
  return percent > 1000n ? 1000 : Number(percent);
}

function averageBalance(averageBalanceMinor: bigint, amountMinor: bigint): ScorecardFactor {
  const cover = balanceCoverPercent(averageBalanceMinor, amountMinor);
  const value = `${averageBalanceMinor} minor units, ${cover} % of the amount`;
  const low = 'Your average balance over the last 90 days is low compared with the amount requested';
  if (cover >= 50)
    return factor(
      'average_balance',
      value,
      20,
      band(20, 'AVG_BALANCE_STRONG', 'Your average balance is strong', false),
    );
  if (cover >= 20)
    return factor(
      'average_balance',
      value,
      20,
      band(14, 'AVG_BALANCE_ADEQUATE', 'Your average balance is adequate', false),
    );
  if (cover >= 5) return factor('average_balance', value, 20, band(8, 'AVG_BALANCE_LOW', low, true));
  if (averageBalanceMinor > 0n)
    return factor('average_balance', value, 20, band(3, 'AVG_BALANCE_LOW', low, true));
  return factor(
    'average_balance',
    value,
    20,
    band(0, 'AVG_BALANCE_NONE', 'Your wallet held no balance over the last 90 days', true),
  );
}

function inflowRegularity(months: number): ScorecardFactor {
  const value = `${months} of 3 months`;
  if (months >= 3)
    return factor(
      'inflow_regularity',
      value,
      20,
      band(20, 'INFLOWS_REGULAR', 'Money comes into your wallet every month', false),
    );
  if (months === 2)
    return factor(
      'inflow_regularity',
      value,
      20,
      band(
        12,
        'INFLOWS_MOSTLY_REGULAR',
        'Money came into your wallet in two of the last three months',
        false,
      ),
    );
  if (months === 1)
    return factor(
      'inflow_regularity',
      value,
      20,
      band(5, 'INFLOWS_IRREGULAR', 'Money came into your wallet in only one of the last three months', true),
    );
  return factor(
    'inflow_regularity',
    value,
    20,
    band(0, 'NO_INFLOWS', 'No money came into your wallet in the last three months', true),
  );
}

function loanPerformance(loans: LoanHistory): ScorecardFactor {
  const value =
    `${loans.closedOnTime} closed on time, ${loans.closedLate} closed late, ${loans.writtenOff} written off, ` +
    `${loans.active} running (${loans.currentDaysPastDue} days past due), worst ${loans.worstDaysLate} days late`;
  const chosen = (): Band => {
    if (loans.writtenOff > 0)
      return band(0, 'LOAN_WRITTEN_OFF', 'A previous loan with us was written off', true);
    if (loans.currentDaysPastDue > 30)
      return band(0, 'LOAN_IN_ARREARS', 'A loan with us is more than 30 days overdue', true);
    if (loans.currentDaysPastDue > 0) return band(5, 'LOAN_PAST_DUE', 'A loan with us is overdue', true);
    if (loans.worstDaysLate > 30)
      return band(
        8,
        'LOANS_REPAID_VERY_LATE',
        'Past loan instalments were paid more than 30 days late',
        true,
      );
    if (loans.worstDaysLate > 0)
      return band(15, 'LOANS_REPAID_LATE', 'Some past loan instalments were paid late', false);
    if (loans.closedOnTime > 0)
      return band(25, 'LOANS_REPAID_ON_TIME', 'You repaid your previous loans on time', false);
    if (loans.active > 0) return band(15, 'LOAN_CURRENT', 'Your current loan is up to date', false);
    return band(12, 'NO_LOAN_HISTORY', 'You have no loan history with us yet', false);
  };
  return factor('loan_performance', value, 25, chosen());
}

function kycTier(tier: string, rank: number): ScorecardFactor {
  const value = `${tier} (rank ${rank})`;
  if (rank >= 3)
    return factor('kyc_tier', value, 15, band(15, 'KYC_TIER_FULL', 'Your identity is fully verified', false));
  if (rank === 2)
    return factor('kyc_tier', value, 15, band(10, 'KYC_TIER_STANDARD', 'Your identity is verified', false));
  return factor(
    'kyc_tier',
    value,
    15,
    band(0, 'KYC_TIER_BASIC', 'Your identity verification is at the basic level', true),
  );
}

export function scorecard(input: ScorecardInput): ScorecardResult {
  const factors = [
    tenure(input.walletTenureDays),
    averageBalance(input.averageBalanceMinor, input.amountMinor),
    inflowRegularity(Math.max(0, Math.min(3, input.monthsWithInflows))),
    loanPerformance(input.loans),
    kycTier(input.kycTier, input.kycTierRank),
  ];
  const knockouts = factors
    .filter((item) => item.reason_code === 'LOAN_WRITTEN_OFF' || item.reason_code === 'LOAN_IN_ARREARS')
    .map((item) => ({ code: item.reason_code, message: item.reason, adverse: true }));
  return {
    score: factors.reduce((sum, item) => sum + item.points, 0),
    max_score: factors.reduce((sum, item) => sum + item.max_points, 0),
    factors,
    knockouts,
  };
}
