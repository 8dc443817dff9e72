/**
 * The USSD account port over the customers module: who a number is, PIN tries on the app's counters (five wrong on
 * USSD lock the app's sign-in too, and the other way round), the PIN change with the app's policy, the language and
 * the channel switch (audited). The PIN appears in no log line.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, TEST_PIN } from '../../../test/helpers/money.ts';
import { assertNoPinInLogs } from '../../../test/helpers/ussd.ts';
import { rawRows } from '../../platform/db.ts';
import { ussdModule } from './index.ts';
import type { AccountPort } from './ussd.account.ts';

const WRONG_PIN = '8350';
const NEW_PIN = '4071';

describe('USSD account port', () => {
  let t: TestContext;
  let account: AccountPort;
  before(async () => {
    t = await startTestApp();
    account = t.application.system.api(ussdModule).services.account;
  });
  after(async () => t.close());

  const appLogin = (phone: string, pin: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/customer/login', payload: { phone, pin } });

  const context = (customerId: string) => ({
    actor: { type: 'customer' as const, id: customerId },
    ip: null,
    userAgent: 'ussd/at',
    requestId: 'ussd:at:test',
  });

  test('lookup: an unknown number is null; a customer is found with the channel on and the default language', async () => {
    assert.equal(await account.lookup('+254700000001'), null);
    const amina = await createCustomer(t, 'Amina', '+254711000001');
    assert.deepEqual(await account.lookup(amina.phone), {
      customerId: amina.id,
      enabled: true,
      language: null,
      active: true,
      firstName: 'Amina',
    });
    assert.equal(await account.greetingName(amina.id), 'Amina');
  });

  test('five wrong PINs on USSD lock the app sign-in too; the right PIN is then refused as locked on both', async () => {
    const baraka = await createCustomer(t, 'Baraka', '+254711000002');
    for (const left of [4, 3, 2, 1])
      assert.deepEqual(await account.verifyPin(baraka.id, WRONG_PIN), { result: 'wrong', triesLeft: left });
    assert.deepEqual(await account.verifyPin(baraka.id, WRONG_PIN), { result: 'locked' });
    assert.deepEqual(await account.verifyPin(baraka.id, TEST_PIN), { result: 'locked' });
    const app = await appLogin(baraka.phone, TEST_PIN);
    assert.equal(app.statusCode, 423, app.body);
    assert.equal(app.json().error_code, 'PIN_LOCKED');
  });

  test('wrong PINs on the app and on USSD count together; a right PIN resets the count', async () => {
    const chep = await createCustomer(t, 'Chep', '+254711000003');
    for (let i = 0; i < 2; i += 1) assert.equal((await appLogin(chep.phone, WRONG_PIN)).statusCode, 401);
    assert.deepEqual(await account.verifyPin(chep.id, WRONG_PIN), { result: 'wrong', triesLeft: 2 });
    assert.deepEqual(await account.verifyPin(chep.id, TEST_PIN), { result: 'ok' });
    assert.deepEqual(await account.verifyPin(chep.id, WRONG_PIN), { result: 'wrong', triesLeft: 4 });
  });

  test('a customer without a PIN, and a suspended one with the right PIN, are told apart from a wrong PIN', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/add',
      headers: bearer(t.adminToken),
      payload: { first_name: 'Dalia', last_name: 'Test', phone: '+254711000004' },
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.deepEqual(await account.verifyPin(created.json().id, TEST_PIN), { result: 'not_set' });

    const esther = await createCustomer(t, 'Esther', '+254711000005');
    const suspended = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/status',
      headers: bearer(t.adminToken),
      payload: { customer_id: esther.id, status: 'suspended', reason: 'fraud review' },
    });
    assert.ok(suspended.statusCode < 300, suspended.body);
    assert.deepEqual(await account.verifyPin(esther.id, TEST_PIN), { result: 'inactive' });
    assert.equal((await account.lookup(esther.phone))?.active, false);
  });

  test('PIN change: the app policy refuses a guessable PIN; the new PIN then signs in on the app, the old one not', async () => {
    const faith = await createCustomer(t, 'Faith', '+254711000006');
    assert.equal(account.pinProblem('1234'), 'sequence');
    assert.equal(account.pinProblem('1111'), 'repeat');
    assert.equal(account.pinProblem('1990'), 'year');
    assert.equal(account.pinProblem(NEW_PIN), null);
    assert.equal(await account.changePin(faith.id, '2580', context(faith.id)), 'common');
    assert.equal((await appLogin(faith.phone, TEST_PIN)).statusCode, 200, 'a refused change keeps the PIN');
    assert.equal(await account.changePin(faith.id, NEW_PIN, context(faith.id)), 'ok');
    assert.equal((await appLogin(faith.phone, TEST_PIN)).statusCode, 401);
    assert.equal((await appLogin(faith.phone, NEW_PIN)).statusCode, 200);
    assert.deepEqual(await account.verifyPin(faith.id, NEW_PIN), { result: 'ok' });
  });

  test('language and the channel switch are kept per customer; the switch is audited with who and why', async () => {
    const gift = await createCustomer(t, 'Gift', '+254711000007');
    await account.setLanguage(gift.id, 'fr');
    assert.equal((await account.lookup(gift.phone))?.language, 'fr');
    const off = await account.setEnabled(gift.id, false, { type: 'customer', id: gift.id }, 'on USSD');
    assert.equal(off.enabled, false);
    assert.equal(off.language, 'fr', 'switching the channel keeps the language');
    assert.deepEqual(off.changedBy, { type: 'customer', id: gift.id });
    const found = await account.lookup(gift.phone);
    assert.equal(found?.enabled, false);
    assert.equal(found?.language, 'fr');
    const rows = await rawRows<{ actor_type: string; before: unknown; after: unknown }>(
      t.deps.database.db,
      sql`select actor_type, before, after from audit_log
          where action = 'ussd.subscription_changed' and entity_id = ${gift.id}`,
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.actor_type, 'customer');
    assert.deepEqual(rows[0]!.before, { enabled: true });
    assert.deepEqual(rows[0]!.after, { enabled: false, reason: 'on USSD' });
    await assert.rejects(
      account.setEnabled('00000000-0000-4000-8000-000000000000', false, { type: 'user', id: null }, 'x'),
      (error: { errorCode?: string }) => error.errorCode === 'NOT_FOUND',
    );
  });

  test('no PIN entered here reaches a log line', () => {
    // Standing alone: ids and hashes in the logs are hex and may hold the same four digits inside them.
    assertNoPinInLogs(t.logs.text, [WRONG_PIN, NEW_PIN, TEST_PIN, '2580']);
  });
});
