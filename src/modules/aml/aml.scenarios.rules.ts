/**
 * The post-posting typologies as rules: each is a `kind: 'scenario'` row of `aml_rules` whose definition is
 * `{ params: {...} }` (thresholds and windows). The defaults are seeded as version 1 when the code has no row; staff
 * edit a rule through the realtime area's rule routes (a new version), and the scenarios read the current version's
 * params and mode, cached briefly per node. A param missing or of the wrong type in an edited version falls back to
 * the default (a scenario never fails on its own rule).
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { type AlertPriority, amlRules, type RuleMode } from './aml.tables.ts';

/** Money params are per currency, minor units as decimal strings (a currency not listed is not watched). */
export type PerCurrency = Record<string, string>;

export const SCENARIO_DEFAULTS = {
  scenario_structuring: {
    name: 'Structuring below the reporting threshold',
    description:
      'Several payments or cash deposits by one customer within the window, each within `below_percent` % under ' +
      'the CTR threshold (setting aml.ctr_threshold_minor)',
    priority: 'high',
    params: { window_hours: 24, min_count: 3, below_percent: 10 },
  },
  scenario_pass_through: {
    name: 'Rapid in-and-out (pass-through)',
    description:
      'Money received, then at least `out_percent` % of it paid out within `window_hours` hours (received at least `min_in_minor`)',
    priority: 'high',
    params: {
      window_hours: 6,
      out_percent: 80,
      min_in_minor: { KES: '1000000', USD: '10000' } as PerCurrency,
    },
  },
  scenario_dormant: {
    name: 'Dormant account suddenly active',
    description: 'No payment in or out for `dormant_days` days, then one of at least `min_amount_minor`',
    priority: 'medium',
    params: { dormant_days: 180, min_amount_minor: { KES: '2000000', USD: '20000' } as PerCurrency },
  },
  scenario_fan_in: {
    name: 'Many-to-one fan-in (mule collection)',
    description: 'At least `min_payers` distinct customers paying one customer within the window',
    priority: 'high',
    params: { window_hours: 24, min_payers: 5 },
  },
  scenario_fan_out: {
    name: 'One-to-many fan-out',
    description: 'One customer paying at least `min_payees` distinct customers within the window',
    priority: 'medium',
    params: { window_hours: 24, min_payees: 5 },
  },
  scenario_round_amounts: {
    name: 'Round amounts',
    description:
      'At least `min_count` payments by one customer within the window, each a multiple of `unit_minor` and at least `min_amount_minor`',
    priority: 'low',
    params: {
      window_hours: 24,
      min_count: 3,
      unit_minor: { KES: '100000', USD: '10000' } as PerCurrency,
      min_amount_minor: { KES: '500000', USD: '50000' } as PerCurrency,
    },
  },
  scenario_new_device_cash_out: {
    name: 'SIM swap or new device, then a cash-out or large transfer',
    description:
      'A cash-out of at least `min_cash_out_minor`, or a transfer of at least `large_transfer_minor`, within `window_hours` hours after a sign-in from a new device',
    priority: 'critical',
    params: {
      window_hours: 24,
      min_cash_out_minor: { KES: '100000', USD: '1000' } as PerCurrency,
      large_transfer_minor: { KES: '2000000', USD: '20000' } as PerCurrency,
    },
  },
  scenario_agent_structuring: {
    name: 'Agent structuring',
    description:
      "One customer's agent cash spread over at least `min_locations` agents or stores within the window, in total at least `min_total_minor`",
    priority: 'high',
    params: {
      window_hours: 24,
      min_locations: 3,
      min_total_minor: { KES: '3000000', USD: '30000' } as PerCurrency,
    },
  },
  scenario_agent_float_cycling: {
    name: "An agent's own customers cycling float",
    description:
      'At one agent, the same customers cash in and out repeatedly: at least `min_pairs` in/out pairs within the window',
    priority: 'high',
    params: { window_hours: 168, min_pairs: 4 },
  },
} as const satisfies Record<
  string,
  { name: string; description: string; priority: AlertPriority; params: Record<string, unknown> }
>;

export type ScenarioCode = keyof typeof SCENARIO_DEFAULTS;
export const SCENARIO_CODES = Object.keys(SCENARIO_DEFAULTS) as ScenarioCode[];
export type ParamsOf<C extends ScenarioCode> = (typeof SCENARIO_DEFAULTS)[C]['params'];

export interface ScenarioRule<C extends ScenarioCode = ScenarioCode> {
  code: C;
  version: number;
  mode: RuleMode;
  priority: AlertPriority;
  params: ParamsOf<C>;
}

/** Inserts version 1 of each scenario whose code has no row (idempotent: the code-and-version index). */
export async function seedScenarioRules(db: Executor): Promise<void> {
  await db
    .insert(amlRules)
    .values(
      SCENARIO_CODES.map((code) => {
        const rule = SCENARIO_DEFAULTS[code];
        return {
          id: uuidv7(),
          code,
          version: 1,
          kind: 'scenario' as const,
          name: rule.name,
          description: rule.description,
          mode: 'active' as const,
          action: 'alert' as const,
          priority: rule.priority,
          definition: { params: rule.params },
        };
      }),
    )
    .onConflictDoNothing();
}

/** Each param of the stored version when it has the default's type (a per-currency map: each amount a digit string). */
export function mergeParams<C extends ScenarioCode>(code: C, stored: unknown): ParamsOf<C> {
  const defaults = SCENARIO_DEFAULTS[code].params as Record<string, unknown>;
  const given = stored && typeof stored === 'object' ? (stored as Record<string, unknown>) : {};
  const merged: Record<string, unknown> = {};
  for (const [key, fallback] of Object.entries(defaults)) {
    const value = given[key];
    if (typeof fallback === 'number')
      merged[key] = typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
    else
      merged[key] =
        value &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        Object.values(value).every((amount) => typeof amount === 'string' && /^[0-9]{1,19}$/.test(amount))
          ? value
          : fallback;
  }
  return merged as ParamsOf<C>;
}

/** The current version of each scenario rule, cached for `ttlMs` per node (an edit reaches the scenarios after it). */
export class ScenarioRules {
  readonly #db: Executor;
  readonly #ttlMs: number;
  #cached: { at: number; rules: Map<string, ScenarioRule> } | null = null;

  constructor(db: Executor, ttlMs = 10_000) {
    this.#db = db;
    this.#ttlMs = ttlMs;
  }

  /** Forget the cache (tests, and after a rule edit on this node). */
  invalidate(): void {
    this.#cached = null;
  }

  async current(): Promise<ScenarioRule[]> {
    if (!this.#cached || Date.now() - this.#cached.at > this.#ttlMs) {
      const rows = await this.#db
        .select()
        .from(amlRules)
        .where(and(eq(amlRules.kind, 'scenario'), isNull(amlRules.supersededAt)));
      const rules = new Map<string, ScenarioRule>();
      for (const row of rows) {
        if (!(row.code in SCENARIO_DEFAULTS)) continue;
        const code = row.code as ScenarioCode;
        rules.set(code, {
          code,
          version: row.version,
          mode: row.mode,
          priority: row.priority,
          params: mergeParams(code, (row.definition as { params?: unknown }).params),
        });
      }
      this.#cached = { at: Date.now(), rules };
    }
    return [...this.#cached.rules.values()];
  }
}

/** The amount for `currency` in a per-currency param, or null (that currency is not watched). */
export function amountFor(param: PerCurrency, currency: string): bigint | null {
  const value = param[currency];
  return value === undefined ? null : BigInt(value);
}
