/**
 * Operator shifts and the staff's view of the location guard: check-in at opening and check-out at closing (each
 * with a location check under the agent's policy), violation alerts (list, acknowledge) and an agent's checks.
 */
import { and, desc, eq, lt, type SQL, sql } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import { decodeCursor, type Principal, paginate } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { agentsErrors } from './agents.errors.ts';
import type { CheckResult, LocationGuardService, SpoofingSignal } from './agents.location.ts';
import type { AgentDirectory, DeviceLocation, OperatorScopes } from './agents.ports.ts';
import { agentAlerts, agentLocationChecks, agentShifts, type LocationOutcome } from './agents.tables.ts';

type ShiftRow = typeof agentShifts.$inferSelect;
type AlertRow = typeof agentAlerts.$inferSelect;
type CheckRow = typeof agentLocationChecks.$inferSelect;

export function shiftView(row: ShiftRow) {
  return {
    id: row.id,
    operator_id: row.operatorId,
    store_id: row.storeId,
    check_in_at: row.checkInAt.toISOString(),
    check_in_check_id: row.checkInCheckId,
    check_out_at: row.checkOutAt?.toISOString() ?? null,
    check_out_check_id: row.checkOutCheckId ?? null,
  };
}

function checkSummary(check: CheckResult) {
  return {
    id: check.checkId,
    outcome: check.outcome,
    decision: check.decision,
    distance_m: Math.round(check.distanceM * 10) / 10,
    signals: check.signals,
  };
}

export function alertView(row: AlertRow) {
  return {
    id: row.id,
    agent_id: row.agentId,
    store_id: row.storeId,
    operator_id: row.operatorId,
    kind: row.kind,
    status: row.status,
    details: row.details,
    acknowledged_by: row.acknowledgedBy,
    created_at: row.createdAt.toISOString(),
  };
}

export function checkView(row: CheckRow) {
  return {
    id: row.id,
    operator_id: row.operatorId,
    agent_id: row.agentId,
    store_id: row.storeId,
    action: row.action,
    lat: row.latitude,
    lon: row.longitude,
    accuracy_m: row.accuracyM,
    fix_at: row.fixAt.toISOString(),
    distance_m: Math.round(row.distanceM * 10) / 10,
    outcome: row.outcome,
    decision: row.decision,
    signals: row.signals as SpoofingSignal[],
    transaction_id: row.transactionId,
    checked_at: row.checkedAt.toISOString(),
  };
}

export interface ShiftInput {
  store_id?: string;
  location: DeviceLocation;
}

export interface AlertQuery {
  agent_id?: string;
  kind?: AlertRow['kind'];
  status?: AlertRow['status'];
  limit?: number;
  cursor?: string;
}

export interface CheckQuery {
  outcome?: LocationOutcome;
  limit?: number;
  cursor?: string;
}

export interface ShiftDeps {
  db: Executor;
  guard: LocationGuardService;
  directory: AgentDirectory;
  scopes: OperatorScopes;
}

export class AgentShifts {
  readonly #deps: ShiftDeps;

  constructor(deps: ShiftDeps) {
    this.#deps = deps;
  }

  async #openShift(operatorId: string): Promise<ShiftRow | undefined> {
    const [row] = await this.#deps.db
      .select()
      .from(agentShifts)
      .where(and(eq(agentShifts.operatorId, operatorId), sql`${agentShifts.checkOutAt} is null`))
      .limit(1);
    return row;
  }

  /** Opens the operator's shift at a store after a location check (409 when one is open). */
  async checkIn(principal: Principal, input: ShiftInput, context: RequestContext) {
    const { directory, guard, db } = this.#deps;
    const scope = await this.#deps.scopes.scopeOf(principal);
    const store = await directory.storeFor(scope, input.store_id);
    await directory.assertOperational(await directory.agent(scope.agentId), store);
    const open = await this.#openShift(scope.operatorId);
    if (open) throw alreadyCheckedIn(open.id);
    const check = await guard.check({
      scope,
      storeId: store.id,
      action: 'check_in',
      location: input.location,
    });
    try {
      const shift = await inTransaction(db, async (tx) => {
        const [row] = await tx
          .insert(agentShifts)
          .values({
            id: uuidv7(),
            operatorId: scope.operatorId,
            storeId: store.id,
            checkInAt: new Date(),
            checkInCheckId: check.checkId,
          })
          .returning();
        await writeAudit(tx, context, {
          action: 'agent.operator_check_in',
          entityType: 'agent_shift',
          entityId: row!.id,
          after: { store_id: store.id, check_id: check.checkId, decision: check.decision },
        });
        return row!;
      });
      return { shift: shiftView(shift), check: checkSummary(check) };
    } catch (error) {
      if (violatedConstraint(error) !== 'agent_shifts_open_key') throw error;
      const raced = await this.#openShift(scope.operatorId);
      throw alreadyCheckedIn(raced?.id ?? null);
    }
  }

  /** Closes the operator's open shift after a location check at its store. */
  async checkOut(principal: Principal, input: ShiftInput, context: RequestContext) {
    const { guard, db } = this.#deps;
    const scope = await this.#deps.scopes.scopeOf(principal);
    // A store named outside the operator's scope is a 404, as at check-in (not a 409 that answers for it).
    if (input.store_id !== undefined) await this.#deps.directory.storeFor(scope, input.store_id);
    const open = await this.#openShift(scope.operatorId);
    if (!open || (input.store_id !== undefined && input.store_id !== open.storeId))
      throw agentsErrors.AGENT_NOT_CHECKED_IN({ details: { shift_store_id: open?.storeId ?? null } });
    const check = await guard.check({
      scope,
      storeId: open.storeId,
      action: 'check_out',
      location: input.location,
    });
    const shift = await inTransaction(db, async (tx) => {
      const [row] = await tx
        .update(agentShifts)
        .set({ checkOutAt: new Date(), checkOutCheckId: check.checkId })
        .where(and(eq(agentShifts.id, open.id), sql`${agentShifts.checkOutAt} is null`))
        .returning();
      if (!row) throw agentsErrors.AGENT_NOT_CHECKED_IN({ details: { shift_store_id: open.storeId } });
      await writeAudit(tx, context, {
        action: 'agent.operator_check_out',
        entityType: 'agent_shift',
        entityId: row.id,
        after: { store_id: row.storeId, check_id: check.checkId, decision: check.decision },
      });
      return row;
    });
    return { shift: shiftView(shift), check: checkSummary(check) };
  }

  /** Alerts for staff, newest first. */
  async listAlerts(query: AlertQuery) {
    const limit = query.limit ?? 20;
    const position = decodeCursor(query.cursor, ['id'] as const);
    const filters: SQL[] = [];
    if (query.agent_id) filters.push(eq(agentAlerts.agentId, query.agent_id));
    if (query.kind) filters.push(eq(agentAlerts.kind, query.kind));
    if (query.status) filters.push(eq(agentAlerts.status, query.status));
    if (position) filters.push(lt(agentAlerts.id, position.id));
    const rows = await this.#deps.db
      .select()
      .from(agentAlerts)
      .where(and(...filters))
      .orderBy(desc(agentAlerts.id))
      .limit(limit + 1);
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return { items: page.items.map(alertView), next_cursor: page.next_cursor };
  }

  /** Marks an alert seen by staff (again: unchanged). */
  async acknowledgeAlert(principal: Principal, id: string, context: RequestContext) {
    return inTransaction(this.#deps.db, async (tx) => {
      const [before] = await tx.select().from(agentAlerts).where(eq(agentAlerts.id, id)).for('update');
      if (!before) throw agentsErrors.AGENT_ALERT_NOT_FOUND();
      if (before.status === 'acknowledged') return alertView(before);
      const [row] = await tx
        .update(agentAlerts)
        .set({ status: 'acknowledged', acknowledgedBy: principal.id })
        .where(eq(agentAlerts.id, id))
        .returning();
      await writeAudit(tx, context, {
        action: 'agent.alert_acknowledged',
        entityType: 'agent_alert',
        entityId: id,
        before: { status: before.status },
        after: { status: 'acknowledged' },
      });
      return alertView(row!);
    });
  }

  /** An agent's location checks, newest first, with their spoofing signals (404 for an unknown agent). */
  async locationChecks(agentId: string, query: CheckQuery) {
    await this.#deps.directory.agent(agentId);
    const limit = query.limit ?? 20;
    const position = decodeCursor(query.cursor, ['id'] as const);
    const filters: SQL[] = [eq(agentLocationChecks.agentId, agentId)];
    if (query.outcome) filters.push(eq(agentLocationChecks.outcome, query.outcome));
    if (position) filters.push(lt(agentLocationChecks.id, position.id));
    const rows = await this.#deps.db
      .select()
      .from(agentLocationChecks)
      .where(and(...filters))
      .orderBy(desc(agentLocationChecks.id))
      .limit(limit + 1);
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return { items: page.items.map(checkView), next_cursor: page.next_cursor };
  }
}

function alreadyCheckedIn(shiftId: string | null) {
  return agentsErrors.AGENT_ALREADY_CHECKED_IN({ details: { shift_id: shiftId } });
}
