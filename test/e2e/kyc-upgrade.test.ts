/** Issue "Customers, KYC tiers and encrypted documents", done-when: Basic → Standard end to end through the API. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { expireDocuments, verifiedDocumentTypes } from '../../src/modules/documents/index.ts';
import { expireKycTiers } from '../../src/modules/kyc/index.ts';
import { bearer, login, startTestApp, type TestContext } from '../helpers/app.ts';
import { multipart } from '../helpers/multipart.ts';

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('IHDR-selfie'),
  Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]),
]);
const PDF = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

describe('KYC upgrade Basic → Standard', () => {
  let t: TestContext;
  let customerId: string;
  let customerToken: string;
  let officerToken: string;

  before(async () => {
    t = await startTestApp();
    const officer = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/user/add',
      headers: bearer(t.adminToken),
      payload: {
        username: 'compliance',
        email: 'compliance@bank.test',
        full_name: 'Compliance Officer',
        password: 'velvet glacier signal 5',
        roles: ['compliance_officer', 'operations'],
        must_change_password: false,
      },
    });
    assert.equal(officer.statusCode, 201, officer.body);
    officerToken = (await login(t.app, 'compliance', 'velvet glacier signal 5')).access_token;
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/add',
      headers: bearer(t.adminToken),
      payload: {
        first_name: 'Neema',
        last_name: 'Kariuki',
        phone: '+254740000001',
        national_id: '33445566',
        national_id_type: 'national_id',
      },
    });
    customerId = created.json().id;
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/credentials/pin',
      headers: bearer(t.adminToken),
      payload: { customer_id: customerId, pin: '5173' },
    });
    customerToken = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/customer/login',
        payload: { phone: '+254740000001', pin: '5173' },
      })
    ).json().access_token;
  });
  after(async () => t.close());

  const asCustomer = (url: string, payload: object) =>
    t.app.inject({ method: 'POST', url, headers: bearer(customerToken), payload });
  const asOfficer = (url: string, payload: object) =>
    t.app.inject({ method: 'POST', url, headers: bearer(officerToken), payload });
  const upload = (type: string, file: Buffer) => {
    const body = multipart(
      { customer_id: customerId, document_type: type },
      file,
      'f',
      'application/octet-stream',
    );
    return t.app.inject({
      method: 'POST',
      url: '/api/v1/document/document/upload',
      headers: { ...bearer(customerToken), ...body.headers },
      payload: body.payload,
    });
  };

  test('initiate, upload, submit, verify, review: the tier changes and its limits apply', async () => {
    const started = await asCustomer('/api/v1/customer/kyc/initiate', {
      customer_id: customerId,
      target_tier: 'standard',
    });
    assert.equal(started.statusCode, 200, started.body);
    const applicationId = started.json().application.id as string;

    const early = await asCustomer('/api/v1/customer/kyc/submit', { application_id: applicationId });
    assert.equal(early.statusCode, 409);
    assert.deepEqual(early.json().details.missing, ['national_id', 'selfie']);

    const idCard = await upload('national_id', PDF);
    const selfie = await upload('selfie', PNG);
    assert.deepEqual([idCard.statusCode, selfie.statusCode], [201, 201]);
    const submitted = await asCustomer('/api/v1/customer/kyc/submit', { application_id: applicationId });
    assert.equal(submitted.json().status, 'submitted');

    const tooSoon = await asOfficer('/api/v1/customer/kyc/review', {
      application_id: applicationId,
      decision: 'approve',
    });
    assert.equal(tooSoon.statusCode, 409, 'documents and phone are not verified yet');
    const byCustomer = await asCustomer('/api/v1/customer/kyc/review', {
      application_id: applicationId,
      decision: 'approve',
    });
    assert.equal(byCustomer.statusCode, 403);

    for (const document of [idCard.json(), selfie.json()]) {
      const verified = await asOfficer('/api/v1/document/document/review', {
        document_id: document.id,
        decision: 'verified',
      });
      assert.equal(verified.statusCode, 200, verified.body);
    }
    assert.equal(
      (await asOfficer('/api/v1/customer/phone/verify', { customer_id: customerId })).statusCode,
      200,
    );

    const approved = await asOfficer('/api/v1/customer/kyc/review', {
      application_id: applicationId,
      decision: 'approve',
    });
    assert.equal(approved.statusCode, 200, approved.body);
    assert.equal(approved.json().status, 'approved');

    const me = (
      await t.app.inject({ method: 'GET', url: '/api/v1/customer/me', headers: bearer(customerToken) })
    ).json();
    assert.deepEqual([me.kyc_tier, me.status], ['standard', 'active']);

    const tier = (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/customer/kyc/tier/standard',
        headers: bearer(customerToken),
      })
    ).json();
    const dailySend = tier.limits.find(
      (limit: { currency: string; transaction_type: string; period: string }) =>
        limit.currency === 'KES' && limit.transaction_type === 'send' && limit.period === 'daily',
    );
    assert.equal(dailySend.max_amount_minor, 30_000_000);
    const verdict = await t.app.inject({
      method: 'POST',
      url: '/api/v1/policy/transaction/evaluate',
      headers: bearer(officerToken),
      payload: {
        kyc_tier: me.kyc_tier,
        channel: 'mobile',
        transaction_type: 'send',
        currency: 'KES',
        amount: 15_000_001,
        used: { daily_amount: 0, daily_count: 0, monthly_amount: 0, monthly_count: 0 },
      },
    });
    assert.equal(verdict.json().allowed, false, 'over the standard single-transaction cap');

    const history = await t.app.inject({
      method: 'GET',
      url: `/api/v1/core/audit?entity_type=customer&entity_id=${customerId}&action=kyc.approved`,
      headers: bearer(t.adminToken),
    });
    assert.deepEqual(history.json().items[0].after.kyc_tier, 'standard');
  });

  test('expired documents stop counting for KYC', async () => {
    await t.deps.database.db.execute(
      sql`update documents set expires_at = now() - interval '1 hour' where customer_id = ${customerId} and document_type = 'selfie'`,
    );
    assert.equal(await expireDocuments(t.deps.database.db), 1);
    const list = await t.app.inject({
      method: 'GET',
      url: `/api/v1/document/document?customer_id=${customerId}`,
      headers: bearer(customerToken),
    });
    const selfie = list
      .json()
      .items.find((item: { document_type: string }) => item.document_type === 'selfie');
    assert.equal(selfie.status, 'expired');
    const held = await verifiedDocumentTypes(t.deps.database.db, customerId);
    assert.deepEqual([held.has('national_id'), held.has('selfie')], [true, false]);
    await t.deps.database.db.execute(
      sql`update documents set status = 'verified', expires_at = null where id = ${selfie.id}`,
    );
  });

  test('a lapsed tier falls back to basic when the expiry job runs', async () => {
    await t.deps.database.db.execute(
      sql`update customers set kyc_tier_expires_at = now() - interval '1 day' where id = ${customerId}`,
    );
    assert.equal(await expireKycTiers(t.deps.database.db), 1);
    const me = (
      await t.app.inject({ method: 'GET', url: '/api/v1/customer/me', headers: bearer(customerToken) })
    ).json();
    assert.equal(me.kyc_tier, 'basic');
  });

  test('a rejection needs a reason and is final for that application', async () => {
    const started = await asCustomer('/api/v1/customer/kyc/initiate', {
      customer_id: customerId,
      target_tier: 'standard',
    });
    const applicationId = started.json().application.id;
    await asCustomer('/api/v1/customer/kyc/submit', { application_id: applicationId });
    assert.equal(
      (await asOfficer('/api/v1/customer/kyc/review', { application_id: applicationId, decision: 'reject' }))
        .statusCode,
      422,
    );
    const rejected = await asOfficer('/api/v1/customer/kyc/review', {
      application_id: applicationId,
      decision: 'reject',
      reason: 'selfie does not match the ID photo',
    });
    assert.equal(rejected.json().status, 'rejected');
    const again = await asOfficer('/api/v1/customer/kyc/review', {
      application_id: applicationId,
      decision: 'approve',
    });
    assert.equal(again.statusCode, 409);
  });

  test('with maker-checker on kyc.approve, an approval waits for a second staff member', async () => {
    const configured = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/admin/config/approvals.required_actions',
      headers: bearer(t.adminToken),
      payload: { value: ['kyc.approve'] },
    });
    assert.equal(configured.statusCode, 200);
    const started = await asCustomer('/api/v1/customer/kyc/initiate', {
      customer_id: customerId,
      target_tier: 'standard',
    });
    const applicationId = started.json().application.id;
    assert.equal(
      (await asCustomer('/api/v1/customer/kyc/submit', { application_id: applicationId })).statusCode,
      200,
    );
    const held = await asOfficer('/api/v1/customer/kyc/review', {
      application_id: applicationId,
      decision: 'approve',
    });
    assert.equal(held.statusCode, 202, held.body);
    let me = (
      await t.app.inject({ method: 'GET', url: '/api/v1/customer/me', headers: bearer(customerToken) })
    ).json();
    assert.equal(me.kyc_tier, 'basic', 'nothing changes before the second approval');
    const approved = await t.app.inject({
      method: 'POST',
      url: '/api/v1/policy/approval/approve',
      headers: bearer(t.adminToken),
      payload: { request_id: held.json().id },
    });
    assert.equal(approved.statusCode, 200, approved.body);
    assert.equal(approved.json().status, 'approved');
    me = (
      await t.app.inject({ method: 'GET', url: '/api/v1/customer/me', headers: bearer(customerToken) })
    ).json();
    assert.equal(me.kyc_tier, 'standard');
  });
});
