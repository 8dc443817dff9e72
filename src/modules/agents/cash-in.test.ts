/**
 * Cash-in over HTTP: the store's float pays the customer's wallet; the lookup's masked name; the float, the
 * geofence, the agent's limits (the daily one exact under concurrency), the customer's limits, idempotent replays,
 * and scope (another store's teller, staff).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  floatBalances,
  fundFloat,
  idem,
  inside,
  type MoneyAgent,
  moneyAgent,
  outside,
  randomPhone,
} from '../../../test/helpers/agents-money.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { balanceOf, createCustomer, openWallet } from '../../../test/helpers/money.ts';
import { agentsModule } from './index.ts';

describe('agent cash-in', () => {
  let t: TestContext;
  let agent: MoneyAgent;
  let customer: { id: string; phone: string; walletId: string };

  const cashIn = (token: string, body: Record<string, unknown>, headers = idem(token)) =>
    t.app.inject({ method: 'POST', url: '/api/v1/agent/transaction/cash-in', headers, payload: body });

  before(async () => {
    t = await startTestApp();
    const owner = await createCustomer(t, 'Owner', randomPhone());
    agent = await moneyAgent(t, owner.id, { limits: { single_minor: '500000' } });
    await fundFloat(t, { store_id: agent.stores[0].id }, 100_000);
    const created = await createCustomer(t, 'Jane', randomPhone());
    const wallet = await openWallet(t, created.id);
    customer = { id: created.id, phone: created.phone, walletId: wallet.id };
  });
  after(async () => t.close());

  test('the lookup shows the masked name; an unknown phone is 404; staff are refused', async () => {
    const found = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/customer-lookup?phone=${encodeURIComponent(customer.phone)}`,
      headers: bearer(agent.stores[0].tellerToken),
    });
    assert.equal(found.statusCode, 200, found.body);
    assert.deepEqual(found.json(), { masked_name: 'J*** T***', currency: 'KES' });
    const unknown = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/customer-lookup?phone=${encodeURIComponent(randomPhone())}`,
      headers: bearer(agent.stores[0].tellerToken),
    });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error_code, 'AGENT_CUSTOMER_NOT_FOUND');
    const staff = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/customer-lookup?phone=${encodeURIComponent(customer.phone)}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(staff.statusCode, 403, staff.body);
    // Staff roles never hold agent_op:* (the guard refuses); scopeOf would refuse a staff principal anyway.
    assert.match(staff.json().error_code, /^(FORBIDDEN|AGENT_SCOPE_REQUIRED)$/);
  });

  test('a cash-in moves float to the wallet once; the replay answers the same', async () => {
    const headers = idem(agent.stores[0].tellerToken);
    const body = { phone: customer.phone, amount: 25_000, currency: 'KES', location: inside() };
    const first = await cashIn(agent.stores[0].tellerToken, body, headers);
    assert.equal(first.statusCode, 201, first.body);
    const record = first.json();
    assert.equal(record.type, 'cash_in');
    assert.equal(record.status, 'completed');
    assert.equal(Number(record.amount), 25_000);
    const replay = await cashIn(agent.stores[0].tellerToken, body, headers);
    assert.equal(replay.statusCode, 201);
    assert.equal(replay.json().id, record.id);
    assert.equal((await balanceOf(t, customer.walletId)).balance, 25_000);
    const floats = await floatBalances(t, agent.id);
    assert.equal(floats.store(agent.stores[0].id), 75_000);
  });

  test('more than the float holds is AGENT_FLOAT_INSUFFICIENT and moves nothing', async () => {
    const before = (await balanceOf(t, customer.walletId)).balance;
    const response = await cashIn(agent.stores[0].tellerToken, {
      phone: customer.phone,
      amount: 90_000,
      currency: 'KES',
      location: inside(),
    });
    assert.equal(response.statusCode, 409, response.body);
    assert.equal(response.json().error_code, 'AGENT_FLOAT_INSUFFICIENT');
    assert.equal((await balanceOf(t, customer.walletId)).balance, before);
    // The other store has no float at all.
    const empty = await cashIn(agent.stores[1].tellerToken, {
      phone: customer.phone,
      amount: 100,
      currency: 'KES',
      location: inside(),
    });
    assert.equal(empty.json().error_code, 'AGENT_FLOAT_INSUFFICIENT');
  });

  test('outside the fence is GEOFENCE_VIOLATION (refuse policy); above the single limit AGENT_LIMIT_EXCEEDED', async () => {
    const outsideFence = await cashIn(agent.stores[0].tellerToken, {
      phone: customer.phone,
      amount: 100,
      currency: 'KES',
      location: outside(),
    });
    assert.equal(outsideFence.statusCode, 403, outsideFence.body);
    assert.equal(outsideFence.json().error_code, 'GEOFENCE_VIOLATION');
    const single = await cashIn(agent.stores[0].tellerToken, {
      phone: customer.phone,
      amount: 500_001,
      currency: 'KES',
      location: inside(),
    });
    assert.equal(single.statusCode, 422, single.body);
    assert.equal(single.json().error_code, 'AGENT_LIMIT_EXCEEDED');
  });

  test('a teller cannot act at another store of the agent (404); staff cannot cash in (403)', async () => {
    const other = await cashIn(agent.stores[1].tellerToken, {
      phone: customer.phone,
      amount: 100,
      currency: 'KES',
      location: inside(),
      store_id: agent.stores[0].id,
    });
    assert.equal(other.statusCode, 404, other.body);
    const staff = await cashIn(t.adminToken, {
      phone: customer.phone,
      amount: 100,
      currency: 'KES',
      location: inside(),
    });
    assert.equal(staff.statusCode, 403, staff.body);
    // Staff roles never hold agent_op:* (the guard refuses); scopeOf would refuse a staff principal anyway.
    assert.match(staff.json().error_code, /^(FORBIDDEN|AGENT_SCOPE_REQUIRED)$/);
  });

  test("the customer's tier limit refuses a cash-in beyond what the wallet may receive", async () => {
    const owner = await createCustomer(t, 'Rich', randomPhone());
    const big = await moneyAgent(t, owner.id);
    await fundFloat(t, { store_id: big.stores[0].id }, 100_000_000);
    const response = await cashIn(big.stores[0].tellerToken, {
      phone: customer.phone,
      amount: 90_000_000,
      currency: 'KES',
      location: inside(),
    });
    assert.equal(response.statusCode, 422, response.body);
    assert.match(response.json().error_code, /^(RECIPIENT_LIMIT_EXCEEDED|BALANCE_CAP_EXCEEDED)$/);
  });

  test('the daily limit holds exactly under 12 concurrent cash-ins', async () => {
    const owner = await createCustomer(t, 'Daily', randomPhone());
    const daily = await moneyAgent(t, owner.id, { limits: { daily_minor: '50000' } });
    await fundFloat(t, { store_id: daily.stores[0].id }, 1_000_000);
    const responses = await Promise.all(
      Array.from({ length: 12 }, () =>
        cashIn(daily.stores[0].tellerToken, {
          phone: customer.phone,
          amount: 10_000,
          currency: 'KES',
          location: inside(),
        }),
      ),
    );
    const codes = responses.map((response) => response.statusCode);
    assert.equal(codes.filter((code) => code === 201).length, 5, JSON.stringify(codes));
    for (const response of responses.filter((r) => r.statusCode !== 201))
      assert.equal(response.json().error_code, 'AGENT_LIMIT_EXCEEDED', response.body);
    assert.equal((await floatBalances(t, daily.id)).store(daily.stores[0].id), 950_000);
    // Performance reads what was done: five cash-ins today, one customer.
    const money = t.application.system.api(agentsModule).money;
    const from = new Date(Date.now() - 86_400_000);
    const to = new Date(Date.now() + 86_400_000);
    const volumes = await money.dailyVolumes(daily.id, from, to);
    assert.deepEqual(
      volumes.map((row) => [row.type, row.count, row.value]),
      [['cash_in', 5, 50_000n]],
    );
    assert.equal(await money.customersServed(daily.id, from, to), 1);
  });
});
