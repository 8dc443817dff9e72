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

/*
 * Money params are per currency, one flat key each (`<name>_<currency in lower case>`, e.g. `min_in_minor_kes`), minor
 * units as a decimal string: the rule language keeps params flat (numbers or strings). A currency without its key
 * is not watched; staff add one by adding the key in a new version.
 */

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
      'Money received, then at least `out_percent` % of it paid out within `window_hours` hours (received at least `min_in_minor_<currency>`)',
    priority: 'high',
    params: {
      window_hours: 6,
      out_percent: 80,
      min_in_minor_kes: '1000000',
      min_in_minor_usd: '10000',
    },
  },
  scenario_dormant: {
    name: 'Dormant account suddenly active',
    description:
      'No payment in or out for `dormant_days` days, then one of at least `min_amount_minor_<currency>`',
    priority: 'medium',
    params: { dormant_days: 180, min_amount_minor_kes: '2000000', min_amount_minor_usd: '20000' },
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
      'At least `min_count` payments by one customer within the window, each a multiple of `unit_minor` and at least `min_amount_minor_<currency>`',
    priority: 'low',
    params: {
      window_hours: 24,
      min_count: 3,
      unit_minor_kes: '100000',
      unit_minor_usd: '10000',
      min_amount_minor_kes: '500000',
      min_amount_minor_usd: '50000',
    },
  },
  scenario_new_device_cash_out: {
    name: 'SIM swap or new device, then a cash-out or large transfer',
    description:
      'A cash-out of at least `min_cash_out_minor`, or a transfer of at least `large_transfer_minor`, within `window_hours` hours after a sign-in from a new device',
    priority: 'critical',
    params: {
      window_hours: 24,
      min_cash_out_minor_kes: '100000',
      min_cash_out_minor_usd: '1000',
      large_transfer_minor_kes: '2000000',
      large_transfer_minor_usd: '20000',
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
      min_total_minor_kes: '3000000',
      min_total_minor_usd: '30000',
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

const MINOR = /^[0-9]{1,19}$/;
/** A per-currency money param's key: `<name>_minor_<currency>`. */
const MONEY_KEY = /_minor_[a-z]{3}$/;

/**
 * The stored version's params over the defaults: a param of the default's type replaces it (a money param may be a
 * digit string or a whole number), and a money key of a currency the defaults lack is added; anything else is ignored.
 */
export function mergeParams<C extends ScenarioCode>(code: C, stored: unknown): ParamsOf<C> {
  const merged: Record<string, unknown> = { ...SCENARIO_DEFAULTS[code].params };
  const given = stored && typeof stored === 'object' ? (stored as Record<string, unknown>) : {};
  for (const [key, value] of Object.entries(given)) {
    const fallback = merged[key];
    if (typeof fallback === 'number') {
      if (typeof value === 'number' && Number.isFinite(value) && value >= 0) merged[key] = value;
    } else if (typeof fallback === 'string' || MONEY_KEY.test(key)) {
      if (typeof value === 'string' && MINOR.test(value)) merged[key] = value;
      else if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)
        merged[key] = String(value);
    }
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

/** The money param `name` for `currency` (`<name>_<currency>` in the params), or null: that currency is not watched. */
export function amountFor(params: object, name: string, currency: string): bigint | null {
  const value = (params as Record<string, unknown>)[`${name}_${currency.toLowerCase()}`];
  return typeof value === 'string' && MINOR.test(value) ? BigInt(value) : null;
}
