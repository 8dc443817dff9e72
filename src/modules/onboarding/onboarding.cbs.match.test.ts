/** The CBS match rules (onboarding.cbs.match.ts), one rule at a time, each mismatch named. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CbsClient } from '../../integrations/fineract/fineract.client.ts';
import { cbsPhoneE164, type DeclaredIdentity, matchCbsClient } from './onboarding.cbs.match.ts';

const CLIENT: CbsClient = {
  clientId: 7,
  accountNo: '000000007',
  externalId: '12345678',
  status: 'active',
  active: true,
  firstName: 'Wanjiku',
  middleName: 'Achieng',
  lastName: 'Otieno',
  displayName: 'Wanjiku Achieng Otieno',
  mobileNo: '0712345678',
  dateOfBirth: '1990-04-07',
};

const DECLARED: DeclaredIdentity = {
  fullName: 'Wanjiku Achieng Otieno',
  dateOfBirth: '1990-04-07',
  phone: '+254712345678',
  phoneCountry: 'KE',
};

const codes = (declared: Partial<DeclaredIdentity>, client: Partial<CbsClient> = {}) =>
  matchCbsClient({ ...DECLARED, ...declared }, { ...CLIENT, ...client }).mismatches.map((m) => m.code);

describe('CBS match rules', () => {
  test('the same person matches with no mismatch', () => {
    assert.deepEqual(matchCbsClient(DECLARED, CLIENT), { matched: true, mismatches: [] });
  });

  test('name: case, accents, order and a missing middle name do not matter', () => {
    assert.deepEqual(codes({ fullName: 'OTIENO wanjiku' }), []);
    assert.deepEqual(codes({ fullName: 'Wanjiku Otieno' }), []);
    assert.deepEqual(
      codes({ fullName: 'José Müller' }, { firstName: 'JOSE', middleName: null, lastName: 'MULLER' }),
      [],
    );
    assert.deepEqual(
      codes({ fullName: 'Wanjiku Otieno' }, { firstName: null, middleName: null, lastName: null }),
      [],
    );
  });

  test('name: another person, or one shared name only, is name_mismatch', () => {
    assert.deepEqual(codes({ fullName: 'Wanjiku Kamau' }), ['name_mismatch']);
    assert.deepEqual(codes({ fullName: 'Otieno' }), ['name_mismatch']);
    assert.deepEqual(codes({ fullName: 'Achieng Wanjiru Otieno Njeri' }), ['name_mismatch']);
  });

  test('date of birth: exact date only; none in the CBS is named apart', () => {
    assert.deepEqual(codes({ dateOfBirth: '1990-04-08' }), ['date_of_birth_mismatch']);
    assert.deepEqual(codes({ dateOfBirth: '1990-07-04' }), ['date_of_birth_mismatch']);
    assert.deepEqual(codes({}, { dateOfBirth: null }), ['date_of_birth_missing']);
  });

  test('phone: the CBS number read in the phone country equals the E.164 phone', () => {
    assert.deepEqual(codes({}, { mobileNo: '+254 712 345 678' }), []);
    assert.deepEqual(codes({}, { mobileNo: '254712345678' }), []);
    assert.deepEqual(codes({}, { mobileNo: '0722000000' }), ['phone_mismatch']);
    assert.deepEqual(codes({}, { mobileNo: null }), ['phone_missing']);
    assert.deepEqual(codes({}, { mobileNo: '12' }), ['phone_missing']);
    assert.equal(cbsPhoneE164('0712345678', 'KE'), '+254712345678');
  });

  test('an inactive client is client_inactive, naming its status', () => {
    const closed = matchCbsClient(DECLARED, { ...CLIENT, status: 'closed', active: false });
    assert.deepEqual(
      closed.mismatches.map((m) => [m.code, m.reason]),
      [['client_inactive', 'The bank client is closed']],
    );
    assert.equal(closed.matched, false);
  });

  test('every failing rule is named, none hides another', () => {
    assert.deepEqual(
      codes(
        { fullName: 'Someone Else', dateOfBirth: '2000-01-01' },
        { mobileNo: '0722000000', status: 'pending', active: false },
      ),
      ['name_mismatch', 'date_of_birth_mismatch', 'phone_mismatch', 'client_inactive'],
    );
  });
});
