/**
 * The AlertSink every AML area raises alerts through, inside the caller's transaction. An alert is grouped into the
 * open case of its customer and pattern (an alert naming only an agent: the agent's and pattern's), or opens one:
 * reference `AML-<year>-<6 digits>`, the alert's priority, due by `aml.case_sla_hours` of that priority. A later
 * alert of higher priority raises the case's priority and pulls its due time in. Two alerts raised at once for the
 * same subject and pattern meet on a transaction-scoped advisory lock, so they make one case (the partial unique
 * indexes are the backstop). A dedupe key raised before adds nothing (null).
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { emitEvent } from '../../platform/outbox.ts';
import type { SettingsService } from '../settings/index.ts';
import { amlAlertRaised, amlCaseOpened } from './aml.cases.events.ts';
import {
  type CaseRow,
  insertCaseEvent,
  nextReference,
  openCaseOf,
  priorityRank,
  updateCase,
} from './aml.cases.repository.ts';
import type { AlertInput, AlertSink, RaisedAlert } from './aml.ports.ts';
import { type AlertPriority, amlAlerts, amlCases } from './aml.tables.ts';

const HOUR_MS = 3_600_000;

/** When a case of this priority opened (or re-prioritised) at `from` is due, from `aml.case_sla_hours`. */
export async function dueAt(settings: SettingsService, priority: AlertPriority, from: Date): Promise<Date> {
  const hours = await settings.get('aml.case_sla_hours');
  return new Date(from.getTime() + hours[priority] * HOUR_MS);
}

export class CaseAlertSink implements AlertSink {
  readonly #settings: SettingsService;
  /** The clock (tests move it). */
  now: () => Date = () => new Date();

  constructor(options: { settings: SettingsService }) {
    this.#settings = options.settings;
  }

  async raise(tx: Executor, alert: AlertInput): Promise<RaisedAlert | null> {
    const customerId = alert.customerId ?? null;
    const agentId = alert.agentId ?? null;
    if (!customerId && !agentId) throw new Error('An AML alert names a customer or an agent');
    if (!alert.pattern) throw new Error('An AML alert names its pattern');
    const now = this.now();
    const alertId = uuidv7(now.getTime());
    // The dedupe key first: a repeat adds neither an alert nor a case.
    const inserted = await tx
      .insert(amlAlerts)
      .values({
        id: alertId,
        customerId,
        agentId,
        source: alert.source,
        pattern: alert.pattern,
        ruleVersion: alert.ruleVersion ?? null,
        priority: alert.priority,
        evidence: alert.evidence,
        dedupeKey: alert.dedupeKey ?? null,
        createdAt: now,
      })
      .onConflictDoNothing({ target: amlAlerts.dedupeKey })
      .returning({ id: amlAlerts.id });
    if (inserted.length === 0) return null;
    const subject = customerId ? `customer:${customerId}` : `agent:${agentId}`;
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtextextended(${`aml_case:${subject}:${alert.pattern}`}, 0))`,
    );
    const open = await openCaseOf(tx, { customerId, agentId }, alert.pattern);
    const caseRow = open
      ? await this.#join(tx, open, alert, alertId, now)
      : await this.#open(tx, { customerId, agentId }, alert, alertId, now);
    await tx.update(amlAlerts).set({ caseId: caseRow.id }).where(sql`${amlAlerts.id} = ${alertId}`);
    await emitEvent(
      tx,
      amlAlertRaised,
      { type: 'aml_case', id: caseRow.id },
      {
        alert_id: alertId,
        source: alert.source,
        case_id: caseRow.id,
        customer_id: customerId,
        agent_id: agentId,
        pattern: alert.pattern,
        priority: alert.priority,
      },
    );
    return { alertId, caseId: caseRow.id };
  }

  async #open(
    tx: Executor,
    subject: { customerId: string | null; agentId: string | null },
    alert: AlertInput,
    alertId: string,
    now: Date,
  ): Promise<CaseRow> {
    const id = uuidv7(now.getTime());
    const reference = await nextReference(tx, now);
    const [row] = await tx
      .insert(amlCases)
      .values({
        id,
        reference,
        customerId: subject.customerId,
        agentId: subject.agentId,
        pattern: alert.pattern,
        priority: alert.priority,
        state: 'open',
        dueAt: await dueAt(this.#settings, alert.priority, now),
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await insertCaseEvent(tx, id, null, 'opened', {
      alert_id: alertId,
      source: alert.source,
      priority: alert.priority,
    });
    await emitEvent(
      tx,
      amlCaseOpened,
      { type: 'aml_case', id },
      {
        case_id: id,
        reference,
        customer_id: subject.customerId,
        agent_id: subject.agentId,
        pattern: alert.pattern,
        priority: alert.priority,
      },
    );
    return row!;
  }

  async #join(tx: Executor, open: CaseRow, alert: AlertInput, alertId: string, now: Date): Promise<CaseRow> {
    await insertCaseEvent(tx, open.id, null, 'alert_added', {
      alert_id: alertId,
      source: alert.source,
      priority: alert.priority,
    });
    if (priorityRank(alert.priority) <= priorityRank(open.priority)) return open;
    const due = await dueAt(this.#settings, alert.priority, now);
    const dueAtNext = new Date(Math.min(due.getTime(), open.dueAt.getTime()));
    await insertCaseEvent(tx, open.id, null, 'priority_raised', {
      from: open.priority,
      to: alert.priority,
      due_at: dueAtNext.toISOString(),
      alert_id: alertId,
    });
    return updateCase(tx, open.id, { priority: alert.priority, dueAt: dueAtNext });
  }
}
