/**
 * AML case routes end to end: the queue and a case's trail, each transition (and the 409s of the wrong ones),
 * assignment to analysts only, attachments through the documents module, snooze, the four-eyes false positive,
 * restrict (wallets frozen: a transfer is refused) and its unfreeze through maker-checker, and file_str writing its
 * report in the close's transaction.
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
import { uuidv7 } from '../../platform/ids.ts';
import { outboxEvents } from '../../platform/platform.tables.ts';
import type { AlertInput, ReportWriter, RiskReader } from './aml.ports.ts';
import { amlReports, amlRiskRatings, type RiskBand } from './aml.tables.ts';
import { amlModule } from './index.ts';

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('IHDR-pixels'),
  Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]),
]);

const subOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')).sub as string;

describe('AML cases (routes)', () => {
  let t: TestContext;
  let first: string;
  let second: string;
  let firstId: string;
  let secondId: string;
  let support: string;
  const db = () => t.deps.database.db;
  const api = () => t.application.system.api(amlModule);

  /** A real RiskReader over the ratings table (uncached: tests change a rating and read it back at once). */
  const risk: RiskReader = {
    ratingOf: async (customerId) => {
      const [row] = await db().select().from(amlRiskRatings).where(eq(amlRiskRatings.customerId, customerId));
      return row ? { ...row, computedAt: row.computedAt } : null;
    },
    recompute: () => Promise.reject(new Error('not used by the cases area')),
  };
  let reportFails = false;
  /** A real ReportWriter: stores a report row for the case with a trivial XML (the reports area has its own tests). */
  const reports: ReportWriter = {
    strForCase: async (tx, caseId, context) => {
      const id = uuidv7();
      await tx.insert(amlReports).values({
        id,
        kind: 'STR',
        caseId,
        transactionIds: [],
        xml: '<report><report_code>STR</report_code></report>',
        createdBy: context.actor.id,
      });
      if (reportFails) throw new Error('report failed after its insert');
      return id;
    },
  };

  const post = (url: string, token: string, payload?: object) =>
    t.app.inject({ method: 'POST', url, headers: bearer(token), ...(payload ? { payload } : {}) });
  const get = (url: string, token: string) => t.app.inject({ method: 'GET', url, headers: bearer(token) });
  const rate = (customerId: string, band: RiskBand) =>
    db()
      .insert(amlRiskRatings)
      .values({ customerId, score: band === 'high' ? 80 : 50, band, factors: [], trigger: 'test' })
      .onConflictDoUpdate({ target: amlRiskRatings.customerId, set: { band } });

  async function openCase(overrides: Partial<AlertInput> = {}) {
    const customer = await createCustomer(t, 'Case', randomPhone());
    const raised = await inTransaction(db(), (tx) =>
      api().cases.alerts.raise(tx, {
        source: 'rule',
        pattern: 'large_cash',
        ruleVersion: 2,
        priority: 'high',
        customerId: customer.id,
        evidence: { transaction_ids: [randomUUID()], fields: { amount: '2500000' } },
        ...overrides,
      }),
    );
    return { customer, caseId: raised!.caseId };
  }

  /** A case claimed by `first` and under investigation. */
  async function investigating(overrides: Partial<AlertInput> = {}) {
    const opened = await openCase(overrides);
    assert.equal((await post(`/api/v1/aml/cases/${opened.caseId}/claim`, first)).statusCode, 200);
    const started = await post(`/api/v1/aml/cases/${opened.caseId}/investigate`, first);
    assert.equal(started.statusCode, 200, started.body);
    return opened;
  }

  before(async () => {
    t = await startTestApp();
    first = await staffToken(t, 'analyst-one', ['compliance_officer']);
    second = await staffToken(t, 'analyst-two', ['compliance_officer']);
    support = await staffToken(t, 'support-one', ['support_agent']);
    firstId = subOf(first);
    secondId = subOf(second);
    api().cases.decisions.connect({ risk, reports });
  });
  after(() => t.close());

  test('the queue lists the case; the case shows its alerts, evidence and trail', async () => {
    const { customer, caseId } = await openCase();
    const list = await get(`/api/v1/aml/cases?customer_id=${customer.id}`, first);
    assert.equal(list.statusCode, 200, list.body);
    assert.deepEqual(
      list.json().items.map((item: { id: string }) => item.id),
      [caseId],
    );
    const detail = await get(`/api/v1/aml/cases/${caseId}`, first);
    assert.equal(detail.statusCode, 200, detail.body);
    const body = detail.json();
    assert.equal(body.state, 'open');
    assert.equal(body.priority, 'high');
    assert.equal(body.alerts.length, 1);
    assert.equal(body.alerts[0].rule_version, 2);
    assert.equal(body.alerts[0].evidence.fields.amount, '2500000');
    assert.deepEqual(
      body.events.map((event: { action: string }) => event.action),
      ['opened'],
    );
    const missing = await get(`/api/v1/aml/cases/${randomUUID()}`, first);
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error_code, 'AML_CASE_NOT_FOUND');
    const bad = await get('/api/v1/aml/cases?priority=urgent', first);
    assert.equal(bad.statusCode, 422);
  });

  test('transitions: claim, investigate, escalate, resume, note, decide; the wrong ones answer 409', async () => {
    const { caseId } = await openCase();
    const url = `/api/v1/aml/cases/${caseId}`;
    const early = await post(`${url}/decide`, first, { decision: 'monitor', reason: 'too early' });
    assert.equal(early.statusCode, 409);
    assert.equal(early.json().error_code, 'AML_CASE_STATE');
    assert.equal((await post(`${url}/investigate`, first)).json().error_code, 'AML_CASE_STATE');
    const claimed = await post(`${url}/claim`, first);
    assert.equal(claimed.json().state, 'assigned');
    assert.equal(claimed.json().assignee_id, firstId);
    const taken = await post(`${url}/claim`, second);
    assert.equal(taken.statusCode, 409);
    assert.equal(taken.json().error_code, 'AML_CASE_ASSIGNED');
    assert.equal((await post(`${url}/escalate`, first, { reason: 'not yet' })).statusCode, 409);
    assert.equal((await post(`${url}/investigate`, first)).json().state, 'investigating');
    assert.equal(
      (await post(`${url}/escalate`, first, { reason: 'needs the MLRO' })).json().state,
      'escalated',
    );
    assert.equal((await post(`${url}/investigate`, second)).json().state, 'investigating');
    const noted = await post(`${url}/notes`, first, { text: 'Source of funds asked by phone.' });
    assert.equal(noted.statusCode, 200, noted.body);
    const decided = await post(`${url}/decide`, first, {
      decision: 'monitor',
      reason: 'explained, keep watching',
    });
    assert.equal(decided.statusCode, 200, decided.body);
    const body = decided.json();
    assert.equal(body.state, 'closed');
    assert.equal(body.decision, 'monitor');
    assert.equal(body.closed_by, firstId);
    assert.deepEqual(
      body.events.map((event: { action: string }) => event.action),
      ['opened', 'claimed', 'investigating', 'escalated', 'investigating', 'note', 'decided'],
    );
    assert.equal(
      body.events.find((e: { action: string }) => e.action === 'note').detail.text,
      'Source of funds asked by phone.',
    );
    assert.equal((await post(`${url}/claim`, second)).json().error_code, 'AML_CASE_STATE');
    assert.equal(
      (await post(`${url}/decide`, first, { decision: 'monitor', reason: 'again' })).statusCode,
      409,
    );
    const closed = await db().select().from(outboxEvents).where(eq(outboxEvents.aggregateId, caseId));
    assert.ok(closed.some((event) => event.topic === 'aml.case_closed'));
  });

  test('assign: only to an active analyst who may investigate', async () => {
    const { caseId } = await openCase();
    const url = `/api/v1/aml/cases/${caseId}/assign`;
    const assigned = await post(url, first, { assignee_id: secondId });
    assert.equal(assigned.statusCode, 200, assigned.body);
    assert.equal(assigned.json().assignee_id, secondId);
    assert.equal(assigned.json().state, 'assigned');
    for (const assignee of [subOf(support), randomUUID()]) {
      const refused = await post(url, first, { assignee_id: assignee });
      assert.equal(refused.statusCode, 422);
      assert.equal(refused.json().error_code, 'AML_ASSIGNEE_INVALID');
    }
  });

  test('snooze hides a case from the default queue until its end; a past end is refused', async () => {
    const { customer, caseId } = await openCase({ priority: 'low' });
    const url = `/api/v1/aml/cases/${caseId}/snooze`;
    const past = await post(url, first, {
      until: new Date(Date.now() - 1000).toISOString(),
      reason: 'waiting',
    });
    assert.equal(past.statusCode, 422);
    assert.equal(past.json().error_code, 'AML_SNOOZE_INVALID');
    const until = new Date(Date.now() + 86_400_000).toISOString();
    const snoozed = await post(url, first, { until, reason: 'waiting for the bank statement' });
    assert.equal(snoozed.statusCode, 200, snoozed.body);
    assert.equal(snoozed.json().snoozed_until, until);
    const queue = await get(`/api/v1/aml/cases?customer_id=${customer.id}`, first);
    assert.equal(queue.json().items.length, 0);
    const all = await get(`/api/v1/aml/cases?customer_id=${customer.id}&include_snoozed=true`, first);
    assert.equal(all.json().items.length, 1);
    const low = await get(
      `/api/v1/aml/cases?customer_id=${customer.id}&include_snoozed=true&priority=high`,
      first,
    );
    assert.equal(low.json().items.length, 0, 'priority filter');
  });

  test('attachments: an upload through the documents module, an existing document, and the refusals', async () => {
    const { customer, caseId } = await openCase();
    const url = `/api/v1/aml/cases/${caseId}/attachments`;
    const uploaded = await post(url, first, {
      document_type: 'bank_statement',
      content_base64: PNG.toString('base64'),
      description: 'statement the customer sent',
    });
    assert.equal(uploaded.statusCode, 200, uploaded.body);
    const event = uploaded.json().events.find((e: { action: string }) => e.action === 'attachment');
    const documentId = event.detail.document_id as string;
    const document = await get(`/api/v1/document/document/${documentId}`, first);
    assert.equal(document.statusCode, 200, document.body);
    assert.equal(document.json().customer_id, customer.id);
    const linked = await post(url, first, { document_id: documentId });
    assert.equal(linked.statusCode, 200, linked.body);
    const missing = await post(url, first, { document_id: randomUUID() });
    assert.equal(missing.statusCode, 422);
    assert.equal(missing.json().error_code, 'AML_ATTACHMENT_INVALID');
    const other = await openCase();
    const foreign = await post(`/api/v1/aml/cases/${other.caseId}/attachments`, first, {
      document_id: documentId,
    });
    assert.equal(foreign.json().error_code, 'AML_ATTACHMENT_INVALID');
    const hostile = await post(url, first, {
      document_type: 'bank_statement',
      content_base64: Buffer.from('MZ not an image at all').toString('base64'),
    });
    assert.equal(hostile.statusCode, 422);
    assert.equal(hostile.json().error_code, 'DOCUMENT_REJECTED');
  });

  test('four-eyes: a false positive for a customer rated at or above the band needs a second analyst', async () => {
    const { customer, caseId } = await investigating();
    await rate(customer.id, 'high');
    const url = `/api/v1/aml/cases/${caseId}/decide`;
    const proposed = await post(url, first, { decision: 'false_positive', reason: 'salary, documented' });
    assert.equal(proposed.statusCode, 200, proposed.body);
    assert.equal(proposed.json().state, 'investigating');
    assert.equal(proposed.json().pending_close_by, firstId);
    const same = await post(url, first, { decision: 'false_positive', reason: 'salary, documented' });
    assert.equal(same.statusCode, 409);
    assert.equal(same.json().error_code, 'AML_CASE_SAME_ANALYST');
    const confirmed = await post(url, second, { decision: 'false_positive', reason: 'agree' });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    assert.equal(confirmed.json().state, 'closed');
    assert.equal(confirmed.json().decision, 'false_positive');
    assert.equal(confirmed.json().risk_band, 'high');
    const decided = confirmed.json().events.find((e: { action: string }) => e.action === 'decided');
    assert.equal(decided.detail.proposed_by, firstId);
    assert.equal(decided.detail.confirmed_by, secondId);

    // Below the band (never rated: low) one analyst closes it.
    const low = await investigating();
    const alone = await post(`/api/v1/aml/cases/${low.caseId}/decide`, first, {
      decision: 'false_positive',
      reason: 'known payroll',
    });
    assert.equal(alone.json().state, 'closed');
    assert.equal(alone.json().risk_band, 'low');
  });

  test('restrict freezes the customer’s wallets (a transfer is refused); unfreezing needs a second analyst’s approval', async () => {
    const { customer, caseId } = await investigating();
    const wallet = await openWallet(t, customer.id);
    await deposit(t, wallet.id, 500_000);
    const payee = await createCustomer(t, 'Payee', randomPhone());
    const payeeWallet = await openWallet(t, payee.id);
    const transfer = () =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/wallet/transaction/transfer',
        headers: idempotent(customer.token),
        payload: {
          to_wallet_number: payeeWallet.wallet_number,
          amount: 1000,
          currency: 'KES',
          pin: TEST_PIN,
        },
      });
    const restricted = await post(`/api/v1/aml/cases/${caseId}/decide`, first, {
      decision: 'restrict',
      reason: 'funds of unexplained origin',
    });
    assert.equal(restricted.statusCode, 200, restricted.body);
    assert.equal(restricted.json().state, 'closed');
    assert.equal(restricted.json().decision, 'restrict');
    const seen = await get(`/api/v1/wallet/wallet/${wallet.id}`, customer.token);
    assert.equal(seen.json().status, 'frozen');
    assert.doesNotMatch(seen.body, /aml|case|suspicious|AML-/i, 'the customer sees nothing of AML');
    const refused = await transfer();
    assert.equal(refused.statusCode, 409, refused.body);
    assert.equal(refused.json().error_code, 'WALLET_NOT_ACTIVE');
    assert.doesNotMatch(refused.body, /aml|AML-/i);

    const requested = await post(`/api/v1/aml/cases/${caseId}/unfreeze`, first);
    assert.equal(requested.statusCode, 202, requested.body);
    assert.equal(requested.json().action, 'aml.unfreeze_customer');
    const again = await post(`/api/v1/aml/cases/${caseId}/unfreeze`, first);
    assert.equal(again.json().error_code, 'APPROVAL_ALREADY_PENDING');
    const own = await post('/api/v1/policy/approval/approve', first, { request_id: requested.json().id });
    assert.equal(own.json().error_code, 'OWN_REQUEST');
    assert.equal((await get(`/api/v1/wallet/wallet/${wallet.id}`, first)).json().status, 'frozen');
    const approved = await post('/api/v1/policy/approval/approve', second, {
      request_id: requested.json().id,
    });
    assert.equal(approved.statusCode, 200, approved.body);
    assert.equal(approved.json().status, 'approved', approved.body);
    assert.equal((await get(`/api/v1/wallet/wallet/${wallet.id}`, first)).json().status, 'active');
    const sent = await transfer();
    assert.equal(sent.statusCode, 201, sent.body);
    const trail = (await get(`/api/v1/aml/cases/${caseId}`, first)).json().events;
    assert.deepEqual(trail.find((e: { action: string }) => e.action === 'unfrozen').detail.wallet_ids, [
      wallet.id,
    ]);
    const lifted = await post(`/api/v1/aml/cases/${caseId}/unfreeze`, first);
    assert.equal(lifted.statusCode, 409);
    assert.equal(lifted.json().error_code, 'AML_CASE_NOT_RESTRICTED');
  });

  test('file_str writes the report in the close’s transaction: a failing report leaves the case open', async () => {
    const { caseId } = await investigating();
    const url = `/api/v1/aml/cases/${caseId}/decide`;
    reportFails = true;
    const failed = await post(url, first, { decision: 'file_str', reason: 'structuring confirmed' });
    reportFails = false;
    assert.equal(failed.statusCode, 500);
    assert.equal((await get(`/api/v1/aml/cases/${caseId}`, first)).json().state, 'investigating');
    assert.equal((await db().select().from(amlReports).where(eq(amlReports.caseId, caseId))).length, 0);
    const filed = await post(url, first, { decision: 'file_str', reason: 'structuring confirmed' });
    assert.equal(filed.statusCode, 200, filed.body);
    assert.equal(filed.json().decision, 'file_str');
    const [report] = await db().select().from(amlReports).where(eq(amlReports.caseId, caseId));
    assert.ok(report);
    const decided = filed.json().events.find((e: { action: string }) => e.action === 'decided');
    assert.equal(decided.detail.report_id, report.id);
  });
});
