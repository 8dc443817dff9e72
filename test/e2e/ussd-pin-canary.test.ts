/**
 * PIN canary for the USSD channel: distinctive PINs typed in a registration, a sign-in, a transfer confirmation and a
 * PIN change (wrong ones included) must not be found afterwards in the logs, in the USSD sessions kept in Redis, or
 * anywhere in the database (every column of every table, as text). PINs live only as keyed hashes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { startTestApp, type TestContext } from '../helpers/app.ts';
import { createCustomer, deposit, openWallet } from '../helpers/money.ts';
import { digitsStandAlone } from '../helpers/secrets.ts';
import { assertNoPinInLogs, ussdConfig, ussdDriver } from '../helpers/ussd.ts';

const SIGN_IN_PIN = '861475';
const WRONG_PIN = '730582';
const NEW_PIN = '592736';
const REGISTRATION_PIN = '418309';
const PINS = [SIGN_IN_PIN, WRONG_PIN, NEW_PIN, REGISTRATION_PIN];

let t: TestContext;

before(async () => {
  t = await startTestApp(ussdConfig());
});
after(async () => t?.close());

describe('USSD PIN canary', () => {
  it('leaves no typed PIN in the logs, the session store or the database', async () => {
    const payer = await createCustomer(t, 'Canary', '+254733555001', SIGN_IN_PIN);
    const payee = await createCustomer(t, 'Payee', '+254733555002');
    await deposit(t, (await openWallet(t, payer.id)).id, 500_000);
    await openWallet(t, payee.id);

    // A wrong PIN, then sign-in, a transfer confirmed with the PIN, a PIN change, all kept open (no END yet for the
    // last session) so the session store still holds them when it is searched.
    const send = ussdDriver(t, { phone: payer.phone, gateway: 'hubtel' });
    await send.start();
    assert.match((await send.send(WRONG_PIN)).message, /Wrong PIN/);
    assert.equal((await send.send(SIGN_IN_PIN)).continue, true);
    await send.send('2');
    await send.send(payee.phone);
    assert.match((await send.send('150')).message, /PIN/);
    const sent = await send.send(SIGN_IN_PIN);
    assert.match(sent.message, /^Sent /, sent.message);

    const change = ussdDriver(t, { phone: payer.phone, gateway: 'at' });
    await change.start();
    await change.send(SIGN_IN_PIN);
    await change.send('8');
    await change.send(SIGN_IN_PIN);
    await change.send(NEW_PIN);
    const changed = await change.send(NEW_PIN);
    assert.equal(changed.continue, false, changed.message);

    const register = ussdDriver(t, { phone: '+254733555003', gateway: 'arkesel' });
    await register.start();
    for (const input of ['1', 'Ruth Achieng', '30555003', '12031994', '1', REGISTRATION_PIN]) {
      const screen = await register.send(input);
      assert.equal(screen.continue, true, screen.message);
    }
    // The registration waits on its second PIN: its session is in the store with the first one typed.

    assertNoPinInLogs(t.logs.text, PINS);

    if (t.deps.store.kind === 'redis') {
      const redis = new Redis(process.env.REDIS_URL!);
      try {
        const keys = await redis.keys(`${t.config.REDIS_KEY_PREFIX}ussd:*`);
        assert.ok(keys.length >= 3, `sessions in Redis: ${keys.length}`);
        for (const key of keys) {
          const value = (await redis.type(key)) === 'string' ? ((await redis.get(key)) ?? '') : '';
          for (const pin of PINS)
            assert.equal(digitsStandAlone(value, pin).found, false, `${key} holds a PIN`);
        }
      } finally {
        redis.disconnect();
      }
    }

    const tables = (await t.deps.database.db.execute(
      sql`select table_name from information_schema.tables
          where table_schema = 'public' and table_type = 'BASE TABLE'`,
    )) as unknown as { rows: { table_name: string }[] };
    assert.ok(tables.rows.length > 50);
    for (const { table_name: table } of tables.rows) {
      const rows = (await t.deps.database.db.execute(
        sql`select row_to_json(t)::text as row from ${sql.identifier(table)} t`,
      )) as unknown as { rows: { row: string }[] };
      for (const { row } of rows.rows)
        for (const pin of PINS)
          assert.equal(digitsStandAlone(row, pin).found, false, `${table} holds a PIN: ${row}`);
    }
  });
});
