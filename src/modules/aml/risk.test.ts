/**
 * Customer risk rating through the app: the routes (current with factors, history, recompute; 404; only `aml:*`
 * staff), each factor fed from where it is read (the customer's profile and addresses, KYC tier, AML's payment
 * facts, screenings and alerts), enhanced due diligence once on becoming high, and the recompute on `kyc.decided`.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer } from '../../../test/helpers/money.ts';
import { systemContext } from '../../platform/audit.ts';
import { inTransaction } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { setCustomerTier } from '../customers/index.ts';
import { kycDecided } from '../kyc/index.ts';
import { type SettingKey, settingsModule } from '../settings/index.ts';
import { amlAlerts, amlPaymentFacts, amlScreenings } from './aml.tables.ts';
import { amlModule } from './index.ts';

const PASSWORD = 'amber lantern river 7';
const phone = () => `+2547${String(randomInt(10_000_000, 99_999_999))}`;

describe('customer risk rating', () => {
  let t: TestContext;
  let officer: string;
  let support: string;

  const db = () => t.deps.database.db;
  const risk = () => t.application.system.api(amlModule).risk;

  async function staff(username: string, role: string): Promise<string> {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/user/add',
      headers: bearer(t.adminToken),
      payload: {
        username,
        email: `${username}@bank.test`,
        full_name: username,
        password: PASSWORD,
        roles: [role],
        must_change_password: false,
      },
    });
    assert.equal(response.statusCode, 201, response.body);
    return (await login(t.app, username, PASSWORD)).access_token;
  }

  async function customer(fields: Record<string, string> = {}): Promise<string> {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/add',
      headers: bearer(t.adminToken),
      payload: { first_name: 'Amina', last_name: 'Risk', phone: phone(), ...fields },
    });
    assert.equal(response.statusCode, 201, response.body);
    return response.json().id as string;
  }

  const call = (method: 'GET' | 'POST', url: string, token = officer) =>
    t.app.inject({ method, url: `/api/v1/aml/risk/${url}`, headers: bearer(token) });

  async function recompute(customerId: string) {
    const response = await call('POST', `${customerId}/recompute`);
    assert.equal(response.statusCode, 200, response.body);
    return response.json() as {
      score: number;
      band: string;
      pep: boolean;
      factors: { factor: string; score: number; value: Record<string, unknown> }[];
    };
  }
  const factorOf = (rating: Awaited<ReturnType<typeof recompute>>, name: string) =>
    rating.factors.find((factor) => factor.factor === name)!;

  async function setting(key: SettingKey, value: unknown) {
    await t.application.system.api(settingsModule).update(key, value, undefined, systemContext());
  }

  async function fact(customerId: string, fields: Partial<typeof amlPaymentFacts.$inferInsert>) {
    await db()
      .insert(amlPaymentFacts)
      .values({
        transactionId: uuidv7(),
        type: 'p2p',
        channel: 'mobile',
        customerId,
        amountMinor: 10_000n,
        currency: 'KES',
        occurredAt: new Date(),
        ...fields,
      });
  }

  const count = async (query: ReturnType<typeof sql>) =>
    ((await db().execute(query)) as unknown as { rows: { n: number }[] }).rows[0]!.n;

  before(async () => {
    // The aml consumer also queues the screening area’s work on kyc.decided: the job queue runs.
    t = await startTestApp({}, { startJobs: true });
    officer = await staff('risk_officer', 'compliance_officer');
    support = await staff('risk_support', 'support_agent');
  });
  after(async () => t.close());

  test('staff with aml:read see the rating with its factors and its history; a new customer is low', async () => {
    const id = await customer({ nationality: 'KE', occupation: 'Teacher', income_band: '10k-50k' });
    const current = await call('GET', id);
    assert.equal(current.statusCode, 200, current.body);
    const rating = current.json();
    assert.equal(rating.band, 'low');
    assert.deepEqual(
      rating.factors.map((factor: { factor: string }) => factor.factor),
      ['product_tier', 'geography', 'occupation_income', 'pep', 'channel_mix', 'alert_history'],
    );
    assert.equal(factorOf(rating, 'product_tier').value.tier, 'basic');
    assert.equal(factorOf(rating, 'occupation_income').score, 20);
    await recompute(id);
    const history = await call('GET', `${id}/history?limit=1`);
    assert.equal(history.statusCode, 200, history.body);
    assert.equal(history.json().items[0].trigger, 'staff');
    const older = await call('GET', `${id}/history?cursor=${history.json().next_cursor}`);
    assert.deepEqual(
      older.json().items.map((item: { trigger: string }) => item.trigger),
      ['first_view'],
    );
    assert.equal((await risk().ratingOf(id))?.band, 'low');
  });

  test('an unknown customer is 404 on every route', async () => {
    const unknown = '0190a3c4-0000-7000-8000-000000000001';
    for (const [method, url] of [
      ['GET', unknown],
      ['GET', `${unknown}/history`],
      ['POST', `${unknown}/recompute`],
    ] as const) {
      const response = await call(method, url);
      assert.equal(response.statusCode, 404, `${method} ${url}: ${response.body}`);
      assert.equal(response.json().error_code, 'NOT_FOUND');
    }
    assert.equal(await risk().ratingOf(unknown), null);
  });

  test('customers and staff without aml:* permissions are refused, and learn nothing of the rating', async () => {
    const own = await createCustomer(t, 'Baraka', phone());
    for (const token of [own.token, support]) {
      for (const [method, url] of [
        ['GET', own.id],
        ['GET', `${own.id}/history`],
        ['POST', `${own.id}/recompute`],
      ] as const) {
        const response = await call(method, url, token);
        assert.equal(response.statusCode, 403, `${method} ${url}: ${response.body}`);
        // The generic refusal (it names the permission the route needs, as every route's does), nothing of the customer.
        assert.equal(response.json().error_code, 'FORBIDDEN');
        assert.doesNotMatch(response.body, /band|score|factor|pep|alert|high|low/i);
      }
    }
    assert.equal(await risk().ratingOf(own.id), null, 'a refused request rates nobody');
  });

  test('geography: nationality, residence and counterparties against the high-risk list', async () => {
    const plain = await customer({ nationality: 'KE' });
    assert.equal(factorOf(await recompute(plain), 'geography').score, 0);
    const iranian = await customer({ nationality: 'IR' });
    const rated = await recompute(iranian);
    assert.equal(factorOf(rated, 'geography').score, 100);
    assert.ok(rated.score > (await recompute(plain)).score);

    const resident = await customer({ nationality: 'KE' });
    const address = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/address/add',
      headers: bearer(t.adminToken),
      payload: { customer_id: resident, kind: 'home', line1: '1 Road', city: 'Yangon', country: 'MM' },
    });
    assert.equal(address.statusCode, 200, address.body);
    assert.equal(factorOf(await recompute(resident), 'geography').score, 100);

    const payer = await customer({ nationality: 'KE' });
    const risky = await customer({ nationality: 'KP' });
    const clean = await customer({ nationality: 'UG' });
    await fact(payer, { counterpartyCustomerId: risky });
    await fact(payer, { counterpartyCustomerId: clean });
    // Received from a risky customer counts too; older than 90 days does not.
    await fact(risky, { counterpartyCustomerId: payer });
    await fact(payer, {
      counterpartyCustomerId: await customer({ nationality: 'IR' }),
      occurredAt: new Date(Date.now() - 91 * 86_400_000),
    });
    const geography = factorOf(await recompute(payer), 'geography');
    assert.equal(geography.value.counterparties, 2);
    assert.equal(geography.score, 75);
  });

  test('occupation and income band from the profile; unknown scores medium', async () => {
    const unknown = factorOf(await recompute(await customer()), 'occupation_income');
    assert.equal(unknown.score, 50);
    const casino = factorOf(
      await recompute(await customer({ occupation: 'Casino manager', income_band: '50k+' })),
      'occupation_income',
    );
    assert.equal(casino.score, 50);
    assert.equal(casino.value.high_risk_occupation, true);
  });

  test('product and tier: a higher KYC tier and a second wallet currency score higher', async () => {
    const id = await customer();
    const basic = factorOf(await recompute(id), 'product_tier').score;
    await inTransaction(db(), (tx) => setCustomerTier(tx, id, 'premium', null));
    const premium = factorOf(await recompute(id), 'product_tier');
    assert.ok(premium.score > basic, `${premium.score} > ${basic}`);
    for (const currency of ['KES', 'USD']) {
      const opened = await t.app.inject({
        method: 'POST',
        url: '/api/v1/wallet/wallet/create',
        headers: bearer(t.adminToken),
        payload: { customer_id: id, currency },
      });
      assert.equal(opened.statusCode, 201, opened.body);
    }
    const withWallets = factorOf(await recompute(id), 'product_tier');
    assert.equal(withWallets.score, premium.score + 10);
    assert.deepEqual((withWallets.value.products as string[]).sort(), ['KES_STANDARD', 'USD_STANDARD']);
  });

  test('channel mix: cash and USSD payments of 90 days raise it', async () => {
    const id = await customer();
    await fact(id, { channel: 'mobile' });
    await fact(id, { type: 'cash_out', channel: 'agent' });
    await fact(id, { type: 'p2p', channel: 'ussd' });
    await fact(id, { type: 'cash_deposit', channel: 'branch' });
    const channel = factorOf(await recompute(id), 'channel_mix');
    assert.equal(channel.score, 75);
    assert.equal(channel.value.payments, 4);
  });

  test('alert history: the customer’s alerts of 180 days by priority, not the risk area’s own', async () => {
    const id = await customer();
    const alert = (priority: 'low' | 'high', source: 'rule' | 'risk', createdAt = new Date()) =>
      db()
        .insert(amlAlerts)
        .values({
          id: uuidv7(),
          customerId: id,
          source,
          pattern: source === 'risk' ? 'risk_high' : 'test_rule',
          priority,
          evidence: {},
          createdAt,
        });
    await alert('high', 'rule');
    await alert('low', 'rule');
    await alert('high', 'risk');
    await alert('high', 'rule', new Date(Date.now() - 181 * 86_400_000));
    assert.equal(factorOf(await recompute(id), 'alert_history').score, 35);
  });

  test('PEP: the latest screening with a PEP match makes the customer high and raises EDD once', async () => {
    const id = await customer();
    const screening = (outcome: 'clear' | 'review', pep: boolean) =>
      db()
        .insert(amlScreenings)
        .values({
          id: uuidv7(),
          subjectKind: 'customer',
          subjectId: id,
          name: 'Amina Risk',
          outcome,
          bestScore: pep ? 0.9 : 0,
          matches: pep
            ? [
                {
                  entry_id: uuidv7(),
                  source: 'opensanctions',
                  external_id: 'os-1',
                  name: 'Amina Risk',
                  score: 0.9,
                  fields: {},
                  pep: true,
                },
              ]
            : [],
          trigger: 'test',
        });
    await screening('review', true);
    const rated = await recompute(id);
    assert.equal(rated.pep, true);
    assert.equal(rated.band, 'high');
    await recompute(id);
    const alerts = sql`select count(*)::int as n from aml_alerts
      where customer_id = ${id} and pattern = 'risk_high' and source = 'risk' and priority = 'high'`;
    assert.equal(await count(alerts), 1, 'still high: no second alert');
    // A later clear screening ends it; becoming high again is a new episode with its own alert.
    await screening('clear', false);
    assert.equal((await recompute(id)).band, 'low');
    await screening('review', true);
    assert.equal((await recompute(id)).band, 'high');
    assert.equal(await count(alerts), 2);
  });

  test('bands by setting: a customer becomes high once, with one alert and one band change event', async () => {
    const id = await customer({ nationality: 'IR' });
    assert.equal((await recompute(id)).band, 'low');
    await setting('aml.risk_bands', { medium: 10, high: 20 });
    try {
      assert.equal((await recompute(id)).band, 'high');
      assert.equal((await recompute(id)).band, 'high');
      assert.equal((await risk().ratingOf(id))?.band, 'high', 'the cache follows a recompute');
      const alerts = await count(
        sql`select count(*)::int as n from aml_alerts where customer_id = ${id} and pattern = 'risk_high'`,
      );
      assert.equal(alerts, 1);
      const changes = (await db().execute(sql`select payload from outbox_events
        where topic = 'aml.risk_band_changed' and aggregate_id = ${id} order by id`)) as unknown as {
        rows: { payload: { old_band: string | null; new_band: string } }[];
      };
      assert.deepEqual(
        changes.rows.map((row) => [row.payload.old_band, row.payload.new_band]),
        [
          [null, 'low'],
          ['low', 'high'],
        ],
      );
    } finally {
      await setting('aml.risk_bands', { medium: 40, high: 70 });
    }
    const refused = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/admin/config/aml.risk_bands',
      headers: bearer(t.adminToken),
      payload: { value: { medium: 80, high: 50 } },
    });
    assert.equal(refused.statusCode, 422, refused.body);
  });

  test('a KYC decision (the tier changed) recomputes the rating through the event', async () => {
    const id = await customer();
    await recompute(id);
    await inTransaction(db(), async (tx) => {
      await setCustomerTier(tx, id, 'standard', null);
      await emitEvent(
        tx,
        kycDecided,
        { type: 'customer', id },
        {
          customer_id: id,
          application_id: uuidv7(),
          decision: 'approved',
          tier: 'Standard',
          tier_code: 'standard',
        },
      );
    });
    const events = t.application.system.events;
    await events.handOut();
    while ((await events.dispatch('aml')) > 0) {}
    assert.deepEqual(await events.deadLetters('aml'), []);
    const history = (await call('GET', `${id}/history`)).json();
    assert.equal(history.items[0].trigger, 'kyc.decided');
    const tier = history.items[0].factors.find(
      (factor: { factor: string }) => factor.factor === 'product_tier',
    );
    assert.equal(tier.value.tier, 'standard');
  });

  test('an AML alert of the customer recomputes the rating through aml.alert_raised', async () => {
    const id = await customer();
    await recompute(id);
    const raised = await inTransaction(db(), (tx) =>
      t.application.system.api(amlModule).cases.alerts.raise(tx, {
        source: 'rule',
        pattern: 'risk_test_rule',
        priority: 'critical',
        customerId: id,
        evidence: { fields: { test: true } },
      }),
    );
    assert.ok(raised);
    const events = t.application.system.events;
    await events.handOut();
    while ((await events.dispatch('aml')) > 0) {}
    assert.deepEqual(await events.deadLetters('aml'), []);
    const history = (await call('GET', `${id}/history`)).json();
    assert.equal(history.items[0].trigger, 'aml.alert_raised');
    const alerts = history.items[0].factors.find(
      (factor: { factor: string }) => factor.factor === 'alert_history',
    );
    assert.equal(alerts.score, 50);
  });

  test('the nightly job rates every customer with a payment in the last day, on either side', async () => {
    const payer = await customer();
    const payee = await customer();
    const idle = await customer();
    await fact(payer, { counterpartyCustomerId: payee });
    await fact(idle, { occurredAt: new Date(Date.now() - 2 * 86_400_000) });
    const result = await risk().recomputeActive(new Date(Date.now() - 86_400_000));
    assert.equal(result.failed, 0);
    for (const id of [payer, payee]) {
      const history = (await call('GET', `${id}/history`)).json();
      assert.equal(history.items[0].trigger, 'nightly');
    }
    assert.equal(await risk().ratingOf(idle), null);
  });
});
