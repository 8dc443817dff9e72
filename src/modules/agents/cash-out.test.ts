/**
 * Cash-out over HTTP, customer-authorised two ways: a withdrawal code the customer made in the app (single use under
 * 20 parallel submits, five wrong codes cancel the customer's codes) and an operator's request the customer approves
 * with PIN (or rejects); the withdrawal fee, the float credited, scope.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import {
  floatBalances,
  idem,
  inside,
  type MoneyAgent,
  moneyAgent,
  randomPhone,
} from '../../../test/helpers/agents-money.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  balanceOf,
  createCustomer,
  deposit,
  openWallet,
  TEST_PIN,
  type TestCustomer,
} from '../../../test/helpers/money.ts';
import { agentCashOutRequests, agentWithdrawalCodes } from './agents.tables.ts';
import { agentsModule } from './index.ts';

describe('agent cash-out', () => {
  let t: TestContext;
  let agent: MoneyAgent;

  const newCustomer = async (funds = 200_000) => {
    const customer = await createCustomer(t, 'Kamau', randomPhone());
    const wallet = await openWallet(t, customer.id);
    await deposit(t, wallet.id, funds);
    return { ...customer, walletId: wallet.id };
  };
  const makeCode = async (customer: TestCustomer, amount: number, agentNumber = agent.number) => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/withdrawal-code',
      headers: bearer(customer.token),
      payload: { agent_number: agentNumber, amount, currency: 'KES', pin: TEST_PIN },
    });
    assert.equal(response.statusCode, 201, response.body);
    return response.json() as { id: string; code: string; status: string; expires_at: string };
  };
  const cashOut = (token: string, body: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/transaction/cash-out',
      headers: idem(token),
      payload: { currency: 'KES', location: inside(), ...body },
    });

  before(async () => {
    t = await startTestApp();
    const owner = await createCustomer(t, 'Owner', randomPhone());
    agent = await moneyAgent(t, owner.id);
  });
  after(async () => t.close());

  test('with a withdrawal code: the wallet pays amount and fee, the store float gets the amount', async () => {
    const customer = await newCustomer();
    const made = await makeCode(customer, 10_000);
    assert.match(made.code, /^[0-9]{6}$/);
    assert.equal(made.status, 'pending');
    const listed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/agent/withdrawal-code',
      headers: bearer(customer.token),
    });
    assert.equal(listed.json().items.length, 1);
    assert.equal(listed.json().items[0].code, undefined, 'the code is shown once');
    const response = await cashOut(agent.stores[0].tellerToken, {
      phone: customer.phone,
      amount: 10_000,
      code: made.code,
    });
    assert.equal(response.statusCode, 201, response.body);
    const record = response.json();
    assert.equal(record.type, 'cash_out');
    const fee = Number(record.fee) + Number(record.tax);
    assert.ok(fee > 0, 'the product charges a withdrawal fee');
    assert.equal((await balanceOf(t, customer.walletId)).balance, 200_000 - 10_000 - fee);
    assert.equal((await floatBalances(t, agent.id)).store(agent.stores[0].id), 10_000);
    const again = await cashOut(agent.stores[0].tellerToken, {
      phone: customer.phone,
      amount: 10_000,
      code: made.code,
    });
    assert.equal(again.statusCode, 409, again.body);
    assert.equal(again.json().error_code, 'AGENT_WITHDRAWAL_CODE_USED');
  });

  test('a code binds the amount and the agent; a wrong PIN makes no code', async () => {
    const customer = await newCustomer();
    const made = await makeCode(customer, 5_000);
    const wrongAmount = await cashOut(agent.stores[0].tellerToken, {
      phone: customer.phone,
      amount: 5_001,
      code: made.code,
    });
    assert.equal(wrongAmount.statusCode, 422, wrongAmount.body);
    assert.equal(wrongAmount.json().error_code, 'AGENT_WITHDRAWAL_CODE_INVALID');
    const owner = await createCustomer(t, 'Other', randomPhone());
    const other = await moneyAgent(t, owner.id);
    const wrongAgent = await cashOut(other.stores[0].tellerToken, {
      phone: customer.phone,
      amount: 5_000,
      code: made.code,
    });
    assert.equal(wrongAgent.json().error_code, 'AGENT_WITHDRAWAL_CODE_INVALID');
    const badPin = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/withdrawal-code',
      headers: bearer(customer.token),
      payload: { agent_number: agent.number, amount: 5_000, currency: 'KES', pin: '0000' },
    });
    assert.equal(badPin.statusCode, 401, badPin.body);
    // Staff pass the permission but have no withdrawal codes of their own.
    const staff = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/withdrawal-code',
      headers: bearer(t.adminToken),
      payload: { agent_number: agent.number, amount: 5_000, currency: 'KES', pin: TEST_PIN },
    });
    assert.equal(staff.statusCode, 404, staff.body);
  });

  test('five wrong codes cancel every pending code of the customer', async () => {
    const customer = await newCustomer();
    const made = await makeCode(customer, 7_000);
    const wrong = made.code === '000000' ? '000001' : '000000';
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const response = await cashOut(agent.stores[0].tellerToken, {
        phone: customer.phone,
        amount: 7_000,
        code: wrong,
      });
      assert.equal(response.json().error_code, 'AGENT_WITHDRAWAL_CODE_INVALID');
    }
    const right = await cashOut(agent.stores[0].tellerToken, {
      phone: customer.phone,
      amount: 7_000,
      code: made.code,
    });
    assert.equal(right.statusCode, 422, right.body);
    const listed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/agent/withdrawal-code',
      headers: bearer(customer.token),
    });
    assert.equal(listed.json().items[0].status, 'cancelled');
  });

  test('a code pays out once under 20 parallel submits', async () => {
    const customer = await newCustomer();
    const made = await makeCode(customer, 3_000);
    const before = (await floatBalances(t, agent.id)).store(agent.stores[1].id);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        cashOut(agent.stores[1].tellerToken, { phone: customer.phone, amount: 3_000, code: made.code }),
      ),
    );
    const codes = responses.map((response) => response.statusCode);
    assert.equal(codes.filter((code) => code === 201).length, 1, JSON.stringify(codes));
    for (const response of responses.filter((r) => r.statusCode !== 201))
      assert.equal(response.json().error_code, 'AGENT_WITHDRAWAL_CODE_USED', response.body);
    assert.equal((await floatBalances(t, agent.id)).store(agent.stores[1].id), before + 3_000);
  });

  test('an operator-started cash-out waits for the customer, who approves with PIN', async () => {
    const customer = await newCustomer();
    const asked = await cashOut(agent.stores[0].tellerToken, { phone: customer.phone, amount: 4_000 });
    assert.equal(asked.statusCode, 202, asked.body);
    const request = asked.json();
    assert.equal(request.status, 'pending');
    const pending = await t.app.inject({
      method: 'GET',
      url: '/api/v1/agent/cash-out/pending',
      headers: bearer(customer.token),
    });
    assert.deepEqual(
      pending.json().items.map((item: { id: string }) => item.id),
      [request.id],
    );
    // Another store's teller does not see it; its own teller does.
    const hidden = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/transaction/cash-out/${request.id}`,
      headers: bearer(agent.stores[1].tellerToken),
    });
    assert.equal(hidden.statusCode, 404);
    const wrongPin = await t.app.inject({
      method: 'POST',
      url: `/api/v1/agent/cash-out/${request.id}/approve`,
      headers: bearer(customer.token),
      payload: { pin: '0000' },
    });
    assert.equal(wrongPin.statusCode, 401, wrongPin.body);
    const approved = await t.app.inject({
      method: 'POST',
      url: `/api/v1/agent/cash-out/${request.id}/approve`,
      headers: bearer(customer.token),
      payload: { pin: TEST_PIN },
    });
    assert.equal(approved.statusCode, 201, approved.body);
    const polled = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/transaction/cash-out/${request.id}`,
      headers: bearer(agent.stores[0].tellerToken),
    });
    assert.equal(polled.json().status, 'completed');
    assert.equal(polled.json().transaction_id, approved.json().id);
    const twice = await t.app.inject({
      method: 'POST',
      url: `/api/v1/agent/cash-out/${request.id}/approve`,
      headers: bearer(customer.token),
      payload: { pin: TEST_PIN },
    });
    assert.equal(twice.statusCode, 409);
    assert.equal(twice.json().error_code, 'AGENT_CASH_OUT_NOT_PENDING');
  });

  test('the customer can reject it; another customer cannot see it', async () => {
    const customer = await newCustomer();
    const stranger = await newCustomer();
    const asked = await cashOut(agent.stores[0].tellerToken, { phone: customer.phone, amount: 4_000 });
    const id = asked.json().id;
    const foreign = await t.app.inject({
      method: 'POST',
      url: `/api/v1/agent/cash-out/${id}/approve`,
      headers: bearer(stranger.token),
      payload: { pin: TEST_PIN },
    });
    assert.equal(foreign.statusCode, 404);
    const rejected = await t.app.inject({
      method: 'POST',
      url: `/api/v1/agent/cash-out/${id}/reject`,
      headers: bearer(customer.token),
    });
    assert.equal(rejected.statusCode, 200, rejected.body);
    assert.equal(rejected.json().status, 'rejected');
    assert.equal((await balanceOf(t, customer.walletId)).balance, 200_000);
  });

  test('a cash-out beyond the wallet is INSUFFICIENT_BALANCE and fails the request', async () => {
    const customer = await newCustomer(1_000);
    const asked = await cashOut(agent.stores[0].tellerToken, { phone: customer.phone, amount: 5_000 });
    const approved = await t.app.inject({
      method: 'POST',
      url: `/api/v1/agent/cash-out/${asked.json().id}/approve`,
      headers: bearer(customer.token),
      payload: { pin: TEST_PIN },
    });
    assert.equal(approved.statusCode, 422, approved.body);
    assert.equal(approved.json().error_code, 'INSUFFICIENT_BALANCE');
    const polled = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/transaction/cash-out/${asked.json().id}`,
      headers: bearer(agent.adminToken),
    });
    assert.equal(polled.json().status, 'failed');
    assert.equal(polled.json().failure_code, 'INSUFFICIENT_BALANCE');
  });

  test('an expired code or request pays nothing', async () => {
    const customer = await newCustomer();
    const made = await makeCode(customer, 2_000);
    const db = t.deps.database.db;
    await db
      .update(agentWithdrawalCodes)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(agentWithdrawalCodes.id, made.id));
    const late = await cashOut(agent.stores[0].tellerToken, {
      phone: customer.phone,
      amount: 2_000,
      code: made.code,
    });
    assert.equal(late.statusCode, 422, late.body);
    assert.equal(late.json().error_code, 'AGENT_WITHDRAWAL_CODE_INVALID');
    const asked = await cashOut(agent.stores[0].tellerToken, { phone: customer.phone, amount: 2_000 });
    await db
      .update(agentCashOutRequests)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(agentCashOutRequests.id, asked.json().id));
    const approved = await t.app.inject({
      method: 'POST',
      url: `/api/v1/agent/cash-out/${asked.json().id}/approve`,
      headers: bearer(customer.token),
      payload: { pin: TEST_PIN },
    });
    assert.equal(approved.statusCode, 409, approved.body);
    assert.equal(approved.json().error_code, 'AGENT_CASH_OUT_NOT_PENDING');
    assert.equal((await balanceOf(t, customer.walletId)).balance, 200_000);
  });

  test('USSD reaches the pending cash-outs and approves one with PIN through the module api', async () => {
    const customer = await newCustomer();
    const asked = await cashOut(agent.stores[0].tellerToken, { phone: customer.phone, amount: 1_500 });
    const money = t.application.system.api(agentsModule).money;
    const pending = await money.pendingCashOuts(customer.id);
    assert.deepEqual(
      pending.items.map((item) => item.id),
      [asked.json().id],
    );
    const record = await money.approveCashOut(customer.id, asked.json().id, TEST_PIN);
    assert.equal(record.type, 'cash_out');
    assert.equal((await money.pendingCashOuts(customer.id)).items.length, 0);
    // Every cash-out, top-up and rebalance above balanced the ledger; no guarded float went negative.
    const verified = await t.application.ledger.verify();
    assert.ok(verified.ok, JSON.stringify(verified));
  });

  test('an operator-started cash-out replayed with its Idempotency-Key is the same request', async () => {
    const customer = await newCustomer();
    const headers = idem(agent.stores[0].tellerToken);
    const body = { phone: customer.phone, amount: 1_200, currency: 'KES', location: inside() };
    const send = () =>
      t.app.inject({ method: 'POST', url: '/api/v1/agent/transaction/cash-out', headers, payload: body });
    const first = await send();
    assert.equal(first.statusCode, 202, first.body);
    const replay = await send();
    assert.equal(replay.statusCode, 202, replay.body);
    assert.equal(replay.json().id, first.json().id);
    const pending = await t.app.inject({
      method: 'GET',
      url: '/api/v1/agent/cash-out/pending',
      headers: bearer(customer.token),
    });
    assert.equal(pending.json().items.length, 1);
  });
});
