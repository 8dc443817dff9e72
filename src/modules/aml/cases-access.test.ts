/**
 * Tipping-off: customers (even the case's own), agent operators and staff without `aml:*` permissions get 403 on
 * every case route, and no answer of theirs carries anything of the case (id, reference, pattern).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { agentNetwork, randomPhone } from '../../../test/helpers/agents.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { staffToken } from '../../../test/helpers/loans.ts';
import { createCustomer } from '../../../test/helpers/money.ts';
import { inTransaction } from '../../platform/db.ts';
import { amlModule } from './index.ts';

describe('AML cases: tipping-off', () => {
  let t: TestContext;
  let caseId: string;
  let reference: string;
  const principals: Record<string, string> = {};

  before(async () => {
    t = await startTestApp();
    const customer = await createCustomer(t, 'Watched', randomPhone());
    const raised = await inTransaction(t.deps.database.db, (tx) =>
      t.application.system.api(amlModule).cases.alerts.raise(tx, {
        source: 'scenario',
        pattern: 'secret_pattern_name',
        priority: 'high',
        customerId: customer.id,
        evidence: { fields: { amount: '100' } },
      }),
    );
    caseId = raised!.caseId;
    const analyst = await staffToken(t, 'analyst', ['compliance_officer']);
    reference = (
      await t.app.inject({ method: 'GET', url: `/api/v1/aml/cases/${caseId}`, headers: bearer(analyst) })
    ).json().reference;
    const network = await agentNetwork(t);
    principals['the case’s own customer'] = customer.token;
    principals['agent teller'] = network.tellers[0]!.token;
    principals['support agent (staff)'] = await staffToken(t, 'support', ['support_agent']);
    principals['operations (staff)'] = await staffToken(t, 'ops', ['operations']);
  });
  after(() => t.close());

  const routes = () => [
    { method: 'GET', url: '/api/v1/aml/cases' },
    { method: 'GET', url: `/api/v1/aml/cases?customer_id=${randomUUID()}` },
    { method: 'GET', url: `/api/v1/aml/cases/${caseId}` },
    { method: 'POST', url: `/api/v1/aml/cases/${caseId}/claim` },
    { method: 'POST', url: `/api/v1/aml/cases/${caseId}/assign`, payload: { assignee_id: randomUUID() } },
    { method: 'POST', url: `/api/v1/aml/cases/${caseId}/investigate` },
    { method: 'POST', url: `/api/v1/aml/cases/${caseId}/escalate`, payload: { reason: 'because' } },
    { method: 'POST', url: `/api/v1/aml/cases/${caseId}/notes`, payload: { text: 'hello' } },
    {
      method: 'POST',
      url: `/api/v1/aml/cases/${caseId}/attachments`,
      payload: { document_id: randomUUID() },
    },
    {
      method: 'POST',
      url: `/api/v1/aml/cases/${caseId}/snooze`,
      payload: { until: new Date(Date.now() + 3_600_000).toISOString(), reason: 'later' },
    },
    {
      method: 'POST',
      url: `/api/v1/aml/cases/${caseId}/decide`,
      payload: { decision: 'false_positive', reason: 'fine' },
    },
    { method: 'POST', url: `/api/v1/aml/cases/${caseId}/unfreeze` },
  ];

  test('every case route answers 403 to them and shows nothing of the case', async () => {
    assert.ok(reference);
    for (const [who, token] of Object.entries(principals)) {
      for (const route of routes()) {
        const response = await t.app.inject({
          method: route.method as 'GET' | 'POST',
          url: route.url,
          headers: bearer(token),
          ...(route.payload ? { payload: route.payload } : {}),
        });
        assert.equal(response.statusCode, 403, `${who} ${route.method} ${route.url}: ${response.body}`);
        assert.equal(response.json().error_code, 'FORBIDDEN');
        for (const secret of [reference, 'secret_pattern_name', 'AML-'])
          assert.ok(!response.body.includes(secret), `${who} ${route.url} shows ${secret}`);
      }
    }
  });

  test('the case is unchanged by their attempts', async () => {
    const analyst = await staffToken(t, 'analyst-check', ['compliance_officer']);
    const detail = await t.app.inject({
      method: 'GET',
      url: `/api/v1/aml/cases/${caseId}`,
      headers: bearer(analyst),
    });
    assert.equal(detail.json().state, 'open');
    assert.deepEqual(
      detail.json().events.map((event: { action: string }) => event.action),
      ['opened'],
    );
  });

  test('without a token: 401', async () => {
    const response = await t.app.inject({ method: 'GET', url: `/api/v1/aml/cases/${caseId}` });
    assert.equal(response.statusCode, 401);
  });
});
