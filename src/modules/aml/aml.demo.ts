/**
 * The AML demo dataset (`npm run cli -- aml-demo`): real customers, wallets, teller deposits, transfers and cash at
 * a real agent (three fenced stores, a teller with a bound device at each), all through the bank's own routes, shaped
 * so that every default post-posting typology and the default realtime rules trip, plus a sanctioned customer and a
 * PEP screened as beneficiaries of large transfers. Each run makes new customers with fresh phone numbers (a run tag
 * in the numbers), so it can run again. The one thing that cannot be made by paying is dormancy: the demo moves
 * AML's OWN record of one customer's earlier payments (`aml_payment_facts`) 200 days back, through the development
 * route `POST /api/v1/aml/demo/age-facts`, and says so; nothing else is backdated.
 */
import { randomInt } from 'node:crypto';
import { type DemoClient, type DemoCustomer, type DemoTeller, fixAt } from './aml.demo.http.ts';
import { type DemoExpectation, type DemoTally, tallyAlerts } from './aml.demo.tally.ts';
import { LIST_SOURCES } from './aml.tables.ts';

export interface DemoOptions {
  client: DemoClient;
  /** Lets the AML consumer (and notifications, jobs) catch up: the CLI waits, the test dispatches the consumers. */
  settle: () => Promise<void>;
  /** The list files in their published formats (data/aml/lists/), loaded when their source has no version yet. */
  listFile: (source: (typeof LIST_SOURCES)[number]) => Promise<{ body: string; contentType: string }>;
  wait: (ms: number) => Promise<void>;
  log: (line: string) => void;
  /** How long to wait for the alerts after the last payment (the CLI: 120 s). */
  timeoutMs?: number;
}

export interface DemoResult {
  tag: string;
  tally: DemoTally[];
  /** Expectations that raised no alert before the timeout (the CLI exits non-zero when there is any). */
  missing: DemoTally[];
}

const STORE_POINTS = [
  { lat: -1.2841, lon: 36.8233 },
  { lat: -1.2864, lon: 36.8172 },
  { lat: -1.2921, lon: 36.8219 },
];
const DORMANT_DAYS = 200;
const OFFICER_PASSWORD = 'amber lantern orchard 73';
/** The Basic tier's balance cap in KES (seed/kyc_tiers.json). */
const BASIC_CAP_MINOR = 10_000_000n;
/** The CTR threshold the structuring step uses when the configured one is out of a Basic wallet's reach. */
const DEMO_CTR_MINOR = 3_000_000n;

export async function runAmlDemo(options: DemoOptions): Promise<DemoResult> {
  const { client, settle, log } = options;
  const tag = await freshTag(client);
  let sequence = 0;
  const phone = () => `+25479${tag}${String(sequence++).padStart(4, '0')}`;
  log(`AML demo dataset, run ${tag} (phone numbers +25479${tag}xxxx)`);

  // Lists: loaded when their source has no version yet (the same file again would load nothing anyway).
  const lists = await client.staffCall<{ items: { source: string }[] }>('GET', '/api/v1/aml/lists');
  for (const source of LIST_SOURCES) {
    if (lists.items.some((item) => item.source === source)) continue;
    const file = await options.listFile(source);
    const loaded = await client.call<{ list: { version: number; entry_count: number } }>({
      method: 'POST',
      path: `/api/v1/aml/lists/${source}`,
      token: client.staff,
      body: file.body,
      headers: { 'content-type': file.contentType },
    });
    log(`list ${source}: version ${loaded.list.version} loaded (${loaded.list.entry_count} entries)`);
  }

  // A second staff member approves what the administrator asks (agent activation, float deposits).
  const role = `aml_demo_officer_${tag}`;
  await client.staffCall('POST', '/api/v1/user/role/add', {
    code: role,
    name: `AML demo agent officer ${tag}`,
    permissions: ['agent:read', 'agent:manage', 'agent:float', 'approval:read', 'approval:decide'],
  });
  const officerName = `aml-demo-officer-${tag}`;
  await client.staffCall('POST', '/api/v1/user/user/add', {
    username: officerName,
    email: `${officerName}@example.com`,
    full_name: `AML demo officer ${tag}`,
    password: OFFICER_PASSWORD,
    roles: [role],
    must_change_password: false,
  });
  const officer = await client.login(officerName, OFFICER_PASSWORD);

  // The agent: an active owner, activation (maker-checker), three fenced stores, a teller at each, float.
  const owner = await client.customer('Kamau', `Duka${tag}`, phone(), { signIn: false });
  await client.staffCall('POST', '/api/v1/customer/customer/status', {
    customer_id: owner.id,
    status: 'active',
    reason: 'AML demo: agent owner KYB checked',
  });
  const agent = await client.staffCall<{ id: string; agent_number: string }>(
    'POST',
    '/api/v1/agent/agent/add',
    {
      kind: 'agent',
      business_name: `Demo Duka ${tag}`,
      registration_number: `BN-DEMO-${tag}-${randomInt(0, 1_000_000)}`,
      business_tier: 'standard',
      owner_customer_id: owner.id,
      phone: owner.phone,
      currency: 'KES',
    },
  );
  const activation = await client.staffCall<{ id: string }>(
    'POST',
    `/api/v1/agent/agent/${agent.id}/activate`,
    {},
  );
  await client.call({
    method: 'POST',
    path: '/api/v1/policy/approval/approve',
    token: officer,
    body: { request_id: activation.id },
  });
  const tellers: DemoTeller[] = [];
  for (const [index, point] of STORE_POINTS.entries()) {
    const store = await client.staffCall<{ id: string }>('POST', `/api/v1/agent/agent/${agent.id}/store`, {
      name: `Demo Duka ${tag}, store ${index + 1}`,
      address: 'Nairobi CBD',
      ...point,
      geofence: { type: 'circle', center: point, radius_m: 150 },
    });
    const deposit = await client.staffCall<{ id: string }>('POST', '/api/v1/agent/float/deposit', {
      store_id: store.id,
      amount: 20_000_000,
      currency: 'KES',
      bank_reference: `FT-DEMO-${tag}-${index + 1}`,
    });
    await client.call({
      method: 'POST',
      path: `/api/v1/agent/float/deposit/${deposit.id}/confirm`,
      token: officer,
      body: {},
    });
    tellers.push(await client.teller(agent.id, store.id, phone(), `Demo Teller ${index + 1}`, point));
  }
  log(`agent ${agent.agent_number}: 3 stores with a teller each, KES 200,000 float at each`);

  const expect: DemoExpectation[] = [];
  const pay = (from: DemoCustomer, to: DemoCustomer, amount: number) =>
    client.transfer(from, to, amount, settle);

  // Structuring: three cash deposits within 10% under the CTR threshold in a day.
  const structurer = await client.customer('Otieno', `Structurer${tag}`, phone());
  await structuring(options, structurer);
  expect.push({
    pattern: 'scenario_structuring',
    subject: structurer.id,
    what: 'three deposits just under the CTR',
  });

  // Round amounts: three round deposits (KES 10,000, 20,000, 30,000).
  const rounder = await client.customer('Njeri', `Round${tag}`, phone());
  for (const amount of [1_000_000, 2_000_000, 3_000_000]) await client.deposit(rounder.walletId, amount);
  expect.push({ pattern: 'scenario_round_amounts', subject: rounder.id, what: 'three round deposits' });

  // Pass-through: KES 20,000 in, KES 18,000 out within the hour.
  const funder = await client.customer('Baraka', `Funder${tag}`, phone());
  await client.deposit(funder.walletId, 5_000_037);
  const mule = await client.customer('Kiprop', `PassThrough${tag}`, phone());
  const onward = await client.customer('Chebet', `Onward${tag}`, phone(), { signIn: false });
  await pay(funder, mule, 2_000_000);
  await pay(mule, onward, 1_800_000);
  expect.push({ pattern: 'scenario_pass_through', subject: mule.id, what: '90% of what came in paid out' });

  // Dormant then active: a deposit, AML's record of it moved 200 days back, then a KES 25,000 transfer.
  const sleeper = await client.customer('Wekesa', `Dormant${tag}`, phone());
  await client.deposit(sleeper.walletId, 6_000_037);
  const aged = await waitFor(options, 'the dormant customer’s deposit in AML’s facts', async () => {
    const moved = await client.staffCall<{ moved: number }>('POST', '/api/v1/aml/demo/age-facts', {
      customer_id: sleeper.id,
      days: DORMANT_DAYS,
    });
    return moved.moved > 0 ? moved.moved : null;
  });
  log(
    `dormancy: moved ${aged} of AML's own payment facts (aml_payment_facts) of ${sleeper.name} ${DORMANT_DAYS} ` +
      'days back (nothing else is backdated)',
  );
  await pay(sleeper, funder, 2_500_000);
  expect.push({
    pattern: 'scenario_dormant',
    subject: sleeper.id,
    what: `idle ${DORMANT_DAYS} days, then KES 25,000`,
  });

  // Fan-out to 30 distinct payees (the realtime alert rule: 30 counterparties a day), then on paying them in turn
  // until the realtime velocity rule (more than 100 payments in an hour) holds a payment for review; fan-in: five
  // of the payees pay one collector.
  const spreader = await client.customer('Achieng', `FanOut${tag}`, phone());
  await client.deposit(spreader.walletId, 6_000_037);
  const collector = await client.customer('Mutua', `FanIn${tag}`, phone(), { signIn: false });
  const payees: DemoCustomer[] = [];
  for (let index = 0; index < 30; index++)
    payees.push(await client.customer('Payee', `${tag}n${index}`, phone(), { signIn: index < 5 }));
  let held: { id: string; status: string } | null = null;
  for (let count = 0; count < 120 && !held; count++) {
    const sent = await pay(spreader, payees[count % payees.length]!, count < payees.length ? 60_000 : 10_000);
    if (sent.status === 'held') held = sent;
  }
  log(
    held
      ? `realtime review: payment ${held.id} of ${spreader.name} held for an analyst (velocity)`
      : `realtime review: none of ${spreader.name}'s 120 payments was held`,
  );
  for (const payee of payees.slice(0, 5)) await pay(payee, collector, 30_000);
  expect.push({ pattern: 'scenario_fan_out', subject: spreader.id, what: '30 distinct payees in a day' });
  expect.push({
    pattern: 'rt_many_counterparties_24h',
    subject: spreader.id,
    what: 'alert, payments allowed',
  });
  expect.push({ pattern: 'rt_velocity_1h', subject: spreader.id, what: 'review: >100 payments in an hour' });
  expect.push({ pattern: 'scenario_fan_in', subject: collector.id, what: '5 distinct payers in a day' });

  // Agent structuring and float cycling: one customer's cash in at all three stores, then out four times.
  const cycler = await client.customer('Wanjiru', `Cash${tag}`, phone());
  const [first, second, third] = tellers as [DemoTeller, DemoTeller, DemoTeller];
  for (const teller of [first, second, third, first]) await cashIn(options, teller, cycler, 1_100_000);
  for (let index = 0; index < 4; index++)
    await cashOut(options, first, agent.agent_number, cycler, cycler.token, 150_000);
  expect.push({
    pattern: 'scenario_agent_structuring',
    subject: cycler.id,
    what: 'cash at 3 stores in a day',
  });
  expect.push({ pattern: 'scenario_agent_float_cycling', subject: agent.id, what: '4 cash in/out pairs' });

  // A new device, then a cash-out within the day.
  const swapped = await client.customer('Mwangi', `NewPhone${tag}`, phone());
  await cashIn(options, second, swapped, 500_037);
  const newPhone = await client.customerLogin(swapped.phone, 'CodeForgeApp/3.2 (iOS 18; aml-demo new phone)');
  await cashOut(options, second, agent.agent_number, swapped, newPhone, 200_000);
  expect.push({
    pattern: 'scenario_new_device_cash_out',
    subject: swapped.id,
    what: 'new-device sign-in, cash-out',
  });

  // Screening: a sanctioned name (OFAC fictitious entry) and a PEP (OpenSanctions fictitious entry), each the
  // beneficiary of a transfer at the beneficiary screening threshold (KES 100,000) from a Standard-tier sponsor
  // (one each: a customer gets one one-time code a minute).
  const sponsors: DemoCustomer[] = [];
  for (const name of ['Faith', 'Daudi']) {
    const sponsor = await client.customer(name, `Sponsor${tag}`, phone());
    await client.upgradeToStandard(sponsor);
    await client.deposit(sponsor.walletId, 11_000_037);
    sponsors.push(sponsor);
  }
  const listed = await client.customer('Hossein', 'Karimi', phone(), {
    signIn: false,
    nationality: 'IR',
    date_of_birth: '1966-09-17',
  });
  const pep = await client.customer('Joseph Kiprono', 'Chebet', phone(), {
    signIn: false,
    nationality: 'KE',
    date_of_birth: '1963-04-18',
  });
  await pay(sponsors[0]!, listed, 10_000_000);
  await pay(sponsors[1]!, pep, 10_000_000);
  expect.push({ pattern: 'screening', subject: listed.id, what: 'sanctions list (OFAC) beneficiary' });
  expect.push({ pattern: 'screening', subject: pep.id, what: 'PEP beneficiary' });

  log('waiting for the AML consumer and the screening jobs …');
  const subjects = [...new Set(expect.map((item) => item.subject))];
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let tally = await tallyAlerts(client, expect, subjects);
  while (tally.some((row) => row.alerts === 0) && Date.now() < deadline) {
    await settle();
    await options.wait(1000);
    tally = await tallyAlerts(client, expect, subjects);
  }
  return { tag, tally, missing: tally.filter((row) => row.alerts === 0) };
}

/**
 * Three cash deposits in the band just under the CTR threshold. A Basic-tier wallet holds at most KES 100,000, so
 * with the default threshold (KES 1,000,000) the band is out of reach of any customer staff can make: the demo then
 * lowers `aml.ctr_threshold_minor` (KES) to KES 30,000 for this step only, waits until the AML consumer has seen the
 * three deposits, and puts the setting back as it was (it says so).
 */
async function structuring(options: DemoOptions, customer: DemoCustomer): Promise<void> {
  const { client, log } = options;
  const current = await client.setting<Record<string, string>>('aml.ctr_threshold_minor');
  const threshold = BigInt(current.value.KES ?? '0');
  const reachable = threshold > 0n && threshold * 3n <= BASIC_CAP_MINOR;
  const used = reachable ? threshold : DEMO_CTR_MINOR;
  if (!reachable) {
    await client.setSetting('aml.ctr_threshold_minor', { ...current.value, KES: used.toString() });
    log(
      `structuring: aml.ctr_threshold_minor (KES) lowered from ${current.value.KES ?? 'unset'} to ${used} minor ` +
        'for this step (a Basic wallet holds at most KES 100,000); it is put back right after',
    );
  }
  try {
    // 95%, 97% and 99% of the threshold, none of them round.
    for (const percent of [95n, 97n, 99n])
      await client.deposit(customer.walletId, Number((used * percent) / 100n) + 37);
    if (!reachable)
      await waitFor(options, 'the structuring alert', async () => {
        const [row] = await tallyAlerts(
          client,
          [{ pattern: 'scenario_structuring', subject: customer.id, what: '' }],
          [customer.id],
        );
        return row && row.alerts > 0 ? row : null;
      });
  } finally {
    if (!reachable) {
      await client.setSetting('aml.ctr_threshold_minor', current.value, current.overridden);
      log(`structuring: aml.ctr_threshold_minor put back to ${JSON.stringify(current.value)}`);
    }
  }
}

async function cashIn(options: DemoOptions, teller: DemoTeller, customer: DemoCustomer, amount: number) {
  await options.client.call({
    method: 'POST',
    path: '/api/v1/agent/transaction/cash-in',
    token: teller.token,
    body: { phone: customer.phone, amount, currency: 'KES', location: fixAt(teller.point) },
    headers: { 'idempotency-key': `aml-demo-in-${randomInt(0, 2 ** 40)}` },
  });
}

async function cashOut(
  options: DemoOptions,
  teller: DemoTeller,
  agentNumber: string,
  customer: DemoCustomer,
  customerToken: string,
  amount: number,
) {
  const { code } = await options.client.call<{ code: string }>({
    method: 'POST',
    path: '/api/v1/agent/withdrawal-code',
    token: customerToken,
    body: { agent_number: agentNumber, amount, currency: 'KES', pin: '5827' },
  });
  await options.client.call({
    method: 'POST',
    path: '/api/v1/agent/transaction/cash-out',
    token: teller.token,
    body: { phone: customer.phone, amount, currency: 'KES', code, location: fixAt(teller.point) },
    headers: { 'idempotency-key': `aml-demo-out-${randomInt(0, 2 ** 40)}` },
  });
}

/** A run tag (three digits in the phone numbers) no earlier run used: its first number belongs to no customer. */
async function freshTag(client: DemoClient): Promise<string> {
  for (let tries = 0; tries < 20; tries++) {
    const tag = String(randomInt(0, 1000)).padStart(3, '0');
    const found = await client.staffCall<{ items: unknown[] }>(
      'GET',
      `/api/v1/customer/customer?phone=${encodeURIComponent(`+25479${tag}0000`)}`,
    );
    if (found.items.length === 0) return tag;
  }
  throw new Error('no free run tag left for the demo phone numbers (+25479<tag>xxxx)');
}

async function waitFor<T>(
  options: DemoOptions,
  what: string,
  check: () => Promise<T | null>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await options.settle();
    await options.wait(500);
  }
}
