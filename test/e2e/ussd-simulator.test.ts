/**
 * The USSD simulator (`npm run ussd:sim`, scripts/ussd-sim) against a real app: its programmatic API through
 * `app.inject` in each gateway's wire format, and the terminal CLI as a child process against a listening app, fed on
 * stdin. The app runs without USSD_* secrets, as the quick start does, so the simulator's default secret
 * (`dev-ussd-secret`) is the one that must answer.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  asksForPin,
  injectTransport,
  SIM_GATEWAYS,
  type SimGateway,
  UssdSimulator,
  WireError,
} from '../../scripts/ussd-sim/index.ts';
import { bearer, startTestApp, type TestContext } from '../helpers/app.ts';
import { balanceOf, createCustomer, deposit, openWallet, TEST_PIN } from '../helpers/money.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/** A port nothing listens on: one the system just gave out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs the CLI with `args`, writes `lines` to its stdin one by one, then closes it; its exit code and output. */
function runCli(args: string[], lines: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/ussd-sim.ts', ...args], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, USSD_SIM_URL: '', USSD_SIM_SECRET: '' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    child.stdin.end(lines.map((line) => `${line}\n`).join(''));
  });
}

describe('USSD simulator', () => {
  let t: TestContext;
  let url: string;
  let customer: { phone: string };

  before(async () => {
    // Registration queues its review and SMS work: the job queue runs as it does under npm start.
    t = await startTestApp({}, { startJobs: true });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    assert.ok(address && typeof address === 'object');
    url = `http://127.0.0.1:${address.port}`;
    const created = await createCustomer(t, 'Amina', '+254712000301');
    const wallet = await openWallet(t, created.id);
    await deposit(t, wallet.id, 250_000);
    customer = created;
  });

  after(async () => {
    await t?.close();
  });

  const phoneFor = (gateway: SimGateway, base: string) =>
    new UssdSimulator({
      gateway,
      phone: base,
      transport: injectTransport(t.app),
    });

  for (const gateway of SIM_GATEWAYS)
    it(`an unknown number dials in through ${gateway} and sees the registration's language screen`, async () => {
      const phone = phoneFor(gateway, `+25471200040${SIM_GATEWAYS.indexOf(gateway)}`);
      const screen = await phone.start();
      assert.equal(screen.continue, true, screen.message);
      assert.match(screen.message, /English/);
      assert.match(screen.message, /Fran/);
      assert.match(screen.message, /Kiswahili/);
      assert.ok([...screen.message].length <= 160, screen.message);
      assert.equal(phone.open, true);
    });

  for (const gateway of ['at', 'hubtel'] as const)
    it(`a customer signs in and reads the balance through ${gateway}, and a retried step answers the same`, async () => {
      const phone = phoneFor(gateway, customer.phone);
      const welcome = await phone.start();
      assert.equal(welcome.continue, true);
      assert.match(welcome.message, /Welcome Amina/);
      assert.match(welcome.message, /PIN/);
      const menu = await phone.send(TEST_PIN);
      assert.equal(menu.continue, true, menu.message);
      assert.match(menu.message, /1\. Balance/);
      assert.ok(!menu.message.includes(TEST_PIN));
      // The gateway did not get our answer and sends the step again: same screen, nothing done twice.
      assert.deepEqual(await phone.resend(), menu);
      const balance = await phone.send('1');
      assert.match(balance.message, /2,500(\.00)?/);
      assert.ok(!balance.message.includes(TEST_PIN));
    });

  it('a session ended by Hubtel (Release) is over, and the next dial starts again at the PIN', async () => {
    const phone = phoneFor('hubtel', customer.phone);
    await phone.start();
    const released = await phone.release();
    assert.ok(released);
    assert.equal(released.continue, false);
    assert.equal(phone.open, false);
    await assert.rejects(phone.send('1'), /no open session/);
    const again = await phone.start();
    assert.match(again.message, /PIN/);
  });

  it('the README walkthrough: a new number registers, is approved, gets cash and sends money, all from the simulator', async () => {
    const phone = new UssdSimulator({
      gateway: 'at',
      phone: '+254712000555',
      transport: injectTransport(t.app),
    });
    const registered = await phone.run(['1', 'Neema Achieng', '29384756', '12041990', '1', '4826', '4826']);
    assert.equal(registered.continue, false);
    assert.match(registered.message, /checking your details/);
    // A declared national ID waits for a reviewer (the quick start's default); the administrator approves it.
    const review = (path: string, payload?: object) =>
      t.app.inject({
        method: payload ? 'POST' : 'GET',
        url: `/api/v1/mobile/register/review/${path}`,
        headers: bearer(t.adminToken),
        ...(payload ? { payload } : {}),
      });
    const queue = (await review('list')).json() as {
      items: { registration_id: string; reasons: string[] }[];
    };
    const waiting = queue.items.find((item) => item.reasons.includes('identity_declared'));
    assert.ok(waiting, JSON.stringify(queue));
    assert.equal((await review('claim', { registration_id: waiting.registration_id })).statusCode, 200);
    const approved = await review('approve', { registration_id: waiting.registration_id });
    assert.equal(approved.statusCode, 200, approved.body);
    const customerId = approved.json().customer_id as string;
    const wallets = await t.app.inject({
      method: 'GET',
      url: `/api/v1/wallet/wallet?customer_id=${customerId}`,
      headers: bearer(t.adminToken),
    });
    const walletId = (wallets.json() as { items: { id: string }[] }).items[0]!.id;
    await deposit(t, walletId, 500_000);

    const sent = await phone.run(['4826', '2', '0712000301', '1500', '4826']);
    assert.equal(sent.continue, false, sent.message);
    assert.match(sent.message, /^Sent KES 1,500\.00 to A\*\*\* T\*\*\*\. Fee KES [\d.,]+\. Ref \w+$/);
    assert.ok((await balanceOf(t, walletId)).balance < 500_000 - 150_000);
  });

  it('a wrong secret is the 404 of a route that does not exist, reported as a wire error', async () => {
    const phone = new UssdSimulator({
      gateway: 'at',
      phone: customer.phone,
      secret: 'not-the-secret',
      transport: injectTransport(t.app),
    });
    await assert.rejects(
      phone.start(),
      (error: unknown) => error instanceof WireError && error.status === 404,
    );
    assert.equal(phone.open, false);
  });

  it('the terminal hides what is typed on a PIN prompt only', () => {
    for (const prompt of [
      'Welcome Amina. Enter your PIN',
      'Wrong PIN. Tries left: 2.\nWelcome Amina. Enter your PIN',
      'Bienvenue Amina. Entrez votre PIN',
      'Karibu Amina. Weka PIN yako',
      'Send KES 1,500.00 to B*** M*** (+254722000002) Fee KES 11.50. Enter PIN to confirm, 0 to cancel',
      'Choose a PIN (4 to 6 digits)',
    ])
      assert.equal(asksForPin(prompt), true, prompt);
    for (const screen of [
      'Main menu\n1. Balance\n8. Change PIN',
      'Your balance:\nKES 2,500.00',
      'Enter the phone number',
    ])
      assert.equal(asksForPin(screen), false, screen);
  });

  it('the CLI dials a listening API, prints the first screen and what is typed, and exits at the end of input', async () => {
    const { code, out, err } = await runCli(['--phone', '+254712000499', '--url', url], ['1']);
    assert.equal(code, 0, err);
    assert.match(out, /Dialling \*384\*123# as \+254712000499 via at/);
    assert.match(out, /English/);
    assert.match(out, /waiting for input · \d+ characters/);
    // The answer to the language screen was sent, and the next screen printed.
    assert.match(out, /> 1\n/);
    assert.ok((out.match(/┌/g) ?? []).length >= 2, out);
  });

  it('the CLI never prints the PIN it sends, and dials again when asked', async () => {
    const { code, out, err } = await runCli(
      ['--phone', customer.phone, '--url', url, '--gateway', 'hubtel'],
      [TEST_PIN, '1', 'y', TEST_PIN],
    );
    assert.equal(code, 0, err);
    assert.match(out, /Welcome Amina/);
    assert.match(out, /> \*\*\*\*\n/);
    assert.ok(!out.includes(TEST_PIN), out);
    assert.match(out, /session ended/);
    assert.match(out, /Dial again\? \[y\/N\] y/);
    // Two dials, each starting at the PIN screen.
    assert.equal((out.match(/Welcome Amina/g) ?? []).length, 2, out);
  });

  it('the CLI explains a wrong secret and an API that is not there instead of failing', async () => {
    const wrong = await runCli(['--phone', customer.phone, '--url', url, '--secret', 'nope'], []);
    assert.equal(wrong.code, 0, wrong.err);
    assert.match(wrong.out, /the API answered 404/);
    const closed = await closedPort();
    const nobody = await runCli(['--phone', customer.phone, '--url', `http://127.0.0.1:${closed}`], []);
    assert.equal(nobody.code, 0, nobody.err);
    assert.ok(nobody.out.includes(`nothing answers at http://127.0.0.1:${closed}`), nobody.out);
    const bad = await runCli(['--phone', '0712000301'], []);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /E\.164/);
  });
});
