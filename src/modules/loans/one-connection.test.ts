/**
 * Every loan flow on ONE database connection, as `npm start` runs it on the embedded database (PGlite has one
 * connection; on PostgreSQL the same happens with DATABASE_POOL_SIZE=1, and a bigger pool runs dry the same way at
 * pool-size concurrent requests). A query on another connection while a transaction is open — a service reading
 * through its own `db` inside an `inTransaction` callback, as the fraud rules' device, wallet and KYC reads once did —
 * then waits forever: here that step times out instead of answering. The phone-ownership provider and the credit
 * bureau are (fake) HTTP services, so their calls are on the path too (made before any transaction).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { FakeMetropol } from '../../../test/fakes/metropol.ts';
import { type FakePhoneOwnership, startFakePhoneOwnership } from '../../../test/fakes/phone-ownership.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { insertLoanProduct, staffToken, type TestProduct } from '../../../test/helpers/loans.ts';
import { deposit, idempotent, openWallet, TEST_PIN } from '../../../test/helpers/money.ts';

/** A step that waits for a second connection never answers: fail it well before the runner's own timeout. */
const STEP = { timeout: 30_000 };

describe('loans on one database connection', { timeout: 240_000 }, () => {
  const API_KEY = `po-${randomUUID()}`;
  const bureau = new FakeMetropol();
  let closeBureau: () => Promise<void>;
  let phones: FakePhoneOwnership;
  let t: TestContext;
  let officer: string;
  let product: TestProduct;
  let strict: TestProduct;
  let seq = 0;

  before(async () => {
    const started = await bureau.start();
    closeBureau = started.close;
    phones = await startFakePhoneOwnership({ apiKey: API_KEY });
    t = await startTestApp(
      {
        DATABASE_POOL_SIZE: '1',
        METROPOL_BASE_URL: started.baseUrl,
        METROPOL_PUBLIC_KEY: bureau.publicKey,
        METROPOL_PRIVATE_KEY: bureau.privateKey,
        PHONE_OWNERSHIP_URL: phones.url,
        PHONE_OWNERSHIP_API_KEY: API_KEY,
      },
      { startJobs: true },
    );
    officer = await staffToken(t, 'one_conn_officer', ['loan_officer']);
    product = await insertLoanProduct(t);
    // Any tripped rule flags: an unknown phone number (the provider has no subscriber) is held for investigation.
    strict = await insertLoanProduct(t, { fraud_threshold: 30 });
  });
  after(async () => {
    await t?.close();
    await phones?.close();
    await closeBureau?.();
  });

  async function post(token: string | Record<string, string>, url: string, payload: object) {
    const headers = typeof token === 'string' ? bearer(token) : token;
    return t.app.inject({ method: 'POST', url, headers, payload });
  }

  async function get(token: string, url: string) {
    return t.app.inject({ method: 'GET', url, headers: bearer(token) });
  }

  /**
   * A customer the bureau knows well (a new wallet's thin history alone would decline), with a verified phone the
   * provider confirms unless `knownToOperator` is false, a funded KES wallet, a PIN and a session.
   */
  async function customer(knownToOperator = true) {
    seq += 1;
    const phone = `+2547155${String(10000 + seq).slice(-5)}`;
    const nationalId = `3${String(1000000 + seq)}`;
    bureau.setPerson(nationalId, { score: 800, delinquencyCode: '002' });
    if (knownToOperator) phones.setSubscriber(phone, { firstName: 'Neema', lastName: 'Test' });
    const created = await post(t.adminToken, '/api/v1/customer/customer/add', {
      first_name: 'Neema',
      last_name: 'Test',
      phone,
      national_id: nationalId,
      national_id_type: 'national_id',
    });
    assert.equal(created.statusCode, 201, created.body);
    const id = created.json().id as string;
    const verified = await post(t.adminToken, '/api/v1/customer/phone/verify', { customer_id: id });
    assert.equal(verified.statusCode, 200, verified.body);
    const pin = await post(t.adminToken, '/api/v1/customer/credentials/pin', {
      customer_id: id,
      pin: TEST_PIN,
    });
    assert.equal(pin.statusCode, 204, pin.body);
    const wallet = await openWallet(t, id, 'KES');
    await deposit(t, wallet.id, 2_000_000);
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/customer/login',
      payload: { phone, pin: TEST_PIN },
    });
    assert.equal(login.statusCode, 200, login.body);
    return { id, walletId: wallet.id, token: login.json().access_token as string };
  }

  function application(productId: string, extra: Record<string, unknown> = {}) {
    return {
      product_id: productId,
      amount_minor: 500_000,
      term: 3,
      purpose: 'Stock for the shop',
      declared_monthly_income_minor: 300_000,
      ...extra,
    };
  }

  /** Approves a referred application and disburses the loan: its id. */
  async function approveAndDisburse(applicationId: string): Promise<string> {
    const approved = await post(officer, '/api/v1/loan/loan/approve', { application_id: applicationId });
    assert.equal(approved.statusCode, 200, approved.body);
    const loanId = approved.json().loan.id as string;
    const disbursed = await post(idempotent(officer), '/api/v1/loan/loan/disburse', { loan_id: loanId });
    assert.equal(disbursed.statusCode, 200, disbursed.body);
    assert.equal(disbursed.json().status, 'active');
    return loanId;
  }

  test(
    'apply (fraud check with the provider, bureau scoring), check, score, approve, disburse, repay, pay off',
    STEP,
    async () => {
      const amina = await customer();
      const asked = phones.requests.length;
      const applied = await post(
        idempotent(amina.token),
        '/api/v1/loan/application/add',
        application(product.id),
      );
      assert.equal(applied.statusCode, 201, applied.body);
      assert.equal(applied.json().status, 'referred', applied.body);
      assert.equal(phones.requests.length, asked + 1, 'the provider was asked once, before the transaction');
      const applicationId = applied.json().id as string;

      const checked = await post(officer, '/api/v1/loan/fraud/check', { application_id: applicationId });
      assert.equal(checked.statusCode, 200, checked.body);
      assert.equal(checked.json().flagged, false, checked.body);
      const scored = await post(officer, '/api/v1/loan/scoring/loan', { application_id: applicationId });
      assert.equal(scored.statusCode, 200, scored.body);
      assert.notEqual(scored.json().decision, 'decline', scored.body);

      const loanId = await approveAndDisburse(applicationId);
      const schedule = await get(amina.token, `/api/v1/loan/loan/${loanId}/schedule`);
      assert.equal(schedule.statusCode, 200, schedule.body);
      const repaid = await post(idempotent(amina.token), '/api/v1/loan/repayment/add', {
        loan_id: loanId,
        amount_minor: 100_000,
        pin: TEST_PIN,
      });
      assert.equal(repaid.statusCode, 201, repaid.body);
      const cash = await post(idempotent(officer), '/api/v1/loan/repayment/add', {
        loan_id: loanId,
        amount_minor: 50_000,
        source: 'cash',
        external_reference: 'RCPT-1',
      });
      assert.equal(cash.statusCode, 201, cash.body);
      const quote = await get(amina.token, `/api/v1/loan/loan/${loanId}/payoff`);
      assert.equal(quote.statusCode, 200, quote.body);
      const paidOff = await post(idempotent(amina.token), '/api/v1/loan/repayment/add', {
        loan_id: loanId,
        amount_minor: quote.json().total_minor,
        pin: TEST_PIN,
      });
      assert.equal(paidOff.statusCode, 201, paidOff.body);
      const loan = await get(amina.token, `/api/v1/loan/loan/${loanId}`);
      assert.equal(loan.json().status, 'closed', loan.body);
    },
  );

  test(
    'a staff application on a customer’s behalf; close of business; write-off by a second approver; recovery',
    STEP,
    async () => {
      const baraka = await customer();
      const applied = await post(
        idempotent(officer),
        '/api/v1/loan/application/add',
        application(product.id, { customer_id: baraka.id }),
      );
      assert.equal(applied.statusCode, 201, applied.body);
      assert.equal(applied.json().status, 'referred', applied.body);
      const loanId = await approveAndDisburse(applied.json().id);

      const today = new Date().toISOString().slice(0, 10);
      const cob = await post(t.adminToken, '/api/v1/loan/cob/run', { business_date: today });
      assert.equal(cob.statusCode, 200, cob.body);
      assert.equal(cob.json().status, 'completed', cob.body);

      const filed = await post(t.adminToken, '/api/v1/loan/loan/write-off', {
        loan_id: loanId,
        reason: 'Uncollectable',
      });
      assert.equal(filed.statusCode, 202, filed.body);
      const approved = await post(officer, '/api/v1/policy/approval/approve', {
        request_id: filed.json().id,
      });
      assert.equal(approved.statusCode, 200, approved.body);
      const loan = await get(t.adminToken, `/api/v1/loan/loan/${loanId}`);
      assert.equal(loan.json().status, 'written_off', loan.body);
      const recovered = await post(idempotent(t.adminToken), '/api/v1/loan/loan/recovery', {
        loan_id: loanId,
        amount_minor: 50_000,
        source: 'wallet',
      });
      assert.equal(recovered.statusCode, 201, recovered.body);
    },
  );

  test('a flagged application: re-checked, then cleared by an investigation and scored', STEP, async () => {
    const fred = await customer(false);
    const applied = await post(
      idempotent(fred.token),
      '/api/v1/loan/application/add',
      application(strict.id),
    );
    assert.equal(applied.statusCode, 201, applied.body);
    const applicationId = applied.json().id as string;
    const rechecked = await post(officer, '/api/v1/loan/fraud/check', { application_id: applicationId });
    assert.equal(rechecked.statusCode, 200, rechecked.body);
    assert.equal(rechecked.json().flagged, true, rechecked.body);
    const flagId = rechecked.json().flag_id as string;
    const me = await get(officer, '/api/v1/auth/me');
    const officerId = me.json().id as string;
    const escalated = await post(officer, '/api/v1/loan/fraudflag/escalate', {
      flag_id: flagId,
      assignee_id: officerId,
    });
    assert.equal(escalated.statusCode, 200, escalated.body);
    const cleared = await post(officer, '/api/v1/loan/fraudflag/decide', {
      flag_id: flagId,
      decision: 'clear',
      reason: 'The customer came to the branch with the SIM',
    });
    assert.equal(cleared.statusCode, 200, cleared.body);
    const after = await get(officer, `/api/v1/loan/application/${applicationId}`);
    assert.equal(after.json().status, 'referred', after.body);
  });
});
