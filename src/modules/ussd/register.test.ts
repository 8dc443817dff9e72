/**
 * Registration of an unknown number through the gateways' wire formats (test/helpers/ussd.ts) against the real
 * database and the Fineract fake: a bank client registers over Africa's Talking and is active at once, then signs in
 * on USSD and in the app with the PIN chosen; a declared identity over Hubtel, in French, ends in review with its
 * SMS; the terms link goes by SMS when the terms screen is shown; weak and mismatched PINs get retry screens; a
 * declined consent opens nothing; the gateway delivering the last step again has one effect; Arkesel and Nalo walk
 * the same journey in Swahili.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { FakeFineract } from '../../../test/fakes/fineract.ts';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { assertNoPinInLogs, type Gateway, ussdConfig, ussdDriver } from '../../../test/helpers/ussd.ts';
import { rawRows } from '../../platform/db.ts';
import { SCREEN_LIMIT } from './ussd.menu.ts';
import { screenLength } from './ussd.render.ts';

const PIN = '482913';

describe('USSD: registration of an unknown number', () => {
  let t: TestContext;
  let fake: FakeFineract;
  let closeFake: () => Promise<void>;
  const db = () => t.deps.database.db;

  before(async () => {
    fake = new FakeFineract();
    const started = await fake.start();
    closeFake = started.close;
    t = await startTestApp(
      ussdConfig({
        FINERACT_BASE_URL: started.baseUrl,
        FINERACT_USERNAME: 'mifos',
        FINERACT_PASSWORD: 'password',
        // Arkesel and Nalo send no step number: the same input within the window is a retry (see the last tests).
        USSD_DUPLICATE_WINDOW_MS: '300',
      }),
      // Jobs run: the SMS are queued with their delivery jobs.
      { startJobs: true },
    );
  });
  after(async () => {
    await t.close();
    await closeFake();
  });

  async function registrationsOf(phone: string) {
    return rawRows<{ state: string; channel: string; path: string | null; language: string }>(
      db(),
      sql`select state, channel, path, language from registrations where phone = ${phone}`,
    );
  }

  async function smsTo(phone: string, template: string) {
    return rawRows<{ body: string }>(
      db(),
      sql`select body from notifications where address = ${phone} and channel = 'sms' and template_code = ${template}`,
    );
  }

  /** Every screen of a walk, checked against the screen limit as it comes. */
  function driver(phone: string, gateway: Gateway) {
    const session = ussdDriver(t, { phone, gateway });
    const checked = async (screen: Promise<{ continue: boolean; message: string; status: number }>) => {
      const shown = await screen;
      assert.equal(shown.status, 200, shown.message);
      assert.ok(
        screenLength(shown.message) <= SCREEN_LIMIT,
        `${screenLength(shown.message)}: ${shown.message}`,
      );
      return shown;
    };
    return {
      start: () => checked(session.start()),
      send: (input: string) => checked(session.send(input)),
      repeat: () => checked(session.repeat()),
    };
  }

  test("Africa's Talking: a bank client is active at once, then signs in on USSD and in the app", async () => {
    const phone = '+254711000701';
    fake.addClient({
      id: 701,
      firstname: 'Wanjiku',
      lastname: 'Otieno',
      dateOfBirth: '1990-04-07',
      mobileNo: '0711000701',
      externalId: '30000701',
    });
    const session = driver(phone, 'at');
    const first = await session.start();
    assert.equal(first.continue, true);
    assert.match(first.message, /Choose your language:\n1\.? English\n2\.? Francais\n3\.? Kiswahili/);
    assert.match((await session.send('1')).message, /full name/);
    assert.match((await session.send('Wanjiku')).message, /at least two names/);
    assert.match((await session.send('Wanjiku Otieno')).message, /national ID/);
    assert.match((await session.send('30000701')).message, /date of birth/);
    assert.match((await session.send('31021990')).message, /DDMMYYYY/, 'an impossible date is refused');
    const terms = await session.send('07041990');
    assert.match(terms.message, /terms and privacy policy[\s\S]*1\.? Accept\n2\.? Decline/);
    const [link] = await smsTo(phone, 'onboarding.ussd_terms');
    assert.match(link!.body, /\/api\/v1\/mobile\/register\/documents\?language=en/, 'the terms link, by SMS');
    assert.match((await session.send('1')).message, /Choose a PIN/);
    assert.match((await session.send('1234')).message, /too easy to guess/, 'the app PIN rule');
    assert.match((await session.send(PIN)).message, /PIN again/);
    assert.match((await session.send('739164')).message, /do not match/);
    const done = await session.send(PIN);
    assert.equal(done.continue, false);
    assert.match(done.message, /Your account is ready/);
    // The gateway delivering the last step again has one effect and the same screen.
    assert.deepEqual(await session.repeat(), done);
    assert.deepEqual(await registrationsOf(phone), [
      { state: 'completed', channel: 'ussd', path: 'cbs', language: 'en' },
    ]);

    const home = driver(phone, 'at');
    assert.equal((await home.start()).continue, true);
    const menu = await home.send(PIN);
    assert.equal(menu.continue, true, menu.message);
    assert.doesNotMatch(menu.message, /Wrong PIN|locked/);
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/customer/login',
      payload: { phone, pin: PIN },
    });
    assert.equal(login.statusCode, 200, login.body);
  });

  test('Hubtel, in French: a declared identity ends in review, with its SMS', async () => {
    const phone = '+254711000702';
    const session = driver(phone, 'hubtel');
    await session.start();
    assert.match((await session.send('2')).message, /nom complet/);
    await session.send("Zoë N'Dri Kouassi");
    await session.send('B7000702');
    assert.match((await session.send('15081988')).message, /Accepter[\s\S]*Refuser/);
    await session.send('1');
    await session.send(PIN);
    const done = await session.send(PIN);
    assert.equal(done.continue, false);
    assert.match(done.message, /Nous verifions vos informations/);
    assert.deepEqual(await registrationsOf(phone), [
      { state: 'in_review', channel: 'ussd', path: null, language: 'fr' },
    ]);
    const [review] = await smsTo(phone, 'onboarding.ussd_review');
    assert.match(review!.body, /inscription/);
    const [link] = await smsTo(phone, 'onboarding.ussd_terms');
    assert.match(link!.body, /conditions/);

    // Dialling again while in review starts the registration, and its submission answers the review.
    const again = driver(phone, 'hubtel');
    await again.start();
    for (const input of ['2', "Zoë N'Dri Kouassi", 'B7000702', '15081988', '1', PIN])
      assert.equal((await again.send(input)).continue, true);
    assert.match((await again.send(PIN)).message, /Nous verifions/);
    assert.equal((await registrationsOf(phone)).length, 1);
  });

  test('a declined consent opens nothing', async () => {
    const phone = '+254711000703';
    const session = driver(phone, 'at');
    await session.start();
    for (const input of ['1', 'Amina Njeri', '30000703', '01011995']) await session.send(input);
    const declined = await session.send('2');
    assert.equal(declined.continue, false);
    assert.match(declined.message, /did not accept the terms/);
    assert.deepEqual(await registrationsOf(phone), []);
  });

  for (const gateway of ['arkesel', 'nalo'] as const)
    test(`${gateway}, in Swahili: the journey walks to review`, async () => {
      const phone = gateway === 'arkesel' ? '+254711000704' : '+254711000705';
      const session = driver(phone, gateway);
      assert.match((await session.start()).message, /Kiswahili/);
      assert.match((await session.send('3')).message, /jina lako kamili/);
      for (const input of ['Baraka Mwangi', `C${phone.slice(-7)}`, '20121992', '1', PIN])
        assert.equal((await session.send(input)).continue, true);
      // The PIN again at once is the gateway retrying the step: the same screen, nothing submitted.
      assert.match((await session.send(PIN)).message, /Weka PIN yako tena/);
      assert.deepEqual(await registrationsOf(phone), []);
      // A person types it again seconds later (past USSD_DUPLICATE_WINDOW_MS): the answer.
      await new Promise((resolve) => setTimeout(resolve, 400));
      const done = await session.send(PIN);
      assert.equal(done.continue, false);
      assert.match(done.message, /Tunakagua taarifa zako/);
      assert.equal((await registrationsOf(phone))[0]?.language, 'sw');
    });

  test('no PIN typed in these registrations reaches a log line', () => {
    assertNoPinInLogs(t.logs.text, [PIN, '739164']);
  });
});
