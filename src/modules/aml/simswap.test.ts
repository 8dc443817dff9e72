/**
 * AML's SIM-swap source end to end: real payments and sign-ins through the API, the AML consumer dispatched as the
 * worker would, the SIM-swap job on pg-boss asking the fake CAMARA SIM Swap provider (test/fakes/camara-sim-swap.ts)
 * for the customer's primary phone, the `sim_swap` device event and the SIM-swap/new-device typology's alert. Also:
 * an old swap records nothing, a provider outage retries the job and never touches the payment, and without the
 * SIM_SWAP_* variables nothing is queued or called. The real-time screen is off so only the post-posting path runs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { type FakeSimSwap, startFakeSimSwap } from '../../../test/fakes/camara-sim-swap.ts';
import {
  idem,
  inside,
  type MoneyAgent,
  moneyAgent,
  randomPhone,
} from '../../../test/helpers/agents-money.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  createCustomer,
  deposit,
  idempotent,
  openWallet,
  TEST_PIN,
  type TestCustomer,
} from '../../../test/helpers/money.ts';
import { SimSwapError } from '../../integrations/camara-sim-swap/camara-sim-swap.client.ts';
import { systemContext } from '../../platform/audit.ts';
import { type Executor, rawRows } from '../../platform/db.ts';
import { settingsModule } from '../settings/index.ts';
import { SIM_SWAP_JOB } from './aml.simswap.ts';
import { amlAlerts, amlDeviceEvents } from './aml.tables.ts';
import { amlModule } from './index.ts';

const CLIENT_ID = 'bank-aml';
const CLIENT_SECRET = 'camara-secret-0123456789';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PATTERN = 'scenario_new_device_cash_out';

describe('AML SIM-swap source (CAMARA SIM Swap API)', () => {
  let fake: FakeSimSwap;
  let t: TestContext;
  let db: Executor;
  let agent: MoneyAgent;

  before(async () => {
    fake = await startFakeSimSwap({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    t = await startTestApp(
      {
        SIM_SWAP_API_ROOT: fake.url,
        SIM_SWAP_TOKEN_URL: fake.tokenUrl,
        SIM_SWAP_CLIENT_ID: CLIENT_ID,
        SIM_SWAP_CLIENT_SECRET: CLIENT_SECRET,
        SIM_SWAP_TIMEOUT_MS: '2000',
      },
      { startJobs: true },
    );
    db = t.deps.database.db;
    await t.application.system
      .api(settingsModule)
      .update('aml.realtime_enabled', false, undefined, systemContext());
    agent = await moneyAgent(t, (await createCustomer(t, 'Owner', randomPhone())).id);
    await t.deps.jobs.work();
  });
  after(async () => {
    await t.close();
    await fake.close();
  });

  async function drain() {
    const events = t.application.system.events;
    while ((await events.handOut()) > 0) {}
    while ((await events.dispatch('aml')) > 0) {}
    assert.deepEqual(await events.deadLetters('aml'), []);
  }

  async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, ms = 30_000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** The states of the SIM-swap jobs queued for a customer (pg-boss's own table). */
  const jobsFor = async (customerId: string, executor: Executor = db) =>
    (
      await rawRows<{ state: string }>(
        executor,
        sql`select state from pgboss.job where name = ${SIM_SWAP_JOB} and data->>'customer_id' = ${customerId}`,
      )
    ).map((row) => row.state);
  /** Every SIM-swap job of the customer has run to the end. */
  const jobsDone = (customerId: string) => async () => {
    const states = await jobsFor(customerId);
    return states.length > 0 && states.every((state) => state === 'completed');
  };

  async function funded(name: string, amount: number): Promise<TestCustomer & { walletId: string }> {
    const customer = await createCustomer(t, name, randomPhone());
    const wallet = await openWallet(t, customer.id);
    if (amount > 0) await deposit(t, wallet.id, amount);
    return { ...customer, walletId: wallet.id };
  }

  /** An agent cash-out with a withdrawal code the customer made in the app. */
  async function cashOut(customer: TestCustomer, amount: number) {
    const made = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/withdrawal-code',
      headers: bearer(customer.token),
      payload: { agent_number: agent.number, amount, currency: 'KES', pin: TEST_PIN },
    });
    assert.equal(made.statusCode, 201, made.body);
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/transaction/cash-out',
      headers: idem(agent.stores[0]!.tellerToken),
      payload: { currency: 'KES', location: inside(), phone: customer.phone, amount, code: made.json().code },
    });
    assert.equal(response.statusCode, 201, response.body);
    return response.json() as { id: string; type: string; status: string };
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

  const alertsOf = (customerId: string) =>
    db
      .select()
      .from(amlAlerts)
      .where(and(eq(amlAlerts.pattern, PATTERN), eq(amlAlerts.customerId, customerId)));
  const swapsOf = (customerId: string) =>
    db
      .select()
      .from(amlDeviceEvents)
      .where(and(eq(amlDeviceEvents.customerId, customerId), eq(amlDeviceEvents.kind, 'sim_swap')));
  const callsFor = (phone: string) =>
    fake.apiCalls().filter((call) => (call.body as { phoneNumber?: string }).phoneNumber === phone);

  test('a SIM swap 3 hours before a cash-out: recorded from the provider, and the typology alerts with sim_swap evidence', async () => {
    const victim = await funded('Victim', 500_000);
    const swappedAt = new Date(Date.now() - 3 * HOUR);
    fake.setSwap(victim.phone, swappedAt);
    const paid = await cashOut(victim, 150_000);
    assert.equal(paid.type, 'cash_out');
    await drain();
    const [alert] = await until('the SIM-swap alert', async () => {
      const rows = await alertsOf(victim.id);
      return rows.length > 0 ? rows : null;
    });
    assert.equal(alert!.priority, 'critical');
    assert.equal(alert!.source, 'scenario');
    assert.deepEqual(alert!.evidence.transaction_ids, [paid.id]);
    assert.equal(alert!.evidence.fields?.device_event, 'sim_swap');
    assert.deepEqual(alert!.evidence.fields?.signals, ['sim_swap']);
    assert.equal(alert!.evidence.fields?.device_event_at, swappedAt.toISOString());
    assert.equal(alert!.evidence.fields?.payment_type, 'cash_out');
    const swaps = await swapsOf(victim.id);
    assert.equal(swaps.length, 1);
    assert.equal(swaps[0]!.occurredAt.toISOString(), swappedAt.toISOString());
    assert.equal(swaps[0]!.sourceEventId, null);
    // The provider was asked about the customer's primary phone, with a token and a correlator.
    const [call] = callsFor(victim.phone);
    assert.equal(call!.path, '/sim-swap/v2/retrieve-date');
    assert.deepEqual(call!.body, { phoneNumber: victim.phone });
    assert.match(String(call!.headers.authorization), /^Bearer /);
    assert.ok(call!.headers['x-correlator']);

    // The same question again (a retried job): the swap is known, no second row, no second alert.
    const watch = t.application.system.api(amlModule).scenarios.simSwap;
    const again = await watch.check({
      customer_id: victim.id,
      transaction_id: paid.id,
      at: new Date().toISOString(),
    });
    assert.equal(again.outcome, 'known');
    assert.deepEqual(again.alerts, []);
    assert.equal((await swapsOf(victim.id)).length, 1);
    assert.equal((await alertsOf(victim.id)).length, 1);
  });

  test('a SIM swap 30 days before a large transfer records nothing and raises nothing', async () => {
    const saver = await funded('Saver', 3_000_000);
    const payee = await funded('Payee', 0);
    fake.setSwap(saver.phone, new Date(Date.now() - 30 * DAY));
    const sent = await transfer(saver, payee, 2_000_000);
    await drain();
    await until('the job done', jobsDone(saver.id));
    assert.equal(callsFor(saver.phone).length, 1);
    assert.deepEqual(await swapsOf(saver.id), []);
    assert.deepEqual(await alertsOf(saver.id), []);
    const watch = t.application.system.api(amlModule).scenarios.simSwap;
    const answer = await watch.check({
      customer_id: saver.id,
      transaction_id: sent.id,
      at: new Date().toISOString(),
    });
    assert.equal(answer.outcome, 'outside_lookback');
    // A small transfer is none of the typology's business: nobody is asked.
    const before = fake.apiCalls().length;
    await transfer(payee, saver, 10_000);
    await drain();
    assert.deepEqual(await jobsFor(payee.id), [], 'no job queued');
    assert.equal(fake.apiCalls().length, before);
  });

  test('the provider down: the payment is unaffected, the job fails and is retried until the alert is raised', async () => {
    const victim = await funded('Unlucky', 500_000);
    fake.setSwap(victim.phone, new Date(Date.now() - 2 * HOUR));
    const watch = t.application.system.api(amlModule).scenarios.simSwap;
    // The job's work throws on an outage (that is what makes pg-boss retry it).
    fake.failNext(1, 503, 'UNAVAILABLE');
    const thrown = await watch
      .check({ customer_id: victim.id, transaction_id: null, at: new Date().toISOString() })
      .catch((error: unknown) => error);
    assert.ok(thrown instanceof SimSwapError);
    assert.equal(thrown.kind, 'unavailable');
    assert.deepEqual(await swapsOf(victim.id), []);

    fake.failNext(1, 503, 'UNAVAILABLE');
    const paid = await cashOut(victim, 150_000);
    assert.equal(paid.status, 'completed');
    await drain();
    const [alert] = await until(
      'the alert after a retry',
      async () => {
        const rows = await alertsOf(victim.id);
        return rows.length > 0 ? rows : null;
      },
      90_000,
    );
    assert.equal(alert!.evidence.fields?.device_event, 'sim_swap');
    const calls = callsFor(victim.phone);
    assert.ok(calls.length >= 3, `asked ${calls.length} times: the failed check, the failed job, its retry`);
  });

  test('a new-device sign-in asks too: the swap is then known when the large transfer comes', async () => {
    const victim = await funded('Target', 5_000_000);
    const other = await funded('Other', 0);
    const swappedAt = new Date(Date.now() - HOUR);
    fake.setSwap(victim.phone, swappedAt);
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/customer/login',
      headers: { 'user-agent': 'SwappedPhone/1.0' },
      payload: { phone: victim.phone, pin: TEST_PIN },
    });
    assert.equal(login.statusCode, 200, login.body);
    await drain();
    const [swap] = await until('the swap from the sign-in', async () => {
      const rows = await swapsOf(victim.id);
      return rows.length > 0 ? rows : null;
    });
    assert.equal(swap!.occurredAt.toISOString(), swappedAt.toISOString());
    // The payment's own consumer run sees both signals at once; the SIM swap outranks the new device.
    const sent = await transfer(victim, other, 2_000_000, login.json().access_token);
    await drain();
    const [alert] = await alertsOf(victim.id);
    assert.ok(alert, 'raised in the payment event, without waiting for the job');
    assert.deepEqual(alert.evidence.transaction_ids, [sent.id]);
    assert.equal(alert.evidence.fields?.device_event, 'sim_swap');
    assert.deepEqual(alert.evidence.fields?.signals, ['new_device', 'sim_swap']);
    await until('the jobs done', jobsDone(victim.id));
    assert.equal((await alertsOf(victim.id)).length, 1, 'the payment job found the same swap: nothing new');
  });

  test('a number the operator does not serve is an answer, not a failure', async () => {
    const customer = await funded('Roaming', 100_000);
    const watch = t.application.system.api(amlModule).scenarios.simSwap;
    const unknown = await watch.check({
      customer_id: customer.id,
      transaction_id: null,
      at: new Date().toISOString(),
    });
    assert.equal(unknown.outcome, 'not_applicable');
    fake.setNotApplicable(customer.phone);
    const answer = await watch.check({
      customer_id: customer.id,
      transaction_id: null,
      at: new Date().toISOString(),
    });
    assert.equal(answer.outcome, 'not_applicable');
  });

  test('readiness reports the SIM-swap source (not critical)', async () => {
    const ready = await t.app.inject({ method: 'GET', url: '/health/ready' });
    assert.equal(ready.statusCode, 200, ready.body);
    assert.equal(ready.json().checks['aml.sim_swap'], 'ok');
  });

  test('not configured: no job, no call, readiness says not_configured', async () => {
    const plain = await startTestApp({}, { startJobs: true });
    try {
      await plain.application.system
        .api(settingsModule)
        .update('aml.realtime_enabled', false, undefined, systemContext());
      const customer = await createCustomer(plain, 'Plain', randomPhone());
      const wallet = await openWallet(plain, customer.id);
      await deposit(plain, wallet.id, 3_000_000);
      const payee = await createCustomer(plain, 'Payee', randomPhone());
      await openWallet(plain, payee.id);
      fake.setSwap(customer.phone, new Date(Date.now() - HOUR));
      const before = fake.requests.length;
      const response = await plain.app.inject({
        method: 'POST',
        url: '/api/v1/wallet/transaction/transfer',
        headers: idempotent(customer.token),
        payload: { to_phone: payee.phone, amount: 2_000_000, currency: 'KES', pin: TEST_PIN },
      });
      assert.equal(response.statusCode, 201, response.body);
      const events = plain.application.system.events;
      while ((await events.handOut()) > 0) {}
      while ((await events.dispatch('aml')) > 0) {}
      assert.equal(plain.application.system.api(amlModule).scenarios.simSwap.configured, false);
      assert.deepEqual(await jobsFor(customer.id, plain.deps.database.db), [], 'no job queued');
      assert.equal(fake.requests.length, before);
      const ready = await plain.app.inject({ method: 'GET', url: '/health/ready' });
      assert.equal(ready.json().checks['aml.sim_swap'], 'not_configured');
    } finally {
      await plain.close();
    }
  });
});
