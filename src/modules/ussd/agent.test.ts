/**
 * The USSD agent menu through the gateways: a withdrawal code made on USSD (agent number, amount, PIN: the code and its
 * expiry) that an operator then pays out with, an unknown agent, the one-time-code threshold before the PIN; and the
 * customer's approval with PIN of a cash-out an operator started (the list with agent name and amount, a wrong PIN
 * asked again, the posting, a step delivered again paying once, a refusal shown). No PIN reaches the logs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  idem,
  inside,
  type MoneyAgent,
  moneyAgent,
  randomPhone,
} from '../../../test/helpers/agents-money.ts';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { balanceOf, createCustomer, deposit, openWallet, TEST_PIN } from '../../../test/helpers/money.ts';
import { assertNoPinInLogs, type Gateway, ussdConfig, ussdDriver } from '../../../test/helpers/ussd.ts';

const WRONG_PIN = '8350';
/** The main menu's "Agent" entry. */
const AGENT_ENTRY = '11';

describe('USSD agent cash journeys', () => {
  let t: TestContext;
  let agent: MoneyAgent;

  const customer = async (funds: number) => {
    const made = await createCustomer(t, 'Wanjiru', randomPhone());
    const wallet = await openWallet(t, made.id);
    if (funds > 0) await deposit(t, wallet.id, funds);
    return { ...made, walletId: wallet.id };
  };

  const signedIn = async (phone: string, gateway: Gateway = 'at') => {
    const session = ussdDriver(t, { phone, gateway });
    assert.equal((await session.start()).continue, true);
    const menu = await session.send(TEST_PIN);
    assert.match(menu.message, /^Main menu/);
    assert.match(menu.message, /\n11\. Agent$/m);
    return session;
  };

  const cashOut = (body: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/transaction/cash-out',
      headers: idem(agent.stores[0].tellerToken),
      payload: { currency: 'KES', location: inside(), ...body },
    });

  before(async () => {
    t = await startTestApp(ussdConfig());
    const owner = await createCustomer(t, 'Owner', randomPhone());
    agent = await moneyAgent(t, owner.id);
  });
  after(async () => t.close());

  for (const gateway of ['at', 'hubtel'] as const) {
    test(`${gateway}: a withdrawal code made on USSD pays out once at that agent`, async () => {
      const wanjiru = await customer(50_000);
      const session = await signedIn(wanjiru.phone, gateway);
      const menu = await session.send(AGENT_ENTRY);
      assert.equal(menu.message, 'Agent\n1. Withdraw cash at an agent\n2. Approve agent withdrawal');
      assert.match((await session.send('1')).message, /Enter the agent number$/);
      // Without the A, as a handset types it.
      const amount = await session.send(agent.number.slice(1));
      assert.equal(amount.message, `Withdraw at agent ${agent.number}\nEnter amount (KES)`);
      const confirm = await session.send('150');
      assert.match(
        confirm.message,
        new RegExp(`^Withdraw KES 150\\.00 at agent ${agent.number}\\. Enter PIN`),
      );
      const shown = await session.send(TEST_PIN);
      assert.equal(shown.continue, false);
      const match =
        /^Code ([0-9]{6}): withdraw KES 150\.00 at agent (A[0-9]{7})\. Expires ([0-9]{2}:[0-9]{2}) UTC/.exec(
          shown.message,
        );
      assert.ok(match, shown.message);
      assert.equal(match[2], agent.number);
      const listed = await t.app.inject({
        method: 'GET',
        url: '/api/v1/agent/withdrawal-code',
        headers: bearer(wanjiru.token),
      });
      const [code] = listed.json().items;
      assert.equal(code.status, 'pending');
      assert.equal(code.amount, 15_000);
      assert.equal(new Date(code.expires_at).toISOString().slice(11, 16), match[3]);
      // The operator types it: the wallet pays amount and fee, once.
      const paid = await cashOut({ phone: wanjiru.phone, amount: 15_000, code: match[1] });
      assert.equal(paid.statusCode, 201, paid.body);
      const after = (await balanceOf(t, wanjiru.walletId)).balance;
      assert.ok(after <= 50_000 - 15_000, `balance ${after}`);
      const again = await cashOut({ phone: wanjiru.phone, amount: 15_000, code: match[1] });
      assert.ok([409, 422].includes(again.statusCode), again.body);
      assert.equal((await balanceOf(t, wanjiru.walletId)).balance, after);
    });
  }

  test('a malformed or unknown agent number, a wrong PIN and the one-time-code threshold', async () => {
    const wanjiru = await customer(50_000);
    const session = await signedIn(wanjiru.phone);
    await session.walk(AGENT_ENTRY, '1');
    assert.match((await session.send('B1234567')).message, /^An agent number is A and 7 digits\./);
    await session.send('A0000000');
    await session.send('100');
    // The number is checked before the PIN: an unknown agent spends no PIN try, even a wrong one.
    const unknown = await session.send(WRONG_PIN);
    assert.deepEqual([unknown.continue, unknown.message], [false, 'No active agent with that number.']);
    const known = await signedIn(wanjiru.phone);
    await known.walk(AGENT_ENTRY, '1', agent.number, '100');
    const wrong = await known.send(WRONG_PIN);
    assert.equal(wrong.continue, true, 'a wrong PIN is asked again');
    assert.match(wrong.message, /^Wrong PIN\. Tries left: 4\./);

    const threshold = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/admin/config/payments.otp_threshold_minor',
      headers: bearer(t.adminToken),
      payload: { value: { KES: '20000' } },
    });
    assert.ok(threshold.statusCode < 300, threshold.body);
    try {
      const big = await signedIn(wanjiru.phone);
      await big.walk(AGENT_ENTRY, '1', agent.number);
      const refused = await big.send('200');
      assert.equal(refused.continue, true);
      assert.match(refused.message, /need a one-time code: please use the app/);
    } finally {
      await t.app.inject({
        method: 'PATCH',
        url: '/api/v1/admin/config/payments.otp_threshold_minor',
        headers: bearer(t.adminToken),
        payload: { value: { KES: '10000000' } },
      });
    }
    const codes = await t.app.inject({
      method: 'GET',
      url: '/api/v1/agent/withdrawal-code',
      headers: bearer(wanjiru.token),
    });
    assert.equal(codes.json().items.length, 0, 'no code was made');
  });

  test('an operator-started cash-out is listed, approved with PIN and posts once', async () => {
    const wanjiru = await customer(50_000);
    const asked = await cashOut({ phone: wanjiru.phone, amount: 2_500 });
    assert.equal(asked.statusCode, 202, asked.body);
    const session = await signedIn(wanjiru.phone, 'hubtel');
    await session.send(AGENT_ENTRY);
    const list = await session.send('2');
    assert.equal(list.message, `Withdrawals to approve\n1. Shop ${agent.number} KES 25.00`);
    const approve = await session.send('1');
    assert.match(approve.message, new RegExp(`^Approve cash-out of KES 25\\.00 at Shop ${agent.number}\\?`));
    const wrong = await session.send(WRONG_PIN);
    assert.equal(wrong.continue, true);
    assert.match(wrong.message, /^Wrong PIN/);
    const done = await session.send(TEST_PIN);
    assert.equal(done.continue, false);
    assert.match(
      done.message,
      new RegExp(`^Approved: KES 25\\.00 at Shop ${agent.number}\\. Fee KES [0-9.]+\\. Ref `),
    );
    const balance = (await balanceOf(t, wanjiru.walletId)).balance;
    assert.ok(balance <= 50_000 - 2_500, `balance ${balance}`);
    // The gateway delivers the last step again: the same screen, no second debit.
    const repeated = await session.repeat();
    assert.equal(repeated.message, done.message);
    assert.equal((await balanceOf(t, wanjiru.walletId)).balance, balance);
    const polled = await t.app.inject({
      method: 'GET',
      url: `/api/v1/agent/transaction/cash-out/${asked.json().id}`,
      headers: bearer(agent.stores[0].tellerToken),
    });
    assert.equal(polled.json().status, 'completed', polled.body);
    // Nothing is waiting any more.
    const next = await signedIn(wanjiru.phone);
    await next.send(AGENT_ENTRY);
    const none = await next.send('2');
    assert.deepEqual(
      [none.continue, none.message],
      [false, 'No agent withdrawal is waiting for your approval.'],
    );
  });

  test('an approval the payment refuses ends with the reason; a decided request is gone', async () => {
    const wanjiru = await customer(1_000);
    const asked = await cashOut({ phone: wanjiru.phone, amount: 5_000 });
    assert.equal(asked.statusCode, 202, asked.body);
    const session = await signedIn(wanjiru.phone);
    await session.walk(AGENT_ENTRY, '2', '1');
    const refused = await session.send(TEST_PIN);
    assert.deepEqual(
      [refused.continue, refused.message],
      [false, 'Not enough balance for this amount and the fee.'],
    );
    assert.equal((await balanceOf(t, wanjiru.walletId)).balance, 1_000);

    const second = await cashOut({ phone: wanjiru.phone, amount: 500 });
    assert.equal(second.statusCode, 202, second.body);
    const late = await signedIn(wanjiru.phone);
    await late.walk(AGENT_ENTRY, '2', '1');
    // The customer rejects it in the app meanwhile.
    const rejected = await t.app.inject({
      method: 'POST',
      url: `/api/v1/agent/cash-out/${second.json().id}/reject`,
      headers: bearer(wanjiru.token),
    });
    assert.equal(rejected.statusCode, 200, rejected.body);
    const gone = await late.send(TEST_PIN);
    assert.deepEqual(
      [gone.continue, gone.message],
      [false, 'This withdrawal is no longer waiting for approval.'],
    );
    assert.equal((await balanceOf(t, wanjiru.walletId)).balance, 1_000);
  });

  test('the agent menu in French and Swahili', async () => {
    const amina = await customer(0);
    for (const [language, expected] of [
      ['fr', 'Agent\n1. Retirer chez un agent\n2. Approuver un retrait agent'],
      ['sw', 'Wakala\n1. Toa pesa kwa wakala\n2. Idhinisha utoaji wa wakala'],
    ] as const) {
      const set = await t.app.inject({
        method: 'PUT',
        url: '/api/v1/ussd/subscription',
        headers: bearer(amina.token),
        payload: { language },
      });
      assert.equal(set.statusCode, 200, set.body);
      const session = ussdDriver(t, { phone: amina.phone });
      await session.start();
      let menu = await session.send(TEST_PIN);
      if (!menu.message.includes(`${AGENT_ENTRY}. `)) menu = await session.send('98');
      assert.match(
        menu.message,
        new RegExp(`\\n${AGENT_ENTRY}\\. ${language === 'fr' ? 'Agent' : 'Wakala'}(\\n|$)`),
      );
      assert.equal((await session.send(AGENT_ENTRY)).message, expected);
    }
  });

  test('no PIN typed in the agent journeys reaches the logs', () => {
    assert.ok(t.logs.lines.length > 0, 'the requests were logged');
    assertNoPinInLogs(t.logs.text, [TEST_PIN, WRONG_PIN]);
  });
});
