/**
 * Commissions over a real database: accrual inside a cash posting (split with the super-agent, through the ledger),
 * payouts (accrued → paid, ledger moves, idempotent, statement), plans over HTTP, performance. Clawback and the other
 * payout paths: commission-clawback.test.ts; end to end through the cash routes: commission-http.test.ts.
 */
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type CommissionFixture, commissionFixture } from '../../../test/helpers/agents-commissions.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { staffToken } from '../../../test/helpers/loans.ts';
import { createCustomer, idempotent } from '../../../test/helpers/money.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { findTransaction } from '../transactions/index.ts';
import { EXPENSE_SPEC, expenseAccountCode } from './agents.commissions.ts';
import { agentsModule } from './index.ts';

let t: TestContext;
let f: CommissionFixture;
let ledger: CommissionFixture['ledger'];
let makeAgent: CommissionFixture['makeAgent'];
let cashIn: CommissionFixture['cashIn'];
let balance: CommissionFixture['balance'];
let rowsOf: CommissionFixture['rowsOf'];

before(async () => {
  t = await startTestApp();
  f = await commissionFixture(t);
  ({ ledger, makeAgent, cashIn, balance, rowsOf } = f);
});
after(() => t?.close());

describe('accrual inside the cash posting', () => {
  it('splits the default plan between agent and super-agent and posts both through the ledger', async () => {
    const parent = await makeAgent({ kind: 'super_agent' });
    const agent = await makeAgent({ parentId: parent.id });
    const expense = await ledger.houseAccount(expenseAccountCode('KES'), EXPENSE_SPEC);
    const expenseBefore = await balance(expense);
    // Default KES plan: 100001..1000000 pays 50 bps; super-agent share 20 %.
    const view = await cashIn(agent, 500_000n); // 2500 commission: 2000 agent, 500 super-agent
    const rows = await rowsOf(view.id);
    assert.deepEqual(
      rows.map((row) => [row.agentId, row.sourceAgentId, row.amountMinor, row.status]).sort(),
      [
        [agent.id, agent.id, 2000n, 'accrued'],
        [parent.id, agent.id, 500n, 'accrued'],
      ].sort(),
    );
    assert.equal(await balance(agent.commissionAccountId), 2000n);
    assert.equal(await balance(parent.commissionAccountId), 500n);
    assert.equal((await balance(expense)) - expenseBefore, 2500n);
  });

  it('pays nothing outside every band, and all to an agent without a super-agent', async () => {
    const agent = await makeAgent({});
    const api = t.application.system.api(agentsModule);
    assert.equal(await api.commissions.quote(agent, 'cash_in', 4_999n, 'KES'), null);
    assert.equal(await api.commissions.quote(agent, 'float_topup', 500_000n, 'KES'), null);
    const quote = await api.commissions.quote(agent, 'cash_out', 100_000n, 'KES');
    assert.deepEqual(quote?.accruals, [{ agentId: agent.id, sourceAgentId: agent.id, amount: 2000n }]);
  });
});

describe('payout', () => {
  it('pays accrued commissions into the float once, with a statement', async () => {
    const agent = await makeAgent({});
    const first = await cashIn(agent, 50_000n); // fixed 1000
    const second = await cashIn(agent, 200_000n); // 50 bps: 1000
    const floatBefore = await balance(agent.floatAccountId);
    const key = `payout-${randomUUID()}`;
    const run = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/commission/payout',
      headers: idempotent(t.adminToken, key),
      payload: { agent_id: agent.id },
    });
    assert.equal(run.statusCode, 200, run.body);
    const body = run.json();
    assert.equal(body.payouts.length, 1);
    const payout = body.payouts[0];
    assert.equal(payout.amount_minor, '2000');
    assert.equal(payout.commission_count, 2);
    assert.equal(payout.destination, 'float');
    assert.equal(await balance(agent.commissionAccountId), 0n);
    assert.equal((await balance(agent.floatAccountId)) - floatBefore, 2000n);
    for (const id of [first.id, second.id])
      assert.deepEqual(
        (await rowsOf(id)).map((row) => [row.status, row.payoutId]),
        [['paid', payout.id]],
      );
    const movement = (await findTransaction(t.deps.database.db, payout.transaction_id))!;
    assert.equal(movement.type, 'commission_payout');
    assert.equal(movement.status, 'completed');

    // The same key replays the answer; a new run pays nothing twice.
    const replay = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/commission/payout',
      headers: idempotent(t.adminToken, key),
      payload: { agent_id: agent.id },
    });
    assert.equal(replay.statusCode, 200);
    assert.deepEqual(replay.json(), body);
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/commission/payout',
      headers: idempotent(t.adminToken),
      payload: { agent_id: agent.id },
    });
    assert.deepEqual(again.json().payouts, []);
    assert.equal((await balance(agent.floatAccountId)) - floatBefore, 2000n);

    const statement = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/commission/payout/${payout.id}?limit=1`,
      headers: bearer(t.adminToken),
    });
    assert.equal(statement.statusCode, 200, statement.body);
    assert.equal(statement.json().commissions.items.length, 1);
    const next = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/commission/payout/${payout.id}?limit=1&cursor=${statement.json().commissions.next_cursor}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(next.json().commissions.items.length, 1);
    assert.equal(next.json().commissions.next_cursor, null);
    assert.notEqual(next.json().commissions.items[0].id, statement.json().commissions.items[0].id);

    const totals = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/agent/${agent.id}/commission`,
      headers: bearer(t.adminToken),
    });
    assert.equal(totals.statusCode, 200, totals.body);
    assert.deepEqual(totals.json().totals[0], {
      currency: 'KES',
      accrued_minor: '0',
      accrued_count: 0,
      paid_minor: '2000',
      paid_count: 2,
      clawed_back_minor: '0',
      clawed_back_count: 0,
    });
  });

  it('refuses a period end in the future, and staff without agent:commission', async () => {
    const future = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/commission/payout',
      headers: idempotent(t.adminToken),
      payload: { period_end: new Date(Date.now() + 3_600_000).toISOString() },
    });
    assert.equal(future.statusCode, 422, future.body);
    assert.equal(future.json().error_code, 'AGENT_COMMISSION_PERIOD_INVALID');
    const auditor = await staffToken(t, `auditor-${randomInt(1e6)}`, ['auditor']);
    const refused = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/commission/payout',
      headers: idempotent(auditor),
      payload: {},
    });
    assert.equal(refused.statusCode, 403);
  });
});

describe('plans over HTTP', () => {
  const rules = {
    cash_in: [
      { from_minor: '100', to_minor: '10000', fixed_minor: '50', percent_bps: 0 },
      { from_minor: '10001', to_minor: null, fixed_minor: '0', percent_bps: 100 },
    ],
  };

  it('creates, reads and changes a plan; an agent on it earns by it', async () => {
    const code = `plan-${randomInt(1e6)}`;
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/commission/plan',
      headers: bearer(t.adminToken),
      payload: { code, name: 'Test plan', currency: 'KES', rules, super_agent_share_bps: 5000 },
    });
    assert.equal(created.statusCode, 201, created.body);
    const plan = created.json();
    const duplicate = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/commission/plan',
      headers: bearer(t.adminToken),
      payload: { code, name: 'Again', currency: 'KES', rules },
    });
    assert.equal(duplicate.statusCode, 409);
    assert.equal(duplicate.json().error_code, 'AGENT_COMMISSION_PLAN_EXISTS');

    const agent = await makeAgent({ planId: plan.id });
    const quote = await t.application.system
      .api(agentsModule)
      .commissions.quote(agent, 'cash_in', 20_000n, 'KES');
    assert.equal(quote?.accruals[0]?.amount, 200n);

    const changed = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/agent/commission/plan/${plan.id}`,
      headers: bearer(t.adminToken),
      payload: {
        rules: { cash_in: [{ from_minor: '1', to_minor: null, fixed_minor: '7', percent_bps: 0 }] },
      },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    const requoted = await t.application.system
      .api(agentsModule)
      .commissions.quote(agent, 'cash_in', 20_000n, 'KES');
    assert.equal(requoted?.accruals[0]?.amount, 7n);

    const inUse = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/agent/commission/plan/${plan.id}`,
      headers: bearer(t.adminToken),
      payload: { active: false },
    });
    assert.equal(inUse.statusCode, 409);
    assert.equal(inUse.json().error_code, 'AGENT_COMMISSION_PLAN_IN_USE');

    const listed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/agent/commission/plan?currency=KES',
      headers: bearer(t.adminToken),
    });
    const codes = listed.json().items.map((item: { code: string }) => item.code);
    assert.ok(codes.includes(code) && codes.includes('kes-standard'));
  });

  it('refuses bands with a gap (422 naming the field) and an unknown plan (404)', async () => {
    const gap = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/commission/plan',
      headers: bearer(t.adminToken),
      payload: {
        code: `gap-${randomInt(1e6)}`,
        name: 'Gap',
        currency: 'KES',
        rules: { cash_out: [rules.cash_in[0], { ...rules.cash_in[1], from_minor: '10005' }] },
      },
    });
    assert.equal(gap.statusCode, 422, gap.body);
    assert.equal(gap.json().details.errors[0].field, 'body.rules.cash_out.1.from_minor');
    const missing = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/commission/plan/${uuidv7()}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(missing.statusCode, 404);
  });
});

describe('performance', () => {
  it('reports commissions by day and the violation rate; staff with agent:read only', async () => {
    const agent = await makeAgent({});
    await cashIn(agent, 50_000n);
    await cashIn(agent, 60_000n);
    const auditor = await staffToken(t, `reader-${randomInt(1e6)}`, ['auditor']);
    const response = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/agent/${agent.id}/performance`,
      headers: bearer(auditor),
    });
    assert.equal(response.statusCode, 200, `${response.body}\n${t.logs.text.slice(-3000)}`);
    const body = response.json();
    const today = new Date().toISOString().slice(0, 10);
    assert.deepEqual(body.commissions, [{ day: today, currency: 'KES', count: 2, amount_minor: '2000' }]);
    assert.equal(body.commission_total_minor, '2000');
    assert.equal(body.geofence.checks, 0);
    assert.equal(body.geofence.violation_rate, 0);

    const customer = await createCustomer(t, 'Otieno', `+2547${randomInt(10_000_000, 99_999_999)}`);
    const refused = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/agent/${agent.id}/performance`,
      headers: bearer(customer.token),
    });
    assert.equal(refused.statusCode, 403);
    const backwards = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/agent/${agent.id}/performance?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`,
      headers: bearer(auditor),
    });
    assert.equal(backwards.statusCode, 422);
    const unknown = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/agent/${uuidv7()}/performance`,
      headers: bearer(auditor),
    });
    assert.equal(unknown.statusCode, 404);
  });
});
