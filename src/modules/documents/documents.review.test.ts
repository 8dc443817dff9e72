/** Document review is four-eyes: the staff member who uploaded a document cannot verify or reject it. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { multipart } from '../../../test/helpers/multipart.ts';

const PASSWORD = 'copper harbour evening 3';
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('IHDR-pixels'),
  Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]),
]);

describe('document review by someone other than the uploader', () => {
  let t: TestContext;
  let customerId: string;
  let officerToken: string;

  before(async () => {
    t = await startTestApp();
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/add',
      headers: bearer(t.adminToken),
      payload: { first_name: 'Wanjiku', last_name: 'Doc', phone: '+254730400001' },
    });
    assert.equal(created.statusCode, 201, created.body);
    customerId = created.json().id;
    const officer = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/user/add',
      headers: bearer(t.adminToken),
      payload: {
        username: 'kyc.officer',
        email: 'kyc.officer@bank.test',
        full_name: 'KYC Officer',
        password: PASSWORD,
        roles: ['compliance_officer'],
        must_change_password: false,
      },
    });
    assert.equal(officer.statusCode, 201, officer.body);
    officerToken = (await login(t.app, 'kyc.officer', PASSWORD)).access_token;
  });
  after(async () => t.close());

  const upload = async (token: string) => {
    const body = multipart(
      { customer_id: customerId, document_type: 'selfie' },
      PNG,
      'selfie.png',
      'image/png',
    );
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/document/document/upload',
      headers: { ...bearer(token), ...body.headers },
      payload: body.payload,
    });
    assert.equal(response.statusCode, 201, response.body);
    return response.json().id as string;
  };
  const review = (token: string, documentId: string, decision: 'verified' | 'rejected') =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/document/document/review',
      headers: bearer(token),
      payload: {
        document_id: documentId,
        decision,
        ...(decision === 'rejected' ? { reason: 'blurred' } : {}),
      },
    });

  test('the uploader gets 403 OWN_DOCUMENT for either decision; another reviewer decides', async () => {
    const documentId = await upload(t.adminToken);
    for (const decision of ['verified', 'rejected'] as const) {
      const own = await review(t.adminToken, documentId, decision);
      assert.equal(own.statusCode, 403, own.body);
      assert.equal(own.json().error_code, 'OWN_DOCUMENT');
    }
    const other = await review(officerToken, documentId, 'verified');
    assert.equal(other.statusCode, 200, other.body);
    assert.equal(other.json().status, 'verified');
  });

  test('the officer cannot verify what they uploaded either; the administrator can', async () => {
    const documentId = await upload(officerToken);
    assert.equal((await review(officerToken, documentId, 'verified')).json().error_code, 'OWN_DOCUMENT');
    const other = await review(t.adminToken, documentId, 'verified');
    assert.equal(other.statusCode, 200, other.body);
  });
});
