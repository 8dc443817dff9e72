/**
 * AML end to end through the typed client only (clients/typescript) against a listening API: a compliance analyst
 * loads the UN list and screens a listed name; a customer's large transfer is held for review by the default
 * real-time rule (the customer sees `held`, nothing of AML), the analyst releases it and the payee is credited; the
 * alert's case is claimed, noted and closed by filing an STR whose goAML XML downloads; the payer's risk rating is read
 * with its factors; a rule is added in test mode. The customer is refused every AML route. The ledger verifies clean.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CodeForgeClient, createCodeForgeClient } from '../../clients/typescript/index.ts';
import { verifyLedger } from '../../src/modules/ledger/index.ts';
import { startTestApp, type TestContext } from '../helpers/app.ts';
import { accessToken, expectData } from '../helpers/client.ts';

const PIN = '8351';
const STAFF_PASSWORD = 'copper kettle meadow 42';
const key = () => ({ 'Idempotency-Key': randomUUID() });
const UN_LIST = join(import.meta.dirname, '..', '..', 'data', 'aml', 'lists', 'un-consolidated.xml');

describe('AML through the typed client', () => {
  let t: TestContext;
  let baseUrl: string;
  const client = (token?: string): CodeForgeClient => createCodeForgeClient({ baseUrl, token });
  let admin: CodeForgeClient;
  let analyst: CodeForgeClient;
  const people: Record<
    'payer' | 'payee',
    { id: string; phone: string; walletId: string; me: CodeForgeClient }
  > = {} as never;
  let heldId: string;

  before(async () => {
    t = await startTestApp({}, { startJobs: true });
    baseUrl = await t.app.listen({ host: '127.0.0.1', port: 0 });
    admin = client(t.adminToken);
    expectData(
      await admin.POST('/api/v1/user/user/add', {
        body: {
          username: 'aml.analyst',
          email: 'aml.analyst@bank.test',
          full_name: 'Compliance Analyst',
          password: STAFF_PASSWORD,
          roles: ['compliance_officer'],
          must_change_password: false,
        },
      }),
      201,
    );
    const login = await client().POST('/api/v1/auth/login', {
      body: { username: 'aml.analyst', password: STAFF_PASSWORD },
    });
    analyst = client(accessToken(expectData(login, 200)));
    people.payer = await customer('Wairimu', '+254767200001', 3_000_000);
    people.payee = await customer('Otieno', '+254767200002', 0);
  });
  after(async () => t?.close());

  /** An active customer with a KES wallet holding `cash`, a PIN, signed in. */
  async function customer(firstName: string, phone: string, cash: number) {
    const created = expectData(
      await admin.POST('/api/v1/customer/customer/add', {
        body: { first_name: firstName, last_name: 'Kariuki', phone },
      }),
      201,
    );
    expectData(
      await admin.POST('/api/v1/customer/customer/status', {
        body: { customer_id: created.id, status: 'active', reason: 'verified at the branch' },
      }),
      200,
    );
    const wallet = expectData(
      await admin.POST('/api/v1/wallet/wallet/create', {
        body: { customer_id: created.id, currency: 'KES' },
      }),
      201,
    );
    if (cash > 0)
      expectData(
        await admin.POST('/api/v1/wallet/transaction/deposit', {
          params: { header: key() },
          body: { wallet_id: wallet.id, amount: cash, currency: 'KES' },
        }),
        201,
      );
    const pin = await admin.POST('/api/v1/customer/credentials/pin', {
      body: { customer_id: created.id, pin: PIN },
    });
    assert.equal(pin.response.status, 204);
    const login = await client().POST('/api/v1/auth/customer/login', { body: { phone, pin: PIN } });
    return { id: created.id, phone, walletId: wallet.id, me: client(accessToken(expectData(login, 200))) };
  }

  async function balance(walletId: string): Promise<number> {
    const answer = expectData(
      await admin.GET('/api/v1/wallet/wallet/{id}/balance', { params: { path: { id: walletId } } }),
      200,
    );
    return Number(answer.balance);
  }

  test('the analyst loads the UN list and screening a listed name finds it, with its score and fields', async () => {
    const loaded = await analyst.POST('/api/v1/aml/lists/{source}', {
      params: { path: { source: 'un' } },
      body: new Blob([readFileSync(UN_LIST)]) as never,
      bodySerializer: (body: unknown) => body as Blob,
      headers: { 'content-type': 'application/xml' },
    });
    const { list } = expectData(loaded, 201) as { list: { version: number; entry_count: number } };
    assert.equal(list.version, 1);
    assert.ok(list.entry_count > 10);
    const screened = expectData(
      await analyst.POST('/api/v1/aml/screen', { body: { name: 'Abdulrahman Qasim al Tikriti' } }),
      200,
    );
    assert.notEqual(screened.outcome, 'clear');
    assert.ok(screened.matches[0]!.score >= 0.85, JSON.stringify(screened.matches[0]));
    assert.equal(screened.matches[0]!.source, 'un');
  });

  test('the analyst adds a real-time rule: transfers of KES 5,000 or more are reviewed', async () => {
    const rule = expectData(
      await analyst.POST('/api/v1/aml/rules', {
        body: {
          code: 'rt_journey_review',
          kind: 'realtime',
          name: 'Review transfers of KES 5,000 or more',
          mode: 'active',
          action: 'review',
          priority: 'high',
          definition: {
            conditions: [
              { field: 'type', in: ['p2p'] },
              { field: 'amount', op: 'gte', values: { KES: '500000' } },
            ],
          },
        },
      }),
      201,
    );
    assert.equal(rule.version, 1);
  });

  test('a transfer the rule catches is held for review; the customer sees `held` and nothing of AML', async () => {
    const sent = expectData(
      await people.payer.me.POST('/api/v1/wallet/transaction/transfer', {
        params: { header: key() },
        body: { to_phone: people.payee.phone, amount: 1_200_000, currency: 'KES', pin: PIN },
      }),
      201,
    );
    assert.equal(sent.status, 'held');
    heldId = sent.id;
    assert.equal(await balance(people.payee.walletId), 0, 'nothing credited while held');
    const refused = await people.payer.me.GET('/api/v1/aml/held', {});
    assert.equal(refused.response.status, 403);
    assert.doesNotMatch(JSON.stringify(refused.error), /rt_|rule|alert|case/i);
    const cases = await people.payer.me.GET('/api/v1/aml/cases', {});
    assert.equal(cases.response.status, 403);
  });

  test('the analyst sees the hold with the rule that fired, releases it, and the payee is credited', async () => {
    const held = expectData(await analyst.GET('/api/v1/aml/held', {}), 200);
    const entry = held.items.find((item) => item.transaction_id === heldId);
    assert.ok(entry, 'the hold is in the queue');
    assert.ok(JSON.stringify(entry.fired).includes('rt_journey_review'));
    expectData(
      await analyst.POST('/api/v1/aml/held/{transactionId}/release', {
        params: { path: { transactionId: heldId } },
      }),
      200,
    );
    assert.equal(await balance(people.payee.walletId), 1_200_000);
  });

  test('the case is claimed, noted and closed by filing an STR whose goAML XML downloads', async () => {
    const cases = expectData(
      await analyst.GET('/api/v1/aml/cases', { params: { query: { customer_id: people.payer.id } } }),
      200,
    );
    const open = cases.items.find((item) => item.pattern === 'rt_journey_review');
    assert.ok(open, JSON.stringify(cases.items.map((item) => item.pattern)));
    const path = { params: { path: { id: open.id } } };
    expectData(await analyst.POST('/api/v1/aml/cases/{id}/claim', path), 200);
    expectData(await analyst.POST('/api/v1/aml/cases/{id}/investigate', path), 200);
    expectData(
      await analyst.POST('/api/v1/aml/cases/{id}/notes', {
        ...path,
        body: { text: 'Single transfer of KES 12,000 to a first-time payee; source of funds unexplained.' },
      }),
      200,
    );
    const closed = expectData(
      await analyst.POST('/api/v1/aml/cases/{id}/decide', {
        ...path,
        body: { decision: 'file_str', reason: 'Unexplained source of funds' },
      }),
      200,
    );
    assert.equal(closed.state, 'closed');
    assert.equal(closed.decision, 'file_str');
    assert.ok(closed.events.some((event) => event.action === 'note'));
    const reports = expectData(
      await analyst.GET('/api/v1/aml/reports', { params: { query: { case_id: open.id } } }),
      200,
    );
    const str = reports.items.find((item) => item.kind === 'STR');
    assert.ok(str, 'the STR is listed for the case');
    const xml = await analyst.GET('/api/v1/aml/reports/{id}/xml', {
      params: { path: { id: str.id } },
      parseAs: 'text',
    });
    assert.equal(xml.response.status, 200);
    assert.match(xml.response.headers.get('content-type') ?? '', /application\/xml/);
    assert.match(String(xml.data), /<report_code>STR<\/report_code>/);
    assert.match(String(xml.data), /<amount_local>12000(\.00)?<\/amount_local>/);
  });

  test('the payer’s risk rating is read with its factors; the rule goes to test mode as a new version', async () => {
    const rating = expectData(
      await analyst.GET('/api/v1/aml/risk/{customerId}', {
        params: { path: { customerId: people.payer.id } },
      }),
      200,
    );
    assert.ok(['low', 'medium', 'high'].includes(rating.band));
    assert.equal(rating.factors.length, 6);
    const tested = expectData(
      await analyst.POST('/api/v1/aml/rules/{code}/mode', {
        params: { path: { code: 'rt_journey_review' } },
        body: { mode: 'test' },
      }),
      200,
    );
    assert.equal(tested.version, 2);
    assert.equal(tested.mode, 'test');
    // In test mode the rule only records: the same transfer now completes.
    const sent = expectData(
      await people.payer.me.POST('/api/v1/wallet/transaction/transfer', {
        params: { header: key() },
        body: { to_phone: people.payee.phone, amount: 600_000, currency: 'KES', pin: PIN },
      }),
      201,
    );
    assert.equal(sent.status, 'completed');
    const verification = await verifyLedger(t.deps.database.db);
    assert.equal(verification.ok, true, JSON.stringify(verification));
  });
});
