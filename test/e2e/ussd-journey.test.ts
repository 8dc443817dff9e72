/**
 * The USSD channel through the typed client only (clients/typescript) against a listening API: a teller sets a
 * customer up, the customer checks a balance and sends money over Hubtel's JSON and Africa's Talking's form wire
 * formats, picks French for the menus from the app, staff switch the channel off (the customer cannot switch it back
 * on, a dial gets only the notice) and on again, and the end-of-session reports are listed and summed.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type CodeForgeClient, createCodeForgeClient } from '../../clients/typescript/index.ts';
import { startTestApp, type TestContext } from '../helpers/app.ts';
import { accessToken, expectData } from '../helpers/client.ts';
import { USSD_TEST_SECRET, ussdConfig } from '../helpers/ussd.ts';

const PIN = '8351';
const key = () => ({ 'Idempotency-Key': randomUUID() });

describe('USSD through the typed client', () => {
  let t: TestContext;
  let baseUrl: string;
  const client = (token?: string): CodeForgeClient => createCodeForgeClient({ baseUrl, token });
  let admin: CodeForgeClient;
  const people: Record<'achieng' | 'otieno', { id: string; phone: string; me: CodeForgeClient }> =
    {} as never;

  before(async () => {
    t = await startTestApp(ussdConfig());
    baseUrl = await t.app.listen({ host: '127.0.0.1', port: 0 });
    admin = client(t.adminToken);
    for (const [name, phone, cash] of [
      ['achieng', '+254766000001', 500_000],
      ['otieno', '+254766000002', 0],
    ] as const) {
      const created = expectData(
        await admin.POST('/api/v1/customer/customer/add', {
          body: { first_name: name[0]!.toUpperCase() + name.slice(1), last_name: 'Ouma', phone },
        }),
        201,
      );
      const wallet = expectData(
        await admin.POST('/api/v1/wallet/wallet/create', {
          body: { customer_id: created.id, currency: 'KES' },
        }),
        201,
      );
      if (cash > 0)
        expectData(
          await admin.POST('/api/v1/wallet/transaction/deposit', {
            params: { header: key() },
            body: { wallet_id: wallet.id, amount: cash, currency: 'KES' },
          }),
          201,
        );
      const pin = await admin.POST('/api/v1/customer/credentials/pin', {
        body: { customer_id: created.id, pin: PIN },
      });
      assert.equal(pin.response.status, 204);
      const login = await client().POST('/api/v1/auth/customer/login', { body: { phone, pin: PIN } });
      people[name] = { id: created.id, phone, me: client(accessToken(expectData(login, 200))) };
    }
  });
  after(async () => t?.close());

  /** One Hubtel session: each input in turn, answering the screens. */
  async function hubtel(phone: string, inputs: string[]) {
    const sessionId = randomUUID().replaceAll('-', '');
    const screens: { type: string; message: string }[] = [];
    for (const [index, input] of [null, ...inputs].entries()) {
      const answer = await client().POST('/api/v1/ussd/{gateway}/{secret}', {
        params: { path: { gateway: 'hubtel', secret: USSD_TEST_SECRET } },
        body: {
          Type: input === null ? 'Initiation' : 'Response',
          Message: input ?? '*713*2#',
          ServiceCode: '713*2',
          Operator: 'mtn',
          ClientState: '',
          Mobile: phone.slice(1),
          SessionId: sessionId,
          Sequence: index + 1,
        },
      });
      const reply = expectData(answer, 200) as { Type: string; Message: string };
      screens.push({ type: reply.Type, message: reply.Message });
    }
    return screens;
  }

  test('balance and a transfer over Hubtel, a balance over the Africa’s Talking form', async () => {
    const { achieng, otieno } = people;
    const balance = await hubtel(achieng.phone, [PIN, '1']);
    assert.deepEqual(
      balance.map((screen) => screen.type),
      ['response', 'response', 'release'],
    );
    assert.match(balance[2]!.message, /KES 5,000\.00/);

    const sent = await hubtel(achieng.phone, [PIN, '2', otieno.phone, '1500', PIN]);
    assert.equal(sent.at(-1)!.type, 'release');
    assert.match(sent.at(-1)!.message, /^Sent KES 1,500\.00 to O\*+ O\*+\./);
    const history = expectData(
      await admin.GET('/api/v1/transaction/transaction', {
        params: { query: { customer_id: achieng.id, limit: 5 } as never },
      }),
      200,
    ) as { items: { amount: number; channel: string; type: string }[] };
    const transfer = history.items.find((item) => item.type === 'p2p');
    assert.deepEqual([transfer?.amount, transfer?.channel], [150_000, 'ussd']);

    const form = await client().POST('/api/v1/ussd/{gateway}/{secret}', {
      params: { path: { gateway: 'at', secret: USSD_TEST_SECRET } },
      body: {
        sessionId: `ATUid_${randomUUID()}`,
        phoneNumber: otieno.phone,
        serviceCode: '*384*123#',
        text: '',
      },
      bodySerializer: (body) => new URLSearchParams(body as Record<string, string>).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      parseAs: 'text',
    });
    assert.equal(form.response.status, 200);
    assert.equal(form.data, 'CON Welcome Otieno. Enter your PIN');
  });

  test('the customer picks French in the app; staff switch the channel off and on', async () => {
    const { achieng } = people;
    expectData(await achieng.me.PUT('/api/v1/ussd/subscription', { body: { language: 'fr' } }), 200);
    assert.match((await hubtel(achieng.phone, []))[0]!.message, /Bienvenue|Entrez/);

    const off = expectData(
      await admin.PUT('/api/v1/ussd/subscription/{customer_id}', {
        params: { path: { customer_id: achieng.id } },
        body: { enabled: false, reason: 'SIM swap reported at the branch' },
      }),
      200,
    );
    assert.equal(off.enabled, false);
    const refused = await achieng.me.PUT('/api/v1/ussd/subscription', { body: { enabled: true } });
    assert.equal(refused.response.status, 409);
    assert.equal((refused.error as { error_code: string }).error_code, 'USSD_SWITCHED_OFF_BY_STAFF');
    const notice = await hubtel(achieng.phone, []);
    assert.equal(notice[0]!.type, 'release');

    expectData(
      await admin.PUT('/api/v1/ussd/subscription/{customer_id}', {
        params: { path: { customer_id: achieng.id } },
        body: { enabled: true, reason: 'new SIM checked' },
      }),
      200,
    );
    const mine = expectData(await achieng.me.GET('/api/v1/ussd/subscription', {}), 200);
    assert.deepEqual(mine, { enabled: true, language: 'fr' });
  });

  test('end-of-session reports: stored once, listed and summed for staff', async () => {
    const report = (sessionId: string, status: string, cost: string) =>
      client().POST('/api/v1/ussd/at/{secret}/events', {
        params: { path: { secret: USSD_TEST_SECRET } },
        body: {
          date: new Date().toISOString().slice(0, 19).replace('T', ' '),
          sessionId,
          serviceCode: '*384*123#',
          networkCode: '63902',
          phoneNumber: people.otieno.phone,
          status,
          cost,
          durationInMillis: '8000',
          hopsCount: '3',
          input: '1',
          lastAppResponse: 'END ok',
          errorMessage: '',
        } as never,
        bodySerializer: (body) => new URLSearchParams(body as Record<string, string>).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        parseAs: 'text',
      });
    for (const [id, status, cost] of [
      ['ATUid_typed_1', 'Success', 'KES 0.10'],
      ['ATUid_typed_1', 'Success', 'KES 0.10'],
      ['ATUid_typed_2', 'Failed', 'KES 0.05'],
    ])
      assert.equal((await report(id!, status!, cost!)).response.status, 200);
    const listed = expectData(
      await admin.GET('/api/v1/ussd/reports', { params: { query: { limit: 10 } } }),
      200,
    );
    const ids = listed.items.map((item: { session_id: string }) => item.session_id);
    assert.deepEqual(ids.filter((id: string) => id.startsWith('ATUid_typed_')).sort(), [
      'ATUid_typed_1',
      'ATUid_typed_2',
    ]);
    const summary = expectData(await admin.GET('/api/v1/ussd/reports/summary', {}), 200);
    assert.ok(JSON.stringify(summary).includes('KES'), JSON.stringify(summary));
    const forbidden = await people.otieno.me.GET('/api/v1/ussd/reports', {});
    assert.equal(forbidden.response.status, 403);
  });
});
