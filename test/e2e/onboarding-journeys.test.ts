/**
 * Mobile registration (issue 17) end to end through the typed client only (clients/typescript) against a listening
 * API, with the Fineract fake (identity path A) and the Didit fake (path B) over the network. OTP codes are read as a
 * person on the quick start would: from the development message sink (`GET /api/v1/dev/messages`, staff), the outbox
 * dispatcher and delivery jobs running as the worker runs them.
 *
 * The journeys: CBS path happy (the PIN step sends the device's Ed25519 key, and the device then approves the new
 * customer's first push challenge, signed with its private key); CBS mismatch to manual review, approved by a reviewer through the client; Didit
 * approved by a signed webhook; Didit approved with no webhook (the poll job's function run as the scheduler would,
 * minutes later); Didit declined; Didit in review, then approved; resuming after an app restart (status with the same
 * token and device, and a fresh phone check resuming the same registration); a duplicate national ID to manual
 * review; an existing customer pointed to sign-in; out-of-order steps answered 409 with the expected steps; an
 * abandoned registration expired and purged by the housekeeping functions (last: it moves the clock forward).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { type CodeForgeClient, createCodeForgeClient } from '../../clients/typescript/index.ts';
import { pushSigningString } from '../../src/modules/identity/index.ts';
import { onboardingModule } from '../../src/modules/onboarding/index.ts';
import { rawRows } from '../../src/platform/db.ts';
import { FakeDidit } from '../fakes/didit.ts';
import { FakeFineract } from '../fakes/fineract.ts';
import { startTestApp, type TestContext } from '../helpers/app.ts';
import { expectData } from '../helpers/client.ts';

const PIN = '482913';

/** The app's device key pair (Ed25519; the private key never leaves the device) and its push token. */
interface DeviceKey {
  privateKey: KeyObject;
  publicPem: string;
  pushToken: string;
}

function deviceKey(pushToken: string): DeviceKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), pushToken };
}
const WEBHOOK = '/api/v1/mobile/register/didit/webhook';
const MINUTE = 60_000;

function expectError(
  result: { error?: unknown; response: Response },
  status: number,
  code: string,
): { error_code: string; details?: { expected_steps?: string[]; state?: string } } {
  const error = result.error as
    | { error_code: string; details?: { expected_steps?: string[]; state?: string } }
    | undefined;
  assert.equal(result.response.status, status, JSON.stringify(error));
  assert.ok(error, `no error body with ${status}`);
  assert.equal(error.error_code, code);
  return error;
}

describe('mobile registration journeys through the typed client', () => {
  let t: TestContext;
  let baseUrl: string;
  let admin: CodeForgeClient;
  const fineract = new FakeFineract();
  const didit = new FakeDidit({ webhookSecret: 'e2e-didit-secret' });
  const closers: (() => Promise<void>)[] = [];
  let sequence = 0;
  const client = (token?: string): CodeForgeClient => createCodeForgeClient({ baseUrl, token });
  const api = () => t.application.system.api(onboardingModule);

  before(async () => {
    const bank = await fineract.start();
    closers.push(bank.close);
    const identity = await didit.start();
    closers.push(identity.close);
    t = await startTestApp(
      {
        FINERACT_BASE_URL: bank.baseUrl,
        FINERACT_USERNAME: 'mifos',
        FINERACT_PASSWORD: 'password',
        DIDIT_BASE_URL: identity.baseUrl,
        DIDIT_API_KEY: didit.apiKey,
        DIDIT_WORKFLOW_ID: didit.workflowId,
        DIDIT_WEBHOOK_SECRET: 'e2e-didit-secret',
        DIDIT_POLL_AFTER_MINUTES: '10',
        ONBOARDING_EMAIL_OPTIONAL: 'true',
        ONBOARDING_CHECKS_PER_IP_HOUR: '10000',
      },
      { startJobs: true },
    );
    // The worker as `npm start` runs it: jobs consumed (deliveries), the outbox dispatched.
    await t.deps.jobs.work();
    t.application.notifications.dispatcher.start(50);
    baseUrl = await t.app.listen({ host: '127.0.0.1', port: 0 });
    admin = client(t.adminToken);
    didit.webhookUrl = `${baseUrl}${WEBHOOK}`;
  });
  after(async () => {
    await t?.application.notifications.dispatcher.stop();
    await t?.close();
    for (const close of closers) await close();
  });

  /** A fresh phone number and device for one journey. */
  function applicant() {
    sequence += 1;
    const n = String(sequence).padStart(3, '0');
    return { phone: `+254712300${n}`, local: `0712300${n}`, device: `e2e-device-${n}`, n: sequence };
  }

  /** The registration's calls, with its token (and device) in the headers the document declares. */
  function registration(token: string, device?: string) {
    const header = { 'x-registration-token': token, ...(device ? { 'x-device-id': device } : {}) };
    const anonymous = client();
    return {
      token,
      header,
      status: () => anonymous.GET('/api/v1/mobile/register/status', { params: { header } }),
      cbs: (body: {
        national_id?: string;
        first_name: string;
        last_name: string;
        date_of_birth: string;
        middle_name?: string;
      }) =>
        anonymous.POST('/api/v1/mobile/register/identity/cbs', {
          params: { header },
          body: { lookup: 'national_id', ...body },
        }),
      didit: (body: { first_name: string; last_name: string; date_of_birth: string; national_id: string }) =>
        anonymous.POST('/api/v1/mobile/register/identity/didit', { params: { header }, body }),
      phoneOtpSend: () =>
        anonymous.POST('/api/v1/mobile/register/phone/otp/send', { params: { header }, body: {} }),
      phoneOtpVerify: (challenge_id: string, code: string) =>
        anonymous.POST('/api/v1/mobile/register/phone/otp/verify', {
          params: { header },
          body: { challenge_id, code },
        }),
      emailOtpSend: (email: string) =>
        anonymous.POST('/api/v1/mobile/register/email/otp/send', { params: { header }, body: { email } }),
      emailOtpVerify: (challenge_id: string, code: string) =>
        anonymous.POST('/api/v1/mobile/register/email/otp/verify', {
          params: { header },
          body: { challenge_id, code },
        }),
      emailSkip: () => anonymous.POST('/api/v1/mobile/register/email/skip', { params: { header }, body: {} }),
      terms: (terms_hash: string, privacy_hash: string) =>
        anonymous.POST('/api/v1/mobile/register/terms/accept', {
          params: { header },
          body: { terms_hash, privacy_hash },
        }),
      pin: (pin: string, device?: DeviceKey) =>
        anonymous.POST('/api/v1/mobile/register/pin', {
          params: { header },
          body: device
            ? {
                pin,
                device_public_key: device.publicPem,
                device_platform: 'android',
                device_name: 'E2E phone',
                push_token: device.pushToken,
              }
            : { pin },
        }),
      complete: () =>
        anonymous.POST('/api/v1/mobile/register/complete', {
          params: { header: { ...header, 'idempotency-key': randomUUID() } },
          body: {},
        }),
    };
  }
  type Registration = ReturnType<typeof registration>;

  async function phoneCheck(phone: string, device: string) {
    return expectData(
      await client().POST('/api/v1/mobile/register/phone/check', {
        body: { phone, device_id: device, app_version: '3.1.0', language: 'en' },
      }),
      200,
    );
  }

  async function start(person: { phone: string; device: string }): Promise<Registration> {
    const checked = await phoneCheck(person.phone, person.device);
    assert.equal(checked.next_step, 'identity');
    return registration(checked.registration_token, person.device);
  }

  /** The 6-digit code the development message sink kept for `to` (newest first), waiting for the worker. */
  async function codeSentTo(to: string, channel: 'sms' | 'email', seen: Set<string>): Promise<string> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const kept = expectData(
        await admin.GET('/api/v1/dev/messages', { params: { query: { to, channel, limit: 50 } } }),
        200,
      );
      const fresh = kept.items.find((message) => !seen.has(message.id));
      const code = fresh && /\b(\d{6})\b/.exec(fresh.body)?.[1];
      if (fresh && code) {
        seen.add(fresh.id);
        return code;
      }
      if (Date.now() > deadline) assert.fail(`no ${channel} code reached ${to}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const seenMessages = new Set<string>();

  /** Phone OTP, email OTP (or skip), terms, PIN (and the device key): the registration ends at `credentials_set`. */
  async function throughCredentials(reg: Registration, phone: string, email?: string, device?: DeviceKey) {
    const sent = expectData(await reg.phoneOtpSend(), 200);
    assert.equal(sent.channel, 'sms');
    const code = await codeSentTo(phone, 'sms', seenMessages);
    assert.equal(expectData(await reg.phoneOtpVerify(sent.challenge_id, code), 200).state, 'phone_verified');
    if (email) {
      const mail = expectData(await reg.emailOtpSend(email), 200);
      const emailCode = await codeSentTo(email.toLowerCase(), 'email', seenMessages);
      assert.equal(
        expectData(await reg.emailOtpVerify(mail.challenge_id, emailCode), 200).state,
        'email_verified',
      );
    } else assert.equal(expectData(await reg.emailSkip(), 200).state, 'email_verified');
    const documents = expectData(await client().GET('/api/v1/mobile/register/documents'), 200);
    const accepted = await reg.terms(documents.terms.content_hash, documents.privacy.content_hash);
    assert.equal(expectData(accepted, 200).state, 'terms_accepted');
    const pinned = expectData(await reg.pin(PIN, device), 200);
    assert.deepEqual([pinned.state, pinned.device_bound], ['credentials_set', device !== undefined]);
  }

  function bankClient(id: number, nationalId: string, local: string, overrides = {}) {
    fineract.addClient({
      id,
      firstname: 'Wanjiku',
      middlename: 'Achieng',
      lastname: 'Otieno',
      dateOfBirth: '1990-04-07',
      mobileNo: local,
      externalId: nationalId,
      ...overrides,
    });
  }
  const declaredCbs = { first_name: 'Wanjiku', last_name: 'Otieno', date_of_birth: '1990-04-07' };

  /** A Didit session opened for a fresh applicant: its registration and the fake's session id. */
  async function diditOpened(nationalId: string, lastName = 'Wanjiru Otieno') {
    const person = applicant();
    const reg = await start(person);
    const opened = expectData(
      await reg.didit({
        first_name: 'Amina',
        last_name: lastName,
        date_of_birth: '1992-03-14',
        national_id: nationalId,
      }),
      201,
    );
    assert.equal(opened.state, 'identity_pending');
    assert.ok(opened.verification_url);
    return { person, reg, sessionId: opened.didit_session_id };
  }

  /** The customer signs in with the phone and the PIN set during registration. */
  async function signIn(phone: string): Promise<CodeForgeClient> {
    const login = expectData(
      await client().POST('/api/v1/auth/customer/login', { body: { phone, pin: PIN } }),
      200,
    );
    assert.ok('access_token' in login, 'a second factor was asked');
    return client(login.access_token);
  }

  /** The customer has exactly one KES wallet. */
  async function oneWallet(me: CodeForgeClient, customerId: string) {
    const profile = expectData(await me.GET('/api/v1/customer/me'), 200);
    assert.equal(profile.id, customerId);
    assert.equal(profile.status, 'active');
    const wallets = expectData(
      await admin.GET('/api/v1/wallet/wallet', { params: { query: { customer_id: customerId } } }),
      200,
    );
    assert.equal(wallets.items.length, 1);
    assert.equal(wallets.items[0]?.currency, 'KES');
    return profile;
  }

  /** Finds the registration in the review queue by what only it has, claims and approves it. */
  async function approveInReview(
    match: (item: { declared_name: string | null; cbs_client_id: string | null }) => boolean,
  ) {
    const queue = expectData(
      await admin.GET('/api/v1/mobile/register/review/list', { params: { query: { status: 'open' } } }),
      200,
    );
    const item = queue.items.find(match);
    assert.ok(item, 'the registration is in the review queue');
    expectData(
      await admin.POST('/api/v1/mobile/register/review/claim', {
        body: { registration_id: item.registration_id },
      }),
      200,
    );
    const approved = expectData(
      await admin.POST('/api/v1/mobile/register/review/approve', {
        body: { registration_id: item.registration_id, note: 'Checked at the branch' },
      }),
      200,
    );
    assert.equal(approved.state, 'completed');
    return { item, approved };
  }

  let happyPhone = '';

  test('CBS path happy: matched, email verified, completed at once with tokens, a customer and a wallet', async () => {
    const person = applicant();
    happyPhone = person.phone;
    bankClient(9001, '90010001', person.local);
    const reg = await start(person);
    const lookup = expectData(await reg.cbs({ national_id: '9001-0001', ...declaredCbs }), 200);
    assert.equal(lookup.state, 'identity_verified');
    assert.ok(lookup.expected_steps.includes('phone_otp_send'));
    // The app sends its device key with the PIN: activation registers the device for push approvals.
    const device = deviceKey('fcm-e2e-happy');
    await throughCredentials(reg, person.phone, 'Wanjiku.Otieno@example.org', device);
    const done = expectData(await reg.complete(), 200);
    assert.equal(done.state, 'completed');
    assert.equal(done.kyc_tier, 'standard');
    assert.ok(done.customer_id && done.wallet_id && done.tokens);
    // The tokens the completion answered sign the app in.
    const me = client(done.tokens.access_token);
    const profile = await oneWallet(me, done.customer_id);
    assert.equal(profile.first_name, 'Wanjiku');
    assert.equal(profile.kyc_tier, 'standard');
    // The bank client the lookup found is linked to the customer: staff see it; the customer's own profile does not.
    const staffView = expectData(
      await admin.GET('/api/v1/customer/customer/{id}', { params: { path: { id: done.customer_id } } }),
      200,
    );
    assert.equal(staffView.cbs_client_id, '9001');
    assert.ok(!('cbs_client_id' in profile));
    await signIn(person.phone);
    const read = expectData(await reg.status(), 200);
    assert.equal(read.state, 'completed');
    assert.equal(read.customer_id, done.customer_id);
    assert.deepEqual(
      [read.phone_verified, read.email_verified, read.terms_accepted, read.device_bound],
      [true, true, true, true],
    );

    // The device the registration was made on approves the customer's first push challenge, signed with its key.
    const listed = expectData(await me.GET('/api/v1/auth/device'), 200);
    assert.deepEqual(
      listed.items.map((item) => [item.device_id, item.platform, item.name]),
      [[person.device, 'android', 'E2E phone']],
    );
    const challenge = expectData(
      await me.POST('/api/v1/auth/push/challenge', { body: { purpose: 'transaction' } }),
      201,
    );
    // The nonce reaches the device in the push message; here it is read from the event that carries it.
    const [event] = await rawRows<{ payload: { nonce: string } }>(
      t.deps.database.db,
      sql`select payload from outbox_events where topic = 'push.challenge'
          and payload->>'challenge_id' = ${challenge.challenge_id}`,
    );
    assert.ok(event, 'the push.challenge event');
    const signature = sign(
      null,
      Buffer.from(pushSigningString(challenge.challenge_id, 'approve', event.payload.nonce)),
      device.privateKey,
    ).toString('base64');
    const answered = expectData(
      await client().POST('/api/v1/auth/push/respond', {
        body: {
          challenge_id: challenge.challenge_id,
          device_id: person.device,
          decision: 'approve',
          signature,
        },
      }),
      200,
    );
    assert.equal(answered.status, 'approved');
    const polled = expectData(
      await me.GET('/api/v1/auth/push/challenge/{id}', {
        params: { path: { id: challenge.challenge_id } },
      }),
      200,
    );
    assert.equal(polled.status, 'approved');
  });

  test('CBS mismatch: the journey goes on, completion sends it to review, a reviewer approves through the client', async () => {
    const person = applicant();
    bankClient(9002, '90020002', person.local);
    const reg = await start(person);
    // The declared birth date is not the bank's; the answer does not tell.
    const lookup = expectData(
      await reg.cbs({ national_id: '90020002', ...declaredCbs, date_of_birth: '1991-01-01' }),
      200,
    );
    assert.equal(lookup.state, 'identity_verified');
    await throughCredentials(reg, person.phone);
    const done = expectData(await reg.complete(), 200);
    assert.equal(done.state, 'in_review');
    assert.equal(done.tokens, null);
    assert.equal(done.customer_id, null);
    const { item, approved } = await approveInReview((entry) => entry.cbs_client_id === '9002');
    assert.deepEqual(item.mismatches, ['date_of_birth_mismatch']);
    assert.ok(approved.customer_id);
    assert.equal(expectData(await reg.status(), 200).state, 'completed');
    await oneWallet(await signIn(person.phone), approved.customer_id);
  });

  test('Didit approved by a signed webhook over HTTP: the journey completes with a basic-tier customer', async () => {
    const { person, reg, sessionId } = await diditOpened('29100001');
    didit.setStatus(sessionId, 'Approved');
    const delivered = await didit.deliver(sessionId);
    assert.equal(delivered.status, 200, delivered.body);
    assert.deepEqual(JSON.parse(delivered.body), { status: 'applied' });
    const read = expectData(await reg.status(), 200);
    assert.equal(read.state, 'identity_verified');
    assert.deepEqual(read.identity, { assurance: 'didit', mismatches: [], didit_status: 'Approved' });
    // The same delivery again (Didit retries) changes nothing.
    assert.deepEqual(JSON.parse((await didit.deliver(sessionId)).body), { status: 'duplicate' });
    await throughCredentials(reg, person.phone);
    const done = expectData(await reg.complete(), 200);
    assert.equal(done.state, 'completed');
    assert.equal(done.kyc_tier, 'basic');
    assert.ok(done.customer_id && done.tokens);
    await oneWallet(client(done.tokens.access_token), done.customer_id);
  });

  test('Didit approved with no webhook: the poll job applies the decision after N minutes', async () => {
    const { person, reg, sessionId } = await diditOpened('29100002');
    didit.setStatus(sessionId, 'Approved');
    const now = Date.now();
    // Before N minutes nothing is polled; after, the decision is fetched and applied.
    assert.deepEqual(await api().didit.pollDue(new Date(now + 5 * MINUTE)), { polled: 0, applied: 0 });
    assert.equal(expectData(await reg.status(), 200).state, 'identity_pending');
    const polled = await api().didit.pollDue(new Date(now + 11 * MINUTE));
    assert.ok(polled.applied >= 1, JSON.stringify(polled));
    const read = expectData(await reg.status(), 200);
    assert.equal(read.state, 'identity_verified');
    assert.equal(read.identity?.didit_status, 'Approved');
    assert.equal(
      didit.deliveries.filter((entry) => entry.delivery.body.session_id === sessionId).length,
      0,
      'no webhook was sent',
    );
    await throughCredentials(reg, person.phone);
    assert.equal(expectData(await reg.complete(), 200).state, 'completed');
  });

  test('Didit declined: the journey ends with a reason the customer can read, and no step is allowed', async () => {
    const { reg, sessionId } = await diditOpened('29100003');
    didit.setStatus(sessionId, 'Declined', {
      failedFeature: 'id_verifications',
      warnings: [
        {
          risk: 'DOCUMENT_EXPIRED',
          short_description: 'The identity document has expired',
          long_description: 'The document expiration date is in the past.',
        },
      ],
    });
    assert.equal((await didit.deliver(sessionId)).status, 200);
    const read = expectData(await reg.status(), 200);
    assert.equal(read.state, 'declined');
    assert.deepEqual(read.expected_steps, []);
    assert.match(read.reason ?? '', /The identity document has expired/);
    expectError(await reg.phoneOtpSend(), 409, 'REGISTRATION_STEP_OUT_OF_ORDER');
  });

  test('Didit in review, then approved: the registration waits, then goes on', async () => {
    const { person, reg, sessionId } = await diditOpened('29100004');
    didit.setStatus(sessionId, 'In Review', { failedFeature: 'face_matches' });
    assert.equal((await didit.deliver(sessionId)).status, 200);
    const waiting = expectData(await reg.status(), 200);
    assert.equal(waiting.state, 'identity_review');
    assert.deepEqual(waiting.expected_steps, []);
    expectError(await reg.phoneOtpSend(), 409, 'REGISTRATION_STEP_OUT_OF_ORDER');
    didit.setStatus(sessionId, 'Approved');
    assert.equal((await didit.deliver(sessionId)).status, 200);
    // The browser's redirect comes back too: the callback fetches the decision and changes nothing more.
    const back = expectData(
      await client().GET('/api/v1/mobile/register/didit/callback', {
        params: { query: { verificationSessionId: sessionId, status: 'Declined' } },
      }),
      200,
    );
    assert.equal(back.state, 'identity_verified');
    await throughCredentials(reg, person.phone);
    assert.equal(expectData(await reg.complete(), 200).state, 'completed');
  });

  test('resuming after an app restart: status with the same token and device, then a fresh phone check', async () => {
    const person = applicant();
    bankClient(9007, '90070007', person.local);
    const first = await start(person);
    expectData(await first.cbs({ national_id: '90070007', ...declaredCbs }), 200);
    const sent = expectData(await first.phoneOtpSend(), 200);
    const code = await codeSentTo(person.phone, 'sms', seenMessages);
    expectData(await first.phoneOtpVerify(sent.challenge_id, code), 200);
    // The app restarts: a new client, the same stored token and device.
    const restarted = registration(first.token, person.device);
    const read = expectData(await restarted.status(), 200);
    assert.equal(read.state, 'phone_verified');
    assert.equal(read.path, 'cbs');
    assert.ok(read.expected_steps.includes('email_skip'));
    // The same token from another device is refused.
    expectError(
      await registration(first.token, 'another-device').status(),
      401,
      'REGISTRATION_TOKEN_INVALID',
    );
    // The app lost its token: checking the phone again on the same device resumes the same registration.
    const again = await phoneCheck(person.phone, person.device);
    assert.notEqual(again.next_step, 'identity');
    const resumed = registration(again.registration_token, person.device);
    assert.equal(expectData(await resumed.status(), 200).state, 'phone_verified');
    expectError(await first.status(), 401, 'REGISTRATION_TOKEN_INVALID');
    assert.equal(expectData(await resumed.emailSkip(), 200).state, 'email_verified');
    const documents = expectData(await client().GET('/api/v1/mobile/register/documents'), 200);
    expectData(await resumed.terms(documents.terms.content_hash, documents.privacy.content_hash), 200);
    expectData(await resumed.pin(PIN), 200);
    assert.equal(expectData(await resumed.complete(), 200).state, 'completed');
  });

  test('a duplicate national ID: the second registration holding it goes to manual review', async () => {
    // 90010001 is the CBS-happy customer's national ID; this applicant's document shows the same number.
    const { person, reg, sessionId } = await diditOpened('90010001', 'Duplicate Holder');
    didit.setStatus(sessionId, 'Approved');
    assert.equal((await didit.deliver(sessionId)).status, 200);
    assert.deepEqual(expectData(await reg.status(), 200).identity?.mismatches, []);
    await throughCredentials(reg, person.phone);
    const done = expectData(await reg.complete(), 200);
    assert.equal(done.state, 'in_review');
    assert.equal(done.customer_id, null);
    const queue = expectData(
      await admin.GET('/api/v1/mobile/register/review/list', { params: { query: { status: 'open' } } }),
      200,
    );
    const item = queue.items.find((entry) => entry.declared_name?.includes('Duplicate Holder'));
    assert.ok(item, 'in the review queue');
    // A customer holds it, and so does the completed registration that made that customer.
    assert.ok(item.reasons.includes('national_id_in_use'), item.reasons.join());
    const login = await client().POST('/api/v1/auth/customer/login', {
      body: { phone: person.phone, pin: PIN },
    });
    assert.notEqual(login.response.status, 200, 'no customer was made');
  });

  test('an existing customer is pointed to sign-in, with the same answer shape and no step allowed', async () => {
    assert.ok(happyPhone, 'the CBS-happy journey made a customer');
    const checked = await phoneCheck(happyPhone, 'a-new-phone-of-hers');
    assert.equal(checked.next_step, 'sign_in');
    assert.deepEqual(checked.expected_steps, ['sign_in', 'pin_reset']);
    assert.ok(checked.registration_token && checked.expires_at);
    const reg = registration(checked.registration_token, 'a-new-phone-of-hers');
    assert.equal(expectData(await reg.status(), 200).state, 'sign_in_required');
    const refused = expectError(
      await reg.cbs({ national_id: '90010001', ...declaredCbs }),
      409,
      'REGISTRATION_STEP_OUT_OF_ORDER',
    );
    assert.ok(!(refused.details?.expected_steps ?? []).includes('identity_cbs'));
  });

  test('out-of-order steps answer 409 with the expected steps, and change nothing', async () => {
    const person = applicant();
    bankClient(9010, '90100010', person.local);
    const reg = await start(person);
    const documents = expectData(await client().GET('/api/v1/mobile/register/documents'), 200);
    const early = [
      await reg.pin(PIN),
      await reg.complete(),
      await reg.phoneOtpSend(),
      await reg.emailSkip(),
      await reg.terms(documents.terms.content_hash, documents.privacy.content_hash),
    ];
    for (const answer of early) {
      const refused = expectError(answer, 409, 'REGISTRATION_STEP_OUT_OF_ORDER');
      assert.deepEqual([...(refused.details?.expected_steps ?? [])].sort(), [
        'identity_cbs',
        'identity_didit',
      ]);
      assert.equal(refused.details?.state, 'phone_checked');
    }
    assert.equal(expectData(await reg.status(), 200).state, 'phone_checked');
    expectData(await reg.cbs({ national_id: '90100010', ...declaredCbs }), 200);
    // Identity done: the PIN is still early, and now the phone OTP is what is expected.
    const later = expectError(await reg.pin(PIN), 409, 'REGISTRATION_STEP_OUT_OF_ORDER');
    assert.deepEqual(later.details?.expected_steps, ['phone_otp_send', 'phone_otp_verify']);
    // A second identity step is not allowed either.
    expectError(
      await reg.cbs({ national_id: '90100010', ...declaredCbs, first_name: 'Other' }),
      409,
      'REGISTRATION_STEP_OUT_OF_ORDER',
    );
  });

  test('an abandoned registration expires, then its PII is purged by the housekeeping functions; counts stay', async () => {
    const person = applicant();
    bankClient(9011, '90110011', person.local);
    const reg = await start(person);
    expectData(await reg.cbs({ national_id: '90110011', ...declaredCbs }), 200);
    const { expires_at } = expectData(await reg.status(), 200);
    const before = expectData(await admin.GET('/api/v1/mobile/register/funnel'), 200);
    // The applicant walks away. Housekeeping runs after the token lapsed, then after the retention period.
    const lapsed = new Date(new Date(expires_at).getTime() + MINUTE);
    const { housekeeping } = api();
    assert.ok((await housekeeping.expireAbandoned(lapsed)) >= 1);
    expectError(await reg.status(), 410, 'REGISTRATION_EXPIRED');
    expectError(await reg.phoneOtpSend(), 410, 'REGISTRATION_EXPIRED');
    assert.ok((await housekeeping.purgeEnded(new Date(lapsed.getTime() + 31 * 24 * 60 * MINUTE))) >= 1);
    expectError(await reg.status(), 410, 'REGISTRATION_EXPIRED');
    const after = expectData(await admin.GET('/api/v1/mobile/register/funnel'), 200);
    assert.equal(after.started, before.started, 'the purged registration still counts as started');
    assert.ok((after.by_state.purged ?? 0) >= 1);
    // The same phone may start again.
    const fresh = await phoneCheck(person.phone, person.device);
    assert.equal(fresh.next_step, 'identity');
  });
});
