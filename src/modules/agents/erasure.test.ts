/** A customer who owns an agent that is not closed is not erased; once the agent is closed, they are. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { moneyAgent, randomPhone } from '../../../test/helpers/agents-money.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer } from '../../../test/helpers/money.ts';

describe('erasing an agent’s owner', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  const erase = (customerId: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/erase',
      headers: bearer(t.adminToken),
      payload: { customer_id: customerId, reason: 'data subject request' },
    });

  test('refused while the agent is open, with the agent named; erased once it is closed', async () => {
    const owner = await createCustomer(t, 'Kamau', randomPhone());
    const agent = await moneyAgent(t, owner.id);
    const refused = await erase(owner.id);
    assert.equal(refused.statusCode, 409, refused.body);
    assert.equal(refused.json().error_code, 'CUSTOMER_HAS_OBLIGATIONS');
    const reasons = refused.json().details.reasons as string[];
    assert.ok(
      reasons.some((reason) => reason.includes(agent.number) && reason.includes('close it first')),
      JSON.stringify(reasons),
    );
    const closed = await t.app.inject({
      method: 'POST',
      url: `/api/v1/agent/agent/${agent.id}/close`,
      headers: bearer(t.adminToken),
      payload: { reason: 'owner asked to leave the network' },
    });
    assert.equal(closed.statusCode, 200, closed.body);
    const erased = await erase(owner.id);
    assert.equal(erased.statusCode, 200, erased.body);
  });
});
