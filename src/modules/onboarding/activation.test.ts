/**
 * Identity path A, completion and the review queue over HTTP, against the Fineract fake: the CBS path happy (a
 * customer, a wallet, tokens), a CBS mismatch to manual review and approval, a duplicate national ID to review,
 * rejection with a reason, a request for information reopening the identity step, and activation all-or-nothing;
 * the CBS client id linked to the customer, once per bank client.
 * The whole journey runs over HTTP: phone check, CBS lookup, phone and email OTP (codes read from their sealed
 * events), terms, PIN, completion.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { FakeFineract } from '../../../test/fakes/fineract.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { staffToken } from '../../../test/helpers/loans.ts';
import { createCustomer } from '../../../test/helpers/money.ts';
import { systemContext } from '../../platform/audit.ts';
import { type Envelope, openEnvelope } from '../../platform/crypto.ts';
import { rawRows } from '../../platform/db.ts';
import { nationalIdBlindIndex } from '../customers/index.ts';
import { identityModule } from '../identity/index.ts';
import { walletsModule } from '../wallets/index.ts';
import { onboardingModule } from './index.ts';
import { Activation } from './onboarding.activation.ts';

const PIN = '482913';

describe('onboarding: CBS path, completion and review', () => {
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
      {
        FINERACT_BASE_URL: started.baseUrl,
        FINERACT_USERNAME: 'mifos',
        FINERACT_PASSWORD: 'password',
        ONBOARDING_EMAIL_OPTIONAL: 'true',
      },
      // Jobs run: the welcome message is queued by the module's consumer (deliveries are jobs).
      { startJobs: true },
    );
  });
  after(async () => {
    await t.close();
    await closeFake();
  });

  /** A bank client whose national ID is `id`, phone 07110005NN. */
  function bankClient(clientId: number, nationalId: string, phoneLocal: string, overrides = {}) {
    fake.addClient({
      id: clientId,
      firstname: 'Wanjiku',
      middlename: 'Achieng',
      lastname: 'Otieno',
      dateOfBirth: '1990-04-07',
      mobileNo: phoneLocal,
      externalId: nationalId,
      ...overrides,
    });
  }

  async function phoneCheck(phone: string, device: string): Promise<string> {
    const answer = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/phone/check',
      payload: { phone, device_id: device, app_version: '1.0.0', language: 'en' },
    });
    assert.equal(answer.statusCode, 200, answer.body);
    return answer.json().registration_token as string;
  }

  const headers = (token: string) => ({ 'x-registration-token': token });

  function cbsLookup(token: string, payload: Record<string, unknown>) {
    return t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/identity/cbs',
      headers: headers(token),
      payload: {
        lookup: 'national_id',
        first_name: 'Wanjiku',
        last_name: 'Otieno',
        date_of_birth: '1990-04-07',
        ...payload,
      },
    });
  }

  const step = (token: string, url: string, payload: Record<string, unknown> = {}) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/mobile/register/${url}`,
      headers: headers(token),
      payload,
    });

  /** The code an OTP step sent (the development message sink reads the same sealed event). */
  async function codeFor(registrationId: string, challengeId: string): Promise<string> {
    const rows = await rawRows<{ payload: Record<string, unknown> }>(
      db(),
      sql`select payload from outbox_events where topic = 'otp.requested' and aggregate_id = ${registrationId}
          order by id desc`,
    );
    const event = rows.find((row) => row.payload.challenge_id === challengeId);
    assert.ok(event, 'the otp.requested event');
    const sealed = JSON.parse(String(event.payload.code_sealed)) as Envelope;
    return openEnvelope(t.deps.keys, sealed, `otp:${challengeId}`).toString();
  }

  async function otp(token: string, id: string, channel: 'phone' | 'email', payload = {}) {
    const sent = await step(token, `${channel}/otp/send`, payload);
    assert.equal(sent.statusCode, 200, sent.body);
    const challenge = sent.json().challenge_id as string;
    const code = await codeFor(id, challenge);
    const verified = await step(token, `${channel}/otp/verify`, { challenge_id: challenge, code });
    assert.equal(verified.statusCode, 200, verified.body);
  }

  /** The journey's steps after identity, over HTTP: phone OTP, email OTP (or skipped), terms, PIN and device. */
  async function throughCredentials(token: string, email?: string): Promise<string> {
    const { id } = await api().journey.byToken(token);
    await otp(token, id, 'phone');
    if (email) await otp(token, id, 'email', { email });
    else assert.equal((await step(token, 'email/skip')).statusCode, 200);
    const documents = await t.app.inject({ method: 'GET', url: '/api/v1/mobile/register/documents' });
    assert.equal(documents.statusCode, 200, documents.body);
    const { terms, privacy } = documents.json();
    const accepted = await step(token, 'terms/accept', {
      terms_hash: terms.content_hash,
      privacy_hash: privacy.content_hash,
    });
    assert.equal(accepted.statusCode, 200, accepted.body);
    const pinned = await step(token, 'pin', { pin: PIN });
    assert.equal(pinned.statusCode, 200, pinned.body);
    assert.equal(pinned.json().state, 'credentials_set');
    return id;
  }

  const complete = (token: string, key?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/complete',
      headers: { ...headers(token), ...(key ? { 'idempotency-key': key } : {}) },
      payload: {},
    });

  const review = (action: string, payload: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/mobile/register/review/${action}`,
      headers: bearer(t.adminToken),
      payload,
    });

  const status = (token: string) =>
    t.app.inject({ method: 'GET', url: '/api/v1/mobile/register/status', headers: headers(token) });

  /** The CBS match's codes, sealed with the registration's identity. */
  async function cbsMismatches(token: string): Promise<string[]> {
    const { journey } = api();
    const identity = journey.identity<{ mismatch_details: { code: string }[] }>(await journey.byToken(token));
    return (identity?.mismatch_details ?? []).map((mismatch) => mismatch.code);
  }

  async function customersWithPhone(phone: string): Promise<number> {
    const [row] = await rawRows<{ n: number }>(
      db(),
      sql`select count(*)::int as n from customer_phones where phone = ${phone}`,
    );
    return row?.n ?? 0;
  }

  /** A registration in review because the declared birth date is not the bank's. */
  async function inReview(n: number): Promise<{ token: string; id: string; phone: string }> {
    const phone = `+2547110006${String(n).padStart(2, '0')}`;
    bankClient(600 + n, `6000${String(n).padStart(4, '0')}`, `07110006${String(n).padStart(2, '0')}`);
    const token = await phoneCheck(phone, `device-6${n}`);
    const lookup = await cbsLookup(token, {
      national_id: `6000${String(n).padStart(4, '0')}`,
      date_of_birth: '1991-01-01',
    });
    assert.equal(lookup.statusCode, 200, lookup.body);
    assert.deepEqual(await cbsMismatches(token), ['date_of_birth_mismatch']);
    const id = await throughCredentials(token);
    const done = await complete(token);
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().state, 'in_review');
    return { token, id, phone };
  }

  test('CBS path happy: matched, completed at once with a customer, a wallet and working tokens', async () => {
    bankClient(501, '50000001', '0711000501');
    const token = await phoneCheck('+254711000501', 'device-501');
    const lookup = await cbsLookup(token, { national_id: '5000-0001', first_name: 'WANJIKU' });
    assert.equal(lookup.statusCode, 200, lookup.body);
    assert.deepEqual(lookup.json(), {
      state: 'identity_verified',
      path: 'cbs',
      expected_steps: lookup.json().expected_steps,
    });
    assert.deepEqual(await cbsMismatches(token), []);
    // The same request again answers the same, without asking the bank again.
    const asked = fake.requests.length;
    const again = await cbsLookup(token, { national_id: '5000-0001', first_name: 'WANJIKU' });
    assert.deepEqual(again.json(), lookup.json());
    assert.equal(fake.requests.length, asked);

    const registrationId = await throughCredentials(token, 'Wanjiku.Otieno@example.org');
    const done = await complete(token, 'complete-501');
    assert.equal(done.statusCode, 200, done.body);
    const body = done.json() as Record<string, unknown> & {
      customer_id: string;
      wallet_id: string;
      tokens: { access_token: string; refresh_token: string } | null;
    };
    assert.equal(body.state, 'completed');
    assert.equal(body.kyc_tier, 'standard');
    assert.ok(body.customer_id && body.wallet_id);
    assert.ok(body.tokens?.access_token && body.tokens.refresh_token);
    const access = body.tokens.access_token;

    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/customer/me',
      headers: bearer(access),
    });
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json().id, body.customer_id);
    assert.equal(me.json().kyc_tier, 'standard');
    assert.equal(me.json().status, 'active');
    assert.equal(me.json().first_name, 'Wanjiku');
    assert.equal(me.json().middle_name, 'Achieng');
    const [wallet] = await rawRows<{ customer_id: string; currency: string }>(
      db(),
      sql`select customer_id, currency from wallets where id = ${body.wallet_id}`,
    );
    assert.deepEqual(wallet, { customer_id: body.customer_id, currency: 'KES' });
    // The PIN set during registration signs in.
    const signIn = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/customer/login',
      payload: { phone: '+254711000501', pin: PIN },
    });
    assert.equal(signIn.statusCode, 200, signIn.body);
    const [event] = await rawRows<{ payload: Record<string, unknown> }>(
      db(),
      sql`select payload from outbox_events where topic = 'onboarding.customer_activated'
          and payload->>'registration_id' = ${registrationId}`,
    );
    assert.equal(event?.payload.customer_id, body.customer_id);
    assert.equal(event?.payload.approval, 'automatic');
    // The welcome message, from the activation event: by SMS to the verified phone and in the app.
    while ((await t.application.system.events.dispatchBatch()) > 0) {}
    const welcome = await rawRows<{ channel: string; address: string | null; body: string }>(
      db(),
      sql`select channel, address, body from notifications
          where template_code = 'onboarding.welcome' and recipient_id = ${body.customer_id} order by channel`,
    );
    assert.deepEqual(
      welcome.map((row) => [row.channel, row.address]),
      [
        ['in_app', null],
        ['sms', '+254711000501'],
      ],
    );
    assert.match(welcome[1]!.body, /welcome, Wanjiku/);
    const registration = await api().journey.byId(registrationId);
    assert.equal(registration?.cbsClientId, '501');
    assert.equal(registration?.customerId, body.customer_id);

    // A repeat answers the same, without new tokens.
    const repeat = await complete(token, 'complete-501');
    assert.equal(repeat.statusCode, 200, repeat.body);
    assert.deepEqual({ ...(repeat.json() as object), tokens: null }, { ...body, tokens: null });
    assert.equal(repeat.json().tokens, null);
    assert.equal(await customersWithPhone('+254711000501'), 1);
  });

  test('the same completion sent twice at once activates once and answers both alike', async () => {
    bankClient(506, '50600001', '0711000506');
    const token = await phoneCheck('+254711000506', 'device-506');
    assert.equal((await cbsLookup(token, { national_id: '50600001' })).statusCode, 200);
    await throughCredentials(token);
    const [first, second] = await Promise.all([complete(token, 'both'), complete(token, 'both')]);
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(second.statusCode, 200, second.body);
    assert.equal(first.json().customer_id, second.json().customer_id);
    assert.equal(first.json().state, 'completed');
    assert.equal(await customersWithPhone('+254711000506'), 1);
  });

  test('nobody found answers 404; a missing national ID is refused as invalid', async () => {
    const token = await phoneCheck('+254711000502', 'device-502');
    const missing = await cbsLookup(token, { national_id: '99999999' });
    assert.equal(missing.statusCode, 404, missing.body);
    assert.equal(missing.json().error_code, 'REGISTRATION_CBS_CLIENT_NOT_FOUND');
    const invalid = await cbsLookup(token, {});
    assert.equal(invalid.statusCode, 422, invalid.body);
    assert.equal((await status(token)).json().state, 'phone_checked');
  });

  test('one registration cannot probe national ID after national ID: lookups are capped per hour', async () => {
    const token = await phoneCheck('+254711000505', 'device-505');
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const missing = await cbsLookup(token, { national_id: `9900000${attempt}` });
      assert.equal(missing.statusCode, 404, missing.body);
    }
    const capped = await cbsLookup(token, { national_id: '99000009' });
    assert.equal(capped.statusCode, 429, capped.body);
    assert.equal(capped.json().error_code, 'REGISTRATION_RATE_LIMITED');
    assert.ok(Number(capped.headers['retry-after']) > 0);
  });

  test('the bank not answering is 503 with Retry-After and records nothing; a retry goes through', async () => {
    bankClient(503, '50300001', '0711000503');
    const token = await phoneCheck('+254711000503', 'device-503');
    fake.failNext(1, 'unavailable');
    const down = await cbsLookup(token, { national_id: '50300001' });
    assert.equal(down.statusCode, 503, down.body);
    assert.equal(down.json().error_code, 'REGISTRATION_CBS_UNAVAILABLE');
    assert.equal(down.headers['retry-after'], '30');
    assert.equal((await status(token)).json().state, 'phone_checked');
    const up = await cbsLookup(token, { national_id: '50300001' });
    assert.equal(up.statusCode, 200, up.body);
  });

  test('by account number: the holder is found and matched against the registering phone', async () => {
    bankClient(504, 'EXT-504', '0711000999');
    fake.addAccount({
      id: 504,
      accountNo: '000000504',
      clientId: 504,
      clientName: 'Wanjiku Achieng Otieno',
      currency: 'KES',
      decimalPlaces: 2,
      balance: '10.00',
      status: 'active',
    });
    const token = await phoneCheck('+254711000504', 'device-504');
    const lookup = await cbsLookup(token, { lookup: 'account', account_number: '000000504' });
    assert.equal(lookup.statusCode, 200, lookup.body);
    // The bank holds another mobile number: the journey goes on, to review at completion. Neither the answer nor
    // the status tells (it would let anyone test guesses of a client's details); the codes stay sealed.
    assert.deepEqual(Object.keys(lookup.json()).sort(), ['expected_steps', 'path', 'state']);
    assert.deepEqual(await cbsMismatches(token), ['phone_mismatch']);
    assert.deepEqual((await status(token)).json().identity.mismatches, []);
    const registration = await api().journey.byToken(token);
    assert.equal(registration.cbsClientId, '504');
  });

  test('CBS mismatch goes to manual review, and a reviewer approves it', async () => {
    const { token, id, phone } = await inReview(1);
    const listed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/mobile/register/review/list?status=open',
      headers: bearer(t.adminToken),
    });
    assert.equal(listed.statusCode, 200, listed.body);
    const item = listed
      .json()
      .items.find((entry: { registration_id: string }) => entry.registration_id === id);
    assert.ok(item, 'the registration is in the queue');
    assert.deepEqual(item.mismatches, ['date_of_birth_mismatch']);
    assert.deepEqual(item.reasons, ['identity_mismatch: date_of_birth_mismatch']);
    assert.equal(item.identity_name, 'Wanjiku Achieng Otieno');
    assert.equal(await customersWithPhone(phone), 0);

    const unclaimed = await review('approve', { registration_id: id });
    assert.equal(unclaimed.statusCode, 409, unclaimed.body);
    assert.equal(unclaimed.json().error_code, 'REGISTRATION_REVIEW_NOT_CLAIMED');
    const claimed = await review('claim', { registration_id: id });
    assert.equal(claimed.statusCode, 200, claimed.body);
    assert.equal(claimed.json().review_status, 'claimed');
    const approved = await review('approve', { registration_id: id, note: 'Birth date checked at branch' });
    assert.equal(approved.statusCode, 200, approved.body);
    assert.equal(approved.json().state, 'completed');
    assert.ok(approved.json().customer_id);
    // Deciding the same way again answers the same.
    const twice = await review('approve', { registration_id: id });
    assert.deepEqual(twice.json(), approved.json());
    assert.equal(await customersWithPhone(phone), 1);
    assert.equal((await status(token)).json().state, 'completed');
    const signIn = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/customer/login',
      payload: { phone, pin: PIN },
    });
    assert.equal(signIn.statusCode, 200, signIn.body);
  });

  test('a national ID a customer holds already goes to manual review', async () => {
    const existing = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/add',
      headers: bearer(t.adminToken),
      payload: {
        first_name: 'Other',
        last_name: 'Holder',
        phone: '+254711000599',
        national_id: '70000001',
        national_id_type: 'national_id',
      },
    });
    assert.equal(existing.statusCode, 201, existing.body);
    bankClient(701, '70000001', '0711000701');
    const token = await phoneCheck('+254711000701', 'device-701');
    const lookup = await cbsLookup(token, { national_id: '70000001' });
    assert.deepEqual(await cbsMismatches(token), [], lookup.body);
    const id = await throughCredentials(token);
    const done = await complete(token);
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().state, 'in_review');
    assert.equal(done.json().tokens, null);
    const registration = await api().journey.byId(id);
    assert.deepEqual(registration?.reviewReasons, ['national_id_in_use']);
    assert.equal(await customersWithPhone('+254711000701'), 0);
  });

  test('a deny-listed national ID goes to manual review, whatever else matches', async () => {
    const denied = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/denylist/add',
      headers: bearer(t.adminToken),
      payload: { kind: 'national_id', value: '7100-0001', reason: 'Known fraud' },
    });
    assert.ok(denied.statusCode < 300, denied.body);
    bankClient(711, '71000001', '0711000711');
    const token = await phoneCheck('+254711000711', 'device-711');
    assert.equal((await cbsLookup(token, { national_id: '71000001' })).statusCode, 200);
    const id = await throughCredentials(token);
    const done = await complete(token);
    assert.equal(done.json().state, 'in_review', done.body);
    assert.deepEqual((await api().journey.byId(id))?.reviewReasons, ['deny_list: national_id']);
  });

  test('a reviewer rejects with a reason the customer reads', async () => {
    const { token, id, phone } = await inReview(2);
    assert.equal((await review('claim', { registration_id: id })).statusCode, 200);
    const rejected = await review('reject', { registration_id: id, reason: 'The bank holds other details' });
    assert.equal(rejected.statusCode, 200, rejected.body);
    assert.equal(rejected.json().state, 'rejected');
    assert.equal(rejected.json().review_status, 'rejected');
    const read = await status(token);
    assert.equal(read.json().state, 'rejected');
    assert.equal(read.json().reason, 'The bank holds other details');
    assert.equal(await customersWithPhone(phone), 0);
    const late = await review('approve', { registration_id: id });
    assert.equal(late.statusCode, 409, late.body);
  });

  test('request-info reopens the identity step for the customer', async () => {
    const { token, id } = await inReview(3);
    assert.equal((await review('claim', { registration_id: id })).statusCode, 200);
    const asked = await review('request-info', {
      registration_id: id,
      step: 'identity',
      message: 'Please check your date of birth',
    });
    assert.equal(asked.statusCode, 200, asked.body);
    assert.equal(asked.json().state, 'info_requested');
    const read = (await status(token)).json();
    assert.equal(read.state, 'info_requested');
    assert.equal(read.reopened_step, 'identity');
    assert.equal(read.reason, 'Please check your date of birth');
    assert.ok(read.expected_steps.includes('identity_cbs'));
    // The customer corrects the birth date: the CBS match now passes.
    const again = await cbsLookup(token, { national_id: '60000003' });
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.json().state, 'identity_verified');
    assert.deepEqual(await cbsMismatches(token), []);
  });

  test('request-info for details: the corrected birth date matches again and the registration is back in review', async () => {
    const { token, id } = await inReview(5);
    const early = await step(token, 'details', {
      first_name: 'Wanjiku',
      last_name: 'Otieno',
      date_of_birth: '1990-04-07',
    });
    assert.equal(early.statusCode, 409, early.body);
    assert.equal((await review('claim', { registration_id: id })).statusCode, 200);
    const asked = await review('request-info', {
      registration_id: id,
      step: 'details',
      message: 'Your date of birth differs from the bank’s',
    });
    assert.equal(asked.statusCode, 200, asked.body);
    assert.equal((await status(token)).json().reopened_step, 'details_update');
    const corrected = await step(token, 'details', {
      first_name: 'Wanjiku',
      last_name: 'Otieno',
      date_of_birth: '1990-04-07',
    });
    assert.equal(corrected.statusCode, 200, corrected.body);
    assert.equal(corrected.json().state, 'in_review');
    const registration = await api().journey.byId(id);
    assert.deepEqual(await cbsMismatches(token), []);
    assert.deepEqual(registration?.reviewReasons, ['details_updated']);
    // Back in the queue, open for a new round.
    const listed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/mobile/register/review/list?status=open',
      headers: bearer(t.adminToken),
    });
    const item = listed
      .json()
      .items.find((entry: { registration_id: string }) => entry.registration_id === id);
    assert.equal(item?.rounds, 1);
    const again = await review('claim', { registration_id: id });
    assert.equal(again.statusCode, 200, again.body);
    assert.equal((await review('approve', { registration_id: id })).json().state, 'completed');
  });

  test('one reviewer at a time: another reviewer cannot claim or decide a claimed registration', async () => {
    const { id } = await inReview(6);
    const other = await staffToken(t, 'reviewer-two', ['compliance_officer']);
    assert.equal((await review('claim', { registration_id: id })).statusCode, 200);
    const stolen = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/review/claim',
      headers: bearer(other),
      payload: { registration_id: id },
    });
    assert.equal(stolen.statusCode, 409, stolen.body);
    assert.equal(stolen.json().error_code, 'REGISTRATION_REVIEW_CLAIMED');
    const decided = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/review/reject',
      headers: bearer(other),
      payload: { registration_id: id, reason: 'Not mine to decide' },
    });
    assert.equal(decided.json().error_code, 'REGISTRATION_REVIEW_CLAIMED', decided.body);
    const mine = await t.app.inject({
      method: 'GET',
      url: '/api/v1/mobile/register/review/list?status=mine',
      headers: bearer(other),
    });
    assert.deepEqual(mine.json().items, []);
    // A claim left for more than 30 minutes may be taken over.
    await db().execute(
      sql`update registration_reviews set claimed_at = now() - interval '31 minutes' where registration_id = ${id}`,
    );
    const takenOver = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/review/claim',
      headers: bearer(other),
      payload: { registration_id: id },
    });
    assert.equal(takenOver.statusCode, 200, takenOver.body);
    assert.equal(
      (await review('approve', { registration_id: id })).json().error_code,
      'REGISTRATION_REVIEW_CLAIMED',
    );
    const customer = await t.app.inject({
      method: 'GET',
      url: '/api/v1/mobile/register/review/list',
      headers: bearer((await createCustomer(t, 'Curious', '+254711000698')).token),
    });
    assert.equal(customer.statusCode, 403, customer.body);
  });

  test('activation is all-or-nothing: a failing part leaves no customer, wallet or event', async () => {
    const { id, phone } = await inReview(4);
    assert.equal((await review('claim', { registration_id: id })).statusCode, 200);
    // No default KES wallet product: the wallet cannot open, after the customer row was written in the transaction.
    await db().execute(sql`update wallet_products set is_default = false where currency = 'KES'`);
    try {
      const failed = await review('approve', { registration_id: id });
      assert.equal(failed.statusCode, 422, failed.body);
      assert.equal(failed.json().error_code, 'NO_WALLET_PRODUCT');
    } finally {
      await db().execute(
        sql`update wallet_products set is_default = true where currency = 'KES' and code = 'KES_STANDARD'`,
      );
    }
    assert.equal(await customersWithPhone(phone), 0);
    const registration = await api().journey.byId(id);
    assert.equal(registration?.state, 'in_review');
    assert.equal(registration?.customerId, null);
    const [events] = await rawRows<{ n: number }>(
      db(),
      sql`select count(*)::int as n from outbox_events where topic = 'onboarding.customer_activated'
          and payload->>'registration_id' = ${id}`,
    );
    assert.equal(events?.n, 0);
    // With the product back, the same approval goes through.
    const approved = await review('approve', { registration_id: id });
    assert.equal(approved.statusCode, 200, approved.body);
    assert.equal(await customersWithPhone(phone), 1);
  });

  test('a Didit-verified registration completes on the Didit tier, with the document’s names', async () => {
    const token = await phoneCheck('+254711000901', 'device-901');
    const { journey } = api();
    const { id } = await journey.byToken(token);
    // Identity path B's outcome as its area stores it (its own tests drive Didit itself).
    await journey.advanceNow(id, 'identity_didit', {
      path: 'didit',
      declaredSealed: journey.seal(id, 'declared', {
        first_name: 'Amina',
        last_name: 'Hassan',
        date_of_birth: '1995-02-03',
        national_id: '90000001',
        national_id_type: 'national_id',
        nationality: 'KE',
        email: null,
      }),
      nationalIdIndex: nationalIdBlindIndex(t.config.HMAC_PEPPER, 'national_id', '90000001'),
      diditSessionId: 'session-901',
    });
    await journey.advanceNow(id, 'didit_approved', {
      identitySealed: journey.seal(id, 'identity', {
        source: 'didit',
        session_id: 'session-901',
        first_name: 'AMINA',
        last_name: 'HASSAN',
        full_name: 'AMINA HASSAN',
        date_of_birth: '1995-02-03',
        document_type: 'Identity Card',
        document_number: '90000001',
        nationality: 'KEN',
        issuing_state: 'KEN',
        liveness: { status: 'Approved', score: 98 },
        face_match: { status: 'Approved', score: 95 },
      }),
      identitySummary: { assurance: 'didit', didit_status: 'Approved', mismatches: [] },
    });
    await throughCredentials(token);
    const done = await complete(token);
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().state, 'completed');
    assert.equal(done.json().kyc_tier, 'basic');
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/customer/me',
      headers: bearer(done.json().tokens.access_token),
    });
    assert.equal(me.statusCode, 200, me.body);
    assert.deepEqual(
      [me.json().first_name, me.json().last_name, me.json().nationality],
      ['AMINA', 'HASSAN', 'KE'],
    );
  });

  test('a sanctions screening hit sends an otherwise clean registration to review', async () => {
    bankClient(712, '71200001', '0711000712');
    const token = await phoneCheck('+254711000712', 'device-712');
    assert.equal((await cbsLookup(token, { national_id: '71200001' })).statusCode, 200);
    await throughCredentials(token);
    const { journey, activation } = api();
    const row = await journey.byToken(token);
    assert.deepEqual(await activation.activation.reviewReasons(row), []);
    const screened: string[] = [];
    const listing = new Activation(
      t.deps,
      journey,
      {
        identity: t.application.system.api(identityModule),
        wallets: t.application.system.api(walletsModule),
        screening: {
          name: 'test-list',
          configured: true,
          screen: async (subject) => {
            screened.push(subject.fullName);
            return { hit: true, matches: ['UN consolidated list'], provider: 'test-list' };
          },
        },
      },
      {
        ONBOARDING_TIER_CBS: 'standard',
        ONBOARDING_TIER_DIDIT: 'basic',
        ONBOARDING_WALLET_CURRENCY: 'KES',
        ONBOARDING_NATIONAL_ID_TYPE: 'national_id',
        ONBOARDING_CBS_LOOKUPS_PER_HOUR: 5,
        ONBOARDING_AUTO_APPROVE: true,
      },
    );
    assert.deepEqual(await listing.reviewReasons(row), ['screening_hit: UN consolidated list']);
    assert.deepEqual(screened, ['Wanjiku Achieng Otieno']);
  });

  test('readiness reports screening as configured: the AML module set its port at start-up', async () => {
    const ready = await t.app.inject({ method: 'GET', url: '/health/ready' });
    assert.equal(ready.statusCode, 200, ready.body);
    assert.equal(ready.json().checks['onboarding.screening'], 'ok');
    assert.equal(api().activation.activation.screening.name, 'aml');
  });

  test('one bank client is one customer: the link is on the customer; a second registration of the client goes to review, and approving it is 409', async () => {
    bankClient(520, '52000001', '0711000520');
    const first = await phoneCheck('+254711000520', 'device-520');
    assert.equal((await cbsLookup(first, { national_id: '52000001' })).statusCode, 200);
    await throughCredentials(first);
    const done = await complete(first);
    assert.equal(done.json().state, 'completed', done.body);
    const customerId = done.json().customer_id as string;
    const staffView = await t.app.inject({
      method: 'GET',
      url: `/api/v1/customer/customer/${customerId}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(staffView.statusCode, 200, staffView.body);
    assert.equal(staffView.json().cbs_client_id, '520');
    // The customer's own profile leaves the bank's internal key out.
    const own = await t.app.inject({
      method: 'GET',
      url: '/api/v1/customer/me',
      headers: bearer(done.json().tokens.access_token),
    });
    assert.equal(own.statusCode, 200, own.body);
    assert.equal(own.json().id, customerId);
    assert.ok(!('cbs_client_id' in own.json()));

    // The bank corrected the client's national ID: another applicant now finds the same client by it.
    bankClient(520, '52000002', '0711000520');
    const second = await phoneCheck('+254711000521', 'device-521');
    assert.equal((await cbsLookup(second, { national_id: '52000002' })).statusCode, 200);
    const id = await throughCredentials(second);
    const reviewed = await complete(second);
    assert.equal(reviewed.statusCode, 200, reviewed.body);
    assert.equal(reviewed.json().state, 'in_review');
    const registration = await api().journey.byToken(second);
    assert.ok(registration.reviewReasons?.includes('cbs_client_in_use'), String(registration.reviewReasons));
    assert.equal((await review('claim', { registration_id: id })).statusCode, 200);
    // customers' unique index refuses the second link: a 409 the reviewer reads, never a 500.
    const approved = await review('approve', { registration_id: id });
    assert.equal(approved.statusCode, 409, approved.body);
    assert.equal(approved.json().error_code, 'CUSTOMER_EXISTS');
    assert.deepEqual(approved.json().details, { field: 'CBS client id' });
    const [linked] = await rawRows<{ n: number }>(
      db(),
      sql`select count(*)::int as n from customers where cbs_client_id = '520'`,
    );
    assert.equal(linked?.n, 1);
    assert.equal(await customersWithPhone('+254711000521'), 0);
    assert.equal((await status(second)).json().state, 'in_review');
  });

  test('the bank client linked to another customer between the checks and activation: review, not a 500', async () => {
    bankClient(530, '53000001', '0711000530');
    const token = await phoneCheck('+254711000530', 'device-530');
    assert.equal((await cbsLookup(token, { national_id: '53000001' })).statusCode, 200);
    await throughCredentials(token);
    const other = await createCustomer(t, 'Other', '+254711000539');
    const { journey } = api();
    // A concurrent activation's link, made after the checks found the client free (the last check is screening).
    const racing = new Activation(
      t.deps,
      journey,
      {
        identity: t.application.system.api(identityModule),
        wallets: t.application.system.api(walletsModule),
        screening: {
          name: 'test-race',
          configured: true,
          screen: async () => {
            await db().execute(sql`update customers set cbs_client_id = '530' where id = ${other.id}`);
            return { hit: false, matches: [], provider: 'test-race' };
          },
        },
      },
      {
        ONBOARDING_TIER_CBS: 'standard',
        ONBOARDING_TIER_DIDIT: 'basic',
        ONBOARDING_WALLET_CURRENCY: 'KES',
        ONBOARDING_NATIONAL_ID_TYPE: 'national_id',
        ONBOARDING_CBS_LOOKUPS_PER_HOUR: 5,
        ONBOARDING_AUTO_APPROVE: true,
      },
    );
    const answer = await racing.complete(await journey.byToken(token), systemContext());
    assert.equal(answer.state, 'in_review');
    assert.equal(answer.customer_id, null);
    const registration = await journey.byToken(token);
    assert.deepEqual(registration.reviewReasons, ['duplicate_at_activation: CBS client id']);
    assert.equal(await customersWithPhone('+254711000530'), 0);
  });

  test('an existing customer cannot be completed twice through another registration', async () => {
    await createCustomer(t, 'Already', '+254711000801');
    bankClient(801, '80000001', '0711000801');
    // The phone check points an existing customer to sign-in: no identity step is allowed.
    const token = await phoneCheck('+254711000801', 'device-801');
    const lookup = await cbsLookup(token, { national_id: '80000001' });
    assert.equal(lookup.statusCode, 409, lookup.body);
    assert.equal(lookup.json().error_code, 'REGISTRATION_STEP_OUT_OF_ORDER');
  });
});
