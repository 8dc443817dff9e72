/**
 * The home journey and the account journeys through each gateway's wire format: PIN sign-in and the main menu's
 * pages, five wrong PINs locking USSD and the app alike, changing the PIN, switching the language, and the opt-out
 * after which a session gets only the notice until staff switch the channel back on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, TEST_PIN } from '../../../test/helpers/money.ts';
import { assertNoPinInLogs, GATEWAY_NAMES, ussdConfig, ussdDriver } from '../../../test/helpers/ussd.ts';

const WRONG_PIN = '8350';
const NEW_PIN = '4071';

describe('USSD home and account journeys', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp(ussdConfig());
  });
  after(async () => t.close());

  const appLogin = (phone: string, pin: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/customer/login', payload: { phone, pin } });

  for (const [index, gateway] of GATEWAY_NAMES.entries()) {
    test(`${gateway}: a known number signs in with the PIN and reaches the main menu; 00 comes back to it`, async () => {
      const customer = await createCustomer(t, 'Jabari', `+25473300000${index}`);
      const session = ussdDriver(t, { phone: customer.phone, gateway });
      const welcome = await session.start();
      assert.equal(welcome.status, 200);
      assert.deepEqual([welcome.continue, welcome.message], [true, 'Welcome Jabari. Enter your PIN']);
      const menu = await session.send(TEST_PIN);
      assert.equal(menu.continue, true, menu.message);
      assert.equal(
        menu.message,
        'Main menu\n1. Balance\n2. Send money\n3. Pay bill\n4. Pay merchant\n5. Buy airtime\n6. Loans\n' +
          '7. Mini-statement\n8. Change PIN\n9. Language\n10. Stop USSD\n11. Agent',
      );
      assert.equal((await session.send('9')).message.split('\n')[0], 'Choose your language');
      assert.equal((await session.send('00')).message.split('\n')[0], 'Main menu');
    });
  }

  test('the main menu pages with 98 and 0 where it does not fit one screen (Swahili)', async () => {
    const customer = await createCustomer(t, 'Kesi', '+254733000011');
    const set = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/ussd/subscription',
      headers: bearer(customer.token),
      payload: { language: 'sw' },
    });
    assert.equal(set.statusCode, 200, set.body);
    const session = ussdDriver(t, { phone: customer.phone });
    assert.equal((await session.start()).message, 'Karibu Kesi. Weka PIN yako');
    const first = await session.send(TEST_PIN);
    const lines = first.message.split('\n');
    assert.equal(lines[0], 'Menyu kuu');
    assert.equal(lines.at(-1), '98. Zaidi');
    assert.ok(!first.message.includes('10. '), first.message);
    assert.ok(first.message.length <= 160);
    const second = await session.send('98');
    assert.equal(second.message, 'Menyu kuu\n10. Sitisha USSD\n11. Wakala\n0. Rudi');
    assert.equal((await session.send('0')).message, first.message);
    // An option of the second page picked from it opens its journey.
    await session.send('98');
    assert.match((await session.send('10')).message, /^Sitisha huduma ya USSD/);
  });

  test('a wrong PIN is asked again with the tries left; the fifth locks USSD and the app', async () => {
    const customer = await createCustomer(t, 'Lulu', '+254733000012');
    const session = ussdDriver(t, { phone: customer.phone, gateway: 'hubtel' });
    await session.start();
    for (const left of [4, 3, 2, 1]) {
      const retry = await session.send(WRONG_PIN);
      assert.equal(retry.continue, true);
      assert.equal(retry.message, `Wrong PIN. Tries left: ${left}.\nWelcome Lulu. Enter your PIN`);
    }
    const locked = await session.send(WRONG_PIN);
    assert.deepEqual(
      [locked.continue, locked.message],
      [false, 'Your PIN is locked. Reset it in the app or visit an agent.'],
    );
    const again = ussdDriver(t, { phone: customer.phone });
    await again.start();
    const refused = await again.send(TEST_PIN);
    assert.deepEqual([refused.continue, refused.message.startsWith('Your PIN is locked')], [false, true]);
    const app = await appLogin(customer.phone, TEST_PIN);
    assert.equal(app.statusCode, 423, app.body);
    assert.equal(app.json().error_code, 'PIN_LOCKED');
  });

  test('change PIN: current, a guessable one refused, a mismatch, then the new PIN works on the app and USSD', async () => {
    const customer = await createCustomer(t, 'Malik', '+254733000013');
    const session = ussdDriver(t, { phone: customer.phone, gateway: 'arkesel' });
    await session.start();
    await session.send(TEST_PIN);
    assert.equal((await session.send('8')).message, 'Enter your current PIN');
    const wrong = await session.send(WRONG_PIN);
    assert.equal(wrong.message, 'Wrong PIN. Tries left: 4.\nEnter your current PIN');
    assert.equal((await session.send(TEST_PIN)).message, 'Enter your new PIN (4 to 6 digits)');
    const weak = await session.send('1234');
    assert.equal(
      weak.message,
      'This PIN is too easy to guess. Choose another.\nEnter your new PIN (4 to 6 digits)',
    );
    const same = await session.send(TEST_PIN);
    assert.match(same.message, /^The new PIN must differ from the current one\./);
    assert.equal((await session.send(NEW_PIN)).message, 'Enter your new PIN again');
    const mismatch = await session.send('4072');
    assert.match(mismatch.message, /^The PINs do not match\./);
    const done = await session.send(NEW_PIN);
    assert.deepEqual(
      [done.continue, done.message],
      [false, 'Your PIN has been changed. Use it in the app and on USSD.'],
    );
    assert.equal((await appLogin(customer.phone, TEST_PIN)).statusCode, 401);
    assert.equal((await appLogin(customer.phone, NEW_PIN)).statusCode, 200);
    const next = ussdDriver(t, { phone: customer.phone, gateway: 'nalo' });
    await next.start();
    assert.match((await next.send(NEW_PIN)).message, /^Main menu/);
  });

  test('language: French applies at once and in the next session', async () => {
    const customer = await createCustomer(t, 'Nadia', '+254733000014');
    const session = ussdDriver(t, { phone: customer.phone });
    await session.start();
    await session.send(TEST_PIN);
    assert.equal(
      (await session.send('9')).message,
      'Choose your language\n1. English\n2. Francais\n3. Kiswahili',
    );
    const french = await session.send('2');
    assert.equal(french.continue, true);
    assert.equal(french.message.split('\n')[0], 'Menu principal');
    assert.ok(french.message.includes('1. Solde'), french.message);
    assert.ok(french.message.endsWith('98. Suite'), french.message);
    const next = ussdDriver(t, { phone: customer.phone, gateway: 'hubtel' });
    assert.equal((await next.start()).message, 'Bienvenue Nadia. Entrez votre PIN');
    const wrong = await next.send(WRONG_PIN);
    assert.match(wrong.message, /^PIN incorrect\. Essais restants: 4\./);
  });

  test('opt-out: the next session gets only the notice, the app still signs in, staff switch it back on', async () => {
    const customer = await createCustomer(t, 'Omari', '+254733000015');
    const session = ussdDriver(t, { phone: customer.phone });
    await session.start();
    await session.send(TEST_PIN);
    const confirm = await session.send('10');
    assert.match(confirm.message, /^Stop USSD banking for this number\?/);
    assert.match(confirm.message, /\n1\. Yes, stop it\n2\. No$/);
    // "No" goes back to the menu and changes nothing.
    assert.match((await session.send('2')).message, /^Main menu/);
    await session.send('10');
    const stopped = await session.send('1');
    assert.deepEqual(
      [stopped.continue, stopped.message],
      [false, 'USSD banking is now off for this number. To turn it back on, use the app or ask our staff.'],
    );

    for (const gateway of GATEWAY_NAMES) {
      const notice = await ussdDriver(t, { phone: customer.phone, gateway }).start();
      assert.deepEqual(
        [notice.continue, notice.message],
        [false, 'USSD banking is off for this number. Turn it on in the app or ask us.'],
        gateway,
      );
    }
    assert.equal((await appLogin(customer.phone, TEST_PIN)).statusCode, 200, 'only USSD is off');

    const on = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/ussd/subscription/${customer.id}`,
      headers: bearer(t.adminToken),
      payload: { enabled: true, reason: 'customer asked at the branch' },
    });
    assert.equal(on.statusCode, 200, on.body);
    const welcome = await ussdDriver(t, { phone: customer.phone }).start();
    assert.deepEqual([welcome.continue, welcome.message], [true, 'Welcome Omari. Enter your PIN']);
  });

  test('no PIN typed in these sessions reaches a log line', () => {
    // Standing alone: ids and hashes in the logs are hex and may hold the same four digits inside them.
    assertNoPinInLogs(t.logs.text, [TEST_PIN, WRONG_PIN, NEW_PIN, '4072']);
  });
});
