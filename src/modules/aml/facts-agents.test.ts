/**
 * Agent cash end to end: real cash-ins at agents' stores (the agents module's routes and the payment engine), the
 * `aml` consumer dispatched, facts carrying the agent and the store (read from the agent cash movement's metadata),
 * and agent structuring tripping on one customer's cash spread over three stores of two agents, not on cash at one
 * store. The rule's minimum total is lowered by a new version of the rule (rules are data), so small amounts do.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, eq, isNull } from 'drizzle-orm';
import {
  fundFloat,
  idem,
  inside,
  type MoneyAgent,
  moneyAgent,
  randomPhone,
} from '../../../test/helpers/agents-money.ts';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, openWallet, type TestCustomer } from '../../../test/helpers/money.ts';
import { systemContext } from '../../platform/audit.ts';
import type { Executor } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { settingsModule } from '../settings/index.ts';
import { amlAlerts, amlPaymentFacts, amlRules } from './aml.tables.ts';

describe('AML facts and agent structuring through real agent cash', () => {
  let t: TestContext;
  let db: Executor;
  let first: MoneyAgent;
  let second: MoneyAgent;

  before(async () => {
    t = await startTestApp();
    db = t.deps.database.db;
    await t.application.system
      .api(settingsModule)
      .update('aml.realtime_enabled', false, undefined, systemContext());
    const owner = await createCustomer(t, 'Owner', randomPhone());
    first = await moneyAgent(t, owner.id);
    second = await moneyAgent(t, owner.id);
    for (const store of [first.stores[0], first.stores[1], second.stores[0]])
      await fundFloat(t, { store_id: store.id }, 500_000);
    // Version 2 of agent structuring: KES 1,500 in total over three agents or stores (before any event: the
    // scenarios read their rules on the first one).
    const [current] = await db
      .select()
      .from(amlRules)
      .where(and(eq(amlRules.code, 'scenario_agent_structuring'), isNull(amlRules.supersededAt)));
    assert.ok(current, 'the default rule is seeded');
    await db.update(amlRules).set({ supersededAt: new Date() }).where(eq(amlRules.id, current.id));
    await db.insert(amlRules).values({
      ...current,
      id: uuidv7(),
      version: current.version + 1,
      definition: { params: { window_hours: 24, min_locations: 3, min_total_minor_kes: '150000' } },
      createdAt: new Date(),
      supersededAt: null,
    });
  });
  after(async () => t.close());

  async function drain() {
    const events = t.application.system.events;
    while ((await events.handOut()) > 0) {}
    while ((await events.dispatch('aml')) > 0) {}
    assert.deepEqual(await events.deadLetters('aml'), []);
  }

  async function customer(name: string): Promise<TestCustomer> {
    const created = await createCustomer(t, name, randomPhone());
    await openWallet(t, created.id);
    return created;
  }

  async function cashIn(store: MoneyAgent['stores'][number], who: TestCustomer, amount: number) {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/transaction/cash-in',
      headers: idem(store.tellerToken),
      payload: { phone: who.phone, amount, currency: 'KES', location: inside() },
    });
    assert.equal(response.statusCode, 201, response.body);
    return response.json() as { id: string };
  }

  const alertsOf = (customerId: string) =>
    db
      .select()
      .from(amlAlerts)
      .where(and(eq(amlAlerts.pattern, 'scenario_agent_structuring'), eq(amlAlerts.customerId, customerId)));

  test('an agent cash-in fact names the agent and the store; the customer is its counterparty', async () => {
    const jane = await customer('Jane');
    const done = await cashIn(first.stores[1], jane, 20_000);
    await drain();
    const [fact] = await db.select().from(amlPaymentFacts).where(eq(amlPaymentFacts.transactionId, done.id));
    assert.ok(fact);
    assert.equal(fact.type, 'cash_in');
    assert.equal(fact.channel, 'agent');
    assert.equal(fact.agentId, first.id);
    assert.equal(fact.storeId, first.stores[1].id);
    assert.equal(fact.customerId, null);
    assert.equal(fact.counterpartyCustomerId, jane.id);
    assert.equal(fact.amountMinor, 20_000n);
  });

  test('one customer cashing in at three stores of two agents in a day trips agent structuring', async () => {
    const smurf = await customer('Smurf');
    const ids = [];
    ids.push((await cashIn(first.stores[0], smurf, 50_000)).id);
    ids.push((await cashIn(first.stores[1], smurf, 50_000)).id);
    await drain();
    assert.equal((await alertsOf(smurf.id)).length, 0, 'two stores are not yet three');
    ids.push((await cashIn(second.stores[0], smurf, 50_000)).id);
    await drain();
    const alerts = await alertsOf(smurf.id);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.ruleVersion, 2);
    assert.deepEqual([...(alerts[0]!.evidence.transaction_ids ?? [])].sort(), ids.sort());
    assert.deepEqual(
      [...(alerts[0]!.evidence.fields!.agents as string[])].sort(),
      [first.id, second.id].sort(),
    );
  });

  test('near miss: the same total at one store raises nothing', async () => {
    const regular = await customer('Regular');
    for (let index = 0; index < 3; index += 1) await cashIn(first.stores[0], regular, 50_000);
    await drain();
    assert.equal((await alertsOf(regular.id)).length, 0);
  });
});
