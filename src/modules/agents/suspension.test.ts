/**
 * Suspension holds at once on every API node: two nodes on one database and one Redis prefix; an agent (or its
 * super-agent) suspended through node A refuses its operators on node B within a second (the principal resolver
 * reads the operator, store, agent and super-agent status on every request).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { agentNetwork, agentOfficerToken, createAgent } from '../../../test/helpers/agents.ts';
import {
  bearer,
  LogCapture,
  sharedServices,
  startTestApp,
  type TestContext,
} from '../../../test/helpers/app.ts';
import { type Application, buildApp } from '../../app.ts';
import { closeDependencies, type Dependencies, openDependencies } from '../../platform/dependencies.ts';

// Two nodes share state only on PostgreSQL and Redis (always configured in CI); PGlite and the memory store are
// per process.
if (sharedServices)
  describe('agent suspension on a second API node', () => {
    let t: TestContext;
    let depsB: Dependencies;
    let nodeB: Application;
    let officer: string;

    before(async () => {
      t = await startTestApp();
      depsB = await openDependencies(t.config, { migrate: false, runsWorker: false });
      nodeB = await buildApp(depsB, { logStream: new LogCapture() });
      await nodeB.app.ready();
      officer = await agentOfficerToken(t);
    });
    after(async () => {
      await nodeB?.app.close();
      if (depsB) await closeDependencies(depsB);
      await t?.close();
    });

    const meOnB = (token: string) =>
      nodeB.app.inject({ method: 'GET', url: '/api/v1/agent/me', headers: bearer(token) });

    /** Milliseconds until node B refuses the token (polled every 50 ms, at most 3 s). */
    async function refusedWithin(token: string): Promise<number> {
      const started = performance.now();
      for (;;) {
        const response = await meOnB(token);
        if (response.statusCode === 401) return performance.now() - started;
        assert.equal(response.statusCode, 200, response.body);
        if (performance.now() - started > 3000) return Number.POSITIVE_INFINITY;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }

    test('an agent suspended on node A is refused on node B within a second, and back after reactivation', async () => {
      const net = await agentNetwork(t);
      const token = net.tellers[0]!.token;
      assert.equal((await meOnB(token)).statusCode, 200);
      const suspended = await t.app.inject({
        method: 'POST',
        url: `/api/v1/agent/agent/${net.agent.id}/suspend`,
        headers: bearer(officer),
        payload: { reason: 'fraud investigation' },
      });
      assert.equal(suspended.statusCode, 200, suspended.body);
      const elapsed = await refusedWithin(token);
      assert.ok(elapsed < 1000, `refused after ${elapsed} ms`);
      const refused = await meOnB(token);
      assert.equal(refused.json().error_code, 'TOKEN_REVOKED');
      const reactivated = await t.app.inject({
        method: 'POST',
        url: `/api/v1/agent/agent/${net.agent.id}/reactivate`,
        headers: bearer(officer),
        payload: { reason: 'investigation closed' },
      });
      assert.equal(reactivated.statusCode, 200, reactivated.body);
      assert.equal((await meOnB(token)).statusCode, 200);
    });

    test("a super-agent's suspension blocks its agents' operators on node B too", async () => {
      const superAgent = await createAgent(t, { kind: 'super_agent' });
      const net = await agentNetwork(t, { parentId: superAgent.id });
      const token = net.tellers[0]!.token;
      assert.equal((await meOnB(token)).statusCode, 200);
      const suspended = await t.app.inject({
        method: 'POST',
        url: `/api/v1/agent/agent/${superAgent.id}/suspend`,
        headers: bearer(officer),
        payload: { reason: 'network review' },
      });
      assert.equal(suspended.statusCode, 200, suspended.body);
      const elapsed = await refusedWithin(token);
      assert.ok(elapsed < 1000, `refused after ${elapsed} ms`);
    });
  });
