/**
 * Float over HTTP: bank-deposit top-ups (maker-checker, unique bank reference, reject with reason), rebalancing
 * (allowed and refused moves, limits, idempotent replay, an admin of another agent: 404), and positions.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  checkerToken,
  floatBalances,
  fundFloat,
  idem,
  type MoneyAgent,
  moneyAgent,
  randomPhone,
} from '../../../test/helpers/agents-money.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer } from '../../../test/helpers/money.ts';

describe('agent float', () => {
  let t: TestContext;
  let superAgent: MoneyAgent;
  let agent: MoneyAgent;
  let stranger: MoneyAgent;

  const depositAsk = (token: string, body: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/float/deposit',
      headers: bearer(token),
      payload: { amount: 50_000, currency: 'KES', bank_reference: `FT${randomInt(1e9)}`, ...body },
    });
  const rebalance = (token: string, body: Record<string, unknown>, headers = idem(token)) =>
    t.app.inject({ method: 'POST', url: '/api/v1/agent/float/rebalance', headers, payload: body });

  before(async () => {
    t = await startTestApp();
    const owner = await createCustomer(t, 'Owner', randomPhone());
    superAgent = await moneyAgent(t, owner.id, { kind: 'super_agent' });
    agent = await moneyAgent(t, owner.id, {
      parentId: superAgent.id,
      limits: { rebalance_single_minor: '300000', float_max_minor: '1000000' },
    });
    stranger = await moneyAgent(t, owner.id);
  });
  after(async () => t.close());

  test('a deposit asked by the agent admin is confirmed by staff; the maker cannot confirm; a reference once', async () => {
    const reference = `FT${randomInt(1e9)}`;
    const asked = await depositAsk(agent.adminToken, { agent_id: agent.id, bank_reference: reference });
    assert.equal(asked.statusCode, 201, asked.body);
    assert.equal(asked.json().status, 'pending');
    const duplicate = await depositAsk(agent.adminToken, { agent_id: agent.id, bank_reference: reference });
    assert.equal(duplicate.statusCode, 409);
    assert.equal(duplicate.json().error_code, 'AGENT_BANK_REFERENCE_USED');
    const confirmed = await t.app.inject({
      method: 'POST',
      url: `/api/v1/agent/float/deposit/${asked.json().id}/confirm`,
      headers: bearer(await checkerToken(t)),
    });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    assert.equal(confirmed.json().deposit.status, 'confirmed');
    assert.equal(confirmed.json().transaction.type, 'float_topup');
    assert.equal((await floatBalances(t, agent.id)).agent, 50_000);
    // A staff maker cannot confirm their own request.
    const own = await depositAsk(await checkerToken(t), { agent_id: agent.id });
    const self = await t.app.inject({
      method: 'POST',
      url: `/api/v1/agent/float/deposit/${own.json().id}/confirm`,
      headers: bearer(await checkerToken(t)),
    });
    assert.equal(self.statusCode, 403, self.body);
    assert.equal(self.json().error_code, 'AGENT_FLOAT_SELF_APPROVAL');
    const rejected = await t.app.inject({
      method: 'POST',
      url: `/api/v1/agent/float/deposit/${own.json().id}/reject`,
      headers: bearer(t.adminToken),
      payload: { reason: 'No such deposit on the bank statement' },
    });
    assert.equal(rejected.statusCode, 200, rejected.body);
    assert.equal(rejected.json().status, 'rejected');
    const late = await t.app.inject({
      method: 'POST',
      url: `/api/v1/agent/float/deposit/${own.json().id}/confirm`,
      headers: bearer(t.adminToken),
    });
    assert.equal(late.statusCode, 409);
    assert.equal((await floatBalances(t, agent.id)).agent, 50_000);
  });

  test("an admin of another agent, a teller or a customer cannot ask for this agent's deposit", async () => {
    const foreign = await depositAsk(stranger.adminToken, { store_id: agent.stores[0].id });
    assert.equal(foreign.statusCode, 404, foreign.body);
    const teller = await depositAsk(agent.stores[0].tellerToken, { agent_id: agent.id });
    assert.equal(teller.statusCode, 403, teller.body);
    assert.equal(teller.json().error_code, 'AGENT_FLOAT_NOT_PERMITTED');
    const customer = await createCustomer(t, 'Cust', randomPhone());
    const byCustomer = await depositAsk(customer.token, { agent_id: agent.id });
    assert.equal(byCustomer.statusCode, 403, byCustomer.body);
    assert.equal(byCustomer.json().error_code, 'AGENT_FLOAT_NOT_PERMITTED');
  });

  test('rebalance: agent to its store and store to store; replayed once; other moves refused', async () => {
    await fundFloat(t, { agent_id: agent.id }, 200_000);
    const headers = idem(agent.adminToken);
    const body = { from: { agent_id: agent.id }, to: { store_id: agent.stores[0].id }, amount: 60_000 };
    const first = await rebalance(agent.adminToken, body, headers);
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(first.json().type, 'float_transfer');
    const replay = await rebalance(agent.adminToken, body, headers);
    assert.equal(replay.json().id, first.json().id);
    const storeToStore = await rebalance(agent.adminToken, {
      from: { store_id: agent.stores[0].id },
      to: { store_id: agent.stores[1].id },
      amount: 10_000,
    });
    assert.equal(storeToStore.statusCode, 201, storeToStore.body);
    const floats = await floatBalances(t, agent.id);
    assert.equal(floats.agent, 250_000 - 60_000);
    assert.equal(floats.store(agent.stores[0].id), 50_000);
    assert.equal(floats.store(agent.stores[1].id), 10_000);
    // Staff may move a super-agent's float to its agent, not to an unrelated agent.
    await fundFloat(t, { agent_id: superAgent.id }, 100_000);
    const down = await rebalance(t.adminToken, {
      from: { agent_id: superAgent.id },
      to: { agent_id: agent.id },
      amount: 40_000,
    });
    assert.equal(down.statusCode, 201, down.body);
    // The super-agent's admin may move its float down to its agent too.
    const byParent = await rebalance(superAgent.adminToken, {
      from: { agent_id: superAgent.id },
      to: { agent_id: agent.id },
      amount: 5_000,
    });
    assert.equal(byParent.statusCode, 201, byParent.body);
    const sideways = await rebalance(t.adminToken, {
      from: { agent_id: superAgent.id },
      to: { store_id: stranger.stores[0].id },
      amount: 1_000,
    });
    assert.equal(sideways.statusCode, 422, sideways.body);
    assert.equal(sideways.json().error_code, 'AGENT_REBALANCE_NOT_ALLOWED');
    const toStranger = await rebalance(t.adminToken, {
      from: { agent_id: agent.id },
      to: { agent_id: stranger.id },
      amount: 1_000,
    });
    assert.equal(toStranger.json().error_code, 'AGENT_REBALANCE_NOT_ALLOWED');
  });

  test('rebalance refusals: float insufficient, single limit, float maximum, a foreign admin (404), a teller (403)', async () => {
    const empty = await rebalance(agent.adminToken, {
      from: { store_id: agent.stores[1].id },
      to: { store_id: agent.stores[0].id },
      amount: 10_000_000,
    });
    assert.equal(empty.statusCode, 422, empty.body);
    assert.equal(empty.json().error_code, 'AGENT_FLOAT_LIMIT_EXCEEDED');
    const insufficient = await rebalance(agent.adminToken, {
      from: { store_id: agent.stores[1].id },
      to: { store_id: agent.stores[0].id },
      amount: 20_000,
    });
    assert.equal(insufficient.statusCode, 409, insufficient.body);
    assert.equal(insufficient.json().error_code, 'AGENT_FLOAT_INSUFFICIENT');
    await fundFloat(t, { agent_id: superAgent.id }, 2_000_000);
    const overMax = await rebalance(t.adminToken, {
      from: { agent_id: superAgent.id },
      to: { agent_id: agent.id },
      amount: 900_000,
    });
    assert.equal(overMax.statusCode, 422, overMax.body);
    assert.equal(overMax.json().error_code, 'AGENT_FLOAT_LIMIT_EXCEEDED');
    const foreign = await rebalance(stranger.adminToken, {
      from: { agent_id: agent.id },
      to: { store_id: agent.stores[0].id },
      amount: 1_000,
    });
    assert.equal(foreign.statusCode, 404, foreign.body);
    const teller = await rebalance(agent.stores[0].tellerToken, {
      from: { store_id: agent.stores[0].id },
      to: { agent_id: agent.id },
      amount: 1_000,
    });
    assert.equal(teller.statusCode, 403, teller.body);
    assert.equal(teller.json().error_code, 'AGENT_FLOAT_NOT_PERMITTED');
  });

  test('positions: a teller sees their store and the agent, an admin every store', async () => {
    const teller = await t.app.inject({
      method: 'GET',
      url: '/api/v1/agent/float',
      headers: bearer(agent.stores[1].tellerToken),
    });
    assert.equal(teller.statusCode, 200, teller.body);
    assert.deepEqual(
      teller.json().stores.map((store: { store_id: string }) => store.store_id),
      [agent.stores[1].id],
    );
    const admin = await t.app.inject({
      method: 'GET',
      url: '/api/v1/agent/float',
      headers: bearer(agent.adminToken),
    });
    assert.equal(admin.json().stores.length, 2);
    assert.equal(Number(admin.json().agent.balance), (await floatBalances(t, agent.id)).agent);
    const staff = await t.app.inject({
      method: 'GET',
      url: '/api/v1/agent/float',
      headers: bearer(t.adminToken),
    });
    assert.equal(staff.statusCode, 403, staff.body);
    // Every cash-out, top-up and rebalance above balanced the ledger; no guarded float went negative.
    const verified = await t.application.ledger.verify();
    assert.ok(verified.ok, JSON.stringify(verified));
  });
});
