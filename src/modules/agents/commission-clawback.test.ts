/**
 * Commission clawback when a cash-in or cash-out is reversed (the `transaction.reversed` handler), and the payout's
 * other paths: to the owner's wallet, the daily job, and the cap when a clawback left the payable short.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { type CommissionFixture, commissionFixture } from '../../../test/helpers/agents-commissions.ts';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { balanceOf, idempotent } from '../../../test/helpers/money.ts';
import { systemContext } from '../../platform/audit.ts';
import { commissionJobs } from './agents.commission.wiring.ts';
import { EXPENSE_SPEC, expenseAccountCode } from './agents.commissions.ts';
import { agentCommissionPayouts, agentCommissions } from './agents.tables.ts';
import { agentsModule } from './index.ts';

let t: TestContext;
let f: CommissionFixture;
let ledger: CommissionFixture['ledger'];
let makeAgent: CommissionFixture['makeAgent'];
let cashIn: CommissionFixture['cashIn'];
let reverse: CommissionFixture['reverse'];
let balance: CommissionFixture['balance'];
let rowsOf: CommissionFixture['rowsOf'];

before(async () => {
  t = await startTestApp();
  f = await commissionFixture(t);
  ({ ledger, makeAgent, cashIn, reverse, balance, rowsOf } = f);
});
after(() => t?.close());

describe('clawback on reversal', () => {
  it('an accrued commission inverted by the reversal is marked, not posted twice', async () => {
    const parent = await makeAgent({ kind: 'super_agent' });
    const agent = await makeAgent({ parentId: parent.id });
    const original = await cashIn(agent, 500_000n);
    const expense = await ledger.houseAccount(expenseAccountCode('KES'), EXPENSE_SPEC);
    const expenseBefore = await balance(expense);
    const reversal = await reverse(original.id);
    assert.deepEqual(
      (await rowsOf(original.id)).map((row) => [row.status, row.clawbackTransactionId]),
      [
        ['clawed_back', reversal.id],
        ['clawed_back', reversal.id],
      ],
    );
    assert.equal(await balance(agent.commissionAccountId), 0n);
    assert.equal(await balance(parent.commissionAccountId), 0n);
    assert.equal(expenseBefore - (await balance(expense)), 2500n);
  });

  it('a reversal without commission legs gets its own clawback posting; paid commission comes off the float', async () => {
    const agent = await makeAgent({});
    const accrued = await cashIn(agent, 50_000n); // 1000
    await reverse(accrued.id, { principalOnly: true });
    assert.equal(await balance(agent.commissionAccountId), 0n);
    assert.equal((await rowsOf(accrued.id))[0]!.status, 'clawed_back');

    const paid = await cashIn(agent, 50_000n); // 1000
    const run = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/commission/payout',
      headers: idempotent(t.adminToken),
      payload: { agent_id: agent.id },
    });
    assert.equal(run.json().payouts[0].amount_minor, '1000', run.body);
    const floatBefore = await balance(agent.floatAccountId);
    await reverse(paid.id, { principalOnly: true });
    // The principal came back to the float (+50000) and the paid commission went (−1000).
    assert.equal((await balance(agent.floatAccountId)) - floatBefore, 49_000n);
    assert.equal((await rowsOf(paid.id))[0]!.status, 'clawed_back');
  });
});

describe('payout paths', () => {
  const api = () => t.application.system.api(agentsModule);

  it('a plan that pays to the wallet credits the owner’s wallet', async () => {
    const plan = await api().commissions.createPlan(
      {
        code: `wallet-${randomUUID().slice(0, 8)}`,
        name: 'Wallet payouts',
        currency: 'KES',
        rules: { cash_in: [{ from_minor: '1', to_minor: null, fixed_minor: '300', percent_bps: 0 }] },
        payout_destination: 'wallet',
      },
      systemContext(),
    );
    const agent = await makeAgent({ planId: plan.id });
    await cashIn(agent, 50_000n);
    const before = (await balanceOf(t, f.walletId)).balance;
    const run = await api().commissions.payout({ agent_id: agent.id }, systemContext());
    assert.equal(run.payouts[0]?.destination, 'wallet');
    assert.equal((await balanceOf(t, f.walletId)).balance - before, 300);
    assert.equal(await balance(agent.commissionAccountId), 0n);
  });

  it('the daily job pays what accrued before midnight UTC, once', async () => {
    const agent = await makeAgent({});
    const yesterday = await cashIn(agent, 50_000n); // 1000
    const today = await cashIn(agent, 60_000n); // 1000
    await t.deps.database.db
      .update(agentCommissions)
      .set({ accruedAt: new Date(Date.now() - 36 * 3600 * 1000) })
      .where(eq(agentCommissions.transactionId, yesterday.id));
    const [job] = commissionJobs(api().commissions);
    assert.equal(job?.schedule, '10 2 * * *');
    await job!.run(t.deps.database.db);
    assert.equal((await rowsOf(yesterday.id))[0]?.status, 'paid');
    assert.equal((await rowsOf(today.id))[0]?.status, 'accrued');
    const midnight = new Date();
    midnight.setUTCHours(0, 0, 0, 0);
    const payouts = await t.deps.database.db
      .select()
      .from(agentCommissionPayouts)
      .where(eq(agentCommissionPayouts.agentId, agent.id));
    assert.equal(payouts.length, 1);
    assert.equal(payouts[0]!.periodEnd.getTime(), midnight.getTime());
    assert.equal(payouts[0]!.amountMinor, 1000n);
    await job!.run(t.deps.database.db);
    assert.equal(
      (
        await t.deps.database.db
          .select()
          .from(agentCommissionPayouts)
          .where(eq(agentCommissionPayouts.agentId, agent.id))
      ).length,
      1,
    );
  });

  it('a paid commission taken back by a reversal is netted from the next payouts', async () => {
    const agent = await makeAgent({});
    const first = await cashIn(agent, 50_000n); // 1000
    await api().commissions.payout({ agent_id: agent.id }, systemContext());
    await cashIn(agent, 50_000n); // 1000 accrued: the reversal below takes it back from the payable
    await reverse(first.id);
    assert.equal((await rowsOf(first.id))[0]?.status, 'clawed_back');
    assert.equal(await balance(agent.commissionAccountId), 0n);
    const skipped = await api().commissions.payout({ agent_id: agent.id }, systemContext());
    assert.deepEqual(skipped.payouts, []);
    assert.deepEqual(skipped.skipped, [
      { agent_id: agent.id, currency: 'KES', accrued_minor: '1000', reason: 'clawback_debt' },
    ]);
    await cashIn(agent, 50_000n); // another 1000
    const netted = await api().commissions.payout({ agent_id: agent.id }, systemContext());
    assert.equal(netted.payouts[0]?.amount_minor, '1000');
    assert.equal(netted.payouts[0]?.commission_count, 2);
  });
});
