/**
 * Receipts and statements say what happened, to whom, when (in the customer's time zone) and under whose name:
 * read back through the API as JSON, CSV, and PDF parsed by a real PDF reader.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { OPS } from 'pdfjs-dist/legacy/build/pdf.mjs';
import QRCode from 'qrcode';
import { bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import {
  deposit,
  idempotent,
  openWallet,
  TEST_PIN,
  type TestCustomer,
  type TestWallet,
} from '../../../test/helpers/money.ts';
import { decodeQr, readPdf } from '../../../test/helpers/pdf.ts';
import { formatLocalTime } from '../../platform/pdf.ts';

const PAYER = { first_name: 'Wanjikũ', last_name: 'Nguyễn' };
const PAYEE = { first_name: 'Ωμέγα', last_name: 'Алия' };
const PAYER_NAME = 'Wanjikũ Nguyễn';
const PAYEE_NAME = 'Ωμέγα Алия';
const INSTITUTION = 'Benki ya Wananchi Ltd';
const REGISTRATION = 'Licensed by the Central Bank of Kenya · Reg. No. PVT-2026-0042';
const ACCOUNT = '123456789';
const PASSWORD = 'correct horse battery staple 42';

interface Line {
  posted_at: string;
  posted_at_local: string;
  reference: string;
  leg: string;
  description: string;
  narration: string | null;
  amount: number;
}

describe('receipts and statements', () => {
  let t: TestContext;
  let payer: TestCustomer;
  let payee: TestCustomer;
  let payerWallet: TestWallet;
  let payeeWallet: TestWallet;
  const ids: Record<'p2p' | 'bill' | 'merchant', string> = { p2p: '', bill: '', merchant: '' };

  async function customer(names: object, phone: string): Promise<TestCustomer> {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/add',
      headers: bearer(t.adminToken),
      payload: { ...names, phone },
    });
    assert.equal(created.statusCode, 201, created.body);
    const id = created.json().id as string;
    const pin = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/credentials/pin',
      headers: bearer(t.adminToken),
      payload: { customer_id: id, pin: TEST_PIN },
    });
    assert.equal(pin.statusCode, 204, pin.body);
    const signed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/customer/login',
      payload: { phone, pin: TEST_PIN },
    });
    assert.equal(signed.statusCode, 200, signed.body);
    return { id, phone, token: signed.json().access_token as string };
  }

  async function setting(key: string, value: unknown) {
    const response = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/admin/config/${key}`,
      headers: bearer(t.adminToken),
      payload: { value },
    });
    assert.equal(response.statusCode, 200, response.body);
  }

  async function registerMerchant(): Promise<{ id: string }> {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/user/add',
      headers: bearer(t.adminToken),
      payload: {
        username: 'receipt_checker',
        email: 'receipt_checker@bank.test',
        full_name: 'Receipt Checker',
        password: PASSWORD,
        roles: ['operations'],
        must_change_password: false,
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const checker = (await login(t.app, 'receipt_checker', PASSWORD)).access_token;
    const filed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/merchant/merchant/add',
      headers: bearer(t.adminToken),
      payload: {
        name: 'MAMA MBOGA STORES',
        mcc: '5411',
        city: 'NAIROBI',
        country: 'KE',
        currency: 'KES',
        fee_bps: 0,
      },
    });
    assert.equal(filed.statusCode, 202, filed.body);
    const approved = await t.app.inject({
      method: 'POST',
      url: '/api/v1/policy/approval/approve',
      headers: bearer(checker),
      payload: { request_id: filed.json().id },
    });
    assert.equal(approved.statusCode, 200, approved.body);
    return approved.json().result as { id: string };
  }

  const get = (url: string, token: string) => t.app.inject({ method: 'GET', url, headers: bearer(token) });
  const receipt = (id: string, token: string) => get(`/api/v1/transaction/transaction/${id}/receipt`, token);
  const receiptPdf = async (id: string, token: string) => {
    const response = await get(`/api/v1/transaction/transaction/${id}/receipt?format=pdf`, token);
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers['content-type'], 'application/pdf');
    return readPdf(response.rawPayload);
  };

  before(async () => {
    t = await startTestApp();
    payer = await customer(PAYER, '+254744000001');
    payee = await customer(PAYEE, '+254744000002');
    payerWallet = await openWallet(t, payer.id);
    payeeWallet = await openWallet(t, payee.id);
    await deposit(t, payerWallet.id, 2_000_000);
    await setting('institution.name', INSTITUTION);
    await setting('institution.registration', REGISTRATION);
    await setting('institution.logo', await QRCode.toDataURL('logo', { width: 64 }));
    // The payer chose their own zone; the payee keeps the institution's (Africa/Nairobi).
    const zone = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/notify/preferences',
      headers: bearer(payer.token),
      payload: { time_zone: 'America/New_York' },
    });
    assert.equal(zone.statusCode, 200, zone.body);
    const merchant = await registerMerchant();

    const p2p = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/transfer',
      headers: idempotent(payer.token),
      payload: {
        to_wallet_number: payeeWallet.wallet_number,
        amount: 100_000,
        currency: 'KES',
        pin: TEST_PIN,
        narration: 'Rent for December',
      },
    });
    assert.equal(p2p.statusCode, 201, p2p.body);
    assert.ok(p2p.json().fee > 0 && p2p.json().tax > 0, 'the transfer has fee and duty lines');
    ids.p2p = p2p.json().id;
    const bill = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/bill',
      headers: idempotent(payer.token),
      payload: {
        biller_code: 'KPLC_POSTPAID',
        reference: ACCOUNT,
        amount: 50_000,
        currency: 'KES',
        pin: TEST_PIN,
      },
    });
    assert.equal(bill.statusCode, 201, bill.body);
    ids.bill = bill.json().id;
    const paid = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/merchant',
      headers: idempotent(payer.token),
      payload: { merchant_id: merchant.id, amount: 30_000, currency: 'KES', pin: TEST_PIN },
    });
    assert.equal(paid.statusCode, 201, paid.body);
    ids.merchant = paid.json().id;
  });
  after(async () => t.close());

  test('a bill payment receipt names the biller and the account number, in the customer’s time zone', async () => {
    const response = await receipt(ids.bill, payer.token);
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.type_label, 'Bill payment');
    assert.deepEqual(body.biller, {
      code: 'KPLC_POSTPAID',
      name: 'Kenya Power postpaid bill',
      account_number: ACCOUNT,
      account_name: null,
    });
    assert.equal(body.to, null);
    assert.deepEqual(body.from, { wallet_number: payerWallet.wallet_number, name: PAYER_NAME });
    assert.equal(body.time_zone, 'America/New_York');
    // December in New York: UTC-5, the same instant.
    assert.match(body.occurred_at_local, /-05:00$/);
    assert.equal(Date.parse(body.occurred_at_local), Date.parse(body.occurred_at));

    const pdf = await receiptPdf(ids.bill, payer.token);
    const text = pdf.pages.join('\n');
    for (const expected of [
      INSTITUTION,
      REGISTRATION,
      PAYER_NAME,
      'Kenya Power postpaid bill',
      ACCOUNT,
      'Fee',
      'Excise duty',
      formatLocalTime(new Date(body.occurred_at), 'America/New_York'),
      'America/New_York',
    ])
      assert.ok(text.includes(expected), `"${expected}" in ${text}`);
    assert.ok(!text.includes('the recipient'));
  });

  test('a merchant payment receipt names the merchant', async () => {
    const body = (await receipt(ids.merchant, payer.token)).json();
    assert.equal(body.type_label, 'Merchant payment');
    assert.equal(body.merchant.name, 'MAMA MBOGA STORES');
    assert.match(body.merchant.merchant_number, /^M\d+$/);
    assert.equal(body.to.name, 'MAMA MBOGA STORES');
    const text = (await receiptPdf(ids.merchant, payer.token)).pages.join('\n');
    assert.ok(text.includes('MAMA MBOGA STORES'), text);
    assert.ok(text.includes(body.merchant.merchant_number), text);
  });

  test('a transfer receipt prints both names; the payee sees the payer’s name but not their fee or wallet', async () => {
    const payers = (await receipt(ids.p2p, payer.token)).json();
    assert.equal(payers.from.name, PAYER_NAME);
    assert.deepEqual(payers.to, { wallet_number: payeeWallet.wallet_number, name: PAYEE_NAME });
    const payees = (await receipt(ids.p2p, payee.token)).json();
    assert.deepEqual(payees.from, { wallet_number: null, name: PAYER_NAME });
    assert.equal(payees.fee, 0);
    assert.equal(payees.tax, 0);
    assert.equal(payees.time_zone, 'Africa/Nairobi');
    assert.match(payees.occurred_at_local, /\+03:00$/);

    const pdf = await receiptPdf(ids.p2p, payee.token);
    const text = pdf.pages.join('\n');
    for (const name of [PAYER_NAME, PAYEE_NAME]) assert.ok(text.includes(name), `${name} in ${text}`);
    assert.ok(!text.includes(payerWallet.wallet_number), 'the payer’s wallet number stays hidden');
    assert.ok(text.includes(formatLocalTime(new Date(payees.occurred_at), 'Africa/Nairobi')));
    assert.ok(pdf.operators[0]!.length > 0);
    assert.equal(decodeQr(pdf.paths[0]!), payees.verification_url);
  });

  test('a logo the PDF writer cannot embed safely is refused when set (422), and receipts keep the one before', async () => {
    // An RGBA PNG whose image data is not zlib: pdfkit's inflate callback threw it as an uncaught exception.
    const chunk = (type: string, data: Buffer) => {
      const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
      const sized = Buffer.alloc(4);
      sized.writeUInt32BE(data.length);
      const sum = Buffer.alloc(4);
      sum.writeUInt32BE(crc32(body));
      return Buffer.concat([sized, body, sum]);
    };
    const header = Buffer.from([0, 0, 0, 4, 0, 0, 0, 4, 8, 6, 0, 0, 0]);
    const broken = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', header),
      chunk('IDAT', Buffer.from('not zlib data at all')),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    for (const value of [
      `data:image/png;base64,${broken.toString('base64')}`,
      `data:image/png;base64,${Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>').toString('base64')}`,
    ]) {
      const refused = await t.app.inject({
        method: 'PATCH',
        url: '/api/v1/admin/config/institution.logo',
        headers: bearer(t.adminToken),
        payload: { value },
      });
      assert.equal(refused.statusCode, 422, refused.body);
      assert.equal(refused.json().error_code, 'VALIDATION_ERROR');
      assert.match(refused.json().details.errors[0].message, /^The logo /);
    }
    const pdf = await receiptPdf(ids.p2p, payer.token);
    assert.ok(pdf.operators[0]!.includes(OPS.paintImageXObject), 'the logo set before still prints');
  });

  test('a misspelt institution time zone is refused when set (422), not silently UTC on every document', async () => {
    const refused = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/admin/config/institution.time_zone',
      headers: bearer(t.adminToken),
      payload: { value: 'Africa/Nairobbi' },
    });
    assert.equal(refused.statusCode, 422, refused.body);
    assert.match(refused.json().details.errors[0].message, /Unknown time zone: Africa\/Nairobbi/);
    assert.equal((await receipt(ids.p2p, payee.token)).json().time_zone, 'Africa/Nairobi');
  });

  test('the receipt’s QR code opens a public check of the receipt; a wrong code is a plain 404', async () => {
    const body = (await receipt(ids.p2p, payer.token)).json();
    const url = new URL(body.verification_url);
    assert.equal(url.origin, new URL(t.deps.config.PUBLIC_BASE_URL).origin);
    assert.equal(url.searchParams.get('reference'), body.reference);
    const checked = await t.app.inject({ method: 'GET', url: `${url.pathname}${url.search}` });
    assert.equal(checked.statusCode, 200, checked.body);
    assert.deepEqual(checked.json(), {
      valid: true,
      reference: body.reference,
      type: 'p2p',
      status: 'completed',
      amount: 100_000,
      currency: 'KES',
      amount_display: body.amount_display,
      occurred_at: body.occurred_at,
    });
    const code = url.searchParams.get('code')!;
    const forged = `${code.slice(0, -1)}${code.endsWith('0') ? '1' : '0'}`;
    const wrong = await t.app.inject({
      method: 'GET',
      url: `${url.pathname}?reference=${body.reference}&code=${forged}`,
    });
    assert.equal(wrong.statusCode, 404);
    const unknown = await t.app.inject({
      method: 'GET',
      url: `${url.pathname}?reference=ZZZZZZZZZZ&code=${code}`,
    });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error_code, wrong.json().error_code);
  });

  test('statement lines: "Fee" and "Excise duty" on their own lines, the biller, the merchant and the payee named', async () => {
    const response = await get(`/api/v1/wallet/wallet/${payerWallet.id}/statement`, payer.token);
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.time_zone, 'America/New_York');
    const lines = body.items as Line[];
    const p2pReference = (await receipt(ids.p2p, payer.token)).json().reference;
    const p2pLines = lines.filter((line) => line.reference === p2pReference);
    assert.deepEqual(
      p2pLines.map((line) => [line.leg, line.description]),
      [
        ['principal', `Transfer to ${PAYEE_NAME}`],
        ['fee', 'Fee'],
        ['tax', 'Excise duty'],
      ],
    );
    assert.equal(p2pLines[0]!.narration, 'Rent for December');
    assert.ok(
      lines.some(
        (line) => line.description === `Bill payment: Kenya Power postpaid bill, account ${ACCOUNT}`,
      ),
      JSON.stringify(lines),
    );
    assert.ok(lines.some((line) => line.description === 'Payment to MAMA MBOGA STORES'));
    for (const line of lines) {
      assert.match(line.posted_at_local, /-05:00$/);
      assert.equal(Date.parse(line.posted_at_local), Date.parse(line.posted_at));
    }

    const received = (await get(`/api/v1/wallet/wallet/${payeeWallet.id}/statement`, payee.token)).json();
    assert.equal(received.time_zone, 'Africa/Nairobi');
    assert.deepEqual(
      received.items.map((line: Line) => line.description),
      [`Transfer from ${PAYER_NAME}`],
    );
  });

  test('a dispute refund shows on both statements: the captured hold on the payee’s, the refund on the payer’s', async () => {
    const reference = (await receipt(ids.p2p, payer.token)).json().reference as string;
    const opened = await t.app.inject({
      method: 'POST',
      url: '/api/v1/transaction/dispute/add',
      headers: bearer(payer.token),
      payload: { transaction_id: ids.p2p, reason: 'not_received' },
    });
    assert.equal(opened.statusCode, 201, opened.body);
    const resolved = await t.app.inject({
      method: 'POST',
      url: '/api/v1/transaction/dispute/resolve',
      headers: idempotent(t.adminToken),
      payload: { dispute_id: opened.json().id, outcome: 'refund', resolution: 'Paid to the wrong person' },
    });
    assert.equal(resolved.statusCode, 200, resolved.body);
    const payeeLines = (await get(`/api/v1/wallet/wallet/${payeeWallet.id}/statement`, payee.token)).json()
      .items as Line[];
    const captured = payeeLines.filter((line) => line.leg === 'hold');
    assert.deepEqual(
      captured.map((line) => [line.description, line.amount]),
      [['Dispute refund: the amount held', -100_000]],
    );
    const payerLines = (await get(`/api/v1/wallet/wallet/${payerWallet.id}/statement`, payer.token)).json()
      .items as Line[];
    assert.ok(
      payerLines.some(
        (line) => line.description === `Refund of disputed payment ${reference}` && line.amount === 100_000,
      ),
      JSON.stringify(payerLines),
    );
  });

  test('the CSV and PDF statements carry the same descriptions, in the customer’s time zone', async () => {
    const csv = await get(`/api/v1/wallet/wallet/${payerWallet.id}/statement/export?format=csv`, payer.token);
    assert.equal(csv.statusCode, 200, csv.body);
    const rows = csv.body
      .replace(/^\uFEFF/, '')
      .trim()
      .split(/\r?\n/);
    assert.match(rows[0]!, /^posted_at,reference,type,description,narration,/);
    assert.ok(
      rows.some((row) => row.includes(',Excise duty,')),
      csv.body,
    );
    assert.ok(rows.some((row) => row.includes(',Fee,')));
    assert.ok(rows.some((row) => row.includes(`Transfer to ${PAYEE_NAME}`)));
    assert.ok(rows.some((row) => row.includes(`account ${ACCOUNT}`)));
    for (const row of rows.slice(1)) assert.match(row, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-05:00,/);

    const pdf = await get(`/api/v1/wallet/wallet/${payerWallet.id}/statement/export?format=pdf`, payer.token);
    assert.equal(pdf.statusCode, 200, pdf.body);
    // A long description wraps inside its cell: compare with the line breaks read as spaces.
    const text = (await readPdf(pdf.rawPayload)).pages.join('\n').replace(/\s+/g, ' ');
    for (const expected of [
      INSTITUTION,
      REGISTRATION,
      PAYER_NAME,
      PAYEE_NAME,
      'Fee',
      'Excise duty',
      'Kenya Power postpaid bill',
      ACCOUNT,
      'MAMA MBOGA STORES',
      'America/New_York',
    ])
      assert.ok(text.includes(expected), `"${expected}" in ${text}`);
    assert.ok(!text.includes('Rent for December Rent for December'), 'the narration is not repeated per leg');
  });

  test('a reversal’s receipt does not show the payee the payer’s wallet number, which the payment hid', async () => {
    const paid = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/transfer',
      headers: idempotent(payer.token),
      payload: { to_wallet_number: payeeWallet.wallet_number, amount: 5_000, currency: 'KES', pin: TEST_PIN },
    });
    assert.equal(paid.statusCode, 201, paid.body);
    const hidden = (await receipt(paid.json().id, payee.token)).json();
    assert.equal(
      hidden.from.wallet_number,
      null,
      'the payment itself hides the payer’s wallet from the payee',
    );
    const filed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/transaction/transaction/reverse',
      headers: idempotent(t.adminToken),
      payload: { transaction_id: paid.json().id, reason: 'Sent to the wrong wallet' },
    });
    assert.equal(filed.statusCode, 202, filed.body);
    const approved = await t.app.inject({
      method: 'POST',
      url: '/api/v1/policy/approval/approve',
      headers: bearer((await login(t.app, 'receipt_checker', PASSWORD)).access_token),
      payload: { request_id: filed.json().id },
    });
    assert.equal(approved.statusCode, 200, approved.body);
    const reversal = approved.json().result.id as string;
    // The payee gave the money back: the receipt names the payer, not the wallet it went to.
    const asPayee = (await receipt(reversal, payee.token)).json();
    assert.deepEqual(asPayee.to, { wallet_number: null, name: PAYER_NAME });
    assert.ok(!JSON.stringify(asPayee).includes(payerWallet.wallet_number), JSON.stringify(asPayee));
    const pdf = await receiptPdf(reversal, payee.token);
    assert.ok(!pdf.pages.join('\n').includes(payerWallet.wallet_number), pdf.pages.join('\n'));
    // The payer still sees their own wallet, where the money came back to.
    const asPayer = (await receipt(reversal, payer.token)).json();
    assert.equal(asPayer.to.wallet_number, payerWallet.wallet_number);
  });
});
