/**
 * The USSD money port against the real modules: masked recipients, till lookup, the one-time-code threshold refused
 * before any PIN, idempotent replay of a payment step, balances, billers and the mini-statement.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { deposit, openWallet, TEST_PIN, type TestWallet } from '../../../test/helpers/money.ts';
import { approvedMerchant, customerWithPin } from '../../../test/helpers/ussd-money.ts';
import { outboxEvents } from '../../platform/platform.tables.ts';
import { ussdModule } from './index.ts';
import { type MoneyCall, type MoneyPort, maskName, tillNumber } from './ussd.money.ts';

describe('USSD money port', () => {
  let t: TestContext;
  let port: MoneyPort;
  let sender: { id: string; phone: string };
  let senderWallet: TestWallet;
  let recipient: { id: string; phone: string };
  let shop: { id: string; merchant_number: string };

  async function setting(key: string, value: unknown) {
    const response = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/admin/config/${key}`,
      headers: bearer(t.adminToken),
      payload: { value },
    });
    assert.equal(response.statusCode, 200, response.body);
  }

  const call = (customerId: string, key = randomUUID()): MoneyCall => ({
    customerId,
    gateway: 'at',
    sessionId: `test-${key}`,
    idempotencyKey: `ussd:at:test-${key}:send.confirm:send`,
  });

  const transactionsOf = async (customerId: string) =>
    (await t.application.transactions.list({ customer_id: customerId, limit: 100 }, adminPrincipal())).items;
  const adminPrincipal = () => ({
    type: 'user' as const,
    id: randomUUID(),
    sessionId: 's',
    tokenId: 't',
    tokenExpiresAt: 0,
    permissions: new Set<string>(),
    roles: [],
    passwordChangeRequired: false,
    mfaEnrollmentRequired: false,
    channel: 'web' as const,
  });

  before(async () => {
    t = await startTestApp();
    port = t.application.system.api(ussdModule).services.money;
    sender = await customerWithPin(t, 'Amina', 'Otieno', '+254711000101');
    recipient = await customerWithPin(t, 'John', 'Mwangi', '+254711000102');
    senderWallet = await openWallet(t, sender.id);
    await openWallet(t, recipient.id);
    await deposit(t, senderWallet.id, 5_000_000);
    shop = await approvedMerchant(t);
  });
  after(async () => t.close());

  test('names are masked to their initials, whatever the script', () => {
    assert.equal(maskName('John Kamau Mwangi'), 'J*** M***');
    assert.equal(maskName('émile ñandú'), 'É*** Ñ***');
    assert.equal(maskName('Zoë'), 'Z***');
    assert.equal(maskName('  '), '***');
  });

  test('a recipient by phone shows the masked name only; an unknown number is null', async () => {
    const found = await port.recipient(sender.id, recipient.phone, 'KES');
    assert.deepEqual(found, { phone: recipient.phone, maskedName: 'J*** M***' });
    assert.ok(!JSON.stringify(found).includes('John') && !JSON.stringify(found).includes('Mwangi'));
    assert.equal(await port.recipient(sender.id, '+254711999999', 'KES'), null);
    // A customer without a wallet in the currency cannot receive it.
    assert.equal(await port.recipient(sender.id, recipient.phone, 'UGX'), null);
  });

  test('a merchant by till number: the 8 digits, with or without the M', async () => {
    const digits = shop.merchant_number.slice(1);
    assert.equal(tillNumber(digits), shop.merchant_number);
    for (const typed of [digits, shop.merchant_number, `m${digits}`]) {
      const found = await port.merchantByTill(typed);
      assert.deepEqual(found, {
        id: shop.id,
        number: shop.merchant_number,
        name: 'MAMA MBOGA STORES',
        currency: 'KES',
      });
    }
    assert.equal(await port.merchantByTill('1234567'), null, 'seven digits is not a till');
    const other = digits === '00000000' ? '11111111' : '00000000';
    assert.equal(await port.merchantByTill(other), null);
  });

  test('balances list every wallet, the main currency first', async () => {
    await openWallet(t, sender.id, 'USD');
    const balances = await port.balance(sender.id);
    assert.deepEqual(
      balances.map((wallet) => [wallet.currency, wallet.balance]),
      [
        ['KES', 5_000_000n],
        ['USD', 0n],
      ],
    );
    assert.equal(await port.mainCurrency(sender.id), 'KES');
  });

  test('at or above the one-time-code threshold: refused before the PIN, no code issued, no PIN try spent', async () => {
    await setting('payments.otp_threshold_minor', { KES: '200000' });
    try {
      const quote = await port.quoteTransfer(sender.id, {
        phone: recipient.phone,
        amount: 200_000n,
        currency: 'KES',
      });
      assert.equal(quote.kind, 'refused');
      assert.equal(quote.kind === 'refused' && quote.code, 'USSD_AMOUNT_NEEDS_APP');
      assert.equal(quote.kind === 'refused' && quote.details.threshold, 'KES 2,000.00');
      // Even a payment step that reached the PIN with a wrong one is refused on the amount, the PIN unread.
      const outcome = await port.transfer(call(sender.id), {
        phone: recipient.phone,
        amount: 250_000n,
        currency: 'KES',
        pin: '0000',
      });
      assert.equal(outcome.kind === 'refused' && outcome.code, 'USSD_AMOUNT_NEEDS_APP');
      const codes = await t.deps.database.db
        .select()
        .from(outboxEvents)
        .where(and(eq(outboxEvents.topic, 'otp.requested'), eq(outboxEvents.aggregateId, sender.id)));
      assert.equal(codes.length, 0, 'no one-time code was issued');
      // The first wrong PIN after it is the first counted: 4 tries left of 5.
      const wrong = await port.transfer(call(sender.id), {
        phone: recipient.phone,
        amount: 1_000n,
        currency: 'KES',
        pin: '0000',
      });
      assert.equal(wrong.kind === 'refused' && wrong.code, 'INVALID_PIN');
      assert.equal(wrong.kind === 'refused' && wrong.details.attempts_left, 4);
      const right = await port.transfer(call(sender.id), {
        phone: recipient.phone,
        amount: 1_000n,
        currency: 'KES',
        pin: TEST_PIN,
      });
      assert.equal(right.kind, 'done', 'the right PIN resets the count');
    } finally {
      await setting('payments.otp_threshold_minor', { KES: '10000000' });
    }
  });

  test('a payment step delivered again replays its stored outcome: one transfer, the same reference', async () => {
    const before = (await transactionsOf(sender.id)).length;
    const step = call(sender.id);
    const input = { phone: recipient.phone, amount: 150_000n, currency: 'KES', pin: TEST_PIN };
    const first = await port.transfer(step, input);
    const again = await port.transfer(step, input);
    assert.equal(first.kind, 'done');
    assert.equal(first.replayed, false);
    assert.equal(again.replayed, true);
    assert.deepEqual({ ...again, replayed: false }, first);
    assert.equal(first.kind === 'done' && first.amount, 150_000n);
    // p2p on KES_STANDARD: 0.5% (min KES 10) plus 15% duty on the fee.
    assert.equal(first.kind === 'done' && first.charges, 1_150n);
    const after = await transactionsOf(sender.id);
    assert.equal(after.length, before + 1);
    const record = after.find((item) => first.kind === 'done' && item.reference === first.reference);
    assert.equal(record?.channel, 'ussd');
    assert.equal(record?.type, 'p2p');
  });

  test('a wrong PIN is not stored: the same step with the right PIN then pays', async () => {
    const step = call(sender.id);
    const wrong = await port.transfer(step, {
      phone: recipient.phone,
      amount: 1_000n,
      currency: 'KES',
      pin: '0000',
    });
    assert.equal(wrong.kind === 'refused' && wrong.code, 'INVALID_PIN');
    const right = await port.transfer(step, {
      phone: recipient.phone,
      amount: 1_000n,
      currency: 'KES',
      pin: TEST_PIN,
    });
    assert.equal(right.kind, 'done');
    assert.equal(right.replayed, false);
  });

  test('a refusal recorded at the commit is replayed as the same refusal', async () => {
    const poor = await customerWithPin(t, 'Poor', 'Sender', '+254711000103');
    await openWallet(t, poor.id);
    const step = call(poor.id);
    const input = { phone: recipient.phone, amount: 5_000n, currency: 'KES', pin: TEST_PIN };
    const quote = await port.quoteTransfer(poor.id, input);
    assert.equal(quote.kind === 'refused' && quote.code, 'INSUFFICIENT_BALANCE', 'refused before the PIN');
    const first = await port.transfer(step, input);
    const again = await port.transfer(step, input);
    assert.equal(first.kind === 'refused' && first.code, 'INSUFFICIENT_BALANCE');
    assert.deepEqual({ ...again, replayed: false }, first);
    assert.equal(again.replayed, true);
    const records = await transactionsOf(poor.id);
    assert.equal(records.length, 1, 'one failed record');
    assert.equal(records[0]?.status, 'failed');
  });

  test('billers by category, airtime by network, and a bill quote with its fee', async () => {
    const categories = await port.billCategories(sender.id, 'KES');
    assert.ok(categories.includes('electricity'));
    assert.ok(!categories.includes('airtime'), 'airtime has its own journey');
    const water = await port.billers(sender.id, { category: 'water', currency: 'KES' });
    assert.deepEqual(
      water.map((biller) => biller.code),
      ['NAIROBI_WATER'],
    );
    assert.equal((await port.airtimeBiller(sender.id, '63902', 'KES'))?.code, 'AIRTIME_SAFARICOM');
    assert.equal((await port.airtimeBiller(sender.id, 'Airtel', 'KES'))?.code, 'AIRTIME_AIRTEL_KE');
    assert.equal(await port.airtimeBiller(sender.id, '99999', 'KES'), null);
    assert.equal(await port.airtimeBiller(sender.id, null, 'KES'), null);
    const quote = await port.quoteBill(sender.id, {
      billerCode: 'NAIROBI_WATER',
      account: '12345',
      amount: 100_000n,
    });
    // bill on KES_STANDARD: KES 30 fixed plus 15% duty.
    assert.deepEqual(quote, {
      kind: 'ok',
      amount: 100_000n,
      charges: 3_450n,
      total: 103_450n,
      currency: 'KES',
    });
    const low = await port.quoteBill(sender.id, {
      billerCode: 'NAIROBI_WATER',
      account: '12345',
      amount: 500n,
    });
    assert.equal(low.kind === 'refused' && low.code, 'AMOUNT_OUT_OF_RANGE');
    const bad = await port.checkBillAccount(sender.id, { billerCode: 'NAIROBI_WATER', account: '12' });
    assert.deepEqual(bad, { refused: 'INVALID_BILL_REFERENCE' });
  });

  test('the mini-statement: the last settled movements, signed, newest first', async () => {
    const lines = await port.miniStatement(sender.id);
    // Three transfers made above (the refused ones are not lines) and the first deposit.
    assert.deepEqual(
      lines.map((line) => [line.kind, line.amount]),
      [
        ['sent', -(1_000n + 1_150n)],
        ['sent', -(150_000n + 1_150n)],
        ['sent', -(1_000n + 1_150n)],
        ['deposit', 5_000_000n],
      ],
    );
    const received = await port.miniStatement(recipient.id);
    assert.deepEqual(
      received.map((line) => [line.kind, line.amount]),
      [
        ['received', 1_000n],
        ['received', 150_000n],
        ['received', 1_000n],
      ],
    );
  });

  test('a payment held for compliance review says so (held), not sent', async () => {
    const engine = t.application.transactions.engine;
    engine.setPaymentScreen({
      decide: async ({ plan }) => ({ outcome: plan.amount === 333_000n ? 'review' : 'allow' }),
    });
    try {
      const held = await port.transfer(call(sender.id), {
        phone: recipient.phone,
        amount: 333_000n,
        currency: 'KES',
        pin: TEST_PIN,
      });
      assert.equal(held.kind, 'done');
      assert.equal(held.kind === 'done' && held.held, true);
      const sent = await port.transfer(call(sender.id), {
        phone: recipient.phone,
        amount: 1_000n,
        currency: 'KES',
        pin: TEST_PIN,
      });
      assert.equal(sent.kind === 'done' && sent.held, false);
    } finally {
      engine.setPaymentScreen(null);
    }
  });
});
