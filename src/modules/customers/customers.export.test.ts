/**
 * The data export holds everything held about a customer. The database catalogue decides what "everything" is:
 * every table with a customer_id-like column, a foreign key to customers, or a polymorphic `<x>_type`/`<x>_id` pair
 * must be exported or named in NOT_EXPORTED with a reason, so a new table cannot be forgotten. Then one customer
 * with data in each area is exported over HTTP: every section is there, with their data and no secrets.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, deposit, idempotent, openWallet, TEST_PIN } from '../../../test/helpers/money.ts';
import { multipart } from '../../../test/helpers/multipart.ts';
import type { Executor } from '../../platform/db.ts';
import { EXPORT_SECTIONS, EXPORTED_BY_SERVICE, NOT_EXPORTED } from './customers.export.ts';

/** Tables that refer to a customer, read from the catalogue (not from our own lists). */
async function customerTables(db: Executor): Promise<Map<string, string>> {
  const result = (await db.execute(sql`
    with cols as (
      select table_name, column_name from information_schema.columns
      where table_schema = current_schema()
        and table_name in (select table_name from information_schema.tables
                           where table_schema = current_schema() and table_type = 'BASE TABLE')
    )
    select table_name, 'column ' || column_name as why from cols
      where column_name = 'customer_id' or column_name like '%\\_customer\\_id'
    union all
    select conrelid::regclass::text, 'foreign key to customers' from pg_constraint
      where contype = 'f' and confrelid = 'customers'::regclass
    union all
    select a.table_name, 'columns ' || a.column_name || '/' || b.column_name from cols a
      join cols b on b.table_name = a.table_name
        and b.column_name = left(a.column_name, length(a.column_name) - 5) || '_id'
      where a.column_name like '%\\_type'
  `)) as unknown as { rows: { table_name: string; why: string }[] };
  const found = new Map<string, string>();
  for (const row of result.rows) found.set(row.table_name.replace(/^"|"$/g, ''), row.why);
  return found;
}

const covered = () =>
  new Set<string>([
    ...EXPORTED_BY_SERVICE,
    ...Object.values(EXPORT_SECTIONS).flatMap((section) => section.tables),
    ...Object.keys(NOT_EXPORTED),
  ]);

function uncovered(found: Map<string, string>): string[] {
  const known = covered();
  return [...found]
    .filter(([table]) => !known.has(table))
    .map(([table, why]) => `${table} (${why})`)
    .sort();
}

describe('customer data export', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp();
    await t.deps.jobs.start();
  });
  after(async () => t?.close());

  test('every table that refers to customers is exported or excluded with a reason', async () => {
    const found = await customerTables(t.deps.database.db);
    // The catalogue query sees what it must: the obvious ones, and the polymorphic pairs.
    for (const table of ['wallets', 'transactions', 'documents', 'notifications', 'registered_devices'])
      assert.ok(found.has(table), `${table} is found in the catalogue`);
    assert.deepEqual(
      uncovered(found),
      [],
      'refers to customers but is neither in EXPORT_SECTIONS nor NOT_EXPORTED (customers.export.ts)',
    );
    // No stale names: everything listed exists.
    const tables = (await t.deps.database.db.execute(
      sql`select table_name from information_schema.tables where table_schema = current_schema()`,
    )) as unknown as { rows: { table_name: string }[] };
    const existing = new Set(tables.rows.map((row) => row.table_name));
    assert.deepEqual(
      [...covered()].filter((table) => !existing.has(table)),
      [],
      'listed tables that do not exist',
    );
    for (const [table, reason] of Object.entries(NOT_EXPORTED)) assert.ok(reason.length > 10, table);

    // A new module's table holding customer data is caught, by a plain column or by a polymorphic pair.
    await t.deps.database.db.execute(
      sql`create table loyalty_points (id uuid primary key, customer_id uuid, points integer)`,
    );
    await t.deps.database.db.execute(
      sql`create table loan_notes (id uuid primary key, subject_type text, subject_id text, note text)`,
    );
    try {
      assert.deepEqual(uncovered(await customerTables(t.deps.database.db)), [
        'loan_notes (columns subject_type/subject_id)',
        'loyalty_points (column customer_id)',
      ]);
    } finally {
      await t.deps.database.db.execute(sql`drop table loyalty_points`);
      await t.deps.database.db.execute(sql`drop table loan_notes`);
    }
  });

  test('the export holds their wallets, payments, documents, KYC, consents, messages, chats and devices — no secrets', async () => {
    const amina = await createCustomer(t, 'Amina', '+254744000101');
    const baraka = await createCustomer(t, 'Baraka', '+254744000102');
    const aminaWallet = await openWallet(t, amina.id);
    const barakaWallet = await openWallet(t, baraka.id);
    await deposit(t, aminaWallet.id, 500_000);
    const transfer = (token: string, to: string, amount: number) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/wallet/transaction/transfer',
        headers: idempotent(token),
        payload: { to_wallet_number: to, amount, currency: 'KES', pin: TEST_PIN },
      });
    const sent = await transfer(amina.token, barakaWallet.wallet_number, 120_000);
    assert.equal(sent.statusCode, 201, sent.body);
    // Baraka's refused attempt towards Amina is Baraka's business, not part of Amina's data.
    const refused = await transfer(baraka.token, aminaWallet.wallet_number, 300_000);
    assert.equal(refused.json().error_code, 'INSUFFICIENT_BALANCE', refused.body);
    const recorded = (await t.deps.database.db.execute(
      sql`select count(*)::int as n from transactions where counterparty_customer_id = ${amina.id} and status = 'failed'`,
    )) as unknown as { rows: { n: number }[] };
    assert.equal(recorded.rows[0]?.n, 1, 'the refusal is on record, with Amina as its counterparty');

    const kyc = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/kyc/initiate',
      headers: bearer(amina.token),
      payload: { customer_id: amina.id, target_tier: 'standard' },
    });
    assert.equal(kyc.statusCode, 200, kyc.body);
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.from('IHDR-pixels'),
      Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]),
    ]);
    const form = multipart(
      { customer_id: amina.id, document_type: 'selfie' },
      png,
      'selfie.png',
      'image/png',
    );
    const uploaded = await t.app.inject({
      method: 'POST',
      url: '/api/v1/document/document/upload',
      headers: { ...bearer(t.adminToken), ...form.headers },
      payload: form.payload,
    });
    assert.equal(uploaded.statusCode, 201, uploaded.body);
    const preferences = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/notify/preferences',
      headers: bearer(amina.token),
      payload: { marketing_channels: ['sms'] },
    });
    assert.equal(preferences.statusCode, 200, preferences.body);
    const chat = await t.app.inject({
      method: 'POST',
      url: '/api/v1/support/chat/conversation/add',
      headers: bearer(amina.token),
      payload: { subject: 'Card delivery', text: 'When will my card arrive?' },
    });
    assert.equal(chat.statusCode, 201, chat.body);
    const device = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/device/register',
      headers: bearer(amina.token),
      payload: {
        device_id: 'amina-phone-1',
        name: 'Amina’s phone',
        platform: 'android',
        public_key: generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
        push_token: 'fcm-token-secret-of-amina',
      },
    });
    assert.equal(device.statusCode, 201, device.body);
    // The payment's messages, as the worker's dispatcher makes them.
    while ((await t.application.notifications.dispatcher.dispatchBatch()) > 0) {}

    const response = await t.app.inject({
      method: 'GET',
      url: `/api/v1/customer/customer/${amina.id}/export`,
      headers: bearer(t.adminToken),
    });
    assert.equal(response.statusCode, 200, response.body);
    const data = response.json();
    for (const section of [...Object.keys(EXPORT_SECTIONS), 'customer', 'phones', 'audit'])
      assert.ok(section in data, `section ${section}`);

    assert.deepEqual(
      data.wallets.map((wallet: { id: string }) => wallet.id),
      [aminaWallet.id],
    );
    const payments = data.transactions as { type: string; role: string; amount: number; status: string }[];
    assert.ok(
      payments.some((row) => row.role === 'payer' && row.amount === 120_000 && row.status === 'completed'),
      JSON.stringify(payments),
    );
    assert.ok(
      payments.every((row) => row.role === 'payer' || row.status !== 'failed'),
      'no refused attempt of another payer',
    );
    assert.deepEqual(
      data.documents.map((document: { id: string; document_type: string }) => [
        document.id,
        document.document_type,
      ]),
      [[uploaded.json().id, 'selfie']],
    );
    assert.equal(data.kyc_applications[0]?.target_tier, 'standard');
    assert.deepEqual(data.consents?.marketing_channels, ['sms']);
    assert.ok(data.notifications.length > 0, 'the payment’s notifications');
    assert.equal(data.support_conversations[0]?.subject, 'Card delivery');
    assert.equal(data.support_conversations[0]?.messages[0]?.text, 'When will my card arrive?');
    assert.deepEqual(
      data.devices.map((row: { device_id: string }) => row.device_id),
      ['amina-phone-1'],
    );
    assert.ok(data.sessions.length >= 1, 'the PIN login’s session');
    assert.equal(data.credentials?.customer_id, amina.id);

    // Secrets and keys never leave: hashes, sealed values, wrapped keys, push tokens.
    for (const secret of [
      'pin_hash',
      'token_hash',
      'wrapped_key',
      'secrets_sealed',
      'push_token',
      'secret_sealed',
      'answer_hash',
      'code_hash',
      'account_number_sealed',
      'national_id_sealed',
    ])
      assert.doesNotMatch(response.body, new RegExp(`"${secret}"`), secret);
    assert.doesNotMatch(response.body, /fcm-token-secret-of-amina/);
  });
});
