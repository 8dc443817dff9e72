/**
 * End to end: real payments through the API, the AML module's own event consumer (`aml`) dispatched as the worker
 * would, AML's payment facts written from `transaction.completed`, and three typologies tripping on them (pass-
 * through, fan-in, new device then a large transfer) with their alerts raised through the cases area's sink; a
 * replayed event adds neither a fact nor an alert. The real-time screen is switched off (setting
 * aml.realtime_enabled) so only the post-posting path is under test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { randomPhone } from '../../../test/helpers/agents-money.ts';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  createCustomer,
  deposit,
  idempotent,
  openWallet,
  TEST_PIN,
  type TestCustomer,
} from '../../../test/helpers/money.ts';
import { systemContext } from '../../platform/audit.ts';
import type { Executor } from '../../platform/db.ts';
import { settingsModule } from '../settings/index.ts';
import { amlAlerts, amlDeviceEvents, amlPaymentFacts, amlScenarioHits } from './aml.tables.ts';

describe('AML payment facts and scenarios through real payments', () => {
  let t: TestContext;
  let db: Executor;

  before(async () => {
    t = await startTestApp();
    db = t.deps.database.db;
    await t.application.system
      .api(settingsModule)
      .update('aml.realtime_enabled', false, undefined, systemContext());
  });
  after(async () => t.close());

  async function drain() {
    const events = t.application.system.events;
    while ((await events.handOut()) > 0) {}
    while ((await events.dispatch('aml')) > 0) {}
    assert.deepEqual(await events.deadLetters('aml'), []);
  }

  async function funded(name: string, amount: number): Promise<TestCustomer & { walletId: string }> {
    const customer = await createCustomer(t, name, randomPhone());
    const wallet = await openWallet(t, customer.id);
    if (amount > 0) await deposit(t, wallet.id, amount);
    return { ...customer, walletId: wallet.id };
  }

  async function transfer(from: TestCustomer, to: TestCustomer, amount: number, token = from.token) {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/transfer',
      headers: idempotent(token),
      payload: { to_phone: to.phone, amount, currency: 'KES', pin: TEST_PIN },
    });
    assert.equal(response.statusCode, 201, response.body);
    return response.json() as { id: string };
  }

  const alertsOf = (pattern: string, customerId: string) =>
    db
      .select()
      .from(amlAlerts)
      .where(and(eq(amlAlerts.pattern, pattern), eq(amlAlerts.customerId, customerId)));

  test('each completed payment becomes one fact with its parties, channel and amount', async () => {
    const payer = await funded('Facts', 300_000);
    const payee = await funded('Payee', 0);
    const sent = await transfer(payer, payee, 120_000);
    await drain();
    const [fact] = await db.select().from(amlPaymentFacts).where(eq(amlPaymentFacts.transactionId, sent.id));
    assert.ok(fact, 'the transfer has a fact');
    assert.equal(fact.type, 'p2p');
    assert.equal(fact.customerId, payer.id);
    assert.equal(fact.counterpartyCustomerId, payee.id);
    assert.equal(fact.sourceWalletId, payer.walletId);
    assert.equal(fact.destinationWalletId, payee.walletId);
    assert.equal(fact.amountMinor, 120_000n);
    assert.equal(fact.currency, 'KES');
    assert.ok(fact.channel);
    assert.equal(fact.agentId, null);
    // The teller deposit has no paying customer: the depositor is its counterparty.
    const deposits = await db
      .select()
      .from(amlPaymentFacts)
      .where(
        and(eq(amlPaymentFacts.counterpartyCustomerId, payer.id), eq(amlPaymentFacts.type, 'cash_deposit')),
      );
    assert.equal(deposits.length, 1);
    assert.equal(deposits[0]!.customerId, null);
    assert.equal(deposits[0]!.amountMinor, 300_000n);
  });

  test('pass-through: a deposit mostly paid out within hours raises one alert, and a replay adds nothing', async () => {
    const mule = await funded('Mule', 2_000_000);
    const onward = await funded('Onward', 0);
    const out = await transfer(mule, onward, 1_700_000);
    await drain();
    const [alert] = await alertsOf('scenario_pass_through', mule.id);
    assert.ok(alert, 'the pass-through alert');
    assert.equal(alert.source, 'scenario');
    assert.equal(alert.ruleVersion, 1);
    assert.ok(alert.caseId, 'grouped into a case');
    assert.ok(alert.evidence.transaction_ids?.includes(out.id));
    // The consumer gets the same events again (at least once): no second fact, alert or hit.
    const facts = (await db.select().from(amlPaymentFacts)).length;
    await t.application.system.events.replay('aml', 'earliest');
    await drain();
    assert.equal((await db.select().from(amlPaymentFacts)).length, facts);
    assert.equal((await alertsOf('scenario_pass_through', mule.id)).length, 1);
    const hits = await db.select().from(amlScenarioHits).where(eq(amlScenarioHits.customerId, mule.id));
    assert.equal(hits.filter((hit) => hit.code === 'scenario_pass_through').length, 1);
  });

  test('pass-through near miss: half of the deposit paid out raises nothing', async () => {
    const saver = await funded('Saver', 2_000_000);
    const shop = await funded('Shop', 0);
    await transfer(saver, shop, 1_000_000);
    await drain();
    assert.equal((await alertsOf('scenario_pass_through', saver.id)).length, 0);
  });

  test('fan-in: five customers paying one collector in a day raise one alert; four do not', async () => {
    const collector = await funded('Collector', 0);
    const payers = [];
    for (let index = 0; index < 5; index += 1) payers.push(await funded(`Payer${index}`, 200_000));
    for (const payer of payers.slice(0, 4)) await transfer(payer, collector, 60_000);
    await drain();
    assert.equal((await alertsOf('scenario_fan_in', collector.id)).length, 0, 'four payers are a near miss');
    await transfer(payers[4]!, collector, 60_000);
    await drain();
    const alerts = await alertsOf('scenario_fan_in', collector.id);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.evidence.fields?.distinct_payers, 5);
  });

  test('a sign-in from a new device then a large transfer within 24 hours raises a critical alert', async () => {
    const victim = await funded('Victim', 5_000_000);
    const other = await funded('Other', 0);
    // A large transfer from the known device first: nothing.
    await transfer(victim, other, 2_000_000);
    await drain();
    assert.equal((await alertsOf('scenario_new_device_cash_out', victim.id)).length, 0);
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/customer/login',
      headers: { 'user-agent': 'NewPhone/2.0' },
      payload: { phone: victim.phone, pin: TEST_PIN },
    });
    assert.equal(login.statusCode, 200, login.body);
    await drain();
    const devices = await db.select().from(amlDeviceEvents).where(eq(amlDeviceEvents.customerId, victim.id));
    assert.equal(devices.length, 1);
    assert.equal(devices[0]!.detail, 'NewPhone/2.0');
    const small = await transfer(victim, other, 100_000, login.json().access_token);
    await drain();
    assert.equal((await alertsOf('scenario_new_device_cash_out', victim.id)).length, 0, 'a small transfer');
    await transfer(victim, other, 2_000_000, login.json().access_token);
    await drain();
    const [alert] = await alertsOf('scenario_new_device_cash_out', victim.id);
    assert.ok(alert, 'the new-device alert');
    assert.equal(alert.priority, 'critical');
    assert.ok(!alert.evidence.transaction_ids?.includes(small.id));
  });
});
