/**
 * A cash-in reversed by staff (maker-checker, the disputes module's reversal): the customer's wallet gives the money
 * back to the store's float, and the commission the cash-in accrued is clawed back, right after the cash-in (the
 * commission payable is a deferred account: the reversal rolls its deltas up before checking its funds).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  floatBalances,
  fundFloat,
  inside,
  type MoneyAgent,
  moneyAgent,
  randomPhone,
} from '../../../test/helpers/agents-money.ts';
import { bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { balanceOf, createCustomer, openWallet } from '../../../test/helpers/money.ts';
import { ledgerModule } from '../ledger/index.ts';

const PASSWORD = 'amber lantern river 7';

describe('reversing an agent cash-in', () => {
  let t: TestContext;
  let agent: MoneyAgent;

  async function staff(username: string): Promise<string> {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/user/add',
      headers: bearer(t.adminToken),
      payload: {
        username,
        email: `${username}@bank.test`,
        full_name: username,
        password: PASSWORD,
        roles: ['operations'],
        must_change_password: false,
      },
    });
    assert.equal(response.statusCode, 201, response.body);
    return (await login(t.app, username, PASSWORD)).access_token;
  }

  before(async () => {
    t = await startTestApp();
    const owner = await createCustomer(t, 'Owner', randomPhone());
    agent = await moneyAgent(t, owner.id);
    await fundFloat(t, { store_id: agent.stores[0].id }, 2_000_000);
  });
  after(async () => t.close());

  test('the money goes back to the float and the commission is clawed back', async () => {
    const customer = await createCustomer(t, 'Wanjiru', randomPhone());
    const wallet = await openWallet(t, customer.id);
    const storeId = agent.stores[0].id;
    const floatBefore = (await floatBalances(t, agent.id)).store(storeId);
    const cashIn = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/transaction/cash-in',
      headers: { ...bearer(agent.stores[0].tellerToken), 'idempotency-key': `ci-${randomUUID()}` },
      payload: { phone: customer.phone, amount: 500_000, currency: 'KES', location: inside() },
    });
    assert.equal(cashIn.statusCode, 201, cashIn.body);
    const transactionId = cashIn.json().id as string;
    assert.equal((await balanceOf(t, wallet.id)).balance, 500_000);
    const accrued = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/agent/${agent.id}/commission`,
      headers: bearer(t.adminToken),
    });
    assert.equal(accrued.statusCode, 200, accrued.body);
    assert.notEqual(accrued.json().totals[0].accrued_minor, '0');

    const maker = await staff('agent_reversal_maker');
    const checker = await staff('agent_reversal_checker');
    const filed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/transaction/transaction/reverse',
      headers: bearer(maker),
      payload: { transaction_id: transactionId, reason: 'Cash-in to the wrong customer' },
    });
    assert.equal(filed.statusCode, 202, filed.body);
    const approved = await t.app.inject({
      method: 'POST',
      url: '/api/v1/policy/approval/approve',
      headers: bearer(checker),
      payload: { request_id: filed.json().id },
    });
    assert.equal(approved.statusCode, 200, approved.body);
    assert.equal(approved.json().result?.status, 'completed', approved.body);

    assert.equal((await balanceOf(t, wallet.id)).balance, 0);
    assert.equal((await floatBalances(t, agent.id)).store(storeId), floatBefore);
    // The clawback handler runs on `transaction.reversed` (the agents module's own consumer).
    // Only this module's consumer: the notifications consumer's delivery jobs are another test's subject.
    const events = t.application.system.events;
    await events.handOut();
    while ((await events.dispatch('agents')) > 0) {}
    const after = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/agent/${agent.id}/commission`,
      headers: bearer(t.adminToken),
    });
    const totals = after.json().totals[0];
    assert.equal(totals.accrued_minor, '0', after.body);
    assert.equal(totals.clawed_back_minor, accrued.json().totals[0].accrued_minor, after.body);
    assert.deepEqual(await t.application.system.events.deadLetters('agents'), []);
    const verification = await t.application.system.api(ledgerModule).verify();
    assert.equal(verification.ok, true, JSON.stringify(verification));
  });
});
