/**
 * Didit's `data.updated` (a reviewer at Didit corrected the extracted data) over HTTP against the Didit fake: before
 * activation the identity is re-mapped from the fetched decision and compared again (a now-mismatching registration
 * goes to review at completion); while Didit has not decided, the fetched decision is applied as a status is (a stale
 * approval delivered later moves nothing); after activation the customer is left alone and staff are told (audit
 * entries and a flag). Each correction has one effect however often it is delivered (property 9), and the body is
 * never trusted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, eq, like, sql } from 'drizzle-orm';
import { type DiditDelivery, FakeDidit } from '../../../test/fakes/didit.ts';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { type Envelope, openEnvelope } from '../../platform/crypto.ts';
import { rawRows } from '../../platform/db.ts';
import { auditLog } from '../../platform/platform.tables.ts';
import { onboardingModule } from './index.ts';
import type { DiditIdentity } from './onboarding.didit.mapping.ts';
import { diditWebhookReceipts } from './onboarding.didit.tables.ts';

const DECLARED = {
  first_name: 'Amina',
  last_name: 'Wanjiru Otieno',
  date_of_birth: '1992-03-14',
  national_id: '12345678',
};

describe('onboarding: Didit data.updated', () => {
  let t: TestContext;
  let fake: FakeDidit;
  let closeFake: () => Promise<void>;
  let seq = 700;
  const api = () => t.application.system.api(onboardingModule);

  before(async () => {
    fake = new FakeDidit({ webhookSecret: 'didit-secret-current' });
    const started = await fake.start();
    closeFake = started.close;
    t = await startTestApp(
      {
        DIDIT_BASE_URL: started.baseUrl,
        DIDIT_API_KEY: fake.apiKey,
        DIDIT_WORKFLOW_ID: fake.workflowId,
        DIDIT_WEBHOOK_SECRET: 'didit-secret-current',
        DIDIT_TIMEOUT_MS: '2000',
        ONBOARDING_CHECKS_PER_IP_HOUR: '10000',
        ONBOARDING_EMAIL_OPTIONAL: 'true',
      },
      { startJobs: true },
    );
  });
  after(async () => {
    await t.close();
    await closeFake();
  });

  const post = (token: string, url: string, payload: Record<string, unknown> = {}) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/mobile/register/${url}`,
      headers: { 'x-registration-token': token },
      payload,
    });

  /** A registration with an open Didit session for `declared` (a fresh national ID each). */
  async function opened() {
    seq += 1;
    const checked = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/phone/check',
      payload: {
        phone: `+254711000${seq}`,
        device_id: `fix-device-${seq}`,
        app_version: '2.0.0',
        language: 'en',
      },
    });
    assert.equal(checked.statusCode, 200, checked.body);
    const token = checked.json().registration_token as string;
    const declared = { ...DECLARED, national_id: `3100${seq}` };
    const started = await post(token, 'identity/didit', declared);
    assert.equal(started.statusCode, 201, started.body);
    const { id } = await api().journey.byToken(token);
    return { token, id, sessionId: started.json().didit_session_id as string };
  }

  const send = async (delivery: DiditDelivery) => {
    const answer = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/didit/webhook',
      headers: delivery.headers,
      payload: delivery.raw,
    });
    return { status: answer.statusCode, body: answer.body };
  };

  const status = async (token: string) => {
    const answer = await t.app.inject({
      method: 'GET',
      url: '/api/v1/mobile/register/status',
      headers: { 'x-registration-token': token },
    });
    assert.equal(answer.statusCode, 200, answer.body);
    return answer.json();
  };

  const audits = async (entityId: string, action: string) =>
    (
      await t.deps.database.db
        .select({ id: auditLog.id })
        .from(auditLog)
        .where(and(eq(auditLog.entityId, entityId), eq(auditLog.action, action)))
    ).length;

  const corrections = async (sessionId: string) =>
    (
      await t.deps.database.db
        .select()
        .from(diditWebhookReceipts)
        .where(
          and(
            eq(diditWebhookReceipts.sessionId, sessionId),
            like(diditWebhookReceipts.status, 'data.updated:%'),
          ),
        )
    ).length;

  async function identityOf(token: string): Promise<DiditIdentity> {
    const { journey } = api();
    const identity = journey.identity<DiditIdentity>(await journey.byToken(token));
    assert.ok(identity);
    return identity;
  }

  /** Approved by Didit (matching the declared details), then the steps up to the PIN. */
  async function throughCredentials(reg: { token: string; id: string; sessionId: string }) {
    fake.setStatus(reg.sessionId, 'Approved');
    assert.equal((await fake.deliver(reg.sessionId, {}, send)).status, 200);
    const sent = await post(reg.token, 'phone/otp/send');
    assert.equal(sent.statusCode, 200, sent.body);
    const challenge = sent.json().challenge_id as string;
    const rows = await rawRows<{ payload: Record<string, unknown> }>(
      t.deps.database.db,
      sql`select payload from outbox_events where topic = 'otp.requested' and aggregate_id = ${reg.id}`,
    );
    const event = rows.find((row) => row.payload.challenge_id === challenge);
    assert.ok(event);
    const code = openEnvelope(
      t.deps.keys,
      JSON.parse(String(event.payload.code_sealed)) as Envelope,
      `otp:${challenge}`,
    ).toString();
    assert.equal(
      (await post(reg.token, 'phone/otp/verify', { challenge_id: challenge, code })).statusCode,
      200,
    );
    assert.equal((await post(reg.token, 'email/skip')).statusCode, 200);
    const documents = (
      await t.app.inject({ method: 'GET', url: '/api/v1/mobile/register/documents' })
    ).json();
    const accepted = await post(reg.token, 'terms/accept', {
      terms_hash: documents.terms.content_hash,
      privacy_hash: documents.privacy.content_hash,
    });
    assert.equal(accepted.statusCode, 200, accepted.body);
    assert.equal((await post(reg.token, 'pin', { pin: '482913' })).statusCode, 200);
  }

  test('before activation: the corrected name is re-mapped and compared again, once however often delivered; completion then goes to review', async () => {
    for (const times of [1, 2, 3, 4, 5]) {
      const reg = await opened();
      await throughCredentials(reg);
      assert.deepEqual((await status(reg.token)).identity.mismatches, []);
      const outcomes = await fake.correctData(reg.sessionId, { last_name: 'Kamau' }, { times }, send);
      assert.deepEqual(
        outcomes.map((outcome) => JSON.parse(outcome.body).status),
        ['applied', ...Array(times - 1).fill('duplicate')],
      );
      // And concurrently, after a reserialised copy: still the one effect.
      const again = await Promise.all(
        [1, 2].map(() =>
          send(fake.buildDelivery(reg.sessionId, { webhookType: 'data.updated', reserialise: true })),
        ),
      );
      assert.ok(
        again.every((answer) => answer.status === 200 && JSON.parse(answer.body).status === 'duplicate'),
      );
      const read = await status(reg.token);
      assert.equal(read.state, 'credentials_set');
      assert.deepEqual(read.identity.mismatches, ['name_mismatch']);
      assert.equal((await identityOf(reg.token)).last_name, 'Kamau');
      assert.equal(await audits(reg.id, 'onboarding.didit_data_updated'), 1, `times ${times}`);
      assert.equal(await corrections(reg.sessionId), 1);
      if (times > 1) continue;
      const done = await post(reg.token, 'complete');
      assert.equal(done.statusCode, 200, done.body);
      assert.equal(done.json().state, 'in_review');
      const registration = await api().journey.byToken(reg.token);
      assert.ok(registration.reviewReasons?.includes('identity_mismatch: name_mismatch'));
    }
  });

  test('a second correction is a second effect; correcting back to the declared details clears the mismatch', async () => {
    const reg = await opened();
    await throughCredentials(reg);
    await fake.correctData(reg.sessionId, { date_of_birth: '1992-03-15' }, {}, send);
    assert.deepEqual((await status(reg.token)).identity.mismatches, ['date_of_birth_mismatch']);
    await fake.correctData(reg.sessionId, { date_of_birth: DECLARED.date_of_birth }, { times: 2 }, send);
    assert.deepEqual((await status(reg.token)).identity.mismatches, []);
    assert.equal(await audits(reg.id, 'onboarding.didit_data_updated'), 2);
    const done = await post(reg.token, 'complete');
    assert.equal(done.json().state, 'completed', done.body);
  });

  test('in the review queue: the identity is re-mapped and the registration says it was corrected', async () => {
    const reg = await opened();
    await throughCredentials(reg);
    await fake.correctData(reg.sessionId, { last_name: 'Kamau' }, {}, send);
    assert.equal((await post(reg.token, 'complete')).json().state, 'in_review');
    await fake.correctData(reg.sessionId, { first_name: 'Halima' }, { times: 3 }, send);
    const registration = await api().journey.byToken(reg.token);
    assert.equal(registration.state, 'in_review');
    assert.equal(registration.reviewReasons?.filter((reason) => reason === 'identity_corrected').length, 1);
    assert.equal((await identityOf(reg.token)).first_name, 'Halima');
  });

  test('before Didit decided: the fetched decision applies, and the stale approval delivered after it moves nothing', async () => {
    const reg = await opened();
    fake.setStatus(reg.sessionId, 'Approved');
    const staleApproval = fake.buildDelivery(reg.sessionId);
    const [corrected] = await fake.correctData(reg.sessionId, { last_name: 'Kamau' }, {}, send);
    assert.equal(JSON.parse(corrected!.body).status, 'applied');
    assert.equal(JSON.parse((await send(staleApproval)).body).status, 'ignored');
    const read = await status(reg.token);
    assert.equal(read.state, 'identity_verified');
    assert.deepEqual(read.identity.mismatches, ['name_mismatch']);
    assert.equal((await identityOf(reg.token)).last_name, 'Kamau');
  });

  test('the body is never trusted: a tampered decision under Simple is replaced by the fetched one (nothing changed)', async () => {
    const reg = await opened();
    await throughCredentials(reg);
    const tampered = fake.buildDelivery(reg.sessionId, {
      webhookType: 'data.updated',
      signatures: ['simple'],
      tamperDecision: true,
    });
    const answer = await send(tampered);
    assert.equal(answer.status, 200, answer.body);
    assert.equal(JSON.parse(answer.body).status, 'recorded');
    assert.equal((await identityOf(reg.token)).first_name, 'Amina');
    assert.equal(await audits(reg.id, 'onboarding.didit_data_updated'), 0);
    // Unsigned, it is refused like any delivery.
    const forged = fake.buildDelivery(reg.sessionId, { webhookType: 'data.updated', forge: true });
    assert.equal((await send(forged)).status, 401);
  });

  test('after activation: the customer is not changed; staff get audit entries and a flag, once per correction', async () => {
    const reg = await opened();
    await throughCredentials(reg);
    const done = await post(reg.token, 'complete');
    assert.equal(done.json().state, 'completed', done.body);
    const customerId = done.json().customer_id as string;
    const outcomes = await fake.correctData(reg.sessionId, { last_name: 'Kamau' }, { times: 4 }, send);
    assert.deepEqual(
      outcomes.map((outcome) => JSON.parse(outcome.body).status),
      ['recorded', 'duplicate', 'duplicate', 'duplicate'],
    );
    const [customer] = await rawRows<{ last_name: string }>(
      t.deps.database.db,
      sql`select last_name from customers where id = ${customerId}`,
    );
    assert.equal(customer?.last_name, 'Wanjiru Otieno');
    assert.equal(await audits(reg.id, 'onboarding.identity_corrected_after_activation'), 1);
    assert.equal(await audits(customerId, 'customer.identity_correction_reported'), 1);
    const row = (await api().journey.byId(reg.id))!;
    const flags = (row.identitySummary as { corrections_after_activation?: { changed_fields: string[] }[] })
      .corrections_after_activation;
    assert.equal(flags?.length, 1);
    assert.ok(flags?.[0]?.changed_fields.includes('last_name'));
    // The registration keeps the identity the customer was made from.
    assert.equal(api().journey.identity<DiditIdentity>(row)?.last_name, 'Wanjiru Otieno');
  });

  test('a declined registration ignores a correction', async () => {
    const reg = await opened();
    fake.setStatus(reg.sessionId, 'Declined');
    await fake.deliver(reg.sessionId, {}, send);
    assert.equal((await status(reg.token)).state, 'declined');
    const [answer] = await fake.correctData(reg.sessionId, { last_name: 'Kamau' }, {}, send);
    assert.equal(JSON.parse(answer!.body).status, 'recorded');
    assert.equal((await status(reg.token)).state, 'declined');
  });
});
