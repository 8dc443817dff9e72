/**
 * The goAML writer and validator without the app: a report built from data validates against the schema kept in the
 * repository; documents that break it (an element out of order, a missing required element, a value outside an
 * enumeration, a foreign element, text that is not a date) are refused with libxml2's reason. A customer as a goAML
 * person: with full KYC data, birthdate, id number, nationality, residence, address and identification in the schema's
 * order; with names only, names only; values the schema would refuse are left out.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CustomerReportingIdentity } from '../customers/index.ts';
import { validateGoaml } from './aml.goaml.validate.ts';
import { type GoamlPerson, type GoamlReport, goamlDate, goamlXml } from './aml.goaml.xml.ts';
import { goamlPerson } from './aml.reports.parties.ts';

const person: GoamlPerson = {
  firstName: 'Amina',
  lastName: 'Otieno & <Sons>',
  residence: 'KE',
  phones: [{ contactType: 'P', communicationType: 'M', countryPrefix: '254', number: '712345678' }],
  addresses: [{ type: 'P', address: 'Moi Avenue 12', city: 'Nairobi', countryCode: 'KE' }],
  identification: [{ type: 'N', number: '12345678', issueCountry: 'KE' }],
};

function report(from: GoamlPerson = person, signatory: GoamlPerson = person): GoamlReport {
  const at = new Date('2026-12-07T09:30:00Z');
  return {
    rentityId: 4711,
    rentityBranch: 'Head office',
    code: 'CTR',
    entityReference: 'CTR-TX-1',
    submissionDate: goamlDate(at, 'Africa/Nairobi'),
    currencyLocal: 'KES',
    reason: 'Cash at or above the threshold',
    transactions: [
      {
        number: 'TX-1',
        date: goamlDate(at, 'Africa/Nairobi'),
        transmode: 'K',
        amountLocal: '15000.00',
        from: { kind: 'client_person', funds: 'K', person: from, country: 'KE' },
        to: {
          kind: 'client_account',
          funds: 'E',
          country: 'KE',
          account: {
            institutionName: 'CodeForge Suite',
            institutionCode: '4711',
            account: '1000000001',
            currency: 'KES',
            type: 'W',
            signatories: [signatory],
            opened: goamlDate(at, 'Africa/Nairobi'),
            status: 'A',
          },
        },
      },
    ],
    indicators: ['CASH_THRESHOLD'],
  };
}

describe('goAML XML and its schema', () => {
  test('a built report validates; text is escaped by the builder and dates are local without a zone', async () => {
    const xml = goamlXml(report());
    assert.deepEqual(await validateGoaml(xml), { valid: true, errors: [] });
    assert.match(xml, /<last_name>Otieno &amp; &lt;Sons&gt;<\/last_name>/);
    assert.match(xml, /<date_transaction>2026-12-07T12:30:00<\/date_transaction>/);
    assert.equal(goamlDate(new Date('2026-01-01T00:00:00Z'), 'UTC'), '2026-01-01T00:00:00');
  });

  test('documents that break the schema are refused with the reason', async () => {
    const valid = goamlXml(report());
    const broken: [string, string, RegExp][] = [
      [
        'a value outside an enumeration',
        valid.replace('<transmode_code>K<', '<transmode_code>Q<'),
        /transmode_code/,
      ],
      [
        'a report code goAML does not know here',
        valid.replace('<report_code>CTR<', '<report_code>XYZ<'),
        /report_code/,
      ],
      [
        'elements out of order',
        valid.replace(
          /<submission_code>E<\/submission_code>\s*<report_code>CTR<\/report_code>/,
          '<report_code>CTR</report_code><submission_code>E</submission_code>',
        ),
        /report_code|submission_code/,
      ],
      [
        'a missing required element',
        valid.replace(/<amount_local>[^<]*<\/amount_local>/, ''),
        /amount_local|t_from_my_client/,
      ],
      [
        'an unknown element',
        valid.replace('<reason>', '<rule_name>structuring</rule_name><reason>'),
        /rule_name/,
      ],
      [
        'a date with a zone',
        valid.replace(/<submission_date>([^<]*)</, '<submission_date>$1Z<'),
        /submission_date/,
      ],
      [
        'no transaction',
        valid.replace(/<transaction>[\s\S]*<\/transaction>/, ''),
        /report_indicators|transaction/,
      ],
      ['not XML at all', '<report><rentity_id>1</report>', /./],
    ];
    for (const [what, xml, reason] of broken) {
      const result = await validateGoaml(xml);
      assert.equal(result.valid, false, `${what} must be refused`);
      assert.ok(result.errors.length > 0, what);
      assert.match(result.errors.join('\n'), reason, `${what}: ${result.errors.join('\n')}`);
    }
  });

  const bare: CustomerReportingIdentity = {
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
    phone: null,
    email: null,
    address: null,
    erased: false,
  };
  const full: CustomerReportingIdentity = {
    ...bare,
    firstName: 'Achieng',
    middleName: 'Awino',
    lastName: 'Odhiambo',
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
      city: 'Kampala',
      region: 'Central',
      postalCode: '40100',
      country: 'UG',
    },
  };

  test('a customer with full KYC data is a person with birthdate, nationality, residence, id and address', async () => {
    const xml = goamlXml(report(goamlPerson(full, 'KE'), goamlPerson(bare, 'KE')));
    assert.deepEqual(await validateGoaml(xml), { valid: true, errors: [] });
    const from = xml.match(/<from_person>[\s\S]*<\/from_person>/)?.[0] ?? '';
    const elements = [...from.matchAll(/<([a-z_0-9]+)>/g)].map((match) => match[1]);
    assert.deepEqual(elements, [
      'from_person',
      'gender',
      'first_name',
      'middle_name',
      'last_name',
      'birthdate',
      'id_number',
      'nationality1',
      'residence',
      'phones',
      'phone',
      'tph_contact_type',
      'tph_communication_type',
      'tph_country_prefix',
      'tph_number',
      'addresses',
      'address',
      'address_type',
      'address',
      'city',
      'zip',
      'country_code',
      'state',
      'email',
      'occupation',
      'identification',
      'type',
      'number',
      'issue_country',
    ]);
    assert.match(from, /<gender>F<\/gender>/);
    assert.match(from, /<birthdate>1988-04-17T00:00:00<\/birthdate>/);
    assert.match(from, /<id_number>29876543<\/id_number>/);
    assert.match(from, /<nationality1>KE<\/nationality1>/);
    assert.match(from, /<residence>UG<\/residence>/);
    assert.match(
      from,
      /<address>\s*<address_type>P<\/address_type>\s*<address>Oginga Odinga Street 4, Flat 2<\/address>\s*<city>Kampala<\/city>\s*<zip>40100<\/zip>\s*<country_code>UG<\/country_code>\s*<state>Central<\/state>\s*<\/address>/,
    );
    assert.match(from, /<email>achieng@example.test<\/email>\s*<occupation>Trader<\/occupation>/);
    // The record holds no issuing country: the configured country stands in for it.
    assert.match(
      from,
      /<identification>\s*<type>N<\/type>\s*<number>29876543<\/number>\s*<issue_country>KE<\/issue_country>/,
    );
    // The signatory with nothing but names: names only, and the report still validates.
    const signatory = xml.match(/<t_person>[\s\S]*<\/t_person>/)?.[0] ?? '';
    assert.deepEqual(
      [...signatory.matchAll(/<([a-z_0-9]+)>/g)].map((match) => match[1]),
      ['t_person', 'first_name', 'last_name'],
    );
  });

  test('a passport is reported as such; values the schema would refuse are left out, never guessed', async () => {
    const odd = goamlPerson(
      {
        ...full,
        gender: 'undisclosed',
        dateOfBirth: '17/04/1988',
        nationality: 'Kenya',
        residenceCountry: 'ke',
        idDocument: { type: 'passport', number: 'AK1234567' },
        address: {
          ...full.address!,
          kind: 'postal',
          line2: null,
          region: null,
          postalCode: null,
          country: 'KEN',
        },
      },
      'KE',
    );
    assert.equal(odd.gender, null);
    assert.equal(odd.birthdate, null);
    assert.equal(odd.nationality, null);
    assert.equal(odd.residence, null);
    assert.equal(odd.idNumber, null);
    assert.equal(odd.passportNumber, 'AK1234567');
    assert.deepEqual(odd.addresses, [], 'an address without a country code the schema takes is left out');
    assert.deepEqual(odd.identification, [{ type: 'P', number: 'AK1234567', issueCountry: 'KE' }]);
    const xml = goamlXml(report(odd, odd));
    assert.deepEqual(await validateGoaml(xml), { valid: true, errors: [] });
    assert.match(
      xml,
      /<last_name>Odhiambo<\/last_name>\s*<passport_number>AK1234567<\/passport_number>\s*<phones>/,
    );
    const postal = goamlPerson({ ...full, address: { ...full.address!, kind: 'postal' } }, 'KE');
    assert.equal(postal.addresses[0]?.type, 'O');
  });
});
