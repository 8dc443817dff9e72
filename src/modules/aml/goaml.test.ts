/**
 * The goAML writer and validator without the app: a report built from data validates against the schema kept in the
 * repository; documents that break it (an element out of order, a missing required element, a value outside an
 * enumeration, a foreign element, text that is not a date) are refused with libxml2's reason.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateGoaml } from './aml.goaml.validate.ts';
import { type GoamlPerson, type GoamlReport, goamlDate, goamlXml } from './aml.goaml.xml.ts';

const person: GoamlPerson = {
  firstName: 'Amina',
  lastName: 'Otieno & <Sons>',
  residence: 'KE',
  phones: [{ contactType: 'P', communicationType: 'M', countryPrefix: '254', number: '712345678' }],
  addresses: [{ type: 'P', address: 'Moi Avenue 12', city: 'Nairobi', countryCode: 'KE' }],
  identification: [{ type: 'N', number: '12345678', issueCountry: 'KE' }],
};

function report(): GoamlReport {
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
        from: { kind: 'client_person', funds: 'K', person, country: 'KE' },
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
            signatories: [person],
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
});
