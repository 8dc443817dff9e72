/**
 * goAML reports through the API: a CTR for a cash deposit at or above the threshold (not under it, and not twice on
 * a redelivered event), an STR for a case whose alerts name transactions (validated against the schema, with the
 * transactions and the people in them), the XML download, and who may see any of it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  createCustomer,
  deposit,
  idempotent,
  openWallet,
  TEST_PIN,
  type TestCustomer,
  type TestWallet,
} from '../../../test/helpers/money.ts';
import { systemContext } from '../../platform/audit.ts';
import { inTransaction } from '../../platform/db.ts';
import type { AppError } from '../../platform/error-catalogue.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { settingsModule } from '../settings/index.ts';
import { transactionsModule } from '../transactions/index.ts';
import { walletsModule } from '../wallets/index.ts';
import { validateGoaml } from './aml.goaml.validate.ts';
import { ReportsService } from './aml.reports.ts';
import { amlAlerts, amlCaseEvents, amlCases, amlReports } from './aml.tables.ts';

const PASSWORD = 'amber lantern river 7';

interface ReportItem {
  id: string;
  kind: string;
  customer_id: string | null;
  case_id: string | null;
  transaction_ids: string[];
}

describe('goAML reports', () => {
  let t: TestContext;
  let officer: string;
  let support: string;
  let payer: TestCustomer;
  let payee: TestCustomer;
  let payerWallet: TestWallet;
  let payeeWallet: TestWallet;

  async function staff(username: string, roles: string[]): Promise<string> {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/user/add',
      headers: bearer(t.adminToken),
      payload: {
        username,
        email: `${username}@bank.test`,
        full_name: `${username} Officer`,
        password: PASSWORD,
        roles,
        must_change_password: false,
      },
    });
    assert.equal(response.statusCode, 201, response.body);
    return (await login(t.app, username, PASSWORD)).access_token;
  }

  /** Runs the aml module's consumer until the outbox is drained for it. */
  async function dispatchAml() {
    const events = t.application.system.events;
    await events.handOut();
    while ((await events.dispatch('aml')) > 0) {}
  }

  const get = (url: string, token: string) => t.app.inject({ method: 'GET', url, headers: bearer(token) });
  const db = () => t.deps.database.db;

  async function ctrsFor(transactionId: string) {
    const listed = await get('/api/v1/aml/reports?kind=CTR&limit=100', officer);
    assert.equal(listed.statusCode, 200, listed.body);
    return (listed.json().items as ReportItem[]).filter((item) =>
      item.transaction_ids.includes(transactionId),
    );
  }

  before(async () => {
    t = await startTestApp();
    officer = await staff('aml_officer', ['compliance_officer']);
    support = await staff('aml_support', ['support_agent']);
    payer = await createCustomer(t, 'Wanjiru', '+254733200001');
    payee = await createCustomer(t, 'Otieno', '+254733200002');
    payerWallet = await openWallet(t, payer.id);
    payeeWallet = await openWallet(t, payee.id);
    // The CTR threshold: KES 5,000.00 and USD 500.00.
    const current = await get('/api/v1/admin/config/aml.ctr_threshold_minor', t.adminToken);
    assert.equal(current.statusCode, 200, current.body);
    const changed = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/admin/config/aml.ctr_threshold_minor',
      headers: bearer(t.adminToken),
      payload: { value: { KES: '500000', USD: '50000' }, version: current.json().version },
    });
    assert.equal(changed.statusCode, 200, changed.body);
  });
  after(async () => t.close());

  test('a cash deposit at or above the threshold gets a CTR; one under it does not; redelivery adds none', async () => {
    const over = await deposit(t, payerWallet.id, 600_000);
    const under = await deposit(t, payerWallet.id, 499_999);
    await dispatchAml();

    const ctrs = await ctrsFor(over.id);
    assert.equal(ctrs.length, 1, 'one CTR for the deposit over the threshold');
    assert.deepEqual(await ctrsFor(under.id), [], 'none under the threshold');

    const report = ctrs[0]!;
    assert.equal(report.kind, 'CTR');
    assert.equal(report.customer_id, payer.id);
    assert.equal(report.case_id, null);

    const xml = await get(`/api/v1/aml/reports/${report.id}/xml`, officer);
    assert.equal(xml.statusCode, 200, xml.body);
    assert.match(String(xml.headers['content-type']), /^application\/xml/);
    assert.match(String(xml.headers['content-disposition']), /attachment; filename="goaml-ctr-/);
    assert.deepEqual(await validateGoaml(xml.body), { valid: true, errors: [] });
    assert.match(xml.body, /<report_code>CTR<\/report_code>/);
    assert.match(xml.body, /<transmode_code>K<\/transmode_code>/);
    assert.match(xml.body, /<amount_local>6000\.00<\/amount_local>/);
    assert.match(xml.body, new RegExp(`<transactionnumber>${over.reference}</transactionnumber>`));
    // The depositor in person (cash in), the wallet as the to side with its holder as signatory.
    assert.match(xml.body, /<t_from_my_client>\s*<from_funds_code>K<\/from_funds_code>\s*<from_person>/);
    assert.match(xml.body, /<first_name>Wanjiru<\/first_name>/);
    assert.match(xml.body, new RegExp(`<account>${payerWallet.wallet_number}</account>`));

    // The event delivered again (a consumer replaying from the start) adds no second CTR.
    await t.application.system.events.replay('aml', 'earliest');
    await dispatchAml();
    assert.equal((await ctrsFor(over.id)).length, 1, 'redelivery dedupes on ctr:<transaction id>');
    const stored = await db()
      .select()
      .from(amlReports)
      .where(eq(amlReports.dedupeKey, `ctr:${over.id}`));
    assert.equal(stored.length, 1);
  });

  test('a CTR in another currency reports the local amount at the mid rate, with the foreign amount', async () => {
    const rate = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/fx/rate/set',
      headers: bearer(t.adminToken),
      payload: { base_currency: 'USD', quote_currency: 'KES', rate: '129.5', spread_bps: 100 },
    });
    assert.equal(rate.statusCode, 200, rate.body);
    const usd = await openWallet(t, payee.id, 'USD');
    const cash = await deposit(t, usd.id, 60_000, 'USD');
    await dispatchAml();
    const [report] = await ctrsFor(cash.id);
    assert.ok(report, 'a CTR for USD 600.00 over the USD 500.00 threshold');
    const xml = await get(`/api/v1/aml/reports/${report.id}/xml`, officer);
    assert.deepEqual(await validateGoaml(xml.body), { valid: true, errors: [] });
    // 600.00 × 129.5 (the mid rate: the customer's spread is not the value reported).
    assert.match(xml.body, /<amount_local>77700\.00<\/amount_local>/);
    assert.match(
      xml.body,
      /<from_foreign_currency>\s*<foreign_currency_code>USD<\/foreign_currency_code>\s*<foreign_amount>600\.00<\/foreign_amount>\s*<foreign_exchange_rate>129\.500000<\/foreign_exchange_rate>/,
    );
    assert.match(xml.body, /<currency_code>USD<\/currency_code>/);
  });

  test('an STR for a case lists its alerts’ transactions and the people in them, and validates', async () => {
    await deposit(t, payerWallet.id, 300_000);
    // A third customer with full KYC data on file (identity document, date of birth, nationality, home address)
    // receives one of the transfers; the payer and payee have names and a phone only.
    const kamau = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/add',
      headers: bearer(t.adminToken),
      payload: {
        first_name: 'Kamau',
        last_name: 'Test',
        phone: '+254733200003',
        national_id_type: 'national_id',
        national_id: '27345678',
        date_of_birth: '1990-02-28',
        nationality: 'TZ',
        gender: 'male',
      },
    });
    assert.equal(kamau.statusCode, 201, kamau.body);
    const home = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/address/add',
      headers: bearer(t.adminToken),
      payload: {
        customer_id: kamau.json().id,
        kind: 'home',
        line1: 'Kenyatta Avenue 9',
        city: 'Nakuru',
        region: 'Nakuru County',
        postal_code: '20100',
        country: 'KE',
        primary: true,
      },
    });
    assert.equal(home.statusCode, 200, home.body);
    const kamauWallet = await openWallet(t, kamau.json().id);
    const transfers: { id: string; reference: string }[] = [];
    for (const [amount, to] of [
      [90_000, payeeWallet.wallet_number],
      [95_000, kamauWallet.wallet_number],
    ] as const) {
      const paid = await t.app.inject({
        method: 'POST',
        url: '/api/v1/wallet/transaction/transfer',
        headers: idempotent(payer.token),
        payload: { to_wallet_number: to, amount, currency: 'KES', pin: TEST_PIN },
      });
      assert.equal(paid.statusCode, 201, paid.body);
      transfers.push(paid.json());
    }
    const caseId = uuidv7();
    await db()
      .insert(amlCases)
      .values({
        id: caseId,
        reference: `AML-TEST-${randomUUID().slice(0, 8)}`,
        customerId: payer.id,
        pattern: 'structuring',
        priority: 'high',
        state: 'investigating',
        dueAt: new Date(Date.now() + 86_400_000),
      });
    for (const transfer of transfers) {
      await db()
        .insert(amlAlerts)
        .values({
          id: uuidv7(),
          customerId: payer.id,
          source: 'scenario',
          pattern: 'structuring',
          ruleVersion: 1,
          priority: 'high',
          evidence: { transaction_ids: [transfer.id], fields: { amount_minor: '90000' } },
          caseId,
        });
    }

    const filed = await t.app.inject({
      method: 'POST',
      url: `/api/v1/aml/cases/${caseId}/str`,
      headers: bearer(officer),
    });
    assert.equal(filed.statusCode, 201, filed.body);
    const report = filed.json();
    assert.equal(report.kind, 'STR');
    assert.equal(report.case_id, caseId);
    assert.equal(report.customer_id, payer.id);
    assert.deepEqual([...report.transaction_ids].sort(), transfers.map((item) => item.id).sort());

    const metadata = await get(`/api/v1/aml/reports/${report.id}`, officer);
    assert.equal(metadata.statusCode, 200, metadata.body);
    assert.equal(metadata.json().id, report.id);
    const byCase = await get(`/api/v1/aml/reports?case_id=${caseId}`, officer);
    assert.deepEqual(
      byCase.json().items.map((item: { id: string }) => item.id),
      [report.id],
    );

    const xml = await get(`/api/v1/aml/reports/${report.id}/xml`, officer);
    assert.equal(xml.statusCode, 200, xml.body);
    assert.match(String(xml.headers['content-type']), /^application\/xml/);
    assert.deepEqual(await validateGoaml(xml.body), { valid: true, errors: [] });
    assert.match(xml.body, /<report_code>STR<\/report_code>/);
    for (const transfer of transfers)
      assert.match(xml.body, new RegExp(`<transactionnumber>${transfer.reference}</transactionnumber>`));
    assert.equal(xml.body.match(/<transaction>/g)?.length, 2);
    // Wallet to wallet: both sides are the bank's accounts with their holders.
    assert.match(xml.body, new RegExp(`<account>${payerWallet.wallet_number}</account>`));
    assert.match(xml.body, new RegExp(`<account>${payeeWallet.wallet_number}</account>`));
    assert.match(xml.body, /<first_name>Wanjiru<\/first_name>/);
    assert.match(xml.body, /<first_name>Otieno<\/first_name>/);
    assert.match(xml.body, new RegExp(`<account>${kamauWallet.wallet_number}</account>`));
    const kamauPerson = xml.body.match(
      /<t_person>(?:(?!<\/t_person>)[\s\S])*<first_name>Kamau<\/first_name>[\s\S]*?<\/t_person>/,
    )?.[0];
    assert.ok(kamauPerson, 'Kamau is the signatory of his wallet');
    assert.match(
      kamauPerson,
      /<gender>M<\/gender>\s*<first_name>Kamau<\/first_name>\s*<last_name>Test<\/last_name>\s*<birthdate>1990-02-28T00:00:00<\/birthdate>\s*<id_number>27345678<\/id_number>\s*<nationality1>TZ<\/nationality1>\s*<residence>KE<\/residence>/,
    );
    assert.match(
      kamauPerson,
      /<addresses>\s*<address>\s*<address_type>P<\/address_type>\s*<address>Kenyatta Avenue 9<\/address>\s*<city>Nakuru<\/city>\s*<zip>20100<\/zip>\s*<country_code>KE<\/country_code>\s*<state>Nakuru County<\/state>\s*<\/address>\s*<\/addresses>/,
    );
    assert.match(
      kamauPerson,
      /<identification>\s*<type>N<\/type>\s*<number>27345678<\/number>\s*<issue_country>KE<\/issue_country>/,
    );
    // The payer has no birth date, nationality, identity document or address on file: none is invented.
    const wanjiru = xml.body.match(
      /<t_person>(?:(?!<\/t_person>)[\s\S])*<first_name>Wanjiru<\/first_name>[\s\S]*?<\/t_person>/,
    )?.[0];
    assert.ok(wanjiru);
    assert.doesNotMatch(
      wanjiru,
      /<birthdate>|<nationality1>|<residence>|<addresses>|<identification>|<id_number>/,
    );
    assert.match(
      xml.body,
      /<tph_country_prefix>254<\/tph_country_prefix>\s*<tph_number>733200001<\/tph_number>/,
    );
    assert.match(xml.body, /<amount_local>900\.00<\/amount_local>/);
    assert.match(xml.body, /<indicator>STRUCTURING<\/indicator>/);
    // The compliance officer who filed it is the reporting person.
    assert.match(
      xml.body,
      /<reporting_person>\s*<first_name>aml_officer<\/first_name>\s*<last_name>Officer<\/last_name>/,
    );

    // The case is not decided or closed by it; its trail records the report.
    const [after] = await db().select().from(amlCases).where(eq(amlCases.id, caseId));
    assert.equal(after?.state, 'investigating');
    assert.equal(after?.decision, null);
    const trail = await db().select().from(amlCaseEvents).where(eq(amlCaseEvents.caseId, caseId));
    assert.deepEqual(
      trail.map((event) => [event.action, event.detail]),
      [['str_generated', { report_id: report.id }]],
    );
  });

  test('an unknown case is 404, a case whose alerts name no transaction is 422, an unknown report 404', async () => {
    const unknown = await t.app.inject({
      method: 'POST',
      url: `/api/v1/aml/cases/${randomUUID()}/str`,
      headers: bearer(officer),
    });
    assert.equal(unknown.statusCode, 404, unknown.body);
    assert.equal(unknown.json().error_code, 'AML_CASE_NOT_FOUND');
    const caseId = uuidv7();
    await db()
      .insert(amlCases)
      .values({
        id: caseId,
        reference: `AML-TEST-${randomUUID().slice(0, 8)}`,
        customerId: payee.id,
        pattern: 'screening',
        priority: 'medium',
        state: 'open',
        dueAt: new Date(Date.now() + 86_400_000),
      });
    await db()
      .insert(amlAlerts)
      .values({
        id: uuidv7(),
        customerId: payee.id,
        source: 'screening',
        pattern: 'screening',
        priority: 'medium',
        evidence: { fields: { name: 'Otieno' } },
        caseId,
      });
    const empty = await t.app.inject({
      method: 'POST',
      url: `/api/v1/aml/cases/${caseId}/str`,
      headers: bearer(officer),
    });
    assert.equal(empty.statusCode, 422, empty.body);
    assert.equal(empty.json().error_code, 'AML_REPORT_NO_TRANSACTIONS');
    const stored = await db().select().from(amlReports).where(eq(amlReports.caseId, caseId));
    assert.deepEqual(stored, [], 'nothing stored');

    for (const url of [`/api/v1/aml/reports/${randomUUID()}`, `/api/v1/aml/reports/${randomUUID()}/xml`]) {
      const missing = await get(url, officer);
      assert.equal(missing.statusCode, 404, missing.body);
      assert.equal(missing.json().error_code, 'AML_REPORT_NOT_FOUND');
    }
    const badFilter = await get('/api/v1/aml/reports?kind=SAR', officer);
    assert.equal(badFilter.statusCode, 422, badFilter.body);
  });

  test('a report that does not validate is an error and is not stored', async () => {
    // The same service with a country the schema refuses (config parsing would refuse it too: this is the last guard).
    const system = t.application.system;
    const reports = new ReportsService({
      db: db(),
      keys: t.deps.keys,
      settings: system.api(settingsModule),
      wallets: system.api(walletsModule),
      fx: system.api(transactionsModule).fx,
      config: {
        GOAML_RENTITY_ID: 4711,
        GOAML_RENTITY_BRANCH: undefined,
        GOAML_CURRENCY_LOCAL: 'KES',
        GOAML_COUNTRY: 'Kenya',
        GOAML_LOCATION_ADDRESS: undefined,
        GOAML_LOCATION_CITY: 'Nairobi',
      },
    });
    const cash = await deposit(t, payerWallet.id, 700_000);
    const before = await db().select({ id: amlReports.id }).from(amlReports);
    await assert.rejects(
      inTransaction(db(), (tx) =>
        reports.ctrFor(
          tx,
          {
            transaction_id: cash.id,
            reference: cash.reference,
            type: 'cash_deposit',
            amount: '700000',
            currency: 'KES',
            fee: '0',
            tax: '0',
            source_wallet_id: null,
            destination_wallet_id: payerWallet.id,
            source_customer_id: null,
            destination_customer_id: payer.id,
            merchant_id: null,
            biller_id: null,
            bill_reference: null,
          },
          systemContext(),
        ),
      ),
      (error: AppError) => {
        assert.equal(error.errorCode, 'AML_REPORT_INVALID');
        assert.match(error.message, /country/);
        return true;
      },
    );
    assert.equal((await db().select({ id: amlReports.id }).from(amlReports)).length, before.length);
  });

  test('customers and staff without aml permissions see nothing of reports (tipping-off)', async () => {
    const [report] = await db().select({ id: amlReports.id }).from(amlReports).limit(1);
    assert.ok(report, 'a report exists from the tests above');
    const urls = [
      '/api/v1/aml/reports',
      `/api/v1/aml/reports/${report.id}`,
      `/api/v1/aml/reports/${report.id}/xml`,
    ];
    for (const token of [payer.token, support]) {
      for (const url of urls) {
        const denied = await get(url, token);
        assert.equal(denied.statusCode, 403, `${url}: ${denied.body}`);
        assert.doesNotMatch(denied.body, /\bCTR\b|\bSTR\b|goAML|Wanjiru/);
      }
      const file = await t.app.inject({
        method: 'POST',
        url: `/api/v1/aml/cases/${randomUUID()}/str`,
        headers: bearer(token),
      });
      assert.equal(file.statusCode, 403, file.body);
    }
    const anonymous = await t.app.inject({ method: 'GET', url: '/api/v1/aml/reports' });
    assert.equal(anonymous.statusCode, 401, anonymous.body);
  });
});
