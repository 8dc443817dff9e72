/**
 * The case SLA: every 5 minutes, open cases past their due time (set per priority from `aml.case_sla_hours` when the
 * case opened or its priority went up) are marked breached, once: `breached_at`, a `sla_breached` case event, the
 * `aml.case_sla_breached` event (the breach alert), and the case's priority one step up (critical stays critical) so
 * the queue puts it ahead. The due time is not moved: the breach is the record. Snoozing does not stop the clock.
 */
import { type Executor, inTransaction } from '../../platform/db.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { amlCaseSlaBreached } from './aml.cases.events.ts';
import { insertCaseEvent, overdueCases, raisedPriority, updateCase } from './aml.cases.repository.ts';

const BATCH = 200;

/** Marks the overdue cases of one batch; the number marked. */
export async function markBreachedCases(db: Executor, now: Date = new Date()): Promise<number> {
  return inTransaction(db, async (tx) => {
    const overdue = await overdueCases(tx, now, BATCH);
    for (const row of overdue) {
      const priority = raisedPriority(row.priority);
      await updateCase(tx, row.id, { breachedAt: now, priority });
      await insertCaseEvent(tx, row.id, null, 'sla_breached', {
        due_at: row.dueAt.toISOString(),
        priority_from: row.priority,
        priority_to: priority,
      });
      await emitEvent(
        tx,
        amlCaseSlaBreached,
        { type: 'aml_case', id: row.id },
        {
          case_id: row.id,
          customer_id: row.customerId,
          agent_id: row.agentId,
          pattern: row.pattern,
          priority,
          due_at: row.dueAt.toISOString(),
        },
      );
    }
    return overdue.length;
  });
}

/** Every overdue case, batch after batch (the job). */
export async function sweepCaseSla(db: Executor, now: Date = new Date()): Promise<number> {
  let total = 0;
  for (;;) {
    const marked = await markBreachedCases(db, now);
    total += marked;
    if (marked < BATCH) return total;
  }
}
