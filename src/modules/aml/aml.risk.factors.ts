/**
 * The customer risk factors as pure functions: each turns what the risk area read about a customer into a score
 * 0..100 and the value it saw (shown to staff with the rating). The weighted mean of the scores is the customer's
 * score; the bands in settings turn it into low, medium or high.
 *
 * - product_tier: a higher KYC tier carries higher balance caps and limits, so more money can move through the
 *   customer before any limit stops it: the tier's rank among the tiers scales 10 (the lowest) to 90 (the highest),
 *   and each wallet currency beyond the first adds 10 (cross-currency products are another way to layer funds).
 * - geography: 100 when the nationality or a residence country is on the high-risk list; otherwise the share of the
 *   counterparties (90 days) whose nationality is on it, from 50 (one) to 100 (all); 0 when none is.
 * - occupation_income: the mean of the occupation (80 when it names a high-risk trade, 20 otherwise, 50 unknown)
 *   and the income band (20 declared: it sets what activity to expect; 50 unknown).
 * - pep: 100 when the latest screening matched a PEP entry at review or hit, else 0.
 * - channel_mix: the share (by count, 90 days: currencies do not add) of the customer's payments made or received
 *   in cash (agent, teller) or over USSD, where the money's origin or the person is least known, 0..100; 0 without
 *   payments.
 * - alert_history: AML alerts of the customer in 180 days (not the risk area's own), by priority: low 5, medium 15,
 *   high 30, critical 50, summed and capped at 100.
 */
import type { AlertPriority, RiskBand, RiskFactor } from './aml.tables.ts';

export const RISK_FACTORS = [
  'product_tier',
  'geography',
  'occupation_income',
  'pep',
  'channel_mix',
  'alert_history',
] as const;
export type RiskFactorName = (typeof RISK_FACTORS)[number];
export type RiskWeights = Record<RiskFactorName, number>;

/** What the risk area read about one customer (risk.inputs.ts gathers it). */
export interface RiskInputs {
  tier: { code: string; rank: number; minRank: number; maxRank: number };
  /** The customer's wallets: product code and currency. */
  products: { code: string; currency: string }[];
  nationality: string | null;
  /** Countries of the customer's home, postal and business addresses. */
  residence: string[];
  /** Nationality of each distinct counterparty of the last 90 days (null when unknown). */
  counterparties: { customerId: string; nationality: string | null }[];
  occupation: string | null;
  incomeBand: string | null;
  /** The latest screening of the customer, when any. */
  screening: { id: string; outcome: string; pep: boolean } | null;
  /** Payments of the last 90 days (made or received), and how many of them were cash or USSD. */
  channels: { cashOrUssd: number; payments: number };
  /** The customer's alerts of the last 180 days by priority (the risk area's own excluded). */
  alerts: Record<AlertPriority, number>;
}

export interface RiskSettings {
  weights: RiskWeights;
  bands: { medium: number; high: number };
  highRiskCountries: readonly string[];
  highRiskOccupations: readonly string[];
  pepAlwaysHigh: boolean;
}

export interface Scored {
  score: number;
  band: RiskBand;
  pep: boolean;
  factors: RiskFactor[];
}

const ALERT_POINTS: Record<AlertPriority, number> = { low: 5, medium: 15, high: 30, critical: 50 };

const clamp = (value: number) => Math.max(0, Math.min(100, Math.round(value * 100) / 100));

export function productTierFactor(inputs: RiskInputs): { value: unknown; score: number } {
  const { tier, products } = inputs;
  const span = tier.maxRank - tier.minRank;
  const tierScore = span > 0 ? 10 + (80 * (tier.rank - tier.minRank)) / span : 10;
  const currencies = new Set(products.map((product) => product.currency));
  const score = clamp(tierScore + 10 * Math.max(0, currencies.size - 1));
  return {
    value: { tier: tier.code, rank: tier.rank, products: products.map((product) => product.code) },
    score,
  };
}

export function geographyFactor(
  inputs: RiskInputs,
  highRisk: readonly string[],
): { value: unknown; score: number } {
  const listed = new Set(highRisk.map((country) => country.toUpperCase()));
  const isListed = (country: string | null) => country !== null && listed.has(country.toUpperCase());
  const residence = [...new Set(inputs.residence.map((country) => country.toUpperCase()))];
  const risky = inputs.counterparties.filter((party) => isListed(party.nationality));
  const value = {
    nationality: inputs.nationality,
    residence,
    counterparties: inputs.counterparties.length,
    high_risk_counterparties: risky.length,
    high_risk: [
      ...new Set(
        [inputs.nationality, ...residence, ...risky.map((party) => party.nationality)]
          .filter((country): country is string => isListed(country))
          .map((country) => country.toUpperCase()),
      ),
    ].sort(),
  };
  if (isListed(inputs.nationality) || residence.some(isListed)) return { value, score: 100 };
  if (risky.length === 0) return { value, score: 0 };
  return { value, score: clamp(50 + (50 * risky.length) / inputs.counterparties.length) };
}

/** Whether an occupation names a high-risk trade: a listed phrase appears in it as whole words. */
export function isHighRiskOccupation(occupation: string, listed: readonly string[]): boolean {
  const words = ` ${occupation.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ')} `;
  return listed.some((phrase) => {
    const wanted = phrase
      .toLowerCase()
      .replace(/[^\p{L}\p{N}]+/gu, ' ')
      .trim();
    return wanted.length > 0 && (words.includes(` ${wanted} `) || words.includes(` ${wanted}s `));
  });
}

export function occupationIncomeFactor(
  inputs: RiskInputs,
  highRiskOccupations: readonly string[],
): { value: unknown; score: number } {
  const occupation = inputs.occupation?.trim() || null;
  const income = inputs.incomeBand?.trim() || null;
  const highRisk = occupation !== null && isHighRiskOccupation(occupation, highRiskOccupations);
  const occupationScore = occupation === null ? 50 : highRisk ? 80 : 20;
  const incomeScore = income === null ? 50 : 20;
  return {
    value: { occupation, income_band: income, high_risk_occupation: highRisk },
    score: clamp((occupationScore + incomeScore) / 2),
  };
}

export function pepFactor(inputs: RiskInputs): { value: unknown; score: number } {
  const pep = inputs.screening?.pep === true;
  return {
    value: { pep, screening_id: inputs.screening?.id ?? null, outcome: inputs.screening?.outcome ?? null },
    score: pep ? 100 : 0,
  };
}

export function channelMixFactor(inputs: RiskInputs): { value: unknown; score: number } {
  const { cashOrUssd, payments } = inputs.channels;
  const share = payments === 0 ? 0 : clamp((100 * cashOrUssd) / payments);
  return { value: { payments, cash_or_ussd: cashOrUssd, cash_or_ussd_share_pct: share }, score: share };
}

export function alertHistoryFactor(inputs: RiskInputs): { value: unknown; score: number } {
  const points = (Object.keys(ALERT_POINTS) as AlertPriority[]).reduce(
    (sum, priority) => sum + ALERT_POINTS[priority] * (inputs.alerts[priority] ?? 0),
    0,
  );
  return { value: { ...inputs.alerts }, score: clamp(points) };
}

export function bandOf(score: number, bands: { medium: number; high: number }): RiskBand {
  if (score >= bands.high) return 'high';
  if (score >= bands.medium) return 'medium';
  return 'low';
}

/** The factors, the weighted mean and the band (a PEP is high when the setting says so). */
export function scoreRisk(inputs: RiskInputs, settings: RiskSettings): Scored {
  const computed: Record<RiskFactorName, { value: unknown; score: number }> = {
    product_tier: productTierFactor(inputs),
    geography: geographyFactor(inputs, settings.highRiskCountries),
    occupation_income: occupationIncomeFactor(inputs, settings.highRiskOccupations),
    pep: pepFactor(inputs),
    channel_mix: channelMixFactor(inputs),
    alert_history: alertHistoryFactor(inputs),
  };
  const factors: RiskFactor[] = RISK_FACTORS.map((factor) => ({
    factor,
    value: computed[factor].value,
    score: computed[factor].score,
    weight: settings.weights[factor],
  }));
  const totalWeight = factors.reduce((sum, factor) => sum + factor.weight, 0);
  const score =
    totalWeight > 0 ? clamp(factors.reduce((sum, f) => sum + f.score * f.weight, 0) / totalWeight) : 0;
  const pep = computed.pep.score === 100;
  const band = pep && settings.pepAlwaysHigh ? 'high' : bandOf(score, settings.bands);
  return { score, band, pep, factors };
}
