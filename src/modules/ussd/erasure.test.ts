/**
 * A customer's erasure reaches the USSD module: their channel switch (with the reason staff wrote) goes, and the
 * gateway's end-of-session reports keep their counts but lose the customer's number; another subscriber's reports
 * keep theirs. A refused erasure changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, deposit, openWallet } from '../../../test/helpers/money.ts';
import { USSD_TEST_SECRET, ussdConfig } from '../../../test/helpers/ussd.ts';

describe('USSD data in a customer erasure', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp(ussdConfig());
  });
  after(async () => t.close());

  const rows = async <T>(query: ReturnType<typeof sql>): Promise<T[]> =>
    ((await t.deps.database.db.execute(query)) as unknown as { rows: T[] }).rows;

  const report = (sessionId: string, phoneNumber: string) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/ussd/at/${USSD_TEST_SECRET}/events`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        date: '2026-12-07 08:10:23',
        sessionId,
        serviceCode: '*384*123#',
        networkCode: '63902',
        phoneNumber,
        status: 'Success',
        cost: 'KES 0.10',
        durationInMillis: '9000',
        hopsCount: '3',
        input: '1',
        lastAppResponse: 'END Goodbye',
        errorMessage: '',
      }).toString(),
    });

  const erase = (customerId: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/erase',
      headers: bearer(t.adminToken),
      payload: { customer_id: customerId, reason: 'data subject request' },
    });

  test('the switch goes and the reports forget the number, only once the erasure goes ahead', async () => {
    const leaving = await createCustomer(t, 'Leaving', '+254744000001');
    await createCustomer(t, 'Staying', '+254744000002');
    const off = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/ussd/subscription/${leaving.id}`,
      headers: bearer(t.adminToken),
      payload: { enabled: false, reason: 'SIM swap reported by Leaving at the Westlands branch' },
    });
    assert.equal(off.statusCode, 200, off.body);
    for (const [id, phone] of [
      ['ATUid_erase_1', '+254744000001'],
      ['ATUid_erase_2', '254744000001'],
      ['ATUid_erase_3', '+254744000002'],
    ] as const)
      assert.equal((await report(id, phone)).statusCode, 200);

    // Money in the wallet refuses the erasure: nothing of USSD's is forgotten yet.
    const wallet = await openWallet(t, leaving.id);
    // 1,000.00 cash out costs a fee of 35.00 and duty of 5.25 (KES_STANDARD): 1,040.25 empties the wallet.
    await deposit(t, wallet.id, 104_025);
    assert.equal((await erase(leaving.id)).statusCode, 409);
    const kept = await rows<{ n: number }>(
      sql`select count(*)::int as n from ussd_session_reports where phone_number like '%254744000001'`,
    );
    assert.equal(kept[0]!.n, 2);

    const withdrawn = await t.app.inject({
      method: 'POST',
      url: '/api/v1/wallet/transaction/withdraw',
      headers: { ...bearer(t.adminToken), 'idempotency-key': 'erase-withdraw-0001' },
      payload: { wallet_id: wallet.id, amount: 100_000, currency: 'KES' },
    });
    assert.equal(withdrawn.statusCode, 201, withdrawn.body);
    const erased = await erase(leaving.id);
    assert.equal(erased.statusCode, 200, erased.body);

    assert.deepEqual(
      await rows(sql`select * from ussd_profiles where customer_id = ${leaving.id}`),
      [],
      'the switch and its reason are gone',
    );
    const reports = await rows<{ session_id: string; phone_number: string | null }>(
      sql`select session_id, phone_number from ussd_session_reports
          where session_id like 'ATUid_erase_%' order by session_id`,
    );
    assert.deepEqual(reports, [
      { session_id: 'ATUid_erase_1', phone_number: null },
      { session_id: 'ATUid_erase_2', phone_number: null },
      { session_id: 'ATUid_erase_3', phone_number: '+254744000002' },
    ]);
  });
});
