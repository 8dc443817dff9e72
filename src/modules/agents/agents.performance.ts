/**
 * Agent performance (issue 19 "Back office and reports"): volumes and values by type and day, commissions earned,
 * customers served and the geofence violation rate over a period, for staff, the agent's admins and (later) the
 * reports module.
 *
 * Sources. Volumes, values and customers come from the cash area (`AgentActivityReads`, connected in index.ts).
 * Without it, volumes are counted from the location checks the cash actions linked to their transactions (no value,
 * no customers: those fields are null). Commissions are the module's own accruals (clawed-back ones excluded). The
 * violation rate is the geo area's when connected, else the share of this agent's location checks that were outside
 * the fence or stale.
 */
import type { Executor } from '../../platform/db.ts';
import {
  agentRow,
  checkCounts,
  commissionsByDay,
  linkedChecksByDay,
} from './agents.commission.repository.ts';
import { agentsErrors } from './agents.errors.ts';
import type { AgentActivityReads } from './agents.ports.ts';

const MAX_PERIOD_MS = 366 * 24 * 3600 * 1000;

/** The geo area's count of an agent's location checks and violations (outside or stale) in [from, to). */
export interface ViolationRates {
  violationRate(
    agentId: string,
    from: Date,
    to: Date,
  ): Promise<{ checks: number; violations: number; rate: number }>;
}

export class PerformanceService {
  readonly #db: Executor;
  #activity: AgentActivityReads | null = null;
  #geo: ViolationRates | null = null;

  constructor(db: Executor) {
    this.#db = db;
  }

  /** The other areas' reads, when they are built (index.ts). */
  connect(parts: { activity?: AgentActivityReads; geo?: ViolationRates }): void {
    if (parts.activity) this.#activity = parts.activity;
    if (parts.geo) this.#geo = parts.geo;
  }

  /** The period [from, to); defaults: the 30 days up to now. */
  static period(input: { from?: string; to?: string }): { from: Date; to: Date } {
    const to = input.to ? new Date(input.to) : new Date();
    const from = input.from ? new Date(input.from) : new Date(to.getTime() - 30 * 24 * 3600 * 1000);
    const invalid = (reason: string) =>
      agentsErrors.AGENT_COMMISSION_PERIOD_INVALID({ params: { reason }, details: { reason } });
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()))
      throw invalid('from and to must be dates');
    if (from.getTime() >= to.getTime()) throw invalid('from must be before to');
    if (to.getTime() - from.getTime() > MAX_PERIOD_MS) throw invalid('the period spans more than 366 days');
    return { from, to };
  }

  async performance(agentId: string, period: { from?: string; to?: string }) {
    const { from, to } = PerformanceService.period(period);
    const agent = await agentRow(this.#db, agentId);
    if (!agent) throw agentsErrors.AGENT_COMMISSION_AGENT_NOT_FOUND();
    const volumes = this.#activity
      ? (await this.#activity.dailyVolumes(agentId, from, to)).map((row) => ({
          day: row.day,
          type: row.type,
          count: row.count,
          value_minor: row.value.toString() as string | null,
        }))
      : (await linkedChecksByDay(this.#db, agentId, from, to)).map((row) => ({
          day: row.day,
          type: row.action,
          count: row.count,
          value_minor: null as string | null,
        }));
    const commissions = await commissionsByDay(this.#db, agentId, from, to);
    let geofence: { checks: number; violations: number; violation_rate: number };
    if (this.#geo) {
      const rate = await this.#geo.violationRate(agentId, from, to);
      geofence = { checks: rate.checks, violations: rate.violations, violation_rate: rate.rate };
    } else {
      const counts = await checkCounts(this.#db, agentId, from, to);
      geofence = {
        ...counts,
        violation_rate: counts.checks === 0 ? 0 : counts.violations / counts.checks,
      };
    }
    const totals = new Map<string, { count: number; value: bigint | null }>();
    for (const row of volumes) {
      const total = totals.get(row.type) ?? { count: 0, value: row.value_minor === null ? null : 0n };
      total.count += row.count;
      if (total.value !== null && row.value_minor !== null) total.value += BigInt(row.value_minor);
      totals.set(row.type, total);
    }
    return {
      agent_id: agentId,
      currency: agent.currency,
      from: from.toISOString(),
      to: to.toISOString(),
      volumes,
      totals: [...totals.entries()].map(([type, total]) => ({
        type,
        count: total.count,
        value_minor: total.value === null ? null : total.value.toString(),
      })),
      commissions: commissions.map((row) => ({
        day: row.day,
        currency: row.currency,
        count: row.count,
        amount_minor: row.total.toString(),
      })),
      commission_total_minor: commissions
        .filter((row) => row.currency === agent.currency)
        .reduce((sum, row) => sum + row.total, 0n)
        .toString(),
      customers_served: this.#activity ? await this.#activity.customersServed(agentId, from, to) : null,
      geofence,
      sources: {
        volumes: this.#activity ? ('cash' as const) : ('location_checks' as const),
        violation_rate: this.#geo ? ('geo' as const) : ('location_checks' as const),
      },
    };
  }
}

/** The cash area's reads, found on the module's API by shape (whichever area field carries them), if any. */
export function connectPerformance(performance: PerformanceService, api: object): void {
  const fields = Object.values(api) as unknown[];
  const has = (value: unknown, ...names: string[]) =>
    typeof value === 'object' &&
    value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');
  const activity = fields.find((value) => has(value, 'dailyVolumes', 'customersServed')) as
    | AgentActivityReads
    | undefined;
  if (activity) performance.connect({ activity });
}
