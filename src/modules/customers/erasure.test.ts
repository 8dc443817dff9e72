/**
 * Erasure and what the customer still holds or owes: refused (409 CUSTOMER_HAS_OBLIGATIONS, each reason listed) while
 * a wallet holds money, a loan is owed or an application is being decided, allowed once they are settled; and the
 * loans module forgets the customer's identifiers in its fraud data when it consumes `customers.customer_erased`,
 * keeping the deny list.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  insertApplication,
  insertLoanProduct,
  loanCustomer,
  staffToken,
  type TestProduct,
} from '../../../test/helpers/loans.ts';
import { activeLoan } from '../../../test/helpers/loans-repayments.ts';
import { deposit, idempotent, openWallet } from '../../../test/helpers/money.ts';

let phoneSeq = 0;
/** A distinct valid Kenyan mobile number per call. */
const nextPhone = () => `+2547130${String(10000 + phoneSeq++).slice(-5)}`;

describe('customer erasure and obligations', () => {
  let t: TestContext;
  let product: TestProduct;
  let officer: string;

  before(async () => {
    t = await startTestApp();
    product = await insertLoanProduct(t);
    officer = await staffToken(t, 'erasure_officer', ['loan_officer']);
  });
  after(async () => t.close());

  const erase = (customerId: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/erase',
      headers: bearer(t.adminToken),
      payload: { customer_id: customerId, reason: 'data subject request' },
    });

  async function refused(customerId: string): Promise<string[]> {
    const response = await erase(customerId);
    assert.equal(response.statusCode, 409, response.body);
    const body = response.json();
    assert.equal(body.error_code, 'CUSTOMER_HAS_OBLIGATIONS');
    return body.details.reasons as string[];
  }

  async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
    return ((await t.deps.database.db.execute(query)) as unknown as { rows: T[] }).rows;
  }

  test('a wallet holding money refuses erasure; paid out to zero, the customer is erased', async () => {
    // 1,000.00 cash out costs a fee of 35.00 and duty of 5.25 (KES_STANDARD): 1,040.25 empties the wallet.
    const customer = await loanCustomer(t, 'Wanjiru', nextPhone(), { balance: 104_025 });
    assert.deepEqual(await refused(customer.id), [
      `wallet ${customer.wallet.wallet_number} holds a balance of KES 1,040.25`,
    ]);
    const untouched = await rows<{ first_name: string; erased_at: Date | null }>(
      sql`select first_name, erased_at from customers where id = ${customer.id}`,
    );
    assert.deepEqual(untouched, [{ first_name: 'Wanjiru', erased_at: null }], 'nothing was erased');

    const paidOut = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/withdraw',
      headers: idempotent(t.adminToken),
      payload: { wallet_id: customer.wallet.id, amount: 100_000, currency: 'KES' },
    });
    assert.equal(paidOut.statusCode, 201, paidOut.body);
    assert.equal(paidOut.json().total, 104_025);
    const erased = await erase(customer.id);
    assert.equal(erased.statusCode, 200, erased.body);
    assert.equal(erased.json().first_name, 'Erased');
  });

  test('an active loan refuses erasure, with every other reason; repaid, the customer is erased', async () => {
    const customer = await loanCustomer(t, 'Kamau', nextPhone());
    const loan = await activeLoan(t, customer, product, [
      { dueIn: 10, principal: 200_000n, interest: 2_000n },
      { dueIn: 40, principal: 200_000n, interest: 1_000n },
    ]);
    await deposit(t, customer.wallet.id, 5_000);
    assert.deepEqual(await refused(customer.id), [
      `wallet ${customer.wallet.wallet_number} holds a balance of KES 50.00`,
      `loan ${loan.number} is active (not repaid)`,
    ]);
    // A loan approved and not yet disbursed is owed too.
    await t.deps.database.db.execute(sql`update loans set status = 'approved' where id = ${loan.id}`);
    assert.ok((await refused(customer.id)).includes(`loan ${loan.number} is approved and not yet disbursed`));
    // Repaid (as the last repayment leaves it) and the wallet paid out: nothing is owed or held.
    await t.deps.database.db.execute(sql`update loans set status = 'closed' where id = ${loan.id}`);
    const paidOut = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/withdraw',
      headers: idempotent(t.adminToken),
      // 21.01 out costs a fee of 25.21 and duty of 3.78.
      payload: { wallet_id: customer.wallet.id, amount: 2_101, currency: 'KES' },
    });
    assert.equal(paidOut.statusCode, 201, paidOut.body);
    assert.equal(paidOut.json().total, 5_000);
    const erased = await erase(customer.id);
    assert.equal(erased.statusCode, 200, erased.body);
  });

  test('open applications (submitted, flagged, referred) refuse erasure; decided ones do not', async () => {
    const customer = await loanCustomer(t, 'Achieng', nextPhone());
    const open = {
      submitted: await insertApplication(t, {
        customerId: customer.id,
        product,
        amountMinor: 500_000,
        term: 6,
        status: 'submitted',
      }),
      flagged: await insertApplication(t, {
        customerId: customer.id,
        product,
        amountMinor: 500_000,
        term: 6,
        status: 'flagged',
      }),
      referred: await insertApplication(t, {
        customerId: customer.id,
        product,
        amountMinor: 500_000,
        term: 6,
        status: 'referred',
      }),
    };
    await insertApplication(t, {
      customerId: customer.id,
      product,
      amountMinor: 500_000,
      term: 6,
      status: 'declined',
    });
    const numbers = new Map(
      (
        await rows<{ id: string; number: string }>(
          sql`select id, number from loan_applications where customer_id = ${customer.id}`,
        )
      ).map((row) => [row.id, row.number]),
    );
    const reasons = await refused(customer.id);
    assert.deepEqual(
      [...reasons].sort(),
      Object.entries(open)
        .map(([status, id]) => `loan application ${numbers.get(id)} is ${status}`)
        .sort(),
    );
    await t.deps.database.db.execute(
      sql`update loan_applications set status = 'withdrawn' where id in (${open.submitted}, ${open.referred})`,
    );
    await t.deps.database.db.execute(
      sql`update loan_applications set status = 'declined' where id = ${open.flagged}`,
    );
    const erased = await erase(customer.id);
    assert.equal(erased.statusCode, 200, erased.body);
  });

  test('the loans module forgets the erased customer’s phone, national ID and device in its fraud data', async () => {
    const phone = nextPhone();
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/add',
      headers: bearer(t.adminToken),
      payload: {
        first_name: 'Otieno',
        last_name: 'Test',
        phone,
        national_id: `ID-${randomUUID().slice(0, 8)}`,
        national_id_type: 'national_id',
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const customerId = created.json().id as string;
    await openWallet(t, customerId, 'KES');
    const deviceId = `device-${randomUUID()}`;
    const applicationId = await insertApplication(t, {
      customerId,
      product,
      amountMinor: 500_000,
      term: 6,
      status: 'submitted',
      deviceId,
    });
    const check = await t.app.inject({
      method: 'POST',
      url: '/api/v1/loan/fraud/check',
      headers: bearer(officer),
      payload: { application_id: applicationId },
    });
    assert.equal(check.statusCode, 200, check.body);
    // Staff deny-listed the phone: the deny list outlives the erasure (kept on a legitimate-interest basis).
    await t.deps.database.db.execute(
      sql`insert into loan_deny_list (id, kind, value, reason) values (${randomUUID()}, 'phone', ${phone}, 'confirmed fraud')`,
    );
    const before = await rows<{
      phone: string | null;
      national_id_index: string | null;
      device_id: string | null;
    }>(
      sql`select phone, national_id_index, device_id from loan_fraud_checks where customer_id = ${customerId}`,
    );
    assert.equal(before.length, 1);
    assert.equal(before[0]!.phone, phone);
    assert.ok(before[0]!.national_id_index);
    assert.equal(before[0]!.device_id, deviceId);

    assert.ok((await refused(customerId)).some((reason) => reason.startsWith('loan application ')));
    await t.deps.database.db.execute(
      sql`update loan_applications set status = 'declined' where id = ${applicationId}`,
    );
    const erased = await erase(customerId);
    assert.equal(erased.statusCode, 200, erased.body);
    const events = await rows<{ payload: { customer_id: string; erased_at: string } }>(
      sql`select payload from outbox_events where topic = 'customers.customer_erased' and aggregate_id = ${customerId}`,
    );
    assert.equal(events.length, 1);
    assert.equal(events[0]!.payload.customer_id, customerId);
    assert.ok(!Number.isNaN(Date.parse(events[0]!.payload.erased_at)));

    const forgotten = async () => ({
      checks: await rows<{
        phone: string | null;
        national_id_index: string | null;
        device_id: string | null;
      }>(
        sql`select phone, national_id_index, device_id from loan_fraud_checks where customer_id = ${customerId}`,
      ),
      evidence: (
        await rows<{ evidence: string }>(
          sql`select r.evidence::text as evidence from loan_fraud_results r
              join loan_fraud_checks c on c.id = r.check_id where c.customer_id = ${customerId}
              order by r.rule_code`,
        )
      )
        .map((row) => row.evidence)
        .join('\n'),
      devices: await rows<{ device_id: string | null }>(
        sql`select device_id from loan_applications where customer_id = ${customerId}`,
      ),
      denied: await rows<{ value: string }>(
        sql`select value from loan_deny_list where kind = 'phone' and value = ${phone}`,
      ),
    });
    // Until the loans module's consumer handles the event, its copies are as they were.
    assert.ok((await forgotten()).evidence.includes(phone), 'the evidence held the phone');
    while ((await t.application.system.events.dispatchBatch()) > 0) {}
    const state = await forgotten();
    assert.deepEqual(state.checks, [{ phone: null, national_id_index: null, device_id: null }]);
    assert.ok(state.evidence.length > 0, 'the rules’ evidence stays, without the identifiers');
    assert.ok(!state.evidence.includes(phone.slice(1)), state.evidence);
    assert.ok(!state.evidence.includes(deviceId), state.evidence);
    assert.match(state.evidence, /"phone": "\+254\*{4}\d{2}"/, 'the phone-owner rule’s phone is masked');
    assert.deepEqual(state.devices, [{ device_id: null }]);
    assert.deepEqual(state.denied, [{ value: phone }]);

    // Delivered again (at least once), the handler changes nothing more.
    assert.ok((await t.application.system.events.replay('loans', 'earliest')) > 0);
    while ((await t.application.system.events.dispatchBatch()) > 0) {}
    assert.deepEqual(await forgotten(), state);
  });
});
