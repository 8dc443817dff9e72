/**
 * Loan scoring end to end: the scorecard's factors on seeded wallet history and loans, the bureau through the fake
 * Metropol (signed requests, a listing declines, has_error and timeouts refer), the stored results and their routes,
 * and the policy alone when no bureau is configured.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { FakeMetropol } from '../../../test/fakes/metropol.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  insertApplication,
  insertLoanProduct,
  loanCustomer,
  type TestProduct,
} from '../../../test/helpers/loans.ts';
import { deposit, openWallet } from '../../../test/helpers/money.ts';
import { systemContext } from '../../platform/audit.ts';
import { inTransaction } from '../../platform/db.ts';
import { humanNumber, uuidv7 } from '../../platform/ids.ts';
import { setCustomerTier } from '../customers/index.ts';
import { loansModule } from './index.ts';

const DAY = 86_400_000;

interface Applicant {
  id: string;
  walletId: string;
}

/**
 * A customer with a national ID at a tier, a wallet opened `ageDays` ago and one deposit per entry of
 * `deposits` ([days ago, minor units]); the wallet's journal is back-dated accordingly (oldest first).
 */
async function applicant(
  t: TestContext,
  name: string,
  phone: string,
  options: { nationalId?: string; tier: string; ageDays: number; deposits: [number, number][] },
): Promise<Applicant> {
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/v1/customer/customer/add',
    headers: bearer(t.adminToken),
    payload: {
      first_name: name,
      last_name: 'Scored',
      phone,
      ...(options.nationalId ? { national_id: options.nationalId, national_id_type: 'national_id' } : {}),
    },
  });
  assert.equal(created.statusCode, 201, created.body);
  const id = created.json().id as string;
  await inTransaction(t.deps.database.db, (tx) => setCustomerTier(tx, id, options.tier, null));
  const wallet = await openWallet(t, id);
  const db = t.deps.database.db;
  const now = Date.now();
  await db.execute(
    sql`update wallets set created_at = ${new Date(now - options.ageDays * DAY)} where id = ${wallet.id}`,
  );
  const sorted = [...options.deposits].sort((a, b) => b[0] - a[0]);
  for (const [, amount] of sorted) await deposit(t, wallet.id, amount);
  // Journal lines are append-only: the history is back-dated with the guard off, inside one transaction.
  await inTransaction(db, async (tx) => {
    const entries = (await tx.execute(
      sql`select id::text as id from ledger_entries where account_id = ${wallet.id} order by id`,
    )) as unknown as { rows: { id: string }[] };
    assert.equal(entries.rows.length, sorted.length, 'one journal line per deposit');
    await tx.execute(sql`alter table ledger_entries disable trigger ledger_entries_append_only`);
    for (const [index, row] of entries.rows.entries()) {
      const daysAgo = sorted[index]?.[0] ?? 0;
      await tx.execute(
        sql`update ledger_entries set created_at = ${new Date(now - daysAgo * DAY)} where id = ${row.id}::bigint`,
      );
    }
    await tx.execute(sql`alter table ledger_entries enable trigger ledger_entries_append_only`);
  });
  return { id, walletId: wallet.id };
}

/** A past loan of the customer in a final state, inserted directly (no schedule needed for the scorecard). */
async function pastLoan(
  t: TestContext,
  customer: Applicant,
  product: TestProduct,
  status: 'written_off' | 'closed',
) {
  const applicationId = await insertApplication(t, {
    customerId: customer.id,
    product,
    amountMinor: 1_000_000,
    term: 3,
    status: 'approved',
  });
  await t.deps.database.db.execute(sql`
    insert into loans (id, number, application_id, customer_id, product_id, product_version, terms, currency,
      principal_minor, term, status, wallet_id)
    values (${uuidv7()}, ${humanNumber('LN')}, ${applicationId}, ${customer.id}, ${product.id}, 1,
      ${JSON.stringify(product.terms)}::jsonb, 'KES', 1000000, 3, ${status}, ${customer.walletId})`);
}

/** Thirty thousand shillings paid in 80, 50 and 20 days ago: three months of inflows, a strong balance. */
const STEADY: [number, number][] = [
  [80, 3_000_000],
  [50, 3_000_000],
  [20, 3_000_000],
];

describe('loan scoring with the Metropol bureau', () => {
  let t: TestContext;
  let fake: FakeMetropol;
  let closeFake: () => Promise<void>;
  let product: TestProduct;

  before(async () => {
    fake = new FakeMetropol();
    const started = await fake.start();
    closeFake = started.close;
    t = await startTestApp({
      METROPOL_BASE_URL: started.baseUrl,
      METROPOL_PUBLIC_KEY: fake.publicKey,
      METROPOL_PRIVATE_KEY: fake.privateKey,
      METROPOL_TIMEOUT_MS: '300',
    });
    product = await insertLoanProduct(t);
  });
  after(async () => {
    await t.close();
    await closeFake();
  });

  const score = (applicationId: string, token = t.adminToken) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/loan/scoring/loan',
      headers: bearer(token),
      payload: { application_id: applicationId },
    });

  test('the scorecard scores seeded wallet history, the bureau is asked with signed requests, approve', async () => {
    const good = await applicant(t, 'Grace', '+254744000001', {
      nationalId: '20000001',
      tier: 'premium',
      ageDays: 400,
      deposits: STEADY,
    });
    fake.setPerson('20000001', { score: 700, delinquencyCode: '002' });
    const applicationId = await insertApplication(t, {
      customerId: good.id,
      product,
      amountMinor: 5_000_000,
      term: 6,
      status: 'submitted',
    });
    fake.requests.length = 0;
    const response = await score(applicationId);
    assert.equal(response.statusCode, 200, response.body);
    const result = response.json();
    const factors = Object.fromEntries(
      result.factors.map((f: { factor: string; points: number; reason_code: string }) => [
        f.factor,
        [f.points, f.reason_code],
      ]),
    );
    assert.deepEqual(factors, {
      wallet_tenure: [20, 'WALLET_TENURE_LONG'],
      average_balance: [20, 'AVG_BALANCE_STRONG'],
      inflow_regularity: [20, 'INFLOWS_REGULAR'],
      loan_performance: [12, 'NO_LOAN_HISTORY'],
      kyc_tier: [15, 'KYC_TIER_FULL'],
    });
    assert.equal(result.internal_score, 87);
    assert.equal(result.internal_max_score, 100);
    assert.deepEqual(result.bureau, {
      status: 'ok',
      score: 700,
      delinquency_code: '002',
      delinquency_summary: 'Not delinquent',
      error: null,
    });
    // 60 % of 87 and 40 % of 700 on 200–900 (71): 81.
    assert.equal(result.final_score, 81);
    assert.equal(result.decision, 'approve');
    // Three months of the average monthly inflow (KES 30,000), under the product's maximum.
    assert.equal(result.recommended_limit_minor, 9_000_000);
    assert.equal(result.reasons.filter((r: { adverse: boolean }) => r.adverse).length, 0);

    // Both reports went out signed, about the customer's national ID, with the amount in whole shillings.
    assert.equal(fake.requests.length, 2);
    assert.ok(fake.requests.every((request) => request.signed));
    const delinquency = fake.requests.find((request) => request.path.endsWith('/deliquency/status'));
    assert.deepEqual(delinquency?.body, {
      report_type: 2,
      identity_number: '20000001',
      identity_type: '001',
      loan_amount: 50_000,
    });

    // Stored: the application points at it, the routes read it back.
    const {
      rows: [row],
    } = (await t.deps.database.db.execute(
      sql`select scoring_result_id, decision from loan_applications where id = ${applicationId}`,
    )) as unknown as { rows: { scoring_result_id: string; decision: string }[] };
    assert.equal(row?.scoring_result_id, result.id);
    assert.equal(row?.decision, 'approve');
    const got = await t.app.inject({
      method: 'GET',
      url: `/api/v1/loan/scoring/result/${result.id}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(got.statusCode, 200, got.body);
    assert.deepEqual(got.json(), result);
    const list = await t.app.inject({
      method: 'GET',
      url: `/api/v1/loan/scoring/result/list?application_id=${applicationId}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(list.statusCode, 200, list.body);
    assert.deepEqual(
      list.json().items.map((item: { id: string }) => item.id),
      [result.id],
    );
  });

  test('a bureau listing declines with adverse-action reasons; the pipeline port gives only those', async () => {
    const listed = await applicant(t, 'Lister', '+254744000002', {
      nationalId: '20000002',
      tier: 'premium',
      ageDays: 400,
      deposits: STEADY,
    });
    fake.setPerson('20000002', {
      score: 610,
      delinquencyCode: '004',
      delinquencySummary: 'Current delinquency True',
    });
    const applicationId = await insertApplication(t, {
      customerId: listed.id,
      product,
      amountMinor: 5_000_000,
      term: 6,
      status: 'submitted',
    });
    const outcome = await t.application.system.api(loansModule).scoring.score(applicationId, systemContext());
    assert.equal(outcome.decision, 'decline');
    assert.equal(outcome.recommended_limit_minor, 0n);
    assert.deepEqual(
      outcome.reasons.map((reason) => reason.code),
      ['BUREAU_DELINQUENT'],
    );
    assert.match(outcome.reasons[0]?.message ?? '', /default/);
    const stored = await t.app.inject({
      method: 'GET',
      url: `/api/v1/loan/scoring/result/${outcome.result_id}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(stored.json().bureau.delinquency_code, '004');
    assert.equal(stored.json().scored_by.type, 'system');
  });

  test('a thin file declines on the internal score with the factors that cost most as reasons', async () => {
    const thin = await applicant(t, 'Newbie', '+254744000003', {
      nationalId: '20000003',
      tier: 'basic',
      ageDays: 10,
      deposits: [[5, 10_000]],
    });
    fake.setPerson('20000003', { score: 450, delinquencyCode: '002' });
    const applicationId = await insertApplication(t, {
      customerId: thin.id,
      product,
      amountMinor: 5_000_000,
      term: 6,
      status: 'submitted',
    });
    const result = (await score(applicationId)).json();
    // Tenure 0, balance ~0.0 % of the amount (3), one month of inflows (5), no loans (12), basic tier (0): 20.
    assert.equal(result.internal_score, 20);
    assert.equal(result.decision, 'decline');
    const adverse = result.reasons
      .filter((reason: { adverse: boolean }) => reason.adverse)
      .map((reason: { code: string }) => reason.code);
    assert.deepEqual(adverse, [
      'SCORE_TOO_LOW',
      'WALLET_TENURE_SHORT',
      'AVG_BALANCE_LOW',
      'INFLOWS_IRREGULAR',
      'KYC_TIER_BASIC',
    ]);
  });

  test('a written-off loan declines whatever the score (a knock-out)', async () => {
    const previous = await applicant(t, 'Former', '+254744000004', {
      nationalId: '20000004',
      tier: 'premium',
      ageDays: 400,
      deposits: STEADY,
    });
    await pastLoan(t, previous, product, 'written_off');
    fake.setPerson('20000004', { score: 800, delinquencyCode: '002' });
    const applicationId = await insertApplication(t, {
      customerId: previous.id,
      product,
      amountMinor: 1_000_000,
      term: 3,
      status: 'submitted',
    });
    const result = (await score(applicationId)).json();
    const performance = result.factors.find((f: { factor: string }) => f.factor === 'loan_performance');
    assert.equal(performance.reason_code, 'LOAN_WRITTEN_OFF');
    assert.equal(performance.points, 0);
    assert.equal(result.decision, 'decline');
    assert.equal(result.reasons[0].code, 'LOAN_WRITTEN_OFF');
  });

  test('a bureau that times out refers (never approves), and so does a has_error answer', async () => {
    const slow = await applicant(t, 'Slow', '+254744000005', {
      nationalId: '20000005',
      tier: 'premium',
      ageDays: 400,
      deposits: STEADY,
    });
    fake.setPerson('20000005', { score: 800, delayMs: 2_000 });
    const slowApplication = await insertApplication(t, {
      customerId: slow.id,
      product,
      amountMinor: 1_000_000,
      term: 3,
      status: 'submitted',
    });
    const timedOut = (await score(slowApplication)).json();
    assert.equal(timedOut.internal_score, 87);
    assert.equal(timedOut.bureau.status, 'timeout');
    assert.equal(timedOut.bureau.score, null);
    assert.equal(timedOut.decision, 'refer');
    assert.equal(timedOut.reasons[0].code, 'BUREAU_UNAVAILABLE');

    const erring = await applicant(t, 'Erring', '+254744000006', {
      nationalId: '20000006',
      tier: 'premium',
      ageDays: 400,
      deposits: STEADY,
    });
    fake.setPerson('20000006', { error: { code: '103', description: 'Identity number is invalid' } });
    const erringApplication = await insertApplication(t, {
      customerId: erring.id,
      product,
      amountMinor: 1_000_000,
      term: 3,
      status: 'submitted',
    });
    const errored = (await score(erringApplication)).json();
    assert.equal(errored.bureau.status, 'error');
    assert.equal(errored.bureau.error, '103: Identity number is invalid');
    assert.equal(errored.decision, 'refer');
    assert.equal(errored.reasons[0].code, 'BUREAU_ERROR');
  });

  test('a customer with no ID document on file is referred without asking the bureau', async () => {
    const customer = await loanCustomer(t, 'Noid', '+254744000007', { tier: 'premium', balance: 100_000 });
    const applicationId = await insertApplication(t, {
      customerId: customer.id,
      product,
      amountMinor: 1_000_000,
      term: 3,
      status: 'referred',
    });
    fake.requests.length = 0;
    const result = (await score(applicationId)).json();
    assert.equal(result.bureau.status, 'no_identity');
    assert.equal(result.decision === 'approve', false);
    assert.equal(fake.requests.length, 0);
  });

  test('staff only; unknown and decided applications are refused with their codes', async () => {
    const customer = await loanCustomer(t, 'Curious', '+254744000008', { tier: 'standard' });
    const applicationId = await insertApplication(t, {
      customerId: customer.id,
      product,
      amountMinor: 1_000_000,
      term: 3,
      status: 'declined',
    });
    assert.equal((await score(applicationId, customer.token)).statusCode, 403);
    const own = await t.app.inject({
      method: 'GET',
      url: `/api/v1/loan/scoring/result/list?application_id=${applicationId}`,
      headers: bearer(customer.token),
    });
    assert.equal(own.statusCode, 403, 'customers never see scores');
    const decided = await score(applicationId);
    assert.equal(decided.statusCode, 409);
    assert.equal(decided.json().error_code, 'LOAN_SCORING_NOT_ALLOWED');
    const unknown = await score(uuidv7());
    assert.equal(unknown.statusCode, 404);
    assert.equal((await score('not-a-uuid')).statusCode, 422);
    const missing = await t.app.inject({
      method: 'GET',
      url: `/api/v1/loan/scoring/result/${uuidv7()}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(missing.statusCode, 404);
  });

  test('the bureau is a readiness check when configured', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/health/ready' });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().checks['loans.bureau'], 'ok');
    assert.equal(response.json().status, 'ok');
  });
});

describe('a configured bureau that is down', () => {
  let t: TestContext;
  before(async () => {
    // Nothing listens on port 9 (discard) here: every inquiry fails to connect.
    t = await startTestApp({
      METROPOL_BASE_URL: 'http://127.0.0.1:9',
      METROPOL_PUBLIC_KEY: 'public',
      METROPOL_PRIVATE_KEY: 'private',
      METROPOL_TIMEOUT_MS: '300',
    });
  });
  after(async () => t.close());

  test('degrades readiness instead of taking the node out: everything else still serves', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/health/ready' });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.status, 'degraded');
    assert.equal(body.checks['loans.bureau'], 'down');
    assert.deepEqual(body.degraded, ['loans.bureau']);
    assert.equal(body.checks.database, 'ok');
  });
});

describe('loan scoring without a bureau (quick start)', () => {
  let t: TestContext;

  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  test('the internal score decides alone and the reasons say so', async () => {
    const product = await insertLoanProduct(t);
    const good = await applicant(t, 'Solo', '+254744000101', {
      nationalId: '30000001',
      tier: 'premium',
      ageDays: 400,
      deposits: STEADY,
    });
    const applicationId = await insertApplication(t, {
      customerId: good.id,
      product,
      amountMinor: 5_000_000,
      term: 6,
      status: 'submitted',
    });
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/loan/scoring/loan',
      headers: bearer(t.adminToken),
      payload: { application_id: applicationId },
    });
    assert.equal(response.statusCode, 200, response.body);
    const result = response.json();
    assert.equal(result.bureau.status, 'not_configured');
    assert.equal(result.bureau.score, null);
    assert.equal(result.final_score, 87);
    assert.equal(result.decision, 'approve');
    assert.ok(result.reasons.some((reason: { code: string }) => reason.code === 'BUREAU_NOT_CONFIGURED'));
    const ready = await t.app.inject({ method: 'GET', url: '/health/ready' });
    assert.equal(ready.json().checks['loans.bureau'], 'not_configured');
    assert.equal(ready.json().status, 'ok');
  });
});
