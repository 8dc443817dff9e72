/**
 * The cases area's AlertSink and SLA on the real database: grouping per customer (or agent) and pattern, dedupe, two
 * raises at once making one case, a higher-priority alert pulling the case in, and the SLA sweep.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { randomPhone } from '../../../test/helpers/agents.ts';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer } from '../../../test/helpers/money.ts';
import { inTransaction } from '../../platform/db.ts';
import { outboxEvents } from '../../platform/platform.tables.ts';
import { markBreachedCases } from './aml.cases.sla.ts';
import { casesJobs } from './aml.cases.wiring.ts';
import type { AlertInput } from './aml.ports.ts';
import { amlAlerts, amlCaseEvents, amlCases } from './aml.tables.ts';
import { amlModule } from './index.ts';

describe('AML alerts and cases (AlertSink)', () => {
  let t: TestContext;
  const api = () => t.application.system.api(amlModule);
  const db = () => t.deps.database.db;
  const raise = (alert: AlertInput) => inTransaction(db(), (tx) => api().cases.alerts.raise(tx, alert));
  const caseRow = async (id: string) => (await db().select().from(amlCases).where(eq(amlCases.id, id)))[0]!;
  const trail = async (id: string) =>
    (await db().select().from(amlCaseEvents).where(eq(amlCaseEvents.caseId, id))).map((row) => row.action);
  const alert = (customerId: string | null, overrides: Partial<AlertInput> = {}): AlertInput => ({
    source: 'rule',
    pattern: 'large_cash',
    ruleVersion: 1,
    priority: 'medium',
    customerId,
    evidence: { transaction_ids: [randomUUID()], fields: { amount: '100000' } },
    ...overrides,
  });

  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  test('the first alert opens a case (reference, priority, due by the SLA); the next of the pattern joins it', async () => {
    const customer = await createCustomer(t, 'Grace', randomPhone());
    const before = Date.now();
    const first = await raise(alert(customer.id));
    assert.ok(first);
    const opened = await caseRow(first.caseId);
    assert.match(opened.reference, new RegExp(`^AML-${new Date().getUTCFullYear()}-\\d{6}$`));
    assert.equal(opened.state, 'open');
    assert.equal(opened.priority, 'medium');
    assert.equal(opened.customerId, customer.id);
    const hours = (opened.dueAt.getTime() - before) / 3_600_000;
    assert.ok(hours > 167.9 && hours <= 168.1, `due in ${hours} h (medium: 168)`);

    const second = await raise(alert(customer.id));
    assert.equal(second!.caseId, first.caseId, 'same customer and pattern: same case');
    const other = await raise(alert(customer.id, { pattern: 'round_amounts' }));
    assert.notEqual(other!.caseId, first.caseId, 'another pattern: another case');
    const alerts = await db().select().from(amlAlerts).where(eq(amlAlerts.caseId, first.caseId));
    assert.equal(alerts.length, 2);
    assert.deepEqual(await trail(first.caseId), ['opened', 'alert_added']);

    const events = await db()
      .select()
      .from(outboxEvents)
      .where(and(eq(outboxEvents.aggregateType, 'aml_case'), eq(outboxEvents.aggregateId, first.caseId)));
    assert.deepEqual(
      events.map((event) => event.topic),
      ['aml.case_opened', 'aml.alert_raised', 'aml.alert_raised'],
    );
    const payload = JSON.stringify(events.map((event) => event.payload));
    assert.ok(!payload.includes('Grace'), 'no names in the events');
  });

  test('a dedupe key raised twice adds nothing the second time', async () => {
    const customer = await createCustomer(t, 'Dedupe', randomPhone());
    const key = `scenario:fan_in:${customer.id}:2026-12-07`;
    const first = await raise(alert(customer.id, { pattern: 'fan_in', dedupeKey: key }));
    assert.ok(first);
    assert.equal(await raise(alert(customer.id, { pattern: 'fan_in', dedupeKey: key })), null);
    const alerts = await db().select().from(amlAlerts).where(eq(amlAlerts.dedupeKey, key));
    assert.equal(alerts.length, 1);
    assert.deepEqual(await trail(first.caseId), ['opened']);
  });

  test('two alerts raised at once for the same customer and pattern make one case', async () => {
    for (let round = 0; round < 3; round += 1) {
      const customer = await createCustomer(t, `Parallel${round}`, randomPhone());
      const results = await Promise.all(
        Array.from({ length: 4 }, () => raise(alert(customer.id, { pattern: 'structuring' }))),
      );
      const caseIds = new Set(results.map((result) => result!.caseId));
      assert.equal(caseIds.size, 1, `one case for ${results.length} parallel alerts`);
      const cases = await db().select().from(amlCases).where(eq(amlCases.customerId, customer.id));
      assert.equal(cases.length, 1);
    }
  });

  test('an alert naming only an agent groups per agent and pattern', async () => {
    const agentId = randomUUID();
    const first = await raise(alert(null, { agentId, pattern: 'agent_float_cycling', source: 'scenario' }));
    const second = await raise(alert(null, { agentId, pattern: 'agent_float_cycling', source: 'scenario' }));
    assert.equal(first!.caseId, second!.caseId);
    const [row] = await Promise.all([caseRow(first!.caseId)]);
    assert.equal(row.agentId, agentId);
    assert.equal(row.customerId, null);
    const otherAgent = await raise(alert(null, { agentId: randomUUID(), pattern: 'agent_float_cycling' }));
    assert.notEqual(otherAgent!.caseId, first!.caseId);
    await assert.rejects(raise(alert(null)), /names a customer or an agent/);
  });

  test('a higher-priority alert raises the case’s priority and pulls its due time in; a lower one does not', async () => {
    const customer = await createCustomer(t, 'Escalating', randomPhone());
    const first = await raise(alert(customer.id, { pattern: 'pep_match', priority: 'low' }));
    const low = await caseRow(first!.caseId);
    await raise(alert(customer.id, { pattern: 'pep_match', priority: 'critical' }));
    const raised = await caseRow(first!.caseId);
    assert.equal(raised.priority, 'critical');
    assert.ok(raised.dueAt < low.dueAt);
    const hours = (raised.dueAt.getTime() - Date.now()) / 3_600_000;
    assert.ok(hours > 23.9 && hours <= 24, `critical: due within 24 h (${hours})`);
    await raise(alert(customer.id, { pattern: 'pep_match', priority: 'medium' }));
    const after = await caseRow(first!.caseId);
    assert.equal(after.priority, 'critical');
    assert.equal(after.dueAt.getTime(), raised.dueAt.getTime());
    assert.deepEqual(await trail(first!.caseId), ['opened', 'alert_added', 'priority_raised', 'alert_added']);
  });

  test('a closed case is not reopened: the next alert of the pattern opens a new case', async () => {
    const customer = await createCustomer(t, 'Reopen', randomPhone());
    const first = await raise(alert(customer.id, { pattern: 'dormant' }));
    await db()
      .update(amlCases)
      .set({ state: 'closed', decision: 'monitor' })
      .where(eq(amlCases.id, first!.caseId));
    const next = await raise(alert(customer.id, { pattern: 'dormant' }));
    assert.notEqual(next!.caseId, first!.caseId);
    assert.notEqual((await caseRow(next!.caseId)).reference, (await caseRow(first!.caseId)).reference);
  });

  test('the SLA sweep marks an overdue case once, raises its priority a step and publishes the breach', async () => {
    const customer = await createCustomer(t, 'Overdue', randomPhone());
    const raised = await raise(alert(customer.id, { pattern: 'sla_probe', priority: 'high' }));
    const id = raised!.caseId;
    const untouched = await raise(alert(customer.id, { pattern: 'sla_untouched', priority: 'high' }));
    await db()
      .update(amlCases)
      .set({ dueAt: new Date(Date.now() - 60_000) })
      .where(eq(amlCases.id, id));
    const marked = await markBreachedCases(db());
    assert.ok(marked >= 1);
    const row = await caseRow(id);
    assert.ok(row.breachedAt);
    assert.equal(row.priority, 'critical');
    assert.equal((await caseRow(untouched!.caseId)).breachedAt, null, 'a case within its SLA is left');
    assert.deepEqual(await trail(id), ['opened', 'sla_breached']);
    const breaches = await db()
      .select()
      .from(outboxEvents)
      .where(and(eq(outboxEvents.topic, 'aml.case_sla_breached'), eq(outboxEvents.aggregateId, id)));
    assert.equal(breaches.length, 1);
    assert.equal((breaches[0]!.payload as { priority: string }).priority, 'critical');
    await markBreachedCases(db());
    assert.deepEqual(await trail(id), ['opened', 'sla_breached'], 'marked once');
  });

  test('the SLA job runs every 5 minutes and sweeps', async () => {
    const job = casesJobs().find((entry) => entry.name === 'aml.case-sla');
    assert.equal(job?.schedule, '*/5 * * * *');
    const customer = await createCustomer(t, 'JobRun', randomPhone());
    const raised = await raise(alert(customer.id, { pattern: 'sla_job' }));
    await db()
      .update(amlCases)
      .set({ dueAt: new Date(Date.now() - 1000) })
      .where(eq(amlCases.id, raised!.caseId));
    await job!.run(db());
    assert.ok((await caseRow(raised!.caseId)).breachedAt, 'the job marks it');
  });
});
