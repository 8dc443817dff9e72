/**
 * A session that times out mid-journey leaves nothing half-done: the next dial starts over at the PIN screen, a step
 * arriving late for the lost session is not taken as an answer to its old screen, and no money moved.
 * Africa's Talking: our copy of the session expires after USSD_AT_SESSION_TTL_SECONDS. Hubtel: the gateway says
 * `Timeout`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { balanceOf, createCustomer, deposit, openWallet, TEST_PIN } from '../../../test/helpers/money.ts';
import { USSD_TEST_SECRET, ussdConfig, ussdDriver } from '../../../test/helpers/ussd.ts';

const TTL_SECONDS = 10;

describe('USSD timeouts mid-journey', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp(ussdConfig({ USSD_AT_SESSION_TTL_SECONDS: String(TTL_SECONDS) }));
  });
  after(async () => t.close());

  const ussdTransfers = async (customerId: string) =>
    (
      (await t.deps.database.db.execute(
        sql`select count(*)::int as n from transactions where customer_id = ${customerId} and channel = 'ussd'`,
      )) as unknown as { rows: { n: number }[] }
    ).rows[0]!.n;

  test("Africa's Talking: the session expires mid-transfer; a late step and a new dial start over", async () => {
    const payer = await createCustomer(t, 'Zawadi', '+254755000001');
    const payee = await createCustomer(t, 'Baraka', '+254755000002');
    const wallet = await openWallet(t, payer.id);
    await openWallet(t, payee.id);
    await deposit(t, wallet.id, 100_000);

    const session = ussdDriver(t, { phone: payer.phone, gateway: 'at' });
    await session.start();
    await session.send(TEST_PIN);
    await session.send('2');
    await session.send(payee.phone);
    const confirm = await session.send('100');
    assert.match(confirm.message, /Enter PIN to confirm/);

    await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000 + 500));
    // The gateway delivers the PIN for the confirmation it showed before the timeout: it is not a confirmation.
    const late = await session.send(TEST_PIN);
    assert.deepEqual([late.continue, late.message], [true, 'Welcome Zawadi. Enter your PIN']);
    const fresh = await ussdDriver(t, { phone: payer.phone, gateway: 'at' }).start();
    assert.deepEqual([fresh.continue, fresh.message], [true, 'Welcome Zawadi. Enter your PIN']);
    assert.equal(await ussdTransfers(payer.id), 0);
    assert.equal((await balanceOf(t, wallet.id)).balance, 100_000);
  });

  test('Hubtel: a Timeout mid-journey ends the session; a late Response and a new Initiation start over', async () => {
    const payer = await createCustomer(t, 'Imani', '+254755000003');
    const payee = await createCustomer(t, 'Jabali', '+254755000004');
    await deposit(t, (await openWallet(t, payer.id)).id, 100_000);
    await openWallet(t, payee.id);

    const session = ussdDriver(t, { phone: payer.phone, gateway: 'hubtel' });
    await session.start();
    await session.send(TEST_PIN);
    await session.send('2');
    await session.send(payee.phone);
    await session.send('100');
    const timeout = await t.app.inject({
      method: 'POST',
      url: `/api/v1/ussd/hubtel/${USSD_TEST_SECRET}`,
      headers: { 'content-type': 'application/json' },
      payload: {
        Type: 'Timeout',
        Message: '',
        ServiceCode: '713*2',
        Operator: 'mtn',
        ClientState: '',
        Mobile: payer.phone.slice(1),
        SessionId: session.sessionId,
        Sequence: 6,
      },
    });
    assert.equal(timeout.statusCode, 200, timeout.body);
    assert.equal(timeout.json().Type.toLowerCase(), 'release');

    const late = await session.send(TEST_PIN);
    assert.deepEqual([late.continue, late.message], [true, 'Welcome Imani. Enter your PIN']);
    const fresh = await ussdDriver(t, { phone: payer.phone, gateway: 'hubtel' }).start();
    assert.deepEqual([fresh.continue, fresh.message], [true, 'Welcome Imani. Enter your PIN']);
    assert.equal(await ussdTransfers(payer.id), 0);
  });
});
