/**
 * Commissions end to end over HTTP: a teller's cash-in accrues the split commission, the agent's admin (and its
 * super-agent's) read totals, performance and statements, another agent's admin gets 404, tellers and customers 403;
 * staff pay out into the agent's float.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  fundFloat,
  inside,
  type MoneyAgent,
  moneyAgent,
  randomPhone,
} from '../../../test/helpers/agents-money.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, openWallet } from '../../../test/helpers/money.ts';

describe('commissions over HTTP', () => {
  let t: TestContext;
  let parent: MoneyAgent;
  let agent: MoneyAgent;
  let stranger: MoneyAgent;
  let customerPhone: string;
  let customerToken: string;

  const get = (url: string, token: string) => t.app.inject({ method: 'GET', url, headers: bearer(token) });

  before(async () => {
    t = await startTestApp();
    const owner = await createCustomer(t, 'Owner', randomPhone());
    parent = await moneyAgent(t, owner.id, { kind: 'super_agent' });
    agent = await moneyAgent(t, owner.id, { parentId: parent.id });
    stranger = await moneyAgent(t, owner.id);
    await fundFloat(t, { store_id: agent.stores[0].id }, 2_000_000);
    const customer = await createCustomer(t, 'Akinyi', randomPhone());
    await openWallet(t, customer.id);
    customerPhone = customer.phone;
    customerToken = customer.token;
    const cashIn = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/transaction/cash-in',
      headers: { ...bearer(agent.stores[0].tellerToken), 'idempotency-key': `ci-${randomUUID()}` },
      payload: { phone: customerPhone, amount: 500_000, currency: 'KES', location: inside() },
    });
    assert.equal(cashIn.statusCode, 201, cashIn.body);
  });
  after(async () => t.close());

  test('the cash-in accrued the default plan’s split; admins read their own agent’s totals', async () => {
    // 500000 is in the 50 bps band: 2500, of which the super-agent's 20 % is 500.
    const own = await get(`/api/v1/agent/agent/${agent.id}/commission`, agent.adminToken);
    assert.equal(own.statusCode, 200, own.body);
    assert.equal(own.json().totals[0].accrued_minor, '2000');
    const parentsView = await get(`/api/v1/agent/agent/${parent.id}/commission`, parent.adminToken);
    assert.equal(parentsView.json().totals[0].accrued_minor, '500');
    // A super-agent's admin reads its agents; another agent's admin gets 404, a teller and a customer 403.
    assert.equal(
      (await get(`/api/v1/agent/agent/${agent.id}/commission`, parent.adminToken)).statusCode,
      200,
    );
    const other = await get(`/api/v1/agent/agent/${agent.id}/commission`, stranger.adminToken);
    assert.equal(other.statusCode, 404, other.body);
    assert.equal(other.json().error_code, 'AGENT_COMMISSION_AGENT_NOT_FOUND');
    assert.equal(
      (await get(`/api/v1/agent/agent/${agent.id}/commission`, agent.stores[0].tellerToken)).statusCode,
      403,
    );
    assert.equal((await get(`/api/v1/agent/agent/${agent.id}/commission`, customerToken)).statusCode, 403);
  });

  test('performance shows the cash-in’s volume, value, customer, commission and its location check', async () => {
    const response = await get(`/api/v1/agent/agent/${agent.id}/performance`, agent.adminToken);
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    const today = new Date().toISOString().slice(0, 10);
    assert.deepEqual(body.volumes, [{ day: today, type: 'cash_in', count: 1, value_minor: '500000' }]);
    assert.deepEqual(body.totals, [{ type: 'cash_in', count: 1, value_minor: '500000' }]);
    assert.equal(body.customers_served, 1);
    assert.equal(body.commission_total_minor, '2000');
    assert.equal(body.geofence.violations, 0);
    assert.ok(body.geofence.checks >= 1);
    assert.deepEqual(body.sources, { volumes: 'cash', violation_rate: 'geo' });
    const other = await get(`/api/v1/agent/agent/${agent.id}/performance`, stranger.adminToken);
    assert.equal(other.statusCode, 404);
  });

  test('staff pay out into the agent’s float; the statement is the agent’s only', async () => {
    const run = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/commission/payout',
      headers: { ...bearer(t.adminToken), 'idempotency-key': `po-${randomUUID()}` },
      payload: { agent_id: agent.id },
    });
    assert.equal(run.statusCode, 200, run.body);
    const [payout] = run.json().payouts;
    assert.equal(payout.amount_minor, '2000');
    const float = await get(`/api/v1/agent/agent/${agent.id}/float`, t.adminToken);
    assert.equal(float.json().agent.balance, 2000);
    const statement = await get(`/api/v1/agent/commission/payout/${payout.id}`, agent.adminToken);
    assert.equal(statement.statusCode, 200, statement.body);
    assert.equal(statement.json().commissions.items[0].status, 'paid');
    const other = await get(`/api/v1/agent/commission/payout/${payout.id}`, stranger.adminToken);
    assert.equal(other.statusCode, 404);
    const totals = await get(`/api/v1/agent/agent/${agent.id}/commission`, agent.adminToken);
    assert.equal(totals.json().totals[0].paid_minor, '2000');
    assert.equal(totals.json().payable_balance_minor, '0');
  });
});
