/**
 * Deciding `file_str` through the case route with the reports area's real ReportWriter: real payments named by the
 * alerts' evidence, the goAML STR stored (validated against the schema) in the transaction that closes the case, and
 * downloadable from it; a case whose alerts name no payment refuses the STR and stays open.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { randomPhone } from '../../../test/helpers/agents.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { staffToken } from '../../../test/helpers/loans.ts';
import { createCustomer, deposit, idempotent, openWallet, TEST_PIN } from '../../../test/helpers/money.ts';
import { inTransaction } from '../../platform/db.ts';
import { amlReports } from './aml.tables.ts';
import { amlModule } from './index.ts';

describe('AML cases: file_str with the goAML ReportWriter', () => {
  let t: TestContext;
  let analyst: string;
  const post = (url: string, payload?: object) =>
    t.app.inject({ method: 'POST', url, headers: bearer(analyst), ...(payload ? { payload } : {}) });
  const get = (url: string) => t.app.inject({ method: 'GET', url, headers: bearer(analyst) });

  async function caseFor(customerId: string, transactionIds: string[], pattern: string) {
    const raised = await inTransaction(t.deps.database.db, (tx) =>
      t.application.system.api(amlModule).cases.alerts.raise(tx, {
        source: 'scenario',
        pattern,
        ruleVersion: 1,
        priority: 'high',
        customerId,
        evidence: { transaction_ids: transactionIds, fields: { count: transactionIds.length } },
      }),
    );
    const caseId = raised!.caseId;
    assert.equal((await post(`/api/v1/aml/cases/${caseId}/claim`)).statusCode, 200);
    assert.equal((await post(`/api/v1/aml/cases/${caseId}/investigate`)).statusCode, 200);
    return caseId;
  }

  before(async () => {
    t = await startTestApp();
    analyst = await staffToken(t, 'str-analyst', ['compliance_officer']);
  });
  after(() => t.close());

  test('the STR names the alerts’ payments, is stored with the close, and downloads as goAML XML', async () => {
    const payer = await createCustomer(t, 'Structurer', randomPhone());
    const payee = await createCustomer(t, 'Collector', randomPhone());
    const payerWallet = await openWallet(t, payer.id);
    const payeeWallet = await openWallet(t, payee.id);
    await deposit(t, payerWallet.id, 400_000);
    const paid: string[] = [];
    for (const amount of [95_000, 96_000]) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/wallet/transaction/transfer',
        headers: idempotent(payer.token),
        payload: { to_wallet_number: payeeWallet.wallet_number, amount, currency: 'KES', pin: TEST_PIN },
      });
      assert.equal(response.statusCode, 201, response.body);
      paid.push(response.json().id);
    }
    const caseId = await caseFor(payer.id, paid, 'structuring_str');
    const filed = await post(`/api/v1/aml/cases/${caseId}/decide`, {
      decision: 'file_str',
      reason: 'amounts kept just under the threshold',
    });
    assert.equal(filed.statusCode, 200, filed.body);
    assert.equal(filed.json().state, 'closed');
    assert.equal(filed.json().decision, 'file_str');
    const reportId = filed.json().events.find((e: { action: string }) => e.action === 'decided')
      .detail.report_id;
    const [stored] = await t.deps.database.db.select().from(amlReports).where(eq(amlReports.id, reportId));
    assert.equal(stored?.kind, 'STR');
    assert.equal(stored?.caseId, caseId);
    assert.deepEqual([...stored!.transactionIds].sort(), [...paid].sort());
    const xml = await get(`/api/v1/aml/reports/${reportId}/xml`);
    assert.equal(xml.statusCode, 200, xml.body);
    assert.match(xml.body, /<report_code>STR<\/report_code>/);
  });

  test('alerts naming no payment: the STR is refused and the case stays open', async () => {
    const customer = await createCustomer(t, 'NoPayments', randomPhone());
    const caseId = await caseFor(customer.id, [randomUUID()], 'structuring_none');
    const refused = await post(`/api/v1/aml/cases/${caseId}/decide`, {
      decision: 'file_str',
      reason: 'nothing to report yet',
    });
    assert.equal(refused.statusCode, 422, refused.body);
    assert.equal(refused.json().error_code, 'AML_REPORT_NO_TRANSACTIONS');
    assert.equal((await get(`/api/v1/aml/cases/${caseId}`)).json().state, 'investigating');
  });
});
