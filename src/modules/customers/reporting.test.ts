/**
 * The customer as a regulatory report names them (customerReportingIdentity), read inside the caller's transaction:
 * a customer with full KYC data comes back with the national ID and date of birth in clear, nationality, gender,
 * occupation, the primary phone and email and the residential address (home before a primary postal one); one with
 * little data has nulls, never invented values; an erased customer reads as erasure left them; an unknown id is
 * absent.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { inTransaction } from '../../platform/db.ts';
import { customerReportingIdentity } from './index.ts';

describe('customer reporting identity', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  const post = async (url: string, payload: Record<string, unknown>) => {
    const response = await t.app.inject({ method: 'POST', url, headers: bearer(t.adminToken), payload });
    assert.ok(response.statusCode < 300, `${url}: ${response.statusCode} ${response.body}`);
    return response.json();
  };

  const read = (ids: string[]) =>
    inTransaction(t.deps.database.db, (tx) => customerReportingIdentity(tx, t.deps.keys, ids));

  test('full KYC data, little data, an unknown id, and an erased customer', async () => {
    const full = await post('/api/v1/customer/customer/add', {
      first_name: 'Achieng',
      middle_name: 'Awino',
      last_name: 'Odhiambo',
      phone: '+254733400001',
      email: 'achieng@example.test',
      date_of_birth: '1988-04-17',
      national_id_type: 'national_id',
      national_id: '29876543',
      gender: 'female',
      nationality: 'KE',
      occupation: 'Trader',
    });
    // A primary postal address first, then a home one: the home address is the residential one.
    await post('/api/v1/customer/address/add', {
      customer_id: full.id,
      kind: 'postal',
      line1: 'P.O. Box 100',
      city: 'Kisumu',
      country: 'KE',
      primary: true,
    });
    await post('/api/v1/customer/address/add', {
      customer_id: full.id,
      kind: 'home',
      line1: 'Oginga Odinga Street 4',
      line2: 'Flat 2',
      city: 'Kisumu',
      region: 'Kisumu County',
      postal_code: '40100',
      country: 'UG',
    });
    // A second phone made primary is the one reported.
    await post('/api/v1/customer/phone/add', { customer_id: full.id, phone: '+254733400009', primary: true });
    const little = await post('/api/v1/customer/customer/add', {
      first_name: 'Baraka',
      last_name: 'Mwangi',
      phone: '+254733400002',
    });
    const unknown = randomUUID();

    const read1 = await read([full.id, little.id, unknown, full.id]);
    assert.equal(read1.size, 2, 'the unknown id is absent; a repeated id is read once');
    assert.deepEqual(read1.get(full.id), {
      customerType: 'individual',
      firstName: 'Achieng',
      middleName: 'Awino',
      lastName: 'Odhiambo',
      businessName: null,
      gender: 'female',
      dateOfBirth: '1988-04-17',
      nationality: 'KE',
      residenceCountry: 'UG',
      occupation: 'Trader',
      idDocument: { type: 'national_id', number: '29876543' },
      phone: '+254733400009',
      email: 'achieng@example.test',
      address: {
        kind: 'home',
        line1: 'Oginga Odinga Street 4',
        line2: 'Flat 2',
        city: 'Kisumu',
        region: 'Kisumu County',
        postalCode: '40100',
        country: 'UG',
      },
      erased: false,
    });
    assert.deepEqual(read1.get(little.id), {
      customerType: 'individual',
      firstName: 'Baraka',
      middleName: null,
      lastName: 'Mwangi',
      businessName: null,
      gender: null,
      dateOfBirth: null,
      nationality: null,
      residenceCountry: null,
      occupation: null,
      idDocument: null,
      phone: '+254733400002',
      email: null,
      address: null,
      erased: false,
    });
    assert.equal((await read([])).size, 0);

    // Only a postal address: it is the address reported, but it says nothing of residence.
    const postal = await post('/api/v1/customer/customer/add', {
      first_name: 'Chebet',
      last_name: 'Kiprop',
      phone: '+254733400003',
    });
    await post('/api/v1/customer/address/add', {
      customer_id: postal.id,
      kind: 'postal',
      line1: 'P.O. Box 7',
      city: 'Eldoret',
      country: 'KE',
      primary: true,
    });
    const postalRead = (await read([postal.id])).get(postal.id);
    assert.equal(postalRead?.address?.kind, 'postal');
    assert.equal(postalRead?.residenceCountry, null);

    // Erased: what erasure leaves (placeholder names, no PII, no contacts), without a crash.
    const erased = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/erase',
      headers: bearer(t.adminToken),
      payload: { customer_id: full.id, reason: 'data subject request' },
    });
    assert.equal(erased.statusCode, 200, erased.body);
    const gone = (await read([full.id])).get(full.id);
    assert.deepEqual(gone, {
      customerType: 'individual',
      firstName: 'Erased',
      middleName: null,
      lastName: 'Customer',
      businessName: null,
      gender: null,
      dateOfBirth: null,
      nationality: null,
      residenceCountry: null,
      occupation: null,
      idDocument: null,
      phone: null,
      email: null,
      address: null,
      erased: true,
    });
  });
});
