/** The scorecard and the decision policy as pure functions: bands, knock-outs, caps, the limit and its rounding. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type BureauOutcome,
  bureauPoints,
  decide,
  delinquencyClass,
  type PolicyInput,
} from './loans.scoring.policy.ts';
import { type ScorecardInput, scorecard } from './loans.scoring.scorecard.ts';

const NO_LOANS = {
  closedOnTime: 0,
  closedLate: 0,
  writtenOff: 0,
  active: 0,
  currentDaysPastDue: 0,
  worstDaysLate: 0,
};

const STRONG: ScorecardInput = {
  walletTenureDays: 400,
  averageBalanceMinor: 5_000_000n,
  monthsWithInflows: 3,
  loans: NO_LOANS,
  kycTier: 'premium',
  kycTierRank: 3,
  amountMinor: 5_000_000n,
};

function policy(card: ScorecardInput, bureau: BureauOutcome, overrides: Partial<PolicyInput> = {}) {
  return decide({
    scorecard: scorecard(card),
    bureau,
    amountMinor: card.amountMinor,
    averageMonthlyInflowMinor: 3_000_000n,
    productMaxMinor: 50_000_000n,
    exponent: 2,
    ...overrides,
  });
}

const ok = (score: number, delinquencyCode = '002'): BureauOutcome => ({
  status: 'ok',
  score,
  delinquencyCode,
  delinquencySummary: null,
});

const codes = (reasons: { code: string }[]) => reasons.map((reason) => reason.code);

describe('scorecard', () => {
  test('bands per factor: tenure, balance cover, inflow months, loans, tier', () => {
    const card = scorecard(STRONG);
    assert.equal(card.score, 87);
    assert.equal(card.max_score, 100);
    const weak = scorecard({
      ...STRONG,
      walletTenureDays: 45,
      averageBalanceMinor: 500_000n,
      monthsWithInflows: 2,
      kycTier: 'standard',
      kycTierRank: 2,
      loans: { ...NO_LOANS, closedOnTime: 1, closedLate: 1, worstDaysLate: 12 },
    });
    assert.deepEqual(
      weak.factors.map((f) => [f.factor, f.points, f.reason_code, f.adverse]),
      [
        ['wallet_tenure', 5, 'WALLET_TENURE_SHORT', true],
        ['average_balance', 8, 'AVG_BALANCE_LOW', true],
        ['inflow_regularity', 12, 'INFLOWS_MOSTLY_REGULAR', false],
        ['loan_performance', 15, 'LOANS_REPAID_LATE', false],
        ['kyc_tier', 10, 'KYC_TIER_STANDARD', false],
      ],
    );
    assert.deepEqual(weak.knockouts, []);
  });

  test('a written-off loan or arrears over 30 days is a knock-out', () => {
    assert.deepEqual(codes(scorecard({ ...STRONG, loans: { ...NO_LOANS, writtenOff: 1 } }).knockouts), [
      'LOAN_WRITTEN_OFF',
    ]);
    assert.deepEqual(
      codes(scorecard({ ...STRONG, loans: { ...NO_LOANS, active: 1, currentDaysPastDue: 31 } }).knockouts),
      ['LOAN_IN_ARREARS'],
    );
    const pastDue = scorecard({ ...STRONG, loans: { ...NO_LOANS, active: 1, currentDaysPastDue: 3 } });
    assert.deepEqual(pastDue.knockouts, []);
    assert.equal(pastDue.factors[3]?.reason_code, 'LOAN_PAST_DUE');
  });
});

describe('policy', () => {
  test('Metropol’s scale and delinquency codes', () => {
    assert.equal(bureauPoints(200), 0);
    assert.equal(bureauPoints(900), 100);
    assert.equal(bureauPoints(1000), 100);
    assert.equal(delinquencyClass('004'), 'listed');
    assert.equal(delinquencyClass('005'), 'listed');
    assert.equal(delinquencyClass('003'), 'arrears');
    assert.equal(delinquencyClass('002'), 'clear');
    assert.equal(delinquencyClass('009'), 'unknown');
  });

  test('without a bureau the internal score decides and the reasons say so', () => {
    const result = policy(STRONG, { status: 'not_configured' });
    assert.equal(result.decision, 'approve');
    assert.equal(result.final_score, 87);
    assert.deepEqual(codes(result.reasons), ['BUREAU_NOT_CONFIGURED']);
    assert.equal(result.reasons[0]?.adverse, false);
  });

  test('a missing bureau answer never approves; an internal decline stays a decline', () => {
    for (const bureau of [
      { status: 'timeout', message: 'timed out' },
      { status: 'unavailable', message: 'refused' },
      { status: 'error', code: '103', message: 'invalid' },
      { status: 'no_identity' },
    ] as BureauOutcome[]) {
      assert.equal(policy(STRONG, bureau).decision, 'refer', bureau.status);
    }
    const thin = {
      ...STRONG,
      walletTenureDays: 1,
      averageBalanceMinor: 0n,
      monthsWithInflows: 0,
      kycTierRank: 1,
    };
    assert.equal(policy(thin, { status: 'timeout', message: 'timed out' }).decision, 'decline');
  });

  test('bureau arrears, an unknown code and a low score refer; a listing or a very low score declines', () => {
    assert.equal(policy(STRONG, ok(700, '003')).decision, 'refer');
    assert.equal(policy(STRONG, ok(700, '009')).decision, 'refer');
    const low = policy(STRONG, ok(420));
    assert.equal(low.decision, 'refer');
    assert.ok(codes(low.reasons).includes('BUREAU_SCORE_LOW'));
    const listed = policy(STRONG, ok(880, '004'));
    assert.equal(listed.decision, 'decline');
    assert.equal(listed.recommended_limit_minor, 0n);
    assert.deepEqual(codes(listed.reasons), ['BUREAU_DELINQUENT']);
    assert.equal(policy(STRONG, ok(250)).decision, 'decline');
  });

  test('the limit: months of inflow by score, capped by the product, whole units; above it refers', () => {
    // 81 → three months of KES 30,000.
    assert.equal(policy(STRONG, ok(700)).recommended_limit_minor, 9_000_000n);
    assert.equal(
      policy(STRONG, ok(700), { productMaxMinor: 4_000_050n }).recommended_limit_minor,
      4_000_000n,
      'capped by the product, rounded down to a whole shilling',
    );
    const above = policy({ ...STRONG, amountMinor: 9_500_000n }, ok(700));
    assert.equal(above.decision, 'refer');
    assert.deepEqual(codes(above.reasons), ['AMOUNT_ABOVE_RECOMMENDED_LIMIT']);
    // 60–74 → two months.
    const middling = policy({ ...STRONG, kycTierRank: 1, walletTenureDays: 100 }, ok(600), {
      averageMonthlyInflowMinor: 1_234_567n,
    });
    assert.equal(middling.final_score, 60);
    assert.equal(middling.recommended_limit_minor, 2_469_100n);
  });
});
