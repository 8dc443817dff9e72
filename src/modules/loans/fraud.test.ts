/**
 * Loan application fraud: each rule with a case that trips it and one that does not, the phone-owner rule with our
 * own data and through a (fake) phone-ownership provider, rule changes, the investigation of a flag (escalate,
 * note, confirm with the deny list, clear), the check run by the application route, and that customers reach none
 * of it.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { type FakePhoneOwnership, startFakePhoneOwnership } from '../../../test/fakes/phone-ownership.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  insertApplication,
  insertLoanProduct,
  type LoanCustomer,
  loanCustomer,
  staffToken,
  type TestProduct,
} from '../../../test/helpers/loans.ts';
import { deposit, idempotent, openWallet } from '../../../test/helpers/money.ts';
import { uuidv7 } from '../../platform/ids.ts';

interface RuleResult {
  rule: string;
  tripped: boolean;
  weight: number;
  score: number;
  evidence: Record<string, unknown>;
}
interface CheckView {
  check_id: string;
  application_status: string;
  score: number;
  threshold: number;
  flagged: boolean;
  flag_id: string | null;
  results: RuleResult[];
}

let phoneSeq = 0;
/** A distinct valid Kenyan mobile number per call. */
const nextPhone = () => `+2547120${String(10000 + phoneSeq++).slice(-5)}`;

async function runCheck(t: TestContext, token: string, applicationId: string): Promise<CheckView> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/v1/loan/fraud/check',
    headers: bearer(token),
    payload: { application_id: applicationId },
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as CheckView;
}

function ruleOf(check: CheckView, rule: string): RuleResult {
  const found = check.results.find((result) => result.rule === rule);
  assert.ok(found, `no ${rule} result in ${JSON.stringify(check.results)}`);
  return found;
}

async function post(t: TestContext, token: string, url: string, payload: unknown) {
  return t.app.inject({ method: 'POST', url, headers: bearer(token), payload: payload as object });
}

/** A customer registered with a national ID, a KES wallet and the standard tier. */
async function idCustomer(t: TestContext, name: string, nationalId: string, phone = nextPhone()) {
  const created = await post(t, t.adminToken, '/api/v1/customer/customer/add', {
    first_name: name,
    last_name: 'Test',
    phone,
    national_id: nationalId,
    national_id_type: 'national_id',
  });
  assert.equal(created.statusCode, 201, created.body);
  const id = created.json().id as string;
  const wallet = await openWallet(t, id, 'KES');
  return { id, phone, wallet };
}

describe('loan fraud rules and investigations (no phone-ownership provider)', () => {
  let t: TestContext;
  let officer: string;
  let officerId: string;
  let product: TestProduct;
  let otherProduct: TestProduct;

  before(async () => {
    t = await startTestApp();
    officer = await staffToken(t, 'fraud_analyst', ['loan_officer']);
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(officer) });
    officerId = me.json().id as string;
    product = await insertLoanProduct(t);
    otherProduct = await insertLoanProduct(t);
  });
  after(async () => {
    await t.close();
  });

  const apply = (customer: { id: string }, extra: Partial<Parameters<typeof insertApplication>[1]> = {}) =>
    insertApplication(t, {
      customerId: customer.id,
      product,
      amountMinor: 500_000,
      term: 6,
      status: 'submitted',
      ...extra,
    });

  test('the default rules are seeded and listed; customers reach no fraud route (403)', async () => {
    const rules = await t.app.inject({
      method: 'GET',
      url: '/api/v1/loan/fraud/rule/list',
      headers: bearer(officer),
    });
    assert.equal(rules.statusCode, 200, rules.body);
    const codes = (rules.json().items as { code: string; enabled: boolean }[]).map((rule) => rule.code);
    assert.deepEqual(codes.sort(), [
      'duplicate_application',
      'income_verification',
      'known_patterns',
      'phone_owner',
      'velocity',
    ]);
    const customer = await loanCustomer(t, 'Nosy', nextPhone());
    const applicationId = await apply(customer);
    for (const [method, url, payload] of [
      ['POST', '/api/v1/loan/fraud/check', { application_id: applicationId }],
      ['GET', '/api/v1/loan/fraud/rule/list', undefined],
      ['GET', '/api/v1/loan/fraudflag/list', undefined],
      ['POST', '/api/v1/loan/fraudflag/escalate', { flag_id: uuidv7(), assignee_id: officerId }],
      ['GET', '/api/v1/loan/denylist/list', undefined],
    ] as const) {
      const response = await t.app.inject({ method, url, headers: bearer(customer.token), payload });
      assert.equal(response.statusCode, 403, `${method} ${url}: ${response.body}`);
    }
  });

  test('duplicate_application: an open application for the same product trips; a declined one does not', async () => {
    const customer = await loanCustomer(t, 'Dupe', nextPhone());
    const first = await apply(customer);
    assert.equal(ruleOf(await runCheck(t, officer, first), 'duplicate_application').tripped, false);
    const second = await apply(customer);
    const result = ruleOf(await runCheck(t, officer, second), 'duplicate_application');
    assert.equal(result.tripped, true);
    assert.deepEqual(
      (result.evidence.open_same_product as { id: string }[]).map((row) => row.id),
      [first],
    );
    // Another product, and a declined earlier application: nothing open to duplicate.
    const other = await loanCustomer(t, 'Clean', nextPhone());
    await apply(other, { status: 'declined' });
    const third = await apply(other, { product: otherProduct });
    assert.equal(ruleOf(await runCheck(t, officer, third), 'duplicate_application').tripped, false);
    // Approved but not yet disbursed is still open.
    const approved = await loanCustomer(t, 'Approved', nextPhone());
    const waiting = await apply(approved, { status: 'approved' });
    const fourth = ruleOf(await runCheck(t, officer, await apply(approved)), 'duplicate_application');
    assert.equal(fourth.tripped, true);
    assert.deepEqual(
      (fourth.evidence.open_same_product as { id: string }[]).map((row) => row.id),
      [waiting],
    );
  });

  test('duplicate_application: the same national ID under another customer trips', async () => {
    const original = await idCustomer(t, 'Ida', 'ID-7700112');
    const earlier = await apply(original);
    assert.equal(ruleOf(await runCheck(t, officer, earlier), 'duplicate_application').tripped, false);
    // Decided first: a customer with an application still open is not erased (409 CUSTOMER_HAS_OBLIGATIONS).
    await t.deps.database.db.execute(
      sql`update loan_applications set status = 'declined' where id = ${earlier}`,
    );
    // The identity is erased and registered again under a new customer, who applies. (Its consumer of
    // customers.customer_erased has not run here: once it has, the erased customer's checks hold no national ID index.)
    const erased = await post(t, t.adminToken, '/api/v1/customer/customer/erase', {
      customer_id: original.id,
      reason: 'data subject request',
    });
    assert.equal(erased.statusCode, 200, erased.body);
    const again = await idCustomer(t, 'Ida', 'ID-7700112');
    const later = await apply(again, { product: otherProduct });
    const result = ruleOf(await runCheck(t, officer, later), 'duplicate_application');
    assert.equal(result.tripped, true);
    const matches = result.evidence.same_national_id_other_customer as { id: string; customer_id: string }[];
    assert.deepEqual(
      matches.map((row) => [row.id, row.customer_id]),
      [[earlier, original.id]],
    );
  });

  test('velocity: more applications than the rule allows in 24 h by customer or device trips', async () => {
    const updated = await post(t, officer, '/api/v1/loan/fraud/rule/update', {
      code: 'velocity',
      params: { max_applications: 2 },
    });
    assert.equal(updated.statusCode, 200, updated.body);
    assert.deepEqual(updated.json().params, { max_applications: 2, window_hours: 24 });
    const bad = await post(t, officer, '/api/v1/loan/fraud/rule/update', {
      code: 'velocity',
      params: { max_applications: 0 },
    });
    assert.equal(bad.statusCode, 422, bad.body);
    assert.equal(bad.json().error_code, 'LOAN_FRAUD_RULE_PARAMS');

    const calm = await loanCustomer(t, 'Calm', nextPhone());
    await apply(calm);
    const calmSecond = await apply(calm, { product: otherProduct });
    const calmResult = ruleOf(await runCheck(t, officer, calmSecond), 'velocity');
    assert.equal(calmResult.tripped, false);
    assert.equal(calmResult.evidence.by_customer, 2);

    const busy = await loanCustomer(t, 'Busy', nextPhone());
    await apply(busy);
    await apply(busy, { product: otherProduct });
    const third = await apply(busy, { product: otherProduct });
    const busyResult = ruleOf(await runCheck(t, officer, third), 'velocity');
    assert.equal(busyResult.tripped, true);
    assert.equal(busyResult.evidence.by_customer, 3);

    // Three customers, one device.
    const device = `dev-velocity-${randomUUID().slice(0, 8)}`;
    let last = '';
    for (const name of ['Vee', 'Vic', 'Val'])
      last = await apply(await loanCustomer(t, name, nextPhone()), { deviceId: device });
    const byDevice = ruleOf(await runCheck(t, officer, last), 'velocity');
    assert.equal(byDevice.tripped, true);
    assert.equal(byDevice.evidence.by_device, 3);
    await post(t, officer, '/api/v1/loan/fraud/rule/update', {
      code: 'velocity',
      params: { max_applications: 3 },
    });
  });

  test('phone_owner without a provider: an unverified phone or a device registered lately trips', async () => {
    const verified = await loanCustomer(t, 'Vera', nextPhone());
    const verify = await post(t, t.adminToken, '/api/v1/customer/phone/verify', { customer_id: verified.id });
    assert.equal(verify.statusCode, 200, verify.body);
    const ok = ruleOf(await runCheck(t, officer, await apply(verified)), 'phone_owner');
    assert.equal(ok.tripped, false, JSON.stringify(ok.evidence));
    assert.equal(ok.evidence.source, 'own_data');
    assert.equal(ok.evidence.phone_verified, true);

    const unverified = await loanCustomer(t, 'Ursula', nextPhone());
    const bad = ruleOf(await runCheck(t, officer, await apply(unverified)), 'phone_owner');
    assert.equal(bad.tripped, true);
    assert.equal(bad.evidence.phone_verified, false);

    // A verified phone, but a device registered today (a new handset).
    const { publicKey } = generateKeyPairSync('ed25519');
    const registered = await post(t, verified.token, '/api/v1/auth/device/register', {
      device_id: 'handset-new-1',
      name: 'New phone',
      platform: 'android',
      public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      push_token: 'push-token-1',
    });
    assert.equal(registered.statusCode, 201, registered.body);
    const changed = ruleOf(
      await runCheck(t, officer, await apply(verified, { product: otherProduct })),
      'phone_owner',
    );
    assert.equal(changed.tripped, true);
    assert.deepEqual(
      (changed.evidence.devices_registered_within_days as { device_id: string }[]).map(
        (device) => device.device_id,
      ),
      ['handset-new-1'],
    );
  });

  test('income_verification: declared income above ratio × the wallet’s monthly inflow trips', async () => {
    const earner = await loanCustomer(t, 'Earner', nextPhone(), { balance: 300_000 });
    // 300,000 over 90 days: 100,000 a month; the default ratio is 2.
    const within = ruleOf(
      await runCheck(t, officer, await apply(earner, { declaredMonthlyIncomeMinor: 200_000 })),
      'income_verification',
    );
    assert.equal(within.tripped, false, JSON.stringify(within.evidence));
    assert.equal(within.evidence.observed_monthly_average_minor, '100000');
    const above = ruleOf(
      await runCheck(
        t,
        officer,
        await apply(earner, { product: otherProduct, declaredMonthlyIncomeMinor: 250_000 }),
      ),
      'income_verification',
    );
    assert.equal(above.tripped, true);
    assert.equal(above.evidence.declared_monthly_income_minor, '250000');
  });

  test('known_patterns: a deny-listed phone, a shared device, a KYC upgrade then a large inflow trip', async () => {
    const clean = await loanCustomer(t, 'Kim', nextPhone(), { balance: 100_000 });
    const cleanResult = ruleOf(
      await runCheck(t, officer, await apply(clean, { deviceId: 'dev-kim' })),
      'known_patterns',
    );
    assert.equal(cleanResult.tripped, false, JSON.stringify(cleanResult.evidence));

    const listed = await loanCustomer(t, 'Lister', nextPhone());
    const added = await post(t, officer, '/api/v1/loan/denylist/add', {
      kind: 'phone',
      value: listed.phone,
      reason: 'reported stolen SIM',
    });
    assert.equal(added.statusCode, 201, added.body);
    const again = await post(t, officer, '/api/v1/loan/denylist/add', {
      kind: 'phone',
      value: listed.phone,
      reason: 'again',
    });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error_code, 'LOAN_DENY_LIST_EXISTS');
    const hit = ruleOf(await runCheck(t, officer, await apply(listed)), 'known_patterns');
    assert.equal(hit.tripped, true);
    assert.deepEqual(
      (hit.evidence.deny_list_hits as { kind: string }[]).map((entry) => entry.kind),
      ['phone'],
    );
    const removed = await post(t, officer, '/api/v1/loan/denylist/remove', { id: added.json().id });
    assert.equal(removed.statusCode, 200, removed.body);
    const after = ruleOf(
      await runCheck(t, officer, await apply(listed, { product: otherProduct })),
      'known_patterns',
    );
    assert.equal(after.tripped, false);

    const shared = `dev-shared-${randomUUID().slice(0, 8)}`;
    let last = '';
    for (const name of ['Sam', 'Sid', 'Sue'])
      last = await apply(await loanCustomer(t, name, nextPhone()), { deviceId: shared });
    const sharedResult = ruleOf(await runCheck(t, officer, last), 'known_patterns');
    assert.equal(sharedResult.tripped, true);
    assert.equal(sharedResult.evidence.device_customers, 3);

    // An upgrade decided an hour ago, then 6,000.00 in: above the (lowered) large-inflow mark.
    await post(t, officer, '/api/v1/loan/fraud/rule/update', {
      code: 'known_patterns',
      params: { large_inbound_minor: '500000' },
    });
    const upgraded = await loanCustomer(t, 'Upton', nextPhone());
    await t.deps.database.db.execute(sql`
      insert into kyc_applications (id, customer_id, from_tier, target_tier, status, initiated_by_type, decided_at)
      values (${uuidv7()}, ${upgraded.id}, 'basic', 'standard', 'approved', 'user', now() - interval '1 hour')`);
    await deposit(t, upgraded.wallet.id, 600_000);
    const pattern = ruleOf(await runCheck(t, officer, await apply(upgraded)), 'known_patterns');
    assert.equal(pattern.tripped, true, JSON.stringify(pattern.evidence));
    assert.equal(pattern.evidence.kyc_upgrade_then_large_inbound, true);
    // The same inflow without an upgrade.
    const plain = await loanCustomer(t, 'Plain', nextPhone());
    await deposit(t, plain.wallet.id, 600_000);
    const noUpgrade = ruleOf(await runCheck(t, officer, await apply(plain)), 'known_patterns');
    assert.equal(noUpgrade.tripped, false, JSON.stringify(noUpgrade.evidence));
  });

  test('escalate → confirm declines, deny-lists the identifiers, and the national ID trips later', async () => {
    const strict = await insertLoanProduct(t, { fraud_threshold: 30 });
    const fraudster = await idCustomer(t, 'Fred', 'ID-9900123');
    const applicationId = await insertApplication(t, {
      customerId: fraudster.id,
      product: strict,
      amountMinor: 500_000,
      term: 6,
      status: 'submitted',
      deviceId: 'dev-fred',
      declaredMonthlyIncomeMinor: 9_000_000,
    });
    const check = await runCheck(t, officer, applicationId);
    assert.equal(check.flagged, true, JSON.stringify(check));
    assert.equal(check.threshold, 30);
    assert.equal(check.application_status, 'flagged');
    const flagId = check.flag_id!;
    // Re-checking keeps the one open flag.
    assert.equal((await runCheck(t, officer, applicationId)).flag_id, flagId);

    const early = await post(t, officer, '/api/v1/loan/fraudflag/decide', {
      flag_id: flagId,
      decision: 'confirm',
      reason: 'too early',
    });
    assert.equal(early.statusCode, 409, early.body);
    assert.equal(early.json().error_code, 'LOAN_FRAUD_CASE_REQUIRED');

    const escalated = await post(t, officer, '/api/v1/loan/fraudflag/escalate', {
      flag_id: flagId,
      assignee_id: officerId,
      note: 'Income far above anything the wallet shows',
    });
    assert.equal(escalated.statusCode, 200, escalated.body);
    assert.equal(escalated.json().status, 'investigating');
    assert.equal(escalated.json().case.assignee_id, officerId);
    const note = await post(t, officer, '/api/v1/loan/fraudflag/note', {
      flag_id: flagId,
      note: 'Employer denies employment',
      evidence: { call_reference: 'CALL-1' },
    });
    assert.equal(note.statusCode, 201, note.body);

    const decided = await post(t, officer, '/api/v1/loan/fraudflag/decide', {
      flag_id: flagId,
      decision: 'confirm',
      reason: 'Forged payslip',
      add_to_deny_list: true,
    });
    assert.equal(decided.statusCode, 200, decided.body);
    const body = decided.json();
    assert.equal(body.status, 'confirmed');
    assert.equal(body.application_status, 'declined');
    assert.equal(body.notes.length, 2);
    assert.deepEqual((body.deny_listed as { kind: string }[]).map((entry) => entry.kind).sort(), [
      'device',
      'national_id_index',
      'phone',
    ]);
    const application = await t.app.inject({
      method: 'GET',
      url: `/api/v1/loan/application/${applicationId}`,
      headers: bearer(officer),
    });
    assert.equal(application.json().status, 'declined');
    assert.deepEqual(
      (application.json().decline_reasons as { code: string }[]).map((reason) => reason.code),
      ['LOAN_FRAUD_CONFIRMED'],
    );
    const twice = await post(t, officer, '/api/v1/loan/fraudflag/decide', {
      flag_id: flagId,
      decision: 'clear',
      reason: 'changed my mind',
    });
    assert.equal(twice.statusCode, 409, twice.body);
    assert.equal(twice.json().error_code, 'LOAN_FRAUD_FLAG_DECIDED');

    const list = await t.app.inject({
      method: 'GET',
      url: '/api/v1/loan/denylist/list?kind=national_id_index',
      headers: bearer(officer),
    });
    assert.equal(list.json().items[0].case_id, body.case.id);

    // Later, from another device: the national ID (and phone) are on the deny list.
    const later = await apply(fraudster, { product: otherProduct, deviceId: 'dev-fred-2' });
    const known = ruleOf(await runCheck(t, officer, later), 'known_patterns');
    assert.equal(known.tripped, true);
    assert.ok(
      (known.evidence.deny_list_hits as { kind: string }[]).some(
        (entry) => entry.kind === 'national_id_index',
      ),
    );
  });

  test('clear sends a flagged application on; the application route runs the check itself', async () => {
    const strict = await insertLoanProduct(t, { fraud_threshold: 30 });
    const customer = await loanCustomer(t, 'Clara', nextPhone());
    const submitted = await t.app.inject({
      method: 'POST',
      url: '/api/v1/loan/application/add',
      headers: { ...idempotent(customer.token), 'x-device-id': 'dev-clara' },
      payload: {
        product_id: strict.id,
        amount_minor: 500_000,
        term: 6,
        purpose: 'Stock for the shop',
        declared_monthly_income_minor: 9_000_000,
      },
    });
    assert.equal(submitted.statusCode, 201, submitted.body);
    const applicationId = submitted.json().id as string;
    const flags = await t.app.inject({
      method: 'GET',
      url: `/api/v1/loan/fraudflag/list?application_id=${applicationId}`,
      headers: bearer(officer),
    });
    assert.equal(flags.statusCode, 200, flags.body);
    const [flag] = flags.json().items as { id: string; status: string; score: number }[];
    assert.equal(flag?.status, 'open');
    const detail = await t.app.inject({
      method: 'GET',
      url: `/api/v1/loan/fraudflag/${flag!.id}`,
      headers: bearer(officer),
    });
    assert.equal(detail.json().application_status, 'flagged');
    assert.ok(
      (detail.json().results as RuleResult[]).some(
        (result) => result.rule === 'income_verification' && result.tripped,
      ),
    );

    await post(t, officer, '/api/v1/loan/fraudflag/escalate', { flag_id: flag!.id, assignee_id: officerId });
    const cleared = await post(t, officer, '/api/v1/loan/fraudflag/decide', {
      flag_id: flag!.id,
      decision: 'clear',
      reason: 'Income confirmed by the employer',
    });
    assert.equal(cleared.statusCode, 200, cleared.body);
    assert.equal(cleared.json().status, 'cleared');
    // On to scoring and the decision (the continuation ran): no longer held for fraud, nor waiting in `submitted`.
    assert.ok(['referred', 'declined', 'approved'].includes(cleared.json().application_status), cleared.body);

    const unknown = await post(t, officer, '/api/v1/loan/fraudflag/escalate', {
      flag_id: uuidv7(),
      assignee_id: officerId,
    });
    assert.equal(unknown.statusCode, 404);
  });
});

describe('phone_owner through the phone-ownership provider', () => {
  const API_KEY = `po-${randomUUID()}`;
  let fake: FakePhoneOwnership;
  let t: TestContext;
  let officer: string;
  let product: TestProduct;

  before(async () => {
    fake = await startFakePhoneOwnership({ apiKey: API_KEY });
    t = await startTestApp({ PHONE_OWNERSHIP_URL: fake.url, PHONE_OWNERSHIP_API_KEY: API_KEY });
    officer = await staffToken(t, 'fraud_analyst', ['loan_officer']);
    product = await insertLoanProduct(t);
  });
  after(async () => {
    await t.close();
    await fake.close();
  });

  async function phoneResult(customer: LoanCustomer): Promise<RuleResult> {
    const applicationId = await insertApplication(t, {
      customerId: customer.id,
      product,
      amountMinor: 500_000,
      term: 6,
      status: 'submitted',
    });
    return ruleOf(await runCheck(t, officer, applicationId), 'phone_owner');
  }

  test('the owner with no recent SIM swap passes; the API key is sent', async () => {
    const customer = await loanCustomer(t, 'Olive', nextPhone());
    fake.setSubscriber(customer.phone, {
      firstName: 'olive',
      lastName: 'TEST',
      simSwapAt: new Date(Date.now() - 200 * 86_400_000),
    });
    const result = await phoneResult(customer);
    assert.equal(result.tripped, false, JSON.stringify(result.evidence));
    assert.equal(result.evidence.source, 'provider');
    assert.equal(result.evidence.owner_match, true);
    const request = fake.requests.at(-1)!;
    assert.equal(request.path, '/v1/phone/ownership');
    assert.equal(request.headers['x-api-key'], API_KEY);
    assert.deepEqual(request.body, { msisdn: customer.phone, first_name: 'Olive', last_name: 'Test' });
  });

  test('a recent SIM swap, another owner or an unknown number trips', async () => {
    const swapped = await loanCustomer(t, 'Sian', nextPhone());
    fake.setSubscriber(swapped.phone, {
      firstName: 'Sian',
      lastName: 'Test',
      simSwapAt: new Date(Date.now() - 2 * 86_400_000),
    });
    const swap = await phoneResult(swapped);
    assert.equal(swap.tripped, true);
    assert.ok(swap.evidence.sim_swap_at);

    const stranger = await loanCustomer(t, 'Tom', nextPhone());
    fake.setSubscriber(stranger.phone, { firstName: 'Someone', lastName: 'Else' });
    const other = await phoneResult(stranger);
    assert.equal(other.tripped, true);
    assert.equal(other.evidence.owner_match, false);

    const unknown = await phoneResult(await loanCustomer(t, 'Una', nextPhone()));
    assert.equal(unknown.tripped, true);
    assert.equal(unknown.evidence.problem, 'the operator has no subscriber');
  });

  test('a provider failure falls back to our own data and says so', async () => {
    const customer = await loanCustomer(t, 'Fay', nextPhone());
    await post(t, t.adminToken, '/api/v1/customer/phone/verify', { customer_id: customer.id });
    fake.setSubscriber(customer.phone, { firstName: 'Fay', lastName: 'Test' });
    fake.failNext(1, 503);
    const result = await phoneResult(customer);
    assert.equal(result.tripped, false, JSON.stringify(result.evidence));
    assert.equal(result.evidence.source, 'own_data');
    assert.match(String(result.evidence.provider_error), /UNAVAILABLE/);
  });
});
