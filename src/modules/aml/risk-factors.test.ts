/**
 * Customer risk scoring as designed (aml.risk.factors.ts), without a database: each factor moves the score the way
 * its rule says, the weights weigh, and the bands come from the settings.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  bandOf,
  isHighRiskOccupation,
  type RiskInputs,
  type RiskSettings,
  scoreRisk,
} from './aml.risk.factors.ts';

const SETTINGS: RiskSettings = {
  weights: { product_tier: 1, geography: 2, occupation_income: 1, pep: 2, channel_mix: 1, alert_history: 2 },
  bands: { medium: 40, high: 70 },
  highRiskCountries: ['IR', 'KP', 'MM'],
  highRiskOccupations: ['casino', 'money changer', 'gold'],
  pepAlwaysHigh: true,
};

function inputs(overrides: Partial<RiskInputs> = {}): RiskInputs {
  return {
    tier: { code: 'basic', rank: 1, minRank: 1, maxRank: 4 },
    products: [{ code: 'KES_STANDARD', currency: 'KES' }],
    nationality: 'KE',
    residence: ['KE'],
    counterparties: [],
    occupation: 'Teacher',
    incomeBand: '10k-50k',
    screening: null,
    channels: { cashOrUssd: 0, payments: 0 },
    alerts: { low: 0, medium: 0, high: 0, critical: 0 },
    ...overrides,
  };
}

const factor = (input: RiskInputs, name: string, settings = SETTINGS) =>
  scoreRisk(input, settings).factors.find((f) => f.factor === name)!;
const score = (input: RiskInputs, settings = SETTINGS) => scoreRisk(input, settings).score;

describe('customer risk factors', () => {
  test('a plain customer scores low: only the lowest tier and a known occupation count', () => {
    const rated = scoreRisk(inputs(), SETTINGS);
    assert.equal(rated.band, 'low');
    assert.equal(factor(inputs(), 'product_tier').score, 10);
    assert.equal(factor(inputs(), 'occupation_income').score, 20);
    // (10×1 + 20×1) / 9
    assert.equal(rated.score, 3.33);
    assert.deepEqual(
      rated.factors.map((f) => [f.factor, f.weight]),
      [
        ['product_tier', 1],
        ['geography', 2],
        ['occupation_income', 1],
        ['pep', 2],
        ['channel_mix', 1],
        ['alert_history', 2],
      ],
    );
  });

  test('product and tier: a higher tier and more wallet currencies score higher', () => {
    const premium = inputs({ tier: { code: 'premium', rank: 3, minRank: 1, maxRank: 4 } });
    const business = inputs({ tier: { code: 'business', rank: 4, minRank: 1, maxRank: 4 } });
    assert.equal(factor(premium, 'product_tier').score, 63.33);
    assert.equal(factor(business, 'product_tier').score, 90);
    const twoCurrencies = inputs({
      products: [
        { code: 'KES_STANDARD', currency: 'KES' },
        { code: 'USD_STANDARD', currency: 'USD' },
      ],
    });
    assert.equal(factor(twoCurrencies, 'product_tier').score, 20);
    assert.ok(score(business) > score(premium) && score(premium) > score(inputs()));
  });

  test('geography: a high-risk nationality or residence is 100; counterparties by their share', () => {
    assert.equal(factor(inputs({ nationality: 'IR' }), 'geography').score, 100);
    assert.equal(factor(inputs({ residence: ['KE', 'kp'] }), 'geography').score, 100);
    const someRisky = inputs({
      counterparties: [
        { customerId: 'a', nationality: 'MM' },
        { customerId: 'b', nationality: 'KE' },
        { customerId: 'c', nationality: null },
        { customerId: 'd', nationality: 'UG' },
      ],
    });
    const geography = factor(someRisky, 'geography');
    assert.equal(geography.score, 62.5);
    assert.deepEqual((geography.value as { high_risk: string[] }).high_risk, ['MM']);
    assert.equal(
      factor(inputs({ counterparties: [{ customerId: 'b', nationality: 'KE' }] }), 'geography').score,
      0,
    );
    // The list is a setting: the same customer is clean when the country leaves it.
    assert.equal(
      factor(inputs({ nationality: 'IR' }), 'geography', { ...SETTINGS, highRiskCountries: [] }).score,
      0,
    );
    assert.ok(score(inputs({ nationality: 'IR' })) - score(inputs()) > 22);
  });

  test('occupation and income: a listed trade is high, unknown is medium, a declared income lowers it', () => {
    assert.equal(factor(inputs({ occupation: 'Casino cashier' }), 'occupation_income').score, 50);
    assert.equal(factor(inputs({ occupation: null, incomeBand: null }), 'occupation_income').score, 50);
    assert.equal(factor(inputs({ occupation: 'Teacher', incomeBand: null }), 'occupation_income').score, 35);
    assert.equal(factor(inputs({ occupation: 'Casino', incomeBand: null }), 'occupation_income').score, 65);
    assert.ok(isHighRiskOccupation('Licensed MONEY-CHANGER', ['money changer']));
    assert.ok(isHighRiskOccupation('gold dealer', ['gold']));
    assert.ok(!isHighRiskOccupation('Goldsmith apprentice', ['gold']));
  });

  test('PEP: a PEP match scores 100 and makes the customer high by default', () => {
    const pep = inputs({ screening: { id: 's1', outcome: 'review', pep: true } });
    const rated = scoreRisk(pep, SETTINGS);
    assert.equal(factor(pep, 'pep').score, 100);
    assert.equal(rated.pep, true);
    assert.equal(rated.band, 'high');
    assert.ok(rated.score < 70, 'high by the PEP rule, not by the score');
    assert.equal(scoreRisk(pep, { ...SETTINGS, pepAlwaysHigh: false }).band, 'low');
    assert.equal(factor(inputs({ screening: { id: 's2', outcome: 'clear', pep: false } }), 'pep').score, 0);
  });

  test('channel mix: the share of cash and USSD payments', () => {
    assert.equal(factor(inputs({ channels: { cashOrUssd: 3, payments: 4 } }), 'channel_mix').score, 75);
    assert.equal(factor(inputs({ channels: { cashOrUssd: 0, payments: 9 } }), 'channel_mix').score, 0);
    assert.equal(factor(inputs({ channels: { cashOrUssd: 0, payments: 0 } }), 'channel_mix').score, 0);
    assert.ok(score(inputs({ channels: { cashOrUssd: 4, payments: 4 } })) > score(inputs()));
  });

  test('alert history: points by priority, capped at 100', () => {
    assert.equal(
      factor(inputs({ alerts: { low: 1, medium: 1, high: 1, critical: 0 } }), 'alert_history').score,
      50,
    );
    assert.equal(
      factor(inputs({ alerts: { low: 0, medium: 0, high: 2, critical: 1 } }), 'alert_history').score,
      100,
    );
    assert.equal(
      factor(inputs({ alerts: { low: 0, medium: 0, high: 0, critical: 3 } }), 'alert_history').score,
      100,
    );
  });

  test('weights weigh: a factor at weight 0 does not count, one alone is the score', () => {
    const risky = inputs({ nationality: 'IR' });
    const only = (name: keyof RiskSettings['weights']) => ({
      ...SETTINGS,
      weights: {
        product_tier: 0,
        geography: 0,
        occupation_income: 0,
        pep: 0,
        channel_mix: 0,
        alert_history: 0,
        [name]: 1,
      },
    });
    assert.equal(score(risky, only('geography')), 100);
    assert.equal(scoreRisk(risky, only('geography')).band, 'high');
    assert.equal(score(risky, only('channel_mix')), 0);
  });

  test('bands come from the settings', () => {
    assert.equal(bandOf(39.99, { medium: 40, high: 70 }), 'low');
    assert.equal(bandOf(40, { medium: 40, high: 70 }), 'medium');
    assert.equal(bandOf(70, { medium: 40, high: 70 }), 'high');
    const risky = inputs({ nationality: 'IR' });
    assert.equal(scoreRisk(risky, SETTINGS).band, 'low');
    assert.equal(scoreRisk(risky, { ...SETTINGS, bands: { medium: 10, high: 50 } }).band, 'medium');
    assert.equal(scoreRisk(risky, { ...SETTINGS, bands: { medium: 5, high: 20 } }).band, 'high');
  });
});
