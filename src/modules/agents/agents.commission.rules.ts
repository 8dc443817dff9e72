/**
 * Commission arithmetic, pure: a plan's bands checked as a whole, the band of an amount, the commission of a band,
 * and its split between an agent and its super-agent. Everything is bigint minor units, exact.
 *
 * Rounding: the percentage part is rounded DOWN (amount × bps / 10000, truncated: amounts are positive), so the bank
 * never pays a fraction of a minor unit it did not owe. The split gives the super-agent its share rounded down and the
 * agent the rest, so the two parts always sum to the commission exactly.
 */
import type { AgentTransactionType } from './agents.ports.ts';
import type { CommissionBand } from './agents.tables.ts';

/** The transaction types a plan has rules for (those on which an agent earns). */
export const COMMISSION_TYPES = ['cash_in', 'cash_out'] as const satisfies readonly AgentTransactionType[];
export type CommissionType = (typeof COMMISSION_TYPES)[number];

export const BPS_SCALE = 10_000n;
/** A decimal string of minor units: no sign, no leading zero, at most 19 digits. */
const MINOR = /^(0|[1-9][0-9]{0,18})$/;
const MINOR_MAX = 2n ** 63n - 1n;

export interface FieldError {
  field: string;
  message: string;
  rule: string;
}

function minorOf(text: unknown): bigint | null {
  if (typeof text !== 'string' || !MINOR.test(text)) return null;
  const value = BigInt(text);
  return value > MINOR_MAX ? null : value;
}

/**
 * The rules the schema cannot say: each type's bands start anywhere, follow each other without gap or overlap
 * (a band starts one minor unit after the previous one ends, bounds inclusive), only the last may be open-ended,
 * amounts are decimal strings of minor units, percentages 0–10000 bps. An empty list or a missing type pays nothing.
 */
export function bandErrors(rules: Record<string, CommissionBand[]>, field = 'body.rules'): FieldError[] {
  const errors: FieldError[] = [];
  for (const [type, bands] of Object.entries(rules)) {
    const at = `${field}.${type}`;
    if (!(COMMISSION_TYPES as readonly string[]).includes(type)) {
      errors.push({ field: at, message: `must be one of ${COMMISSION_TYPES.join(', ')}`, rule: 'type' });
      continue;
    }
    let previousTo: bigint | null | undefined;
    bands.forEach((band, index) => {
      const here = `${at}.${index}`;
      const from = minorOf(band.from_minor);
      const to = band.to_minor === null ? null : minorOf(band.to_minor);
      const fixed = minorOf(band.fixed_minor);
      if (from === null)
        errors.push({ field: `${here}.from_minor`, message: 'must be minor units', rule: 'amount' });
      if (band.to_minor !== null && to === null)
        errors.push({ field: `${here}.to_minor`, message: 'must be minor units or null', rule: 'amount' });
      if (fixed === null)
        errors.push({ field: `${here}.fixed_minor`, message: 'must be minor units', rule: 'amount' });
      if (!Number.isInteger(band.percent_bps) || band.percent_bps < 0 || band.percent_bps > 10_000)
        errors.push({ field: `${here}.percent_bps`, message: 'must be 0 to 10000', rule: 'range' });
      if (from !== null && to !== null && to < from)
        errors.push({ field: `${here}.to_minor`, message: 'must not be below from_minor', rule: 'order' });
      if (index > 0 && previousTo === null)
        errors.push({
          field: `${at}.${index - 1}.to_minor`,
          message: 'only the last band may be open',
          rule: 'open',
        });
      else if (index > 0 && from !== null && typeof previousTo === 'bigint' && from !== previousTo + 1n)
        errors.push({
          field: `${here}.from_minor`,
          message: `must be ${previousTo + 1n}, one after the previous band's to_minor (no gap, no overlap)`,
          rule: 'contiguous',
        });
      previousTo = band.to_minor === null ? null : (to ?? undefined);
    });
  }
  return errors;
}

/** The band an amount falls in (bounds inclusive); null below the first band or above a closed last band. */
export function bandFor(bands: readonly CommissionBand[], amount: bigint): CommissionBand | null {
  for (const band of bands) {
    if (amount < BigInt(band.from_minor)) return null;
    if (band.to_minor === null || amount <= BigInt(band.to_minor)) return band;
  }
  return null;
}

/** fixed + amount × bps / 10000, the percentage rounded down. */
export function commissionOf(band: CommissionBand, amount: bigint): bigint {
  return BigInt(band.fixed_minor) + (amount * BigInt(band.percent_bps)) / BPS_SCALE;
}

/** The super-agent's share (rounded down) and the agent's rest: they sum to `total` exactly. */
export function splitCommission(
  total: bigint,
  superAgentShareBps: number,
): { agent: bigint; superAgent: bigint } {
  const superAgent = (total * BigInt(superAgentShareBps)) / BPS_SCALE;
  return { agent: total - superAgent, superAgent };
}
