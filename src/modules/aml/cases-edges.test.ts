/**
 * AML case routes at their edges: a case raised on an agent alone (no customer to restrict or upload for), unfreeze
 * of a case that restricted nothing, the queue's filters (breached, assignee) and paging, and what a closed case
 * still takes (notes) and refuses (snooze, claim).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { randomPhone } from '../../../test/helpers/agents.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { staffToken } from '../../../test/helpers/loans.ts';
import { createCustomer } from '../../../test/helpers/money.ts';
import { inTransaction } from '../../platform/db.ts';
import { markBreachedCases } from './aml.cases.sla.ts';
import type { AlertInput } from './aml.ports.ts';
import { amlCases } from './aml.tables.ts';
import { amlModule } from './index.ts';

const subOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')).sub as string;

describe('AML cases (edges)', () => {
  let t: TestContext;
  let analyst: string;
  const post = (url: string, payload?: object) =>
    t.app.inject({ method: 'POST', url, headers: bearer(analyst), ...(payload ? { payload } : {}) });
  const get = (url: string) => t.app.inject({ method: 'GET', url, headers: bearer(analyst) });

  async function raise(alert: Partial<AlertInput>) {
    const raised = await inTransaction(t.deps.database.db, (tx) =>
      t.application.system.api(amlModule).cases.alerts.raise(tx, {
        source: 'scenario',
        pattern: 'edge',
        priority: 'medium',
        evidence: {},
        ...alert,
      }),
    );
    return raised!.caseId;
  }

  async function investigate(caseId: string) {
    assert.equal((await post(`/api/v1/aml/cases/${caseId}/claim`)).statusCode, 200);
    assert.equal((await post(`/api/v1/aml/cases/${caseId}/investigate`)).statusCode, 200);
  }

  before(async () => {
    t = await startTestApp();
    analyst = await staffToken(t, 'edge-analyst', ['compliance_officer']);
  });
  after(() => t.close());

  test('a case on an agent alone: restrict and an upload are refused, a false positive closes it', async () => {
    const caseId = await raise({ agentId: randomUUID(), pattern: 'agent_structuring' });
    await investigate(caseId);
    const restrict = await post(`/api/v1/aml/cases/${caseId}/decide`, {
      decision: 'restrict',
      reason: 'agent',
    });
    assert.equal(restrict.statusCode, 409);
    assert.equal(restrict.json().error_code, 'AML_CASE_NO_CUSTOMER');
    const upload = await post(`/api/v1/aml/cases/${caseId}/attachments`, {
      document_type: 'bank_statement',
      content_base64: Buffer.from('anything').toString('base64'),
    });
    assert.equal(upload.statusCode, 422);
    assert.equal(upload.json().error_code, 'AML_ATTACHMENT_INVALID');
    const closed = await post(`/api/v1/aml/cases/${caseId}/decide`, {
      decision: 'false_positive',
      reason: 'reviewed, nothing unusual',
    });
    assert.equal(closed.statusCode, 200, closed.body);
    assert.equal(closed.json().state, 'closed');
    assert.equal(closed.json().risk_band, 'low');
  });

  test('unfreeze of a case that restricted nothing: 409; a closed case takes notes but no snooze or claim', async () => {
    const customer = await createCustomer(t, 'Edge', randomPhone());
    const caseId = await raise({ customerId: customer.id });
    const early = await post(`/api/v1/aml/cases/${caseId}/unfreeze`);
    assert.equal(early.json().error_code, 'AML_CASE_NOT_RESTRICTED');
    await investigate(caseId);
    await post(`/api/v1/aml/cases/${caseId}/decide`, { decision: 'monitor', reason: 'watch' });
    assert.equal(
      (await post(`/api/v1/aml/cases/${caseId}/unfreeze`)).json().error_code,
      'AML_CASE_NOT_RESTRICTED',
    );
    const note = await post(`/api/v1/aml/cases/${caseId}/notes`, { text: 'customer called back' });
    assert.equal(note.statusCode, 200, note.body);
    const snooze = await post(`/api/v1/aml/cases/${caseId}/snooze`, {
      until: new Date(Date.now() + 3_600_000).toISOString(),
      reason: 'later',
    });
    assert.equal(snooze.json().error_code, 'AML_CASE_STATE');
    assert.equal((await post(`/api/v1/aml/cases/${caseId}/claim`)).json().error_code, 'AML_CASE_STATE');
    const bad = await post(`/api/v1/aml/cases/${caseId}/decide`, { decision: 'close_it', reason: 'x' });
    assert.equal(bad.statusCode, 422);
  });

  test('the queue filters by breached and assignee, and pages', async () => {
    const customer = await createCustomer(t, 'Queue', randomPhone());
    const ids = [
      await raise({ customerId: customer.id, pattern: 'q1' }),
      await raise({ customerId: customer.id, pattern: 'q2' }),
      await raise({ customerId: customer.id, pattern: 'q3' }),
    ];
    await t.deps.database.db
      .update(amlCases)
      .set({ dueAt: new Date(Date.now() - 1000) })
      .where(eq(amlCases.id, ids[0]!));
    await markBreachedCases(t.deps.database.db);
    await post(`/api/v1/aml/cases/${ids[1]}/claim`);
    const base = `/api/v1/aml/cases?customer_id=${customer.id}`;
    const breached = await get(`${base}&breached=true`);
    assert.deepEqual(
      breached.json().items.map((item: { id: string }) => item.id),
      [ids[0]],
    );
    assert.equal((await get(`${base}&breached=false`)).json().items.length, 2);
    const mine = await get(`${base}&assignee_id=${subOf(analyst)}`);
    assert.deepEqual(
      mine.json().items.map((item: { id: string }) => item.id),
      [ids[1]],
    );
    assert.equal((await get(`${base}&state=assigned`)).json().items.length, 1);
    const first = await get(`${base}&limit=2`);
    assert.equal(first.json().items.length, 2);
    assert.ok(first.json().next_cursor);
    const rest = await get(`${base}&limit=2&cursor=${first.json().next_cursor}`);
    assert.equal(rest.json().items.length, 1);
    assert.equal(rest.json().next_cursor, null);
    const seen = [...first.json().items, ...rest.json().items].map((item: { id: string }) => item.id).sort();
    assert.deepEqual(seen, [...ids].sort());
    const forged = await get(`${base}&cursor=not-a-cursor`);
    assert.equal(forged.statusCode, 422);
  });
});
