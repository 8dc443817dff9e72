/**
 * Agent-assisted customer registration over HTTP and USSD: a signed-in teller registers a customer (onboarding's
 * rules, channel `agent`, the agent and the operator recorded as registrar), the customer reads back the phone OTP,
 * then sets the PIN on their own phone over USSD (the operator never sees it) and the account opens at the agent tier.
 * Refusals: a number already a customer's or under way, bad details, a foreign number; another agent's registration
 * is a 404; staff and customers are refused (403).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, desc, eq, sql } from 'drizzle-orm';
import { type AgentNetworkFixture, agentNetwork, randomPhone } from '../../../test/helpers/agents.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer } from '../../../test/helpers/money.ts';
import { assertNoPinInLogs, ussdConfig, ussdDriver } from '../../../test/helpers/ussd.ts';
import { type Envelope, openEnvelope } from '../../platform/crypto.ts';
import { rawRows } from '../../platform/db.ts';
import { outboxEvents } from '../../platform/platform.tables.ts';

const CUSTOMER_PIN = '482913';

describe('agent-assisted customer registration', () => {
  let t: TestContext;
  let network: AgentNetworkFixture;
  let other: AgentNetworkFixture;

  const details = (phone: string, overrides: Record<string, unknown> = {}) => ({
    phone,
    full_name: 'Achieng Mary Otieno',
    national_id: `${Math.floor(Math.random() * 90_000_000) + 10_000_000}`,
    date_of_birth: '1992-03-14',
    language: 'en',
    ...overrides,
  });
  const register = (token: string, body: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/customer/register',
      headers: bearer(token),
      payload: body,
    });

  async function codeFor(registrationId: string, challengeId: string): Promise<string> {
    const rows = await t.deps.database.db
      .select()
      .from(outboxEvents)
      .where(and(eq(outboxEvents.topic, 'otp.requested'), eq(outboxEvents.aggregateId, registrationId)))
      .orderBy(desc(outboxEvents.id));
    const event = rows.find((row) => row.payload.challenge_id === challengeId);
    assert.ok(event, 'the otp.requested event to the customer’s phone');
    assert.equal(event.payload.channel, 'sms');
    return openEnvelope(
      t.deps.keys,
      JSON.parse(String(event.payload.code_sealed)) as Envelope,
      `otp:${challengeId}`,
    ).toString();
  }

  before(async () => {
    // A declared identity (the bank is not configured here) may open at once: the rest of completion's rules apply.
    t = await startTestApp(
      ussdConfig({ ONBOARDING_USSD_DECLARED_AUTO_APPROVE: 'true', ONBOARDING_TIER_AGENT: 'basic' }),
    );
    network = await agentNetwork(t);
    other = await agentNetwork(t);
  });
  after(async () => t.close());

  test('a teller registers, the customer verifies the phone and sets the PIN on USSD; the agent is the registrar', async () => {
    const teller = network.tellers[0]!;
    const phone = randomPhone();
    const started = await register(teller.token, details(phone));
    assert.equal(started.statusCode, 201, started.body);
    const { registration, otp } = started.json();
    assert.equal(registration.state, 'identity_declared');
    assert.equal(registration.registrar_agent_id, network.agent.id);
    assert.equal(registration.registrar_operator_id, teller.id);
    assert.ok(!registration.phone.includes(phone.slice(-6, -2)), 'the phone is masked');
    assert.match(otp.sent_to, /\*{4}/);

    // Under way: a second start for the same number is refused.
    const twice = await register(teller.token, details(phone));
    assert.equal(twice.statusCode, 409, twice.body);
    assert.equal(twice.json().error_code, 'AGENT_REGISTRATION_IN_PROGRESS');
    // Another agent's operator does not see it.
    const foreign = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/customer/register/${registration.registration_id}`,
      headers: bearer(other.tellers[0]!.token),
    });
    assert.equal(foreign.statusCode, 404, foreign.body);
    assert.equal(foreign.json().error_code, 'AGENT_REGISTRATION_NOT_FOUND');

    // Before the phone is verified, USSD on that number is an ordinary unknown number's registration.
    const early = ussdDriver(t, { phone });
    await early.start();
    assert.match((await early.send('1')).message, /name/i);

    const code = await codeFor(registration.registration_id, otp.challenge_id);
    const verify = (body: Record<string, unknown>) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/agent/customer/register/${registration.registration_id}/verify-phone`,
        headers: bearer(teller.token),
        payload: body,
      });
    const wrong = await verify({
      challenge_id: otp.challenge_id,
      code: code === '000000' ? '111111' : '000000',
    });
    assert.equal(wrong.json().error_code, 'OTP_INVALID', wrong.body);
    const verified = await verify({ challenge_id: otp.challenge_id, code });
    assert.equal(verified.statusCode, 200, verified.body);
    assert.equal(verified.json().state, 'email_verified');

    // The customer, on their own phone: terms, then the PIN twice.
    const session = ussdDriver(t, { phone, gateway: 'hubtel' });
    await session.start();
    const terms = await session.send('1');
    assert.match(terms.message, /^An agent registered you\. Accept the terms\?\n1\. Accept\n2\. Decline/);
    assert.match((await session.send('1')).message, /^Choose your PIN/);
    assert.match((await session.send('1234')).message, /too easy to guess/);
    assert.match((await session.send(CUSTOMER_PIN)).message, /^Enter your PIN again/);
    const done = await session.send(CUSTOMER_PIN);
    assert.deepEqual(
      [done.continue, done.message],
      [false, 'Your account is ready. Dial again and enter your PIN to use it. We sent you an SMS.'],
    );

    const [row] = await rawRows<{
      state: string;
      channel: string;
      registrar_agent_id: string;
      registrar_operator_id: string;
      customer_id: string;
    }>(
      t.deps.database.db,
      sql`select state, channel, registrar_agent_id, registrar_operator_id, customer_id from registrations where id = ${registration.registration_id}`,
    );
    assert.deepEqual(
      [row!.state, row!.channel, row!.registrar_agent_id, row!.registrar_operator_id],
      ['completed', 'agent', network.agent.id, teller.id],
    );
    const [customer] = await rawRows<{ channel: string; kyc_tier: string }>(
      t.deps.database.db,
      sql`select channel, kyc_tier from customers where id = ${row!.customer_id}`,
    );
    assert.deepEqual([customer!.channel, customer!.kyc_tier], ['agent', 'basic']);
    // The PIN the customer chose signs them in to the app.
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/customer/login',
      payload: { phone, pin: CUSTOMER_PIN },
    });
    assert.equal(login.statusCode, 200, login.body);
    const status = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/customer/register/${registration.registration_id}`,
      headers: bearer(teller.token),
    });
    assert.equal(status.json().state, 'completed', status.body);
    // Now a customer's number.
    const again = await register(teller.token, details(phone));
    assert.equal(again.statusCode, 409, again.body);
    assert.equal(again.json().error_code, 'AGENT_REGISTRATION_CUSTOMER_EXISTS');
    // A second dial is the customer's sign-in.
    const next = ussdDriver(t, { phone });
    assert.match((await next.start()).message, /^Welcome Achieng\. Enter your PIN/);
  });

  test('bad details, a foreign or fixed number and a customer’s number are refused with nothing recorded', async () => {
    const teller = network.tellers[0]!;
    const phone = randomPhone();
    const oneName = await register(teller.token, details(phone, { full_name: 'Achieng' }));
    assert.equal(oneName.json().error_code, 'AGENT_REGISTRATION_DETAILS_INVALID', oneName.body);
    const future = await register(teller.token, details(phone, { date_of_birth: '2090-01-01' }));
    assert.equal(future.json().error_code, 'AGENT_REGISTRATION_DETAILS_INVALID', future.body);
    const foreign = await register(teller.token, details('+14155550100'));
    assert.equal(foreign.statusCode, 422, foreign.body);
    assert.equal(foreign.json().error_code, 'AGENT_REGISTRATION_NOT_ELIGIBLE');
    const existing = await createCustomer(t, 'Juma', randomPhone());
    const taken = await register(teller.token, details(existing.phone));
    assert.equal(taken.json().error_code, 'AGENT_REGISTRATION_CUSTOMER_EXISTS', taken.body);
    const badBody = await register(teller.token, { ...details(phone), language: 'de' });
    assert.equal(badBody.statusCode, 422, badBody.body);
    const [{ count }] = (await rawRows<{ count: string }>(
      t.deps.database.db,
      sql`select count(*)::text as count from registrations where phone = ${phone}`,
    )) as [{ count: string }];
    assert.equal(count, '0');
  });

  test('staff and customers cannot register as an agent', async () => {
    const asStaff = await register(t.adminToken, details(randomPhone()));
    assert.equal(asStaff.statusCode, 403, asStaff.body);
    const customer = await createCustomer(t, 'Neema', randomPhone());
    const asCustomer = await register(customer.token, details(randomPhone()));
    assert.equal(asCustomer.statusCode, 403, asCustomer.body);
  });

  test('no PIN reaches the logs', () => {
    assert.ok(t.logs.lines.length > 0);
    assertNoPinInLogs(t.logs.text, [CUSTOMER_PIN]);
  });
});
