/** What the case routes answer: a case, its alerts (with their evidence) and its audit trail. */
import type { AlertRow, CaseEventRow, CaseRow } from './aml.cases.repository.ts';

const iso = (value: Date | null) => value?.toISOString() ?? null;

export function caseView(row: CaseRow) {
  return {
    id: row.id,
    reference: row.reference,
    customer_id: row.customerId,
    agent_id: row.agentId,
    pattern: row.pattern,
    priority: row.priority,
    state: row.state,
    assignee_id: row.assigneeId,
    snoozed_until: iso(row.snoozedUntil),
    decision: row.decision,
    risk_band: row.riskBand,
    due_at: row.dueAt.toISOString(),
    breached_at: iso(row.breachedAt),
    pending_close_by: row.pendingCloseBy,
    closed_by: row.closedBy,
    closed_at: iso(row.closedAt),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export type CaseView = ReturnType<typeof caseView>;

export function alertView(row: AlertRow) {
  return {
    id: row.id,
    case_id: row.caseId,
    customer_id: row.customerId,
    agent_id: row.agentId,
    source: row.source,
    pattern: row.pattern,
    rule_version: row.ruleVersion,
    priority: row.priority,
    evidence: row.evidence as Record<string, unknown>,
    created_at: row.createdAt.toISOString(),
  };
}

export function caseEventView(row: CaseEventRow) {
  return {
    id: row.id,
    actor_id: row.actorId,
    action: row.action,
    detail: row.detail,
    at: row.at.toISOString(),
  };
}

export function caseDetailView(row: CaseRow, alerts: AlertRow[], events: CaseEventRow[]) {
  return {
    ...caseView(row),
    alerts: alerts.map(alertView),
    events: events.map(caseEventView),
  };
}

export type CaseDetailView = ReturnType<typeof caseDetailView>;
