/**
 * The location guard: every operator money action and every check-in/out carries the device's fix, checked against
 * the store's geofence before anything else happens.
 *
 * - Outcome: `stale` when the fix is older than the configured age (or more than 30 s in the future: a device clock
 *   that lies); otherwise `inside` when the distance from the fence's edge is at most the reported accuracy (the
 *   benefit of the doubt, capped at AGENT_GEO_ACCURACY_TOLERANCE_MAX_M), else `outside`.
 * - Decision: inside → `allowed`; otherwise the agent's `geofence_policy`: `refuse` → `refused` (GEOFENCE_VIOLATION,
 *   403) or `flag` → `flagged` (allowed, counted as a violation).
 * - Spoofing signals kept on the check: `implausible_accuracy`, `impossible_speed` (from the operator's previous fix),
 *   `mock_location` (the app's flag). Any signal raises a `spoofing` alert, and enough violations in the window a
 *   `geofence_repeated` alert: at most one of each kind per operator per cooldown.
 * - Each check is written in its own short transaction BEFORE the action (so a refusal is kept), serialised per
 *   operator (advisory lock) so the previous fix and the alert cooldown are read consistently; the action links its
 *   transaction to the check afterwards (`linkTransaction`).
 */
import { and, desc, eq, gte, lt, ne, sql } from 'drizzle-orm';
import { type Executor, inTransaction, perDatabase } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { agentsErrors } from './agents.errors.ts';
import { distanceMetres, distanceToFence } from './agents.geo.ts';
import { DEFAULT_GEO_SETTINGS, type GeoSettings } from './agents.location.config.ts';
import type {
  AgentDirectory,
  AgentRow,
  DeviceLocation,
  LocationDecision,
  LocationGuard,
  OperatorScope,
  PendingCheck,
  StoreRow,
} from './agents.ports.ts';
import {
  agentAlerts,
  agentLocationChecks,
  type Geofence,
  type GeofencePolicy,
  type LocationOutcome,
} from './agents.tables.ts';

/** A fix this far in the future is not plausible (device clocks drift a little, not more). */
const FUTURE_SKEW_MS = 30_000;

export const SPOOFING_SIGNALS = ['implausible_accuracy', 'impossible_speed', 'mock_location'] as const;
export type SpoofingSignal = (typeof SPOOFING_SIGNALS)[number];

/** An operator's last fix (the speed check's reference), by a value or (prepared) a placeholder. */
function previousFixOf(db: Executor, operatorId: string | ReturnType<typeof sql.placeholder>) {
  return db
    .select({
      lat: agentLocationChecks.latitude,
      lon: agentLocationChecks.longitude,
      accuracyM: agentLocationChecks.accuracyM,
      fixAt: agentLocationChecks.fixAt,
    })
    .from(agentLocationChecks)
    .where(eq(agentLocationChecks.operatorId, operatorId))
    .orderBy(desc(agentLocationChecks.checkedAt), desc(agentLocationChecks.id))
    .limit(1);
}

/** `previousFixOf` built once per database handle: every money action reads it outside a transaction. */
const previousFixQuery = perDatabase((db: Executor) =>
  previousFixOf(db, sql.placeholder('operatorId')).prepare('agent_operator_previous_fix'),
);

export interface PreviousFix {
  lat: number;
  lon: number;
  accuracyM: number;
  fixAt: Date;
}

export interface LocationEvaluation {
  distanceM: number;
  outcome: LocationOutcome;
  signals: SpoofingSignal[];
}

/** The pure part of a check: outcome and signals of one fix against one fence. */
export function evaluateLocation(input: {
  fence: Geofence;
  location: DeviceLocation;
  now: Date;
  previous: PreviousFix | null;
  settings: GeoSettings;
}): LocationEvaluation {
  const { fence, location, now, previous, settings } = input;
  const fixAt = new Date(location.fix_at);
  const distanceM = distanceToFence(fence, location);
  const age = now.getTime() - fixAt.getTime();
  const tolerance = Math.min(Math.max(location.accuracy_m, 0), settings.toleranceMaxM);
  const outcome: LocationOutcome =
    !Number.isFinite(age) || age > settings.maxFixAgeMs || age < -FUTURE_SKEW_MS
      ? 'stale'
      : distanceM <= tolerance
        ? 'inside'
        : 'outside';
  const signals: SpoofingSignal[] = [];
  if (location.accuracy_m < settings.accuracyMinM || location.accuracy_m > settings.accuracyMaxM)
    signals.push('implausible_accuracy');
  if (previous && impossibleSpeed(previous, location, fixAt, settings)) signals.push('impossible_speed');
  if (location.mock_location === true) signals.push('mock_location');
  return { distanceM, outcome, signals };
}

/** Faster than the plausible speed between two fixes, after both accuracies (capped) are taken off the jump. */
function impossibleSpeed(
  previous: PreviousFix,
  location: DeviceLocation,
  fixAt: Date,
  settings: GeoSettings,
): boolean {
  const cap = (accuracy: number) => Math.min(Math.max(accuracy, 0), settings.toleranceMaxM);
  const jump = distanceMetres(previous, location) - cap(previous.accuracyM) - cap(location.accuracy_m);
  if (jump <= 0) return false;
  const seconds = Math.max(Math.abs(fixAt.getTime() - previous.fixAt.getTime()) / 1000, 1);
  return (jump / seconds) * 3.6 > settings.maxSpeedKmh;
}

export interface CheckResult extends LocationDecision {
  outcome: LocationOutcome;
  distanceM: number;
  signals: SpoofingSignal[];
}

export interface ViolationRate {
  checks: number;
  violations: number;
  /** violations / checks (0 without checks). */
  rate: number;
}

export interface LocationGuardDeps {
  db: Executor;
  directory: AgentDirectory;
  settings?: GeoSettings;
  now?: () => Date;
}

export class LocationGuardService implements LocationGuard {
  readonly #db: Executor;
  readonly #directory: AgentDirectory;
  readonly settings: GeoSettings;
  readonly #now: () => Date;

  constructor(deps: LocationGuardDeps) {
    this.#db = deps.db;
    this.#directory = deps.directory;
    this.settings = deps.settings ?? DEFAULT_GEO_SETTINGS;
    this.#now = deps.now ?? (() => new Date());
  }

  /** Checks and records one operator action's fix; throws GEOFENCE_VIOLATION (after recording) when refused. */
  async check(input: {
    scope: OperatorScope;
    storeId: string;
    action: string;
    location: DeviceLocation;
    /** The operator's agent and store when the caller has just read and checked them (not read again). */
    known?: { agent: AgentRow; store: StoreRow };
  }): Promise<CheckResult> {
    const { scope, action, location } = input;
    const known = input.known?.store.id === input.storeId ? input.known : undefined;
    const store = known?.store ?? (await this.#directory.storeFor(scope, input.storeId));
    const agent = known?.agent ?? (await this.#directory.agent(scope.agentId));
    const result = await inTransaction(this.#db, async (tx) => {
      await tx.execute(
        sql`select pg_advisory_xact_lock(hashtextextended(${`agent-geo:${scope.operatorId}`}, 0))`,
      );
      const now = this.#now();
      const previous = await this.#previousFix(tx, scope.operatorId);
      const evaluation = evaluateLocation({
        fence: store.geofence,
        location,
        now,
        previous,
        settings: this.settings,
      });
      const decision = decide(evaluation.outcome, agent.geofencePolicy);
      const checkId = uuidv7(now.getTime());
      await tx.insert(agentLocationChecks).values({
        id: checkId,
        operatorId: scope.operatorId,
        agentId: scope.agentId,
        storeId: store.id,
        action,
        latitude: location.lat,
        longitude: location.lon,
        accuracyM: location.accuracy_m,
        fixAt: new Date(location.fix_at),
        distanceM: evaluation.distanceM,
        outcome: evaluation.outcome,
        decision,
        signals: evaluation.signals,
        checkedAt: now,
      });
      const alert = { scope, storeId: store.id, checkId, action, now };
      if (evaluation.signals.length > 0)
        await this.#raise(tx, alert, 'spoofing', { signals: evaluation.signals });
      if (evaluation.outcome !== 'inside') await this.#maybeRepeated(tx, alert);
      return { checkId, decision, ...evaluation };
    });
    const decision = result.decision;
    if (decision === 'refused')
      throw agentsErrors.GEOFENCE_VIOLATION({
        message:
          result.outcome === 'stale'
            ? 'The device’s location is too old: take a fresh fix and try again'
            : 'The device is outside the store’s area',
        details: {
          outcome: result.outcome,
          distance_m: Math.round(result.distanceM * 10) / 10,
          check_id: result.checkId,
        },
      });
    return { ...result, decision };
  }

  /**
   * A money action's check (`LocationGuard.checkForAction`). Inside the fence with no spoofing signal there is
   * nothing to refuse, flag or alert on, so the row (read against the operator's last fix, without the lock) is
   * written by the action's transaction, linked, or alone when the action fails: the check's own transaction and
   * the link are saved. Any other fix takes `check`, serialised per operator, with its alerts and refusals.
   */
  async checkForAction(input: {
    scope: OperatorScope;
    storeId: string;
    action: string;
    location: DeviceLocation;
    /** The operator's agent and store as just read; with the operator's last fix when it was read with them. */
    known: { agent: AgentRow; store: StoreRow; lastFix?: PreviousFix | null };
  }): Promise<CheckResult & { pending: PendingCheck | null }> {
    const { scope, action, location, known } = input;
    if (known.store.id !== input.storeId) return { ...(await this.check(input)), pending: null };
    const now = this.#now();
    const evaluation = evaluateLocation({
      fence: known.store.geofence,
      location,
      now,
      previous:
        known.lastFix !== undefined ? known.lastFix : await this.#previousFix(this.#db, scope.operatorId),
      settings: this.settings,
    });
    if (evaluation.outcome !== 'inside' || evaluation.signals.length > 0)
      return { ...(await this.check(input)), pending: null };
    const checkId = uuidv7(now.getTime());
    const row = {
      id: checkId,
      operatorId: scope.operatorId,
      agentId: scope.agentId,
      storeId: known.store.id,
      action,
      latitude: location.lat,
      longitude: location.lon,
      accuracyM: location.accuracy_m,
      fixAt: new Date(location.fix_at),
      distanceM: evaluation.distanceM,
      outcome: evaluation.outcome,
      decision: 'allowed' as const,
      signals: evaluation.signals,
      checkedAt: now,
    };
    const pending: PendingCheck = {
      row,
      keep: async () => {
        await this.#db.insert(agentLocationChecks).values(row).onConflictDoNothing();
      },
    };
    return { checkId, decision: 'allowed', ...evaluation, pending };
  }

  /** Links the money action's transaction to its check (once; a second link changes nothing). */
  async linkTransaction(executor: Executor, checkId: string, transactionId: string): Promise<void> {
    await executor
      .update(agentLocationChecks)
      .set({ transactionId })
      .where(and(eq(agentLocationChecks.id, checkId), sql`${agentLocationChecks.transactionId} is null`));
  }

  /** An agent's checks in [from, to) and how many were violations (outside or stale), for performance reports. */
  async violationRate(
    agentId: string,
    from: Date,
    to: Date,
    executor: Executor = this.#db,
  ): Promise<ViolationRate> {
    const [row] = await executor
      .select({
        checks: sql<number>`count(*)::int`,
        violations: sql<number>`(count(*) filter (where ${agentLocationChecks.outcome} <> 'inside'))::int`,
      })
      .from(agentLocationChecks)
      .where(
        and(
          eq(agentLocationChecks.agentId, agentId),
          gte(agentLocationChecks.checkedAt, from),
          lt(agentLocationChecks.checkedAt, to),
        ),
      );
    const checks = row?.checks ?? 0;
    const violations = row?.violations ?? 0;
    return { checks, violations, rate: checks === 0 ? 0 : violations / checks };
  }

  async #previousFix(tx: Executor, operatorId: string): Promise<PreviousFix | null> {
    // Prepared outside a transaction (every money action); inside one (a check under the operator's lock), built there.
    const [row] = await (tx === this.#db
      ? previousFixQuery(tx).execute({ operatorId })
      : previousFixOf(tx, operatorId));
    return row ?? null;
  }

  async #maybeRepeated(tx: Executor, alert: AlertContext): Promise<void> {
    const since = new Date(alert.now.getTime() - this.settings.violationWindowMs);
    const [row] = await tx
      .select({ count: sql<number>`count(*)::int` })
      .from(agentLocationChecks)
      .where(
        and(
          eq(agentLocationChecks.operatorId, alert.scope.operatorId),
          ne(agentLocationChecks.outcome, 'inside'),
          gte(agentLocationChecks.checkedAt, since),
        ),
      );
    const violations = row?.count ?? 0;
    if (violations < this.settings.violationAlertCount) return;
    await this.#raise(tx, alert, 'geofence_repeated', {
      violations,
      window_minutes: Math.round(this.settings.violationWindowMs / 60_000),
    });
  }

  /** Inserts an alert unless the operator already had one of this kind within the cooldown. */
  async #raise(
    tx: Executor,
    alert: AlertContext,
    kind: 'spoofing' | 'geofence_repeated',
    details: Record<string, unknown>,
  ): Promise<void> {
    const since = new Date(alert.now.getTime() - this.settings.alertCooldownMs);
    const [recent] = await tx
      .select({ id: agentAlerts.id })
      .from(agentAlerts)
      .where(
        and(
          eq(agentAlerts.operatorId, alert.scope.operatorId),
          eq(agentAlerts.kind, kind),
          gte(agentAlerts.createdAt, since),
        ),
      )
      .limit(1);
    if (recent) return;
    await tx.insert(agentAlerts).values({
      id: uuidv7(alert.now.getTime()),
      agentId: alert.scope.agentId,
      storeId: alert.storeId,
      operatorId: alert.scope.operatorId,
      kind,
      details: { ...details, check_id: alert.checkId, action: alert.action },
      createdAt: alert.now,
    });
  }
}

interface AlertContext {
  scope: OperatorScope;
  storeId: string;
  checkId: string;
  action: string;
  now: Date;
}

function decide(outcome: LocationOutcome, policy: GeofencePolicy): 'allowed' | 'flagged' | 'refused' {
  if (outcome === 'inside') return 'allowed';
  return policy === 'refuse' ? 'refused' : 'flagged';
}
