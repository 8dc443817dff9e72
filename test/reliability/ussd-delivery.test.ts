/**
 * Property 9 of RELIABILITY.md for USSD: a gateway delivers every step of a send-money session 1–5 times, the extra
 * copies at once or shuffled in among the later steps; each session still moves its money exactly once, every copy of
 * a step gets the same screen, and the money is conserved.
 *
 * Africa's Talking (the whole path in `text`) and Hubtel (`Sequence`) say where a step sits, so any copy in any order
 * is recognised. Arkesel and Nalo send the latest input only: a copy is recognised when it comes within
 * USSD_DUPLICATE_WINDOW_MS of the first, so for them the copies are delivered at once (a copy arriving after the next
 * step cannot be told from a new answer; the money step is still claimed once by its derived key).
 *
 * USSD_DELIVERY_SESSIONS (default 16) sessions run at once; seed with USSD_DELIVERY_SEED.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { startTestApp, type TestContext } from '../helpers/app.ts';
import {
  balanceOf,
  createCustomer,
  deposit,
  openWallet,
  TEST_PIN,
  type TestWallet,
} from '../helpers/money.ts';
import { type Gateway, type Screen, ussdConfig, ussdDriver } from '../helpers/ussd.ts';

const SESSIONS = Number(process.env.USSD_DELIVERY_SESSIONS ?? 16);
let seed = Number(process.env.USSD_DELIVERY_SEED ?? Date.now() % 1_000_000);
const random = () => {
  // mulberry32: a reproducible run from the printed seed.
  seed = (seed + 0x6d2b79f5) | 0;
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
};
const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
const START_BALANCE = 1_000_000;

interface Party {
  id: string;
  phone: string;
  wallet: TestWallet;
}

let t: TestContext;
const parties: Party[] = [];

before(async () => {
  console.log(`ussd delivery seed ${seed}, ${SESSIONS} sessions`);
  t = await startTestApp(ussdConfig());
  for (let i = 0; i < SESSIONS; i += 1) {
    const phone = `+2547${String(20_000_000 + i * 7919).padStart(8, '0')}`;
    const customer = await createCustomer(t, `Sender${i}`, phone);
    const wallet = await openWallet(t, customer.id);
    await deposit(t, wallet.id, START_BALANCE);
    parties.push({ id: customer.id, phone, wallet });
  }
});

after(async () => {
  await t?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One send-money session whose every step is delivered 1–5 times; answers every copy got, per step. */
async function session(from: Party, to: Party, amount: number, gateway: Gateway) {
  const driver = ussdDriver(t, { phone: from.phone, gateway });
  const inputs = [TEST_PIN, '2', to.phone, String(amount / 100), TEST_PIN];
  const requests = [driver.requestForStart(), ...inputs.map((input) => driver.requestFor(input))];
  const positional = gateway === 'at' || gateway === 'hubtel';
  const answers: Screen[][] = requests.map(() => []);
  const late: Promise<void>[] = [];
  for (const [step, request] of requests.entries()) {
    const copies = between(1, 5);
    const first = driver.post(request).then((screen) => void answers[step]!.push(screen));
    const extra: Promise<void>[] = [];
    for (let copy = 1; copy < copies; copy += 1) {
      const delivery = async () => {
        // Positional gateways: a copy may come at once or after later steps; the others retry at once.
        if (positional && random() < 0.6) await sleep(between(5, 120));
        answers[step]!.push(await driver.post(request));
      };
      (positional ? late : extra).push(delivery());
    }
    await Promise.all([first, ...extra]);
  }
  await Promise.all(late);
  return answers;
}

describe('USSD steps delivered 1–5 times, shuffled (RELIABILITY property 9)', () => {
  it('moves each session’s money once, answers every copy of a step alike, and conserves the money', async () => {
    const gateways: Gateway[] = ['at', 'hubtel', 'arkesel', 'nalo'];
    const plan = parties.map((from, i) => ({
      from,
      to: parties[(i + 1) % parties.length]!,
      amount: between(1, 500) * 100,
      gateway: gateways[i % gateways.length]!,
    }));
    const results = await Promise.all(plan.map((p) => session(p.from, p.to, p.amount, p.gateway)));

    for (const [i, answers] of results.entries()) {
      const { gateway } = plan[i]!;
      for (const [step, screens] of answers.entries()) {
        const distinct = new Set(screens.map((screen) => `${screen.continue}|${screen.message}`));
        assert.equal(
          distinct.size,
          1,
          `${gateway} session ${i} step ${step} got different screens: ${[...distinct]}`,
        );
      }
      const last = answers.at(-1)![0]!;
      assert.equal(last.continue, false, `${gateway} session ${i} did not end: ${last.message}`);
      assert.match(last.message, /sent|envoy|umetuma|tuma/i, `${gateway} session ${i}: ${last.message}`);
    }

    const rows = (await t.deps.database.db.execute(
      sql`select customer_id as initiator_id, amount, count(*)::int as n from transactions
          where type = 'p2p' and channel = 'ussd' and status = 'completed' group by customer_id, amount`,
    )) as unknown as { rows: { initiator_id: string; amount: string; n: number }[] };
    const moved = new Map(rows.rows.map((row) => [row.initiator_id, row]));
    for (const p of plan) {
      const row = moved.get(p.from.id);
      assert.ok(row, `no USSD transfer from ${p.from.phone}`);
      assert.equal(row.n, 1, `${p.gateway}: ${row.n} transfers from ${p.from.phone}`);
      assert.equal(BigInt(row.amount), BigInt(p.amount));
    }
    assert.equal(moved.size, plan.length);

    // Conservation: what left the customers' wallets is what they sent plus the fees.
    const fees = (await t.deps.database.db.execute(
      sql`select coalesce(sum(fee + tax), 0)::bigint as fees from transactions where type = 'p2p' and channel = 'ussd' and status = 'completed'`,
    )) as unknown as { rows: { fees: string }[] };
    const feeTotal = BigInt(fees.rows[0]!.fees);
    let total = 0n;
    for (const party of parties) total += BigInt((await balanceOf(t, party.wallet.id)).balance);
    assert.equal(total + feeTotal, BigInt(START_BALANCE) * BigInt(parties.length));
  });
});
