/**
 * Screening points through the wired module: list upload and versions over HTTP, a name screened on request, the
 * onboarding module's port (a listed applicant is a hit that holds the registration), the beneficiary of a large
 * transfer screened by the job its event queues (and not below the threshold), the rescreening of every customer after
 * a list version with differences, and the authorization of every screening route (staff without `aml:*`, customers).
 */
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { createAgent } from '../../../test/helpers/agents.ts';
import { bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { createCustomer, deposit, idempotent, openWallet, TEST_PIN } from '../../../test/helpers/money.ts';
import { inTransaction } from '../../platform/db.ts';
import { onboardingModule } from '../onboarding/index.ts';
import { amlScreenings } from './aml.tables.ts';
import { amlModule } from './index.ts';

const DIR = 'data/aml/lists';
const PASSWORD = 'amber lantern river 7';
const phone = () => `+2547${String(randomInt(10_000_000, 99_999_999))}`;

describe('screening points', () => {
  let t: TestContext;
  let supportToken: string;
  let customerToken: string;

  const upload = async (source: string, path: string, type: string, token = t.adminToken) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/aml/lists/${source}`,
      headers: { ...bearer(token), 'content-type': type },
      payload: await readFile(path),
    });

  const screenings = (kind: string, subjectId: string) =>
    t.deps.database.db
      .select()
      .from(amlScreenings)
      .where(and(eq(amlScreenings.subjectKind, kind as 'customer'), eq(amlScreenings.subjectId, subjectId)));

  async function until<T>(what: string, check: () => Promise<T | null | undefined | false>): Promise<T> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const value = await check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async function dispatchAml() {
    const events = t.application.system.events;
    await events.handOut();
    while ((await events.dispatch('aml')) > 0) {}
  }

  async function listedCustomer(first: string, last: string, nationality: string) {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/customer/customer/add',
      headers: bearer(t.adminToken),
      payload: { first_name: first, last_name: last, phone: phone(), nationality },
    });
    assert.equal(created.statusCode, 201, created.body);
    return created.json().id as string;
  }

  before(async () => {
    t = await startTestApp({ AML_LISTS_RESCREEN_BATCH: '2' }, { startJobs: true });
    const staff = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/user/add',
      headers: bearer(t.adminToken),
      payload: {
        username: 'support1',
        email: 'support1@bank.test',
        full_name: 'Support One',
        password: PASSWORD,
        roles: ['support_agent'],
        must_change_password: false,
      },
    });
    assert.equal(staff.statusCode, 201, staff.body);
    supportToken = (await login(t.app, 'support1', PASSWORD)).access_token;
    customerToken = (await createCustomer(t, 'Wanjiru', phone())).token;
  });
  after(async () => t.close());

  test('lists are uploaded as versions (the same file again loads nothing) and listed with their counts', async () => {
    const un = await upload('un', `${DIR}/un-consolidated.xml`, 'application/xml');
    assert.equal(un.statusCode, 201, un.body);
    assert.equal(un.json().list.entry_count, 24);
    const again = await upload('un', `${DIR}/un-consolidated.xml`, 'application/xml');
    assert.equal(again.statusCode, 200, again.body);
    assert.equal(again.json().unchanged, true);
    const ofac = await upload('ofac', `${DIR}/ofac-sdn.csv`, 'text/csv');
    assert.equal(ofac.statusCode, 201, ofac.body);
    const open = await upload('opensanctions', `${DIR}/opensanctions.jsonl`, 'application/x-ndjson');
    assert.equal(open.statusCode, 201, open.body);
    const bad = await upload('un', `${DIR}/opensanctions.jsonl`, 'application/xml');
    assert.equal(bad.statusCode, 422, bad.body);
    assert.equal(bad.json().error_code, 'AML_LIST_INVALID');
    const listed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/aml/lists',
      headers: bearer(t.adminToken),
    });
    assert.equal(listed.statusCode, 200, listed.body);
    assert.deepEqual(
      listed
        .json()
        .items.map((item: { source: string; version: number; current: boolean }) => [
          item.source,
          item.version,
          item.current,
        ]),
      [
        ['ofac', 1, true],
        ['opensanctions', 1, true],
        ['un', 1, true],
      ],
    );
    await dispatchAml();
  });

  test('staff screen a name: matches with scores and the fields that matched; an unlisted name is clear', async () => {
    const hit = await t.app.inject({
      method: 'POST',
      url: '/api/v1/aml/screen',
      headers: bearer(t.adminToken),
      payload: { name: 'Hossein Karimi', birth_date: '1966-09-17', nationality: 'IR' },
    });
    assert.equal(hit.statusCode, 200, hit.body);
    assert.equal(hit.json().outcome, 'hit', hit.body);
    const best = hit.json().matches[0];
    assert.equal(best.source, 'ofac');
    assert.equal(best.external_id, '36002');
    assert.ok(best.score >= 0.9, hit.body);
    assert.ok(Object.keys(best.fields).length > 0);
    const clear = await t.app.inject({
      method: 'POST',
      url: '/api/v1/aml/screen',
      headers: bearer(t.adminToken),
      payload: { name: 'Beatrice Nyokabi Kariuki' },
    });
    assert.equal(clear.statusCode, 200, clear.body);
    assert.equal(clear.json().outcome, 'clear', clear.body);
    const recorded = await t.app.inject({
      method: 'GET',
      url: '/api/v1/aml/screenings?subject_kind=manual',
      headers: bearer(t.adminToken),
    });
    assert.equal(recorded.statusCode, 200, recorded.body);
    assert.equal(recorded.json().items.length, 2);
  });

  test('onboarding screens through AML: a listed applicant is a hit that sends the registration to review', async () => {
    const port = t.application.system.api(onboardingModule).activation.activation.screening;
    assert.equal(port.name, 'aml');
    assert.equal(port.configured, true);
    const listed = await port.screen({
      fullName: 'Hosein Karimi',
      dateOfBirth: '1966-09-17',
      nationality: 'IRN',
      country: 'KE',
    });
    assert.equal(listed.hit, true);
    // The reviewer reads the screening's reference, never the list or the listed name (tipping-off).
    assert.equal(listed.matches.length, 1);
    const reference = /^AML screening ([0-9a-f-]{36})$/.exec(listed.matches[0] ?? '');
    assert.ok(reference, listed.matches[0]);
    const [recorded] = await t.deps.database.db
      .select()
      .from(amlScreenings)
      .where(eq(amlScreenings.id, reference[1]!));
    assert.equal(recorded?.subjectKind, 'onboarding');
    assert.equal(recorded?.outcome, 'hit');
    assert.equal(recorded?.matches[0]?.external_id, '36002');
    const clean = await port.screen({ fullName: 'Beatrice Nyokabi Kariuki', dateOfBirth: '1990-01-01' });
    assert.deepEqual(clean, { hit: false, matches: [], provider: 'aml' });
    const ready = await t.app.inject({ method: 'GET', url: '/health/ready' });
    assert.equal(ready.json().checks['onboarding.screening'], 'ok', ready.body);
  });

  test('the beneficiary of a transfer at or above the threshold is screened; below it, not', async () => {
    const current = await t.app.inject({
      method: 'GET',
      url: '/api/v1/admin/config/aml.beneficiary_screening_threshold_minor',
      headers: bearer(t.adminToken),
    });
    const changed = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/admin/config/aml.beneficiary_screening_threshold_minor',
      headers: bearer(t.adminToken),
      payload: { value: { KES: '50000' }, version: current.json().version },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    const sender = await createCustomer(t, 'Achieng', phone());
    const from = await openWallet(t, sender.id);
    await deposit(t, from.id, 200_000);
    const listedId = await listedCustomer('Peter Kamau', 'Mwangi', 'KE');
    const smallId = await listedCustomer('Grace Njeri', 'Wanjiku', 'KE');
    const send = async (to: string, amount: number) => {
      const wallet = await openWallet(t, to);
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/wallet/transaction/transfer',
        headers: idempotent(sender.token),
        payload: { to_wallet_number: wallet.wallet_number, amount, currency: 'KES', pin: TEST_PIN },
      });
      assert.equal(response.statusCode, 201, response.body);
    };
    await send(listedId, 60_000);
    await send(smallId, 49_999);
    await dispatchAml();
    await t.deps.jobs.work();
    const [screening] = await until('the beneficiary screening', async () => {
      const rows = await screenings('beneficiary', listedId);
      return rows.length > 0 ? rows : null;
    });
    assert.match(screening!.trigger, /^large_transfer:/);
    assert.equal(screening!.outcome, 'hit');
    assert.equal(screening!.matches[0]?.external_id, '36025');
    // Below the threshold: nobody screened the beneficiary.
    assert.equal((await screenings('beneficiary', smallId)).length, 0);
  });

  test('a list version with differences rescreens every customer (a queued job, in batches)', async () => {
    const v2 = await upload('un', `${DIR}/v2/un-consolidated.xml`, 'text/xml');
    assert.equal(v2.statusCode, 201, v2.body);
    assert.deepEqual([v2.json().list.added, v2.json().list.removed, v2.json().list.changed], [1, 1, 1]);
    const tariq = await listedCustomer('Tariq Mahmud', 'Al-Jabouri', 'IQ');
    await dispatchAml();
    await t.deps.jobs.work();
    const trigger = `list_change:${v2.json().list.id}`;
    const rows = await until('the rescreening of the new entry’s namesake', async () => {
      const found = await t.deps.database.db
        .select()
        .from(amlScreenings)
        .where(and(eq(amlScreenings.trigger, trigger), eq(amlScreenings.subjectId, tariq)));
      return found.length > 0 ? found : null;
    });
    assert.equal(rows[0]!.subjectKind, 'customer');
    assert.equal(rows[0]!.outcome, 'hit');
    assert.equal(rows[0]!.matches[0]?.external_id, 'XXi.200');
    const everyone = await until('every customer rescreened', async () => {
      const all = await t.deps.database.db
        .select()
        .from(amlScreenings)
        .where(eq(amlScreenings.trigger, trigger));
      return all.length >= 5 ? all : null;
    });
    assert.equal(new Set(everyone.map((row) => row.subjectId)).size, everyone.length, 'each customer once');
    const api = t.application.system.api(amlModule);
    assert.deepEqual(await api.screening.lists.currentVersions(), { un: 2, ofac: 1, opensanctions: 1 });
  });

  test('an approved KYC change and an activation screen the customer again, once per trigger', async () => {
    const id = await listedCustomer('Farhad', 'Rezaei Nejad', 'IR');
    const points = t.application.system.api(amlModule).screening.points;
    const application = randomUUID();
    const registration = randomUUID();
    await inTransaction(t.deps.database.db, async (tx) => {
      await points.onKycDecided(tx, { customer_id: id, application_id: application, decision: 'approved' });
      await points.onKycDecided(tx, { customer_id: id, application_id: randomUUID(), decision: 'rejected' });
      await points.onActivated(tx, { customer_id: id, registration_id: registration });
    });
    await t.deps.jobs.work();
    const rows = await until('both screenings', async () => {
      const found = await screenings('customer', id);
      return found.length >= 2 ? found : null;
    });
    assert.deepEqual(rows.map((row) => row.trigger).sort(), [
      `activation:${registration}`,
      `kyc_change:${application}`,
    ]);
    // The job again (a retry): the screening for that trigger exists, nothing is added.
    assert.equal(
      await points.screenSubject({ kind: 'customer', customer_id: id, trigger: `kyc_change:${application}` }),
      null,
    );
    const listed = await t.app.inject({
      method: 'GET',
      url: `/api/v1/aml/screenings?customer_id=${id}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(listed.statusCode, 200, listed.body);
    assert.equal(listed.json().items.length, 2);
    assert.equal(listed.json().items[0].outcome, 'hit', listed.body);
    assert.equal(listed.json().items[0].matches[0].external_id, 'NK-fict-san-018');
  });

  test('agents and their owners are screened by the sweep, each once', async () => {
    const agent = await createAgent(t, { activate: false });
    const points = t.application.system.api(amlModule).screening.points;
    assert.equal(await points.screenNewAgents(), 1);
    const [screened] = await screenings('agent', agent.id);
    assert.equal(screened?.name, agent.business_name);
    assert.equal(screened?.trigger, 'agent_created');
    assert.equal((await screenings('agent_owner', agent.owner_customer_id)).length, 1);
    assert.equal(await points.screenNewAgents(), 0);
  });

  test('tipping-off: staff without aml:* and customers reach none of the screening routes', async () => {
    for (const token of [supportToken, customerToken]) {
      for (const request of [
        { method: 'GET' as const, url: '/api/v1/aml/lists' },
        { method: 'GET' as const, url: '/api/v1/aml/screenings' },
        { method: 'POST' as const, url: '/api/v1/aml/screen', payload: { name: 'Hossein Karimi' } },
      ]) {
        const response = await t.app.inject({ ...request, headers: bearer(token) });
        assert.equal(response.statusCode, 403, `${request.url}: ${response.body}`);
        assert.doesNotMatch(response.body, /Karimi|OFAC|screening|sanction/i);
      }
      const uploaded = await upload('un', `${DIR}/un-consolidated.xml`, 'application/xml', token);
      assert.equal(uploaded.statusCode, 403, uploaded.body);
    }
  });
});
