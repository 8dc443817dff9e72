/** The agent network through the API: onboarding with maker-checker, stores, operators, devices, scope. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AgentNetworkFixture, agentNetwork } from '../../../test/helpers/agents.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';

describe('agent network', () => {
  let t: TestContext;
  let net: AgentNetworkFixture;

  before(async () => {
    t = await startTestApp();
    net = await agentNetwork(t, {
      stores: [
        { lat: -1.2864, lon: 36.8172 },
        { lat: -1.3, lon: 36.8, radius_m: 250 },
      ],
    });
  });
  after(() => t.close());

  test('the fixture gives an active agent with two stores and a signed-in teller at each', async () => {
    assert.equal(net.agent.status, 'active');
    assert.equal(net.stores.length, 2);
    assert.match(net.agent.agent_number, /^A\d{7}$/);
    assert.match(String(net.stores[0]!.store_number), /^S\d{7}$/);
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/agent/me',
      headers: bearer(net.tellers[1]!.token),
    });
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json().store.id, net.stores[1]!.id);
    assert.equal(me.json().role, 'teller');
  });
});
