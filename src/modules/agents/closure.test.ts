/**
 * Agent closure with a sweep (`close` with `sweep: true`): store floats to the agent, the commission paid out, the
 * agent's float to the owner's wallet, each its own engine movement; then the close. Without sweep it still refuses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { agentOfficerToken, createStore } from '../../../test/helpers/agents.ts';
import { type CommissionFixture, commissionFixture } from '../../../test/helpers/agents-commissions.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer } from '../../../test/helpers/money.ts';
import { inTransaction } from '../../platform/db.ts';
import { verifyLedger } from '../ledger/index.ts';
import { agents } from './agents.tables.ts';

let t: TestContext;
let f: CommissionFixture;
let officer: string;

before(async () => {
  t = await startTestApp();
  f = await commissionFixture(t);
  officer = await agentOfficerToken(t);
});
after(() => t?.close());

const close = (id: string, payload: object) =>
  t.app.inject({
    method: 'POST',
    url: `/api/v1/agent/agent/${id}/close`,
    headers: bearer(officer),
    payload: { reason: 'retiring', ...payload },
  });

/** Leaves `keep` on an agent's float (the fixture funds 100 000 000: more than a wallet may hold). */
async function drainFloat(accountId: string, keep: bigint) {
  const amount = (await f.balance(accountId)) - keep;
  await inTransaction(t.deps.database.db, async (tx) => {
    const settlement = await f.ledger.houseAccount('settlement:KES', undefined, tx);
    await f.ledger.post(tx, {
      key: `test-drain-${accountId}`,
      code: 'test_fund',
      legs: [{ debit: accountId, credit: settlement, amount, code: 'principal' }],
    });
  });
}

async function fundStore(accountId: string, amount: bigint) {
  await inTransaction(t.deps.database.db, async (tx) => {
    const pool = await f.ledger.houseAccount('agent_float_pool:KES', undefined, tx);
    await f.ledger.post(tx, {
      key: `test-store-float-${accountId}`,
      code: 'float_topup',
      legs: [{ debit: pool, credit: accountId, amount, code: 'principal' }],
    });
  });
}

describe('agent closure with a sweep', () => {
  it('moves store float, commission and agent float to the owner’s wallet, closes, and is idempotent', async () => {
    const agent = await f.makeAgent({});
    await f.cashIn(agent, 50_000n); // fixed commission 1000, float 100_000_000 - 50_000
    const store = await createStore(t, agent.id);
    await fundStore(store.float_account_id, 7_000n);
    await drainFloat(agent.floatAccountId, 30_000n);
    await f.ledger.rollUp();
    const agentFloat = await f.balance(agent.floatAccountId);
    const commission = await f.balance(agent.commissionAccountId);
    assert.equal(commission, 1000n);
    const walletBefore = await f.balance(f.walletId);

    const refused = await close(agent.id, {});
    assert.equal(refused.statusCode, 409, refused.body);
    assert.equal(refused.json().error_code, 'AGENT_FLOAT_NOT_ZERO');
    const explicit = await close(agent.id, { sweep: false });
    assert.equal(explicit.json().error_code, 'AGENT_FLOAT_NOT_ZERO');
    assert.equal(await f.balance(store.float_account_id), 7_000n);

    const closed = await close(agent.id, { sweep: true });
    assert.equal(closed.statusCode, 200, closed.body);
    assert.equal(closed.json().status, 'closed');
    assert.equal(await f.balance(agent.floatAccountId), 0n);
    assert.equal(await f.balance(store.float_account_id), 0n);
    assert.equal(await f.balance(agent.commissionAccountId), 0n);
    const credited = (await f.balance(f.walletId)) - walletBefore;
    assert.equal(credited, agentFloat + 7_000n + commission);
    const storeView = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/store/${store.id}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(storeView.json().status, 'closed');
    assert.equal((await verifyLedger(t.deps.database.db)).ok, true);

    // A retry (the agent reopened as after a crash between the movements and the close) moves nothing again.
    await t.deps.database.db.update(agents).set({ status: 'active' }).where(eq(agents.id, agent.id));
    const walletAfter = await f.balance(f.walletId);
    const retried = await close(agent.id, { sweep: true });
    assert.equal(retried.statusCode, 200, retried.body);
    assert.equal(await f.balance(f.walletId), walletAfter);
    assert.equal((await verifyLedger(t.deps.database.db)).ok, true);
  });

  it('refuses with AGENT_SWEEP_NO_WALLET when the owner has no wallet in the currency, moving nothing', async () => {
    const agent = await f.makeAgent({});
    const owner = await createCustomer(
      t,
      'Walletless',
      `+2547${Math.floor(10_000_000 + Math.random() * 89_999_999)}`,
    );
    await t.deps.database.db.update(agents).set({ ownerCustomerId: owner.id }).where(eq(agents.id, agent.id));
    const before = await f.balance(agent.floatAccountId);
    const refused = await close(agent.id, { sweep: true });
    assert.equal(refused.statusCode, 409, refused.body);
    assert.equal(refused.json().error_code, 'AGENT_SWEEP_NO_WALLET');
    assert.equal(await f.balance(agent.floatAccountId), before);
  });

  it('a sweep the payment screen holds for review refuses the close and moves nothing (no hold is left)', async () => {
    const agent = await f.makeAgent({});
    await drainFloat(agent.floatAccountId, 20_000n);
    const engine = t.application.transactions.engine;
    // The AML screen of this app answers review for the sweep into the owner's wallet.
    engine.setPaymentScreen({
      decide: async (input) =>
        input.plan.type === 'float_transfer' && input.plan.destination.kind === 'wallet'
          ? { outcome: 'review' }
          : { outcome: 'allow' },
    });
    try {
      const walletBefore = await f.balance(f.walletId);
      const refused = await close(agent.id, { sweep: true });
      assert.equal(refused.statusCode, 409, refused.body);
      assert.equal(refused.json().error_code, 'AGENT_FLOAT_INSUFFICIENT');
      assert.equal(await f.balance(agent.floatAccountId), 20_000n);
      assert.equal(await f.balance(f.walletId), walletBefore);
      const [row] = await t.deps.database.db.select().from(agents).where(eq(agents.id, agent.id));
      assert.equal(row!.status, 'active');
      const held = await t.deps.database.pool!.query(
        `select count(*)::int as n from transactions where status = 'held' and metadata->>'agent_id' = $1`,
        [agent.id],
      );
      assert.equal(held.rows[0].n, 0, 'the hold rolled back with the refused sweep');
      assert.equal((await verifyLedger(t.deps.database.db)).ok, true);
    } finally {
      engine.setPaymentScreen(null);
    }
  });
});
