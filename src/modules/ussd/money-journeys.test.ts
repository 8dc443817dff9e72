/**
 * The money journeys through each gateway's wire format: balance, send money (masked recipient, fee, PIN), an unknown
 * number, insufficient balance, a per-channel limit, a confirmation step delivered again and out of order (exactly one
 * transfer, the same screen), bill, merchant by till number, airtime and the mini-statement.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { deposit, openWallet, TEST_PIN } from '../../../test/helpers/money.ts';
import {
  assertNoPinInLogs,
  type Gateway,
  type UssdDriver,
  ussdConfig,
  ussdDriver,
} from '../../../test/helpers/ussd.ts';
import { approvedMerchant, customerWithPin } from '../../../test/helpers/ussd-money.ts';

const WRONG_PIN = '8350';

describe('USSD money journeys through the gateways', () => {
  let t: TestContext;
  let phones = 0;
  let john: { id: string; phone: string };

  async function customer(first: string, last: string, balanceMinor = 0) {
    phones += 1;
    const phone = `+2547110003${String(phones).padStart(2, '0')}`;
    const { id } = await customerWithPin(t, first, last, phone);
    const wallet = await openWallet(t, id);
    if (balanceMinor > 0) await deposit(t, wallet.id, balanceMinor);
    return { id, phone };
  }

  async function admin(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) {
    const response = await t.app.inject({ method, url, headers: bearer(t.adminToken), payload });
    assert.ok(response.statusCode < 300, `${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.json();
  }

  async function transactions(customerId: string) {
    const page = await admin('GET', `/api/v1/transaction/transaction?customer_id=${customerId}&limit=100`);
    return page.items as {
      reference: string;
      channel: string;
      status: string;
      type: string;
      amount: number;
    }[];
  }

  /** A session signed in at the main menu. */
  async function signedIn(phone: string, gateway: Gateway = 'at', network?: string): Promise<UssdDriver> {
    const session = ussdDriver(t, { phone, gateway, ...(network ? { network } : {}) });
    const welcome = await session.start();
    assert.equal(welcome.continue, true, welcome.message);
    const menu = await session.send(TEST_PIN);
    assert.match(menu.message, /^Main menu/);
    return session;
  }

  before(async () => {
    t = await startTestApp(ussdConfig());
    john = await customer('John', 'Mwangi', 0);
  });
  after(async () => t.close());

  test('balance: the wallets after the PIN given at sign-in, then the session ends', async () => {
    const amina = await customer('Amina', 'Otieno', 5_000_000);
    const session = await signedIn(amina.phone, 'hubtel');
    const screen = await session.send('1');
    assert.deepEqual([screen.continue, screen.message], [false, 'Your balance:\nKES 50,000.00']);
  });

  for (const gateway of ['at', 'hubtel', 'arkesel', 'nalo'] as const) {
    test(`${gateway}: send money shows the masked recipient and the fee, takes the PIN, records channel ussd`, async () => {
      const sender = await customer('Sara', 'Kilonzo', 5_000_000);
      const session = await signedIn(sender.phone, gateway);
      assert.equal((await session.send('2')).message, 'Send money\nEnter the phone number');
      const amount = await session.send(`0${john.phone.slice(4)}`);
      assert.equal(amount.message, `Send to J*** M*** (${john.phone})\nEnter amount (KES)`);
      const confirm = await session.send('1500');
      assert.equal(
        confirm.message,
        `Send KES 1,500.00 to J*** M*** (${john.phone}) Fee KES 11.50. Enter PIN to confirm, 0 to cancel`,
      );
      assert.ok(!confirm.message.includes('John') && !confirm.message.includes('Mwangi'));
      const done = await session.send(TEST_PIN);
      assert.equal(done.continue, false);
      const match = /^Sent KES 1,500\.00 to J\*\*\* M\*\*\*\. Fee KES 11\.50\. Ref ([A-Z0-9]{10})$/.exec(
        done.message,
      );
      assert.ok(match, done.message);
      const records = await transactions(sender.id);
      const record = records.find((item) => item.reference === match[1]);
      assert.equal(record?.channel, 'ussd');
      assert.equal(record?.type, 'p2p');
      assert.equal(record?.status, 'completed');
      assert.equal(records.filter((item) => item.type === 'p2p').length, 1);
    });
  }

  test('an unknown number is asked again; a wrong PIN at the confirmation says the tries left', async () => {
    const sender = await customer('Uma', 'Ndege', 5_000_000);
    const session = await signedIn(sender.phone);
    await session.send('2');
    const unknown = await session.send('0711999999');
    assert.deepEqual(
      [unknown.continue, unknown.message],
      [true, 'No customer with that number.\nSend money\nEnter the phone number'],
    );
    await session.send(john.phone);
    await session.send('20');
    const wrong = await session.send(WRONG_PIN);
    assert.equal(wrong.continue, true);
    assert.match(wrong.message, /^Wrong PIN\. Tries left: 4\.\nSend KES 20\.00 to J\*\*\* M\*\*\*/);
    assert.ok(wrong.message.length <= 160);
    const done = await session.send(TEST_PIN);
    assert.match(done.message, /^Sent KES 20\.00/);
  });

  test('a recipient with a name in another script is masked by grapheme; French screens stay within 160', async () => {
    const emile = await customer('Émile', 'Ñandú', 0);
    const sender = await customer('Fatou', 'Diallo', 5_000_000);
    const token = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/customer/login',
        payload: { phone: sender.phone, pin: TEST_PIN },
      })
    ).json().access_token;
    const set = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/ussd/subscription',
      headers: bearer(token),
      payload: { language: 'fr' },
    });
    assert.equal(set.statusCode, 200, set.body);
    const session = ussdDriver(t, { phone: sender.phone, gateway: 'nalo' });
    await session.start();
    await session.send(TEST_PIN);
    await session.send('2');
    assert.equal(
      (await session.send(emile.phone)).message,
      `Envoi a É*** Ñ*** (${emile.phone})\nEntrez le montant (KES)`,
    );
    await session.send('40000');
    const wrong = await session.send(WRONG_PIN);
    assert.equal(
      wrong.message,
      `PIN incorrect. Essais restants: 4.\nEnvoyer KES 40,000.00 a É*** Ñ*** (${emile.phone}), frais KES 115.00. ` +
        'PIN pour confirmer, 0 pour annuler',
    );
    assert.ok(wrong.message.length <= 160, `${wrong.message.length}`);
  });

  test('sending to oneself is refused at the amount', async () => {
    const self = await customer('Sami', 'Binafsi', 5_000_000);
    const session = await signedIn(self.phone);
    const refused = await session.walk('2', self.phone, '100');
    assert.deepEqual(
      [refused.continue, refused.message],
      [false, 'You cannot send money to your own wallet.'],
    );
  });

  test('insufficient balance is told at the amount, before the PIN', async () => {
    const poor = await customer('Pendo', 'Maskini', 100_000);
    const session = await signedIn(poor.phone, 'arkesel');
    await session.send('2');
    await session.send(john.phone);
    const refused = await session.send('1000');
    assert.equal(refused.continue, true);
    assert.equal(
      refused.message,
      `Not enough balance for this amount and the fee.\nSend to J*** M*** (${john.phone})\nEnter amount (KES)`,
    );
    assert.equal((await transactions(poor.id)).filter((item) => item.type === 'p2p').length, 0);
  });

  test('at the one-time-code threshold USSD points to the app before the PIN', async () => {
    await admin('PATCH', '/api/v1/admin/config/payments.otp_threshold_minor', { value: { KES: '300000' } });
    try {
      const sender = await customer('Otto', 'Mkubwa', 5_000_000);
      const session = await signedIn(sender.phone);
      await session.send('2');
      await session.send(john.phone);
      const refused = await session.send('3000');
      assert.equal(refused.continue, true);
      assert.match(
        refused.message,
        /^Payments of KES 3,000\.00 or more need a one-time code: please use the app, or enter a smaller amount\./,
      );
    } finally {
      await admin('PATCH', '/api/v1/admin/config/payments.otp_threshold_minor', {
        value: { KES: '10000000' },
      });
    }
  });

  test('a limit for the ussd channel refuses on USSD what the app may still send', async () => {
    const sender = await customer('Lima', 'Kikomo', 5_000_000);
    const limit = await admin('POST', '/api/v1/policy/transaction/add', {
      kyc_tier: 'basic',
      channel: 'ussd',
      transaction_type: '*',
      period: 'single',
      currency: 'KES',
      max_amount_minor: 100_000,
    });
    try {
      const session = await signedIn(sender.phone);
      await session.send('2');
      await session.send(john.phone);
      const refused = await session.send('1500');
      assert.equal(refused.continue, true);
      assert.match(refused.message, /^This amount is above your limit\.\n/);
      const fits = await session.send('900');
      assert.match(fits.message, /^Send KES 900\.00 to J\*\*\* M\*\*\*/);
      const app = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/customer/login',
        payload: { phone: sender.phone, pin: TEST_PIN },
      });
      const quote = await t.app.inject({
        method: 'POST',
        url: '/api/v1/wallet/transaction/quote',
        headers: bearer(app.json().access_token),
        payload: { to_phone: john.phone, amount: 150_000, currency: 'KES' },
      });
      assert.equal(quote.statusCode, 200, `the mobile channel has no such limit: ${quote.body}`);
    } finally {
      await admin('PATCH', `/api/v1/policy/transaction/${limit.id}`, { active: false });
    }
  });

  for (const times of [1, 2, 3, 4, 5]) {
    test(`the confirmation step delivered ${times} time(s), shuffled with the amount step: one transfer, one screen`, async () => {
      const sender = await customer('Dora', 'Rudia', 5_000_000);
      const session = await signedIn(sender.phone, times % 2 === 0 ? 'hubtel' : 'at');
      await session.send('2');
      await session.send(john.phone);
      const amountStep = session.requestFor('700');
      const confirm = await session.post(amountStep);
      assert.match(confirm.message, /^Send KES 700\.00/);
      const pinStep = session.requestFor(TEST_PIN);
      // The PIN step, the amount step again (late), the PIN step's repeats, the amount step once more.
      const order = [pinStep, amountStep, ...Array(times - 1).fill(pinStep), amountStep];
      const replies = new Map<string, Set<string>>();
      for (const request of order) {
        const reply = await session.post(request);
        const kind = request === pinStep ? 'pin' : 'amount';
        replies.set(kind, (replies.get(kind) ?? new Set()).add(`${reply.continue}|${reply.message}`));
      }
      assert.equal(replies.get('pin')?.size, 1, `one screen for the PIN step: ${[...replies.get('pin')!]}`);
      assert.match([...replies.get('pin')!][0]!, /^false\|Sent KES 700\.00 to J\*\*\* M\*\*\*\./);
      const sent = (await transactions(sender.id)).filter((item) => item.type === 'p2p');
      assert.equal(sent.length, 1, 'exactly one transfer');
      assert.equal(sent[0]?.channel, 'ussd');
    });
  }

  test('pay bill: category, biller, account number, amount, confirmation with the fee, PIN', async () => {
    const payer = await customer('Baraka', 'Bili', 5_000_000);
    const session = await signedIn(payer.phone, 'hubtel');
    const categories = await session.send('3');
    assert.equal(categories.message, 'Pay bill\n1. TV\n2. Electricity\n3. Water');
    assert.equal((await session.send('3')).message, 'Choose the biller\n1. Nairobi City Water and S');
    const account = await session.send('1');
    assert.equal(account.message, 'Nairobi City Water a\nEnter your account number');
    const bad = await session.send('12');
    assert.match(bad.message, /^That account number is not valid for this biller\./);
    await session.send('12345');
    const confirm = await session.send('1000');
    assert.equal(
      confirm.message,
      'Pay KES 1,000.00 to Nairobi City Water a (12345) Fee KES 34.50. Enter PIN to confirm, 0 to cancel',
    );
    const done = await session.send(TEST_PIN);
    assert.match(
      done.message,
      /^Paid KES 1,000\.00 to Nairobi City Water a \(12345\)\. Fee KES 34\.50\. Ref /,
    );
    const [record] = (await transactions(payer.id)).filter((item) => item.type === 'bill');
    assert.equal(record?.channel, 'ussd');
  });

  test('pay merchant by till number (the M optional), and refused once the tier lacks it on USSD', async () => {
    const owner = await customer('Mama', 'Mboga');
    const shop = await approvedMerchant(t, { ownerCustomerId: owner.id });
    const payer = await customer('Tatu', 'Duka', 5_000_000);
    const till = shop.merchant_number.slice(1);

    const session = await signedIn(payer.phone, 'arkesel');
    await session.send('4');
    const unknown = await session.send(till === '00000000' ? '11111111' : '00000000');
    assert.match(unknown.message, /^No merchant with that till number\./);
    assert.equal(
      (await session.send(till)).message,
      `Pay MAMA MBOGA STORES (${shop.merchant_number})\nEnter amount (KES)`,
    );
    const confirm = await session.send('250');
    assert.equal(
      confirm.message,
      `Pay KES 250.00 to MAMA MBOGA STORES (${shop.merchant_number}) Fee KES 0.00. Enter PIN to confirm, 0 to cancel`,
    );
    const done = await session.send(TEST_PIN);
    assert.match(done.message, /^Paid KES 250\.00 to MAMA MBOGA STORES\. Fee KES 0\.00\. Ref /);
    const [record] = (await transactions(payer.id)).filter((item) => item.type === 'merchant');
    assert.equal(record?.channel, 'ussd');

    // Staff take merchant payments off the Basic tier's USSD features: the same payment is refused before the PIN.
    const tier = await admin('GET', '/api/v1/customer/kyc/tier/basic');
    const features = tier.features as Record<string, string[]>;
    const ussd = (features.ussd ?? []).filter((feature) => feature !== 'qr_payment');
    await admin('PATCH', '/api/v1/customer/kyc/tier/basic', { features: { ...features, ussd } });
    try {
      const refused = await signedIn(payer.phone, 'arkesel');
      await refused.send('4');
      await refused.send(shop.merchant_number);
      const closed = await refused.send('250');
      assert.deepEqual(
        [closed.continue, closed.message],
        [false, 'This service is not available to your account on USSD. Please use the app.'],
      );
    } finally {
      await admin('PATCH', '/api/v1/customer/kyc/tier/basic', { features });
    }
  });

  test('airtime: for my number on a known network, or another number on a picked network', async () => {
    const buyer = await customer('Neema', 'Muda', 5_000_000);
    const mine = await signedIn(buyer.phone, 'at', '63902');
    assert.equal((await mine.send('5')).message, 'Buy airtime for\n1. My number\n2. Other number');
    assert.equal(
      (await mine.send('1')).message,
      `Airtime Safaricom airtime for ${buyer.phone}\nEnter amount (KES)`,
    );
    const confirm = await mine.send('50');
    assert.equal(
      confirm.message,
      `Buy KES 50.00 airtime for ${buyer.phone} (Safaricom airtime) Fee KES 34.50. Enter PIN to confirm, 0 to cancel`,
    );
    assert.match((await mine.send(TEST_PIN)).message, /^Bought KES 50\.00 airtime for \+2547/);

    const other = await signedIn(buyer.phone, 'nalo');
    await other.send('5');
    assert.equal((await other.send('2')).message, 'Enter the phone number');
    const networks = await other.send(john.phone);
    assert.equal(
      networks.message,
      'Choose the network\n1. Airtel Kenya airtime\n2. Safaricom airtime\n3. Telkom Kenya airtime',
    );
    await other.send('1');
    await other.send('20');
    const done = await other.send(TEST_PIN);
    assert.match(done.message, new RegExp(`^Bought KES 20\\.00 airtime for \\${john.phone}\\.`));
    const airtime = (await transactions(buyer.id)).filter((item) => item.type === 'bill');
    assert.equal(airtime.length, 2);
    assert.ok(airtime.every((item) => item.channel === 'ussd'));
  });

  test('mini-statement: the last five movements, signed, in the three languages', async () => {
    const holder = await customer('Mosi', 'Taarifa', 5_000_000);
    const session = await signedIn(holder.phone);
    await session.walk('2', john.phone, '100', TEST_PIN);
    const statement = await signedIn(holder.phone, 'hubtel');
    const screen = await statement.send('7');
    assert.equal(screen.continue, false);
    const lines = screen.message.split('\n');
    assert.equal(lines[0], 'Last 5 (KES):');
    assert.match(lines[1]!, /^\d\d\/\d\d Sent -111\.50$/);
    assert.match(lines[2]!, /^\d\d\/\d\d Deposit \+50,000\.00$/);
    for (const [language, header, sent] of [
      ['fr', 'Releve (KES):', 'Envoi'],
      ['sw', 'Miamala (KES):', 'Tuma'],
    ] as const) {
      const token = (
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/customer/login',
          payload: { phone: holder.phone, pin: TEST_PIN },
        })
      ).json().access_token;
      const set = await t.app.inject({
        method: 'PUT',
        url: '/api/v1/ussd/subscription',
        headers: bearer(token),
        payload: { language },
      });
      assert.equal(set.statusCode, 200, set.body);
      const localised = ussdDriver(t, { phone: holder.phone });
      await localised.start();
      await localised.send(TEST_PIN);
      const text = (await localised.send('7')).message.split('\n');
      assert.equal(text[0], header);
      assert.match(text[1]!, new RegExp(`^\\d\\d/\\d\\d ${sent} -111\\.50$`));
    }
  });

  test('no PIN typed in the money journeys reaches the logs', () => {
    assert.ok(t.logs.lines.length > 0, 'the requests were logged');
    assertNoPinInLogs(t.logs.text, [TEST_PIN, WRONG_PIN]);
  });
});
