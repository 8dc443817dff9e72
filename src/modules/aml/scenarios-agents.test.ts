/**
 * The device and agent typologies (new device then a cash-out or large transfer, agent structuring, an agent's
 * customers cycling float) on payment facts written straight into `aml_payment_facts` (several agents, stores and
 * operators through the API would take minutes): a trip and a near miss each, through the scenario service with
 * the seeded default rules and a small real AlertSink writing `aml_alerts`. The first five typologies are in
 * scenarios.test.ts; the end-to-end path through real payments in facts.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ScenarioHarness, scenarioHarness } from '../../../test/helpers/aml-scenarios.ts';
import type { TestContext } from '../../../test/helpers/app.ts';
import type { Executor } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { amlDeviceEvents } from './aml.tables.ts';

describe('AML device and agent scenarios', () => {
  let t: TestContext;
  let db: Executor;
  let h: ScenarioHarness;
  before(async () => {
    h = await scenarioHarness();
    ({ t, db } = h);
  });
  after(async () => t.close());

  const _now = Date.now();
  const at = (minutesAgo: number) => h.at(minutesAgo);
  const fact: ScenarioHarness['fact'] = (values) => h.fact(values);
  const run: ScenarioHarness['run'] = (row, code) => h.run(row, code);
  const alertsOf: ScenarioHarness['alertsOf'] = (pattern, subject) => h.alertsOf(pattern, subject);

  async function newDevice(customerId: string, minutesAgo: number) {
    const [row] = await db
      .insert(amlDeviceEvents)
      .values({
        id: uuidv7(),
        customerId,
        kind: 'new_device',
        detail: 'Fraudster/1.0',
        sourceEventId: BigInt(Math.floor(Math.random() * 1e12)),
        occurredAt: at(minutesAgo),
      })
      .returning();
    return row!;
  }

  test('new device then a cash-out within 24 hours', async () => {
    const victim = uuidv7();
    const device = await newDevice(victim, 120);
    const cashOut = await fact({
      type: 'cash_out',
      channel: 'agent',
      customerId: victim,
      amountMinor: 150_000n,
    });
    assert.equal((await run(cashOut, 'scenario_new_device_cash_out')).length, 1);
    const [alert] = await alertsOf('scenario_new_device_cash_out', { customerId: victim });
    assert.equal(alert!.priority, 'critical');
    assert.equal(alert!.evidence.fields?.device, 'Fraudster/1.0');
    // A second cash-out after the same new device adds no alert (one per device event).
    const again = await fact({ type: 'cash_out', customerId: victim, amountMinor: 150_000n });
    assert.deepEqual(await run(again, 'scenario_new_device_cash_out'), []);
    assert.ok(device.id);
  });

  test('new device near miss: the device is 30 hours old, or the transfer is small', async () => {
    const customer = uuidv7();
    await newDevice(customer, 30 * 60);
    assert.deepEqual(
      await run(
        await fact({ type: 'cash_out', customerId: customer, amountMinor: 150_000n }),
        'scenario_new_device_cash_out',
      ),
      [],
    );
    const fresh = uuidv7();
    await newDevice(fresh, 10);
    const small = await fact({
      customerId: fresh,
      counterpartyCustomerId: uuidv7(),
      amountMinor: 1_999_999n,
    });
    assert.deepEqual(await run(small, 'scenario_new_device_cash_out'), []);
    const large = await fact({
      customerId: fresh,
      counterpartyCustomerId: uuidv7(),
      amountMinor: 2_000_000n,
    });
    assert.equal((await run(large, 'scenario_new_device_cash_out')).length, 1);
  });

  const cash = (
    type: 'cash_in' | 'cash_out',
    customer: string,
    agentId: string,
    storeId: string,
    amount: bigint,
    minutesAgo = 0,
  ) =>
    fact({
      type,
      channel: 'agent',
      customerId: type === 'cash_out' ? customer : null,
      counterpartyCustomerId: type === 'cash_in' ? customer : null,
      agentId,
      storeId,
      amountMinor: amount,
      occurredAt: at(minutesAgo),
    });

  test('agent structuring: one customer cashes in at three agents in a day, KES 30,000 in total', async () => {
    const customer = uuidv7();
    await cash('cash_in', customer, uuidv7(), uuidv7(), 1_000_000n, 180);
    await cash('cash_in', customer, uuidv7(), uuidv7(), 1_000_000n, 120);
    const last = await cash('cash_in', customer, uuidv7(), uuidv7(), 1_000_000n, 60);
    assert.equal((await run(last, 'scenario_agent_structuring')).length, 1);
    const [alert] = await alertsOf('scenario_agent_structuring', { customerId: customer });
    assert.equal((alert!.evidence.fields!.agents as string[]).length, 3);
  });

  test('agent structuring near miss: three cash-ins at one store, or three agents under the total', async () => {
    const customer = uuidv7();
    const agent = uuidv7();
    const store = uuidv7();
    await cash('cash_in', customer, agent, store, 1_500_000n, 180);
    await cash('cash_in', customer, agent, store, 1_500_000n, 120);
    assert.deepEqual(
      await run(await cash('cash_in', customer, agent, store, 1_500_000n), 'scenario_agent_structuring'),
      [],
    );
    const other = uuidv7();
    await cash('cash_in', other, uuidv7(), uuidv7(), 900_000n, 180);
    await cash('cash_in', other, uuidv7(), uuidv7(), 900_000n, 120);
    assert.deepEqual(
      await run(await cash('cash_in', other, uuidv7(), uuidv7(), 900_000n), 'scenario_agent_structuring'),
      [],
    );
  });

  test("float cycling: an agent's customers cash in and out four times in a week", async () => {
    const agent = uuidv7();
    const store = uuidv7();
    const [one, two] = [uuidv7(), uuidv7()];
    let minutes = 3000;
    for (const customer of [one, two, one, two])
      for (const type of ['cash_in', 'cash_out'] as const) {
        minutes -= 60;
        await cash(type, customer, agent, store, 200_000n, minutes);
      }
    const last = await cash('cash_in', one, agent, store, 200_000n);
    assert.equal((await run(last, 'scenario_agent_float_cycling')).length, 1);
    const [alert] = await alertsOf('scenario_agent_float_cycling', { agentId: agent });
    assert.equal(alert!.evidence.fields?.pairs, 4);
    assert.equal(alert!.customerId, null);
  });

  test('float cycling near miss: three pairs, and cash-ins with no cash-out', async () => {
    const agent = uuidv7();
    const store = uuidv7();
    const customer = uuidv7();
    for (let index = 0; index < 3; index += 1) {
      await cash('cash_in', customer, agent, store, 200_000n, 100 - index * 10);
      await cash('cash_out', customer, agent, store, 200_000n, 95 - index * 10);
    }
    for (let index = 0; index < 4; index += 1) await cash('cash_in', uuidv7(), agent, store, 200_000n, 10);
    assert.deepEqual(
      await run(await cash('cash_in', uuidv7(), agent, store, 200_000n), 'scenario_agent_float_cycling'),
      [],
    );
  });
});
