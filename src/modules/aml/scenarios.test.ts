/**
 * Each post-posting typology on payment facts written straight into `aml_payment_facts` (setting up days of
 * history, many customers or several agents through the API would take minutes): one set of facts that trips it
 * and a near miss that does not, through the scenario service with the seeded default rules. Alerts go through a
 * small real AlertSink writing `aml_alerts` (the cases area's sink groups them into cases; not under test here).
 * Also: a redelivered fact raises nothing twice, a rule's new version changes its params, and test mode records
 * the trip without an alert.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, eq, isNull } from 'drizzle-orm';
import { DAY, type ScenarioHarness, scenarioHarness } from '../../../test/helpers/aml-scenarios.ts';
import type { TestContext } from '../../../test/helpers/app.ts';
import type { Executor } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import type { PaymentFact } from './aml.facts.ts';
import { amountFor, mergeParams } from './aml.scenarios.rules.ts';
import { amlRules, amlScenarioHits } from './aml.tables.ts';

describe('AML post-posting scenarios', () => {
  let t: TestContext;
  let db: Executor;
  let h: ScenarioHarness;
  before(async () => {
    h = await scenarioHarness();
    ({ t, db } = h);
  });
  after(async () => t.close());

  const now = Date.now();
  const at = (minutesAgo: number) => h.at(minutesAgo);
  const fact: ScenarioHarness['fact'] = (values) => h.fact(values);
  const run: ScenarioHarness['run'] = (row, code) => h.run(row, code);
  const alertsOf: ScenarioHarness['alertsOf'] = (pattern, subject) => h.alertsOf(pattern, subject);

  test('structuring: three cash deposits within 10% under the CTR threshold in a day trip it, once', async () => {
    const customer = uuidv7();
    // CTR threshold KES 1,000,000.00 (100000000 minor): the band is 90,000,000..99,999,999.
    const deposit = (amount: bigint, minutesAgo: number) =>
      fact({
        type: 'cash_deposit',
        channel: 'branch',
        counterpartyCustomerId: customer,
        amountMinor: amount,
        occurredAt: at(minutesAgo),
      });
    await deposit(95_000_000n, 300);
    await deposit(99_999_999n, 200);
    const third = await deposit(90_000_000n, 100);
    const outcomes = await run(third, 'scenario_structuring');
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0]!.mode, 'active');
    const [alert] = await alertsOf('scenario_structuring', { customerId: customer });
    assert.ok(alert);
    assert.equal(alert.source, 'scenario');
    assert.equal(alert.ruleVersion, 1);
    assert.equal(alert.priority, 'high');
    assert.equal(alert.evidence.transaction_ids?.length, 3);
    assert.equal(alert.evidence.fields?.count, 3);
    // Redelivered: the same fact runs again and raises nothing.
    assert.deepEqual(await run(third, 'scenario_structuring'), []);
    assert.equal((await alertsOf('scenario_structuring', { customerId: customer })).length, 1);
  });

  test('structuring near miss: one of the three is more than 10% under the threshold', async () => {
    const customer = uuidv7();
    const deposit = (amount: bigint, minutesAgo: number) =>
      fact({
        type: 'cash_deposit',
        counterpartyCustomerId: customer,
        amountMinor: amount,
        occurredAt: at(minutesAgo),
      });
    await deposit(95_000_000n, 300);
    await deposit(89_999_999n, 200);
    const third = await deposit(96_000_000n, 100);
    assert.deepEqual(await run(third, 'scenario_structuring'), []);
    // Three in the band but spread over more than 24 hours: no trip either.
    const other = uuidv7();
    await fact({
      type: 'cash_deposit',
      counterpartyCustomerId: other,
      amountMinor: 95_000_000n,
      occurredAt: at(26 * 60),
    });
    await fact({
      type: 'cash_deposit',
      counterpartyCustomerId: other,
      amountMinor: 95_000_000n,
      occurredAt: at(60),
    });
    const last = await fact({
      type: 'cash_deposit',
      counterpartyCustomerId: other,
      amountMinor: 95_000_000n,
    });
    assert.deepEqual(await run(last, 'scenario_structuring'), []);
  });

  test('pass-through: 85% of what came in leaves within the window', async () => {
    const mule = uuidv7();
    await fact({
      customerId: uuidv7(),
      counterpartyCustomerId: mule,
      amountMinor: 2_000_000n,
      occurredAt: at(120),
    });
    const out = await fact({
      customerId: mule,
      counterpartyCustomerId: uuidv7(),
      amountMinor: 1_700_000n,
      occurredAt: at(30),
    });
    const outcomes = await run(out, 'scenario_pass_through');
    assert.equal(outcomes.length, 1);
    const [alert] = await alertsOf('scenario_pass_through', { customerId: mule });
    assert.equal(alert!.evidence.fields?.in_minor, '2000000');
    assert.equal(alert!.evidence.fields?.out_minor, '1700000');
    assert.equal(alert!.evidence.transaction_ids?.length, 2);
  });

  test('pass-through near miss: 75% out, or the money came in before the window', async () => {
    const saver = uuidv7();
    await fact({
      customerId: uuidv7(),
      counterpartyCustomerId: saver,
      amountMinor: 2_000_000n,
      occurredAt: at(120),
    });
    const out = await fact({ customerId: saver, counterpartyCustomerId: uuidv7(), amountMinor: 1_500_000n });
    assert.deepEqual(await run(out, 'scenario_pass_through'), []);
    const slow = uuidv7();
    await fact({
      customerId: uuidv7(),
      counterpartyCustomerId: slow,
      amountMinor: 2_000_000n,
      occurredAt: at(7 * 60),
    });
    const late = await fact({ customerId: slow, counterpartyCustomerId: uuidv7(), amountMinor: 1_900_000n });
    assert.deepEqual(await run(late, 'scenario_pass_through'), []);
  });

  test('dormant: 200 days without a payment, then KES 30,000', async () => {
    const sleeper = uuidv7();
    await fact({
      customerId: sleeper,
      counterpartyCustomerId: uuidv7(),
      amountMinor: 10_000n,
      occurredAt: new Date(now - 200 * DAY),
    });
    const wake = await fact({
      customerId: uuidv7(),
      counterpartyCustomerId: sleeper,
      amountMinor: 3_000_000n,
    });
    const outcomes = await run(wake, 'scenario_dormant');
    assert.equal(outcomes.length, 1);
    const [alert] = await alertsOf('scenario_dormant', { customerId: sleeper });
    assert.equal(alert!.evidence.fields?.idle_days, 200);
  });

  test('dormant near miss: 100 days idle, a small payment after 200 days, or no history at all', async () => {
    const resting = uuidv7();
    await fact({
      customerId: resting,
      counterpartyCustomerId: uuidv7(),
      amountMinor: 10_000n,
      occurredAt: new Date(now - 100 * DAY),
    });
    assert.deepEqual(
      await run(await fact({ customerId: resting, amountMinor: 3_000_000n }), 'scenario_dormant'),
      [],
    );
    const sleeper = uuidv7();
    await fact({ customerId: sleeper, amountMinor: 10_000n, occurredAt: new Date(now - 200 * DAY) });
    assert.deepEqual(
      await run(await fact({ customerId: sleeper, amountMinor: 1_000_000n }), 'scenario_dormant'),
      [],
    );
    assert.deepEqual(
      await run(await fact({ customerId: uuidv7(), amountMinor: 9_000_000n }), 'scenario_dormant'),
      [],
    );
  });

  test('fan-in: five distinct payers to one customer in a day', async () => {
    const collector = uuidv7();
    let last: PaymentFact | undefined;
    for (let index = 0; index < 5; index += 1)
      last = await fact({
        customerId: uuidv7(),
        counterpartyCustomerId: collector,
        amountMinor: 50_000n,
        occurredAt: at(50 - index),
      });
    assert.equal((await run(last!, 'scenario_fan_in')).length, 1);
    const [alert] = await alertsOf('scenario_fan_in', { customerId: collector });
    assert.equal(alert!.evidence.fields?.distinct_payers, 5);
  });

  test('fan-in near miss: five payments from four payers', async () => {
    const collector = uuidv7();
    const payers = [uuidv7(), uuidv7(), uuidv7(), uuidv7()];
    let last: PaymentFact | undefined;
    for (const payer of [...payers, payers[0]!])
      last = await fact({ customerId: payer, counterpartyCustomerId: collector, amountMinor: 50_000n });
    assert.deepEqual(await run(last!, 'scenario_fan_in'), []);
  });

  test('fan-out: one customer pays five distinct customers in a day', async () => {
    const spreader = uuidv7();
    let last: PaymentFact | undefined;
    for (let index = 0; index < 5; index += 1)
      last = await fact({
        customerId: spreader,
        counterpartyCustomerId: uuidv7(),
        amountMinor: 50_000n,
        occurredAt: at(50 - index),
      });
    assert.equal((await run(last!, 'scenario_fan_out')).length, 1);
    assert.equal((await alertsOf('scenario_fan_out', { customerId: spreader })).length, 1);
  });

  test('fan-out near miss: four payees, the fifth payee paid two days ago', async () => {
    const payer = uuidv7();
    await fact({
      customerId: payer,
      counterpartyCustomerId: uuidv7(),
      amountMinor: 50_000n,
      occurredAt: new Date(now - 2 * DAY),
    });
    let last: PaymentFact | undefined;
    for (let index = 0; index < 4; index += 1)
      last = await fact({ customerId: payer, counterpartyCustomerId: uuidv7(), amountMinor: 50_000n });
    assert.deepEqual(await run(last!, 'scenario_fan_out'), []);
  });

  test('round amounts: three payments that are whole thousands of shillings', async () => {
    const customer = uuidv7();
    for (const amount of [500_000n, 1_000_000n])
      await fact({ customerId: customer, amountMinor: amount, occurredAt: at(60) });
    const third = await fact({ customerId: customer, amountMinor: 2_000_000n });
    assert.equal((await run(third, 'scenario_round_amounts')).length, 1);
    const [alert] = await alertsOf('scenario_round_amounts', { customerId: customer });
    assert.equal(alert!.priority, 'low');
    assert.equal(alert!.evidence.fields?.total_minor, '3500000');
  });

  test('round amounts near miss: one is not round, or below the minimum', async () => {
    const customer = uuidv7();
    await fact({ customerId: customer, amountMinor: 500_000n, occurredAt: at(60) });
    await fact({ customerId: customer, amountMinor: 1_000_050n, occurredAt: at(50) });
    await fact({ customerId: customer, amountMinor: 400_000n, occurredAt: at(40) });
    const third = await fact({ customerId: customer, amountMinor: 1_000_000n });
    assert.deepEqual(await run(third, 'scenario_round_amounts'), []);
  });

  test("a rule's new version changes its params; test mode records the trip and raises no alert", async () => {
    const [current] = await db
      .select()
      .from(amlRules)
      .where(and(eq(amlRules.code, 'scenario_fan_in'), isNull(amlRules.supersededAt)));
    await db.update(amlRules).set({ supersededAt: new Date() }).where(eq(amlRules.id, current!.id));
    await db.insert(amlRules).values({
      ...current!,
      id: uuidv7(),
      version: current!.version + 1,
      mode: 'test',
      definition: { params: { window_hours: 24, min_payers: 3 } },
      createdAt: new Date(),
      supersededAt: null,
    });
    const collector = uuidv7();
    let last: PaymentFact | undefined;
    for (let index = 0; index < 3; index += 1)
      last = await fact({ customerId: uuidv7(), counterpartyCustomerId: collector, amountMinor: 50_000n });
    const outcomes = await run(last!, 'scenario_fan_in');
    assert.equal(outcomes.length, 1);
    assert.equal(outcomes[0]!.mode, 'test');
    assert.equal(outcomes[0]!.alertId, null);
    assert.equal((await alertsOf('scenario_fan_in', { customerId: collector })).length, 0);
    const hits = await db.select().from(amlScenarioHits).where(eq(amlScenarioHits.customerId, collector));
    assert.equal(hits.length, 1);
    assert.equal(hits[0]!.mode, 'test');
    assert.equal(hits[0]!.ruleVersion, current!.version + 1);
    // Disabled: nothing runs.
    await db
      .update(amlRules)
      .set({ mode: 'disabled' })
      .where(and(eq(amlRules.code, 'scenario_fan_in'), isNull(amlRules.supersededAt)));
    const more = await fact({
      customerId: uuidv7(),
      counterpartyCustomerId: collector,
      amountMinor: 50_000n,
    });
    assert.deepEqual(await run(more, 'scenario_fan_in'), []);
  });

  test("an edited version's params: a wrong type keeps the default, a new currency's amount is added", () => {
    const params = mergeParams('scenario_pass_through', {
      window_hours: 'soon',
      out_percent: 90,
      min_in_minor_kes: 'a lot',
      min_in_minor_ugx: 5_000_000,
      unknown_param: 3,
    });
    assert.equal(params.window_hours, 6);
    assert.equal(params.out_percent, 90);
    assert.equal(amountFor(params, 'min_in_minor', 'KES'), 1_000_000n);
    assert.equal(amountFor(params, 'min_in_minor', 'UGX'), 5_000_000n);
    assert.equal(amountFor(params, 'min_in_minor', 'TZS'), null);
    assert.equal((params as Record<string, unknown>).unknown_param, undefined);
  });
});
