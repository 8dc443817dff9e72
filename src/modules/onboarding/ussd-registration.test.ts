/**
 * Registration from USSD (`api.ussd.registerFromUssd`) against the real database and the Fineract fake: a bank
 * client matched by national ID is activated at once (customer on the USSD tier, wallet, PIN sign-in, welcome SMS); a
 * declared identity goes to the review queue (its SMS) and a reviewer's approval activates it; the national-ID
 * duplicate and deny-list rules apply as for the app; a number that is a customer is refused; a weak PIN is refused
 * with nothing recorded; a retry, even concurrent, answers the first outcome with one registration and one customer;
 * the terms SMS is capped per phone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { FakeFineract } from '../../../test/fakes/fineract.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer } from '../../../test/helpers/money.ts';
import { type RequestContext, systemContext } from '../../platform/audit.ts';
import { rawRows } from '../../platform/db.ts';
import { onboardingModule } from './index.ts';
import { Activation } from './onboarding.activation.ts';
import { TERMS_SMS_PER_HOUR, type UssdRegistrationInput } from './onboarding.ussd.ts';

const PIN = '482913';
const context: RequestContext = { ...systemContext(), userAgent: 'ussd:at' };

describe('onboarding: registration from USSD', () => {
  let t: TestContext;
  let fake: FakeFineract;
  let closeFake: () => Promise<void>;
  const api = () => t.application.system.api(onboardingModule);
  const db = () => t.deps.database.db;

  before(async () => {
    fake = new FakeFineract();
    const started = await fake.start();
    closeFake = started.close;
    t = await startTestApp(
      { FINERACT_BASE_URL: started.baseUrl, FINERACT_USERNAME: 'mifos', FINERACT_PASSWORD: 'password' },
      // Jobs run: the welcome SMS is queued by onboarding's consumer of the activation event.
      { startJobs: true },
    );
  });
  after(async () => {
    await t.close();
    await closeFake();
  });

  const input = (msisdn: string, nationalId: string, overrides: Partial<UssdRegistrationInput> = {}) => ({
    msisdn,
    fullName: 'Wanjiku Achieng Otieno',
    nationalId,
    dateOfBirth: '1990-04-07',
    pin: PIN,
    language: 'en',
    ...overrides,
  });

  function bankClient(id: number, nationalId: string, mobileNo: string) {
    fake.addClient({
      id,
      firstname: 'Wanjiku',
      middlename: 'Achieng',
      lastname: 'Otieno',
      dateOfBirth: '1990-04-07',
      mobileNo,
      externalId: nationalId,
    });
  }

  async function registrationsOf(phone: string) {
    return rawRows<{
      id: string;
      state: string;
      channel: string;
      path: string | null;
      review_reasons: string[] | null;
      step_times: Record<string, string>;
      customer_id: string | null;
      terms_version_hash: string | null;
      email_skipped: boolean;
    }>(
      db(),
      sql`select id, state, channel, path, review_reasons, step_times, customer_id, terms_version_hash, email_skipped
          from registrations where phone = ${phone} order by created_at`,
    );
  }

  async function customerOf(phone: string) {
    return rawRows<{ id: string; kyc_tier: string; channel: string; wallets: number }>(
      db(),
      sql`select c.id, c.kyc_tier, c.channel,
            (select count(*)::int from wallets w where w.customer_id = c.id) as wallets
          from customers c join customer_phones p on p.customer_id = c.id where p.phone = ${phone}`,
    );
  }

  async function smsTo(phone: string, template: string) {
    return rawRows<{ body: string }>(
      db(),
      sql`select body from notifications where address = ${phone} and channel = 'sms' and template_code = ${template}`,
    );
  }

  const signIn = (phone: string, pin = PIN) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/customer/login', payload: { phone, pin } });

  test('a bank client matched by national ID is active at once: customer, USSD tier, wallet, PIN sign-in, SMS', async () => {
    const phone = '+254711000601';
    bankClient(601, '30000601', '0711000601');
    const answer = await api().ussd.registerFromUssd(input('254711000601', '30000601'), context);
    assert.deepEqual(answer, { outcome: 'active' });

    const [row, ...more] = await registrationsOf(phone);
    assert.equal(more.length, 0);
    assert.equal(row!.state, 'completed');
    assert.equal(row!.channel, 'ussd');
    assert.equal(row!.path, 'cbs');
    assert.equal(row!.email_skipped, true);
    assert.ok(row!.terms_version_hash, 'the current terms version is recorded');
    for (const step of [
      'identity_cbs',
      'phone_network',
      'email_skip',
      'terms_accept',
      'pin_set',
      'complete_approved',
    ])
      assert.ok(row!.step_times[step], `step ${step} recorded`);
    assert.equal(row!.step_times.phone_otp_verify, undefined, 'the network proved the phone: no OTP');

    const [customer] = await customerOf(phone);
    assert.equal(customer!.id, row!.customer_id);
    assert.equal(customer!.kyc_tier, 'basic');
    assert.equal(customer!.channel, 'ussd', 'the customer registered from USSD');
    assert.equal(customer!.wallets, 1);
    assert.equal((await signIn(phone)).statusCode, 200, 'the PIN typed on USSD signs in');
    assert.equal((await signIn(phone, '739164')).statusCode, 401);

    // The welcome SMS, from the activation event, confirms the registration.
    while ((await t.application.system.events.dispatchBatch()) > 0) {}
    const welcome = await smsTo(phone, 'onboarding.welcome');
    assert.equal(welcome.length, 1, 'the welcome SMS confirms the registration');
    assert.match(welcome[0]!.body, /welcome, Wanjiku/);
  });

  test('a retry, sequential or concurrent, answers the first outcome: one registration, one customer', async () => {
    const again = await api().ussd.registerFromUssd(input('+254711000601', '30000601'), context);
    assert.deepEqual(again, { outcome: 'active' });
    assert.equal((await registrationsOf('+254711000601')).length, 1);
    assert.equal((await customerOf('+254711000601')).length, 1);

    const phone = '+254711000602';
    bankClient(602, '30000602', '0711000602');
    const answers = await Promise.all(
      [1, 2, 3].map(() => api().ussd.registerFromUssd(input(phone, '30000602'), context)),
    );
    assert.deepEqual(answers, [{ outcome: 'active' }, { outcome: 'active' }, { outcome: 'active' }]);
    assert.equal((await registrationsOf(phone)).length, 1);
    assert.equal((await customerOf(phone)).length, 1);
  });

  test('a declared identity goes to review (with its SMS), and a reviewer approval activates it', async () => {
    const phone = '+254711000603';
    const answer = await api().ussd.registerFromUssd(
      input(phone, 'A9000603', { fullName: 'Jean Mutua', language: 'fr' }),
      context,
    );
    assert.deepEqual(answer, { outcome: 'in_review' });
    const [row] = await registrationsOf(phone);
    assert.equal(row!.state, 'in_review');
    assert.equal(row!.path, null);
    assert.deepEqual(row!.review_reasons, ['identity_declared']);
    assert.ok(row!.step_times.identity_declared);
    assert.deepEqual(await customerOf(phone), []);
    const [sms] = await smsTo(phone, 'onboarding.ussd_review');
    assert.match(sms!.body, /inscription/, 'in the registration language');
    assert.deepEqual(await api().ussd.registerFromUssd(input(phone, 'A9000603'), context), {
      outcome: 'in_review',
    });

    const review = (action: string, payload: Record<string, unknown>) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/mobile/register/review/${action}`,
        headers: bearer(t.adminToken),
        payload,
      });
    const listed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/mobile/register/review/list?status=open',
      headers: bearer(t.adminToken),
    });
    assert.equal(listed.statusCode, 200, listed.body);
    const item = listed
      .json()
      .items.find((entry: { registration_id: string }) => entry.registration_id === row!.id);
    assert.deepEqual([item.reasons, item.declared_name], [['identity_declared'], 'Jean Mutua']);
    assert.equal((await review('claim', { registration_id: row!.id })).statusCode, 200);
    const approved = await review('approve', { registration_id: row!.id });
    assert.equal(approved.statusCode, 200, approved.body);
    const [customer] = await customerOf(phone);
    assert.equal(customer!.kyc_tier, 'basic');
    assert.equal(customer!.channel, 'ussd', 'a reviewer’s approval keeps the channel too');
    assert.equal(customer!.wallets, 1);
    assert.equal((await signIn(phone)).statusCode, 200);
    const [activated] = await rawRows<{ payload: { path: string; approval: string } }>(
      db(),
      sql`select payload from outbox_events where topic = 'onboarding.customer_activated'
          and payload->>'customer_id' = ${customer!.id}`,
    );
    assert.deepEqual([activated!.payload.path, activated!.payload.approval], ['declared', 'manual']);
    while ((await t.application.system.events.dispatchBatch()) > 0) {}
    const [welcome] = await smsTo(phone, 'onboarding.welcome');
    assert.match(welcome!.body, /bienvenue, Jean/, 'the existing welcome, in the registration language');
    assert.deepEqual(await api().ussd.registerFromUssd(input(phone, 'A9000603'), context), {
      outcome: 'active',
    });
  });

  test('the app rules on national IDs apply: one a customer holds, or a deny-listed one, goes to review', async () => {
    // 30000601 is the customer's of the first test; the bank holds it with another phone.
    const answer = await api().ussd.registerFromUssd(input('+254711000604', '30000601'), context);
    assert.deepEqual(answer, { outcome: 'in_review' });
    const [row] = await registrationsOf('+254711000604');
    assert.ok(row!.review_reasons!.includes('national_id_in_use'), String(row!.review_reasons));
    assert.ok(
      row!.review_reasons!.includes('identity_mismatch: phone_mismatch'),
      String(row!.review_reasons),
    );

    await api().denyList.add({ kind: 'national_id', value: 'B-7000605', reason: 'fraud' }, context);
    await api().ussd.registerFromUssd(input('+254711000605', 'b 7000605'), context);
    const [denied] = await registrationsOf('+254711000605');
    assert.ok(denied!.review_reasons!.includes('deny_list: national_id'), String(denied!.review_reasons));
  });

  test('a number that is a customer is refused; a weak PIN or bad details are refused with nothing recorded', async () => {
    await createCustomer(t, 'Amina', '+254711000606');
    assert.deepEqual(await api().ussd.registerFromUssd(input('+254711000606', 'C0000606'), context), {
      outcome: 'refused',
      reason: 'exists',
    });
    for (const [overrides, reason] of [
      [{ pin: '1234' }, 'weak_pin'],
      [{ pin: '111111' }, 'weak_pin'],
      [{ fullName: 'Cher' }, 'invalid_details'],
      [{ dateOfBirth: '1990-02-30' }, 'invalid_details'],
      [{ nationalId: '!!' }, 'invalid_details'],
    ] as const)
      assert.deepEqual(
        await api().ussd.registerFromUssd(input('+254711000607', 'C0000607', overrides), context),
        { outcome: 'refused', reason },
      );
    assert.deepEqual(await registrationsOf('+254711000607'), []);
    assert.deepEqual(await api().ussd.registerFromUssd(input('+15551234567', 'C0000608'), context), {
      outcome: 'refused',
      reason: 'not_eligible',
    });
  });

  test('a declared identity is approved automatically only when the operator allows it', async () => {
    const phone = '+254711000603';
    const [row] = await registrationsOf(phone);
    const registration = (await api().journey.byId(row!.id))!;
    const reasonsWith = (allowed: boolean) =>
      new Activation(
        t.deps,
        api().journey,
        {
          identity: t.application.identity,
          wallets: { openCustomerWallet: async () => ({ id: '' }) } as never,
          screening: api().activation.activation.screening,
        },
        { ...t.config, ONBOARDING_USSD_DECLARED_AUTO_APPROVE: allowed } as never,
      ).reviewReasons({ ...registration, customerId: null, phone: '+254711000699' });
    assert.ok((await reasonsWith(false)).includes('identity_declared'));
    assert.ok(!(await reasonsWith(true)).includes('identity_declared'));
  });

  test('the funnel counts USSD registrations: a declared identity is verified, the network proved the phone', async () => {
    const funnel = await t.app.inject({
      method: 'GET',
      url: '/api/v1/mobile/register/funnel',
      headers: bearer(t.adminToken),
    });
    assert.equal(funnel.statusCode, 200, funnel.body);
    const reached = Object.fromEntries(
      funnel.json().steps.map((row: { step: string; reached: number }) => [row.step, row.reached]),
    );
    // Every registration of this file came from USSD: counted from their own step times.
    const [counts] = await rawRows<{ started: number; identity: number; declared: number; network: number }>(
      db(),
      sql`select count(*)::int as started,
            count(*) filter (where step_times ? 'identity_cbs' or step_times ? 'identity_declared')::int as identity,
            count(*) filter (where step_times ? 'identity_declared')::int as declared,
            count(*) filter (where step_times ? 'phone_network')::int as network
          from registrations where channel = 'ussd'`,
    );
    assert.ok(counts!.declared > 0 && counts!.network > 0, JSON.stringify(counts));
    assert.equal(reached.phone_check, counts!.started);
    assert.equal(reached.identity_started, counts!.identity);
    assert.equal(reached.identity_verified, counts!.identity);
    assert.equal(reached.phone_verified, counts!.network);
  });

  test('the terms link goes by SMS, at most TERMS_SMS_PER_HOUR times an hour per phone', async () => {
    const phone = '+254711000609';
    const sent = [];
    for (let index = 0; index <= TERMS_SMS_PER_HOUR; index += 1)
      sent.push((await api().ussd.sendTermsLink('0711000609', 'sw')).sent);
    assert.deepEqual(sent, [...Array(TERMS_SMS_PER_HOUR).fill(true), false]);
    const messages = await smsTo(phone, 'onboarding.ussd_terms');
    assert.equal(messages.length, TERMS_SMS_PER_HOUR);
    assert.match(messages[0]!.body, /masharti .*\/api\/v1\/mobile\/register\/documents\?language=sw/);
  });
});
