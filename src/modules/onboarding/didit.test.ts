/**
 * Identity path B over HTTP against the Didit fake: approved by webhook, approved with no webhook (polling with
 * backoff), declined with a readable reason, in review then approved, the callback that ignores its query, restart
 * after expiry; webhook verification (bad signature, stale timestamp, forged, Simple-only decisions fetched) answered
 * 401 with the standard body and no effect; replays and deliveries made 1–5 times in shuffled orders ending in the
 * same state with one effect (RELIABILITY.md properties 9 and 22); the previous secret during a rotation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, eq, sql } from 'drizzle-orm';
import { createCodeForgeClient } from '../../../clients/typescript/index.ts';
import { type DiditDelivery, FakeDidit } from '../../../test/fakes/didit.ts';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { signDiditWebhook } from '../../integrations/didit/didit.signature.ts';
import { type Envelope, openEnvelope } from '../../platform/crypto.ts';
import { rawRows } from '../../platform/db.ts';
import { auditLog } from '../../platform/platform.tables.ts';
import { onboardingModule } from './index.ts';
import {
  compareDeclared,
  type DiditDeclared,
  declineReason,
  identityFromDecision,
} from './onboarding.didit.mapping.ts';
import { diditSessions, diditWebhookReceipts } from './onboarding.didit.tables.ts';

const WEBHOOK = '/api/v1/mobile/register/didit/webhook';
const DECLARED = {
  first_name: 'Amina',
  last_name: 'Wanjiru Otieno',
  date_of_birth: '1992-03-14',
  national_id: '12345678',
};

describe('onboarding: Didit identity path', () => {
  let t: TestContext;
  let fake: FakeDidit;
  let closeFake: () => Promise<void>;
  let phoneSeq = 500;
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
        DIDIT_WEBHOOK_SECRET_PREVIOUS: 'didit-secret-old',
        DIDIT_POLL_AFTER_MINUTES: '10',
        DIDIT_POLL_MAX_INTERVAL_MINUTES: '60',
        DIDIT_TIMEOUT_MS: '2000',
        ONBOARDING_CHECKS_PER_IP_HOUR: '10000',
        ONBOARDING_EMAIL_OPTIONAL: 'true',
      },
      // Completion queues work (the welcome message).
      { startJobs: true },
    );
  });
  after(async () => {
    await t.close();
    await closeFake();
  });

  /** A fresh registration at the identity step: its token and id. */
  async function register(): Promise<{ token: string; id: string; device: string }> {
    phoneSeq += 1;
    const device = `didit-device-${phoneSeq}`;
    const answer = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/phone/check',
      payload: { phone: `+254711000${phoneSeq}`, device_id: device, app_version: '2.0.0', language: 'en' },
    });
    assert.equal(answer.statusCode, 200, answer.body);
    const token = answer.json().registration_token as string;
    const row = await api().journey.byToken(token);
    return { token, id: row.id, device };
  }

  const startDidit = (token: string, payload: Record<string, unknown> = DECLARED, device?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/mobile/register/identity/didit',
      headers: { 'x-registration-token': token, ...(device ? { 'x-device-id': device } : {}) },
      payload,
    });

  async function opened(payload: Record<string, unknown> = DECLARED) {
    const registration = await register();
    const answer = await startDidit(registration.token, payload);
    assert.equal(answer.statusCode, 201, answer.body);
    return { ...registration, sessionId: answer.json().didit_session_id as string, answer: answer.json() };
  }

  const status = async (token: string) => {
    const answer = await t.app.inject({
      method: 'GET',
      url: '/api/v1/mobile/register/status',
      headers: { 'x-registration-token': token },
    });
    assert.equal(answer.statusCode, 200, answer.body);
    return answer.json();
  };

  const send = async (delivery: DiditDelivery) => {
    const answer = await t.app.inject({
      method: 'POST',
      url: WEBHOOK,
      headers: delivery.headers,
      payload: delivery.raw,
    });
    return { status: answer.statusCode, body: answer.body };
  };

  const steps = async (registrationId: string, action: string) =>
    (
      await t.deps.database.db
        .select({ id: auditLog.id })
        .from(auditLog)
        .where(and(eq(auditLog.entityId, registrationId), eq(auditLog.action, action)))
    ).length;

  const receipts = async (sessionId: string) =>
    t.deps.database.db
      .select()
      .from(diditWebhookReceipts)
      .where(eq(diditWebhookReceipts.sessionId, sessionId));

  test('approved by webhook: the session carries the registration and the declared details; the identity is mapped without media URLs', async () => {
    const reg = await opened({ ...DECLARED, national_id: '12345678', nationality: 'KE' });
    assert.equal(reg.answer.state, 'identity_pending');
    assert.match(reg.answer.verification_url, /\/session\//);
    const session = fake.session(reg.sessionId);
    assert.equal(session.vendor_data, reg.id);
    assert.deepEqual(session.expected_details, {
      first_name: 'Amina',
      last_name: 'Wanjiru Otieno',
      date_of_birth: '1992-03-14',
      nationality: 'KEN',
      identification_number: '12345678',
    });
    // The same request again answers the same, without a second session.
    const again = await startDidit(reg.token, { ...DECLARED, national_id: '12345678', nationality: 'KE' });
    assert.equal(again.statusCode, 201);
    assert.deepEqual(again.json(), reg.answer);
    assert.equal(fake.sessions().filter((item) => item.vendor_data === reg.id).length, 1);

    fake.setStatus(reg.sessionId, 'Approved');
    const delivered = await fake.deliver(reg.sessionId, {}, send);
    assert.equal(delivered.status, 200, delivered.body);
    assert.deepEqual(JSON.parse(delivered.body), { status: 'applied' });
    const read = await status(reg.token);
    assert.equal(read.state, 'identity_verified');
    assert.equal(read.path, 'didit');
    assert.deepEqual(read.identity, { assurance: 'didit', mismatches: [], didit_status: 'Approved' });
    assert.ok(read.expected_steps.includes('phone_otp_send'));

    const row = (await api().journey.byId(reg.id))!;
    const identity = api().journey.identity<Record<string, unknown>>(row)!;
    assert.equal(identity.first_name, 'Amina');
    assert.equal(identity.document_number, '12345678');
    // Didit's alpha-3 (KEN) kept as customers keep a nationality: alpha-2.
    assert.equal(identity.nationality, 'KE');
    assert.deepEqual(identity.liveness, { status: 'Approved', score: 95 });
    const stored = JSON.stringify([row, identity]);
    assert.doesNotMatch(stored, /https?:\/\//, 'no presigned media URL is kept');
    assert.doesNotMatch(JSON.stringify(row.identitySummary), /Amina|12345678/);
    // The session is final: nothing left to poll.
    const [sessionRow] = await t.deps.database.db
      .select()
      .from(diditSessions)
      .where(eq(diditSessions.sessionId, reg.sessionId));
    assert.ok(sessionRow?.finishedAt);
    assert.equal(sessionRow?.nextPollAt, null);
  });

  /** The registration's steps as the app sends them; the phone OTP with its code read from the sealed event. */
  async function verifyPhone(token: string, registrationId: string) {
    const post = (url: string, payload: Record<string, unknown> = {}) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/mobile/register/${url}`,
        headers: { 'x-registration-token': token },
        payload,
      });
    const sent = await post('phone/otp/send');
    assert.equal(sent.statusCode, 200, sent.body);
    const challenge = sent.json().challenge_id as string;
    const rows = await rawRows<{ payload: Record<string, unknown> }>(
      t.deps.database.db,
      sql`select payload from outbox_events where topic = 'otp.requested' and aggregate_id = ${registrationId}`,
    );
    const event = rows.find((row) => row.payload.challenge_id === challenge);
    assert.ok(event, 'the otp.requested event');
    const code = openEnvelope(
      t.deps.keys,
      JSON.parse(String(event.payload.code_sealed)) as Envelope,
      `otp:${challenge}`,
    ).toString();
    const verified = await post('phone/otp/verify', { challenge_id: challenge, code });
    assert.equal(verified.statusCode, 200, verified.body);
    return post;
  }

  test('Didit approved by webhook: the journey goes on to a completed registration with a customer', async () => {
    const reg = await opened({ ...DECLARED, national_id: '29000001' });
    fake.setStatus(reg.sessionId, 'Approved');
    await fake.deliver(reg.sessionId, {}, send);
    const post = await verifyPhone(reg.token, reg.id);
    assert.equal((await post('email/skip')).statusCode, 200);
    const documents = (
      await t.app.inject({ method: 'GET', url: '/api/v1/mobile/register/documents' })
    ).json();
    const accepted = await post('terms/accept', {
      terms_hash: documents.terms.content_hash,
      privacy_hash: documents.privacy.content_hash,
    });
    assert.equal(accepted.statusCode, 200, accepted.body);
    assert.equal((await post('pin', { pin: '482913' })).statusCode, 200);
    const done = await post('complete');
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().state, 'completed', done.body);
    const read = await status(reg.token);
    assert.equal(read.state, 'completed');
    assert.ok(read.customer_id);
  });

  test('a document that differs from the declared details is still verified, with the mismatches named', async () => {
    const reg = await opened({ ...DECLARED, national_id: '12345678', nationality: 'KE' });
    fake.setStatus(reg.sessionId, 'Approved', {
      person: {
        first_name: 'Grace',
        last_name: 'Achieng',
        date_of_birth: '1990-01-01',
        document_number: '87654321',
        nationality: 'UGA',
      },
    });
    await fake.deliver(reg.sessionId, {}, send);
    const read = await status(reg.token);
    assert.equal(read.state, 'identity_verified');
    assert.deepEqual(read.identity.mismatches, [
      'name_mismatch',
      'date_of_birth_mismatch',
      'document_number_mismatch',
      'nationality_mismatch',
    ]);
  });

  test('no webhook: polling after N minutes applies the decision, backing off while Didit has none', async () => {
    const reg = await opened();
    const now = Date.now();
    fake.setStatus(reg.sessionId, 'In Progress');
    assert.deepEqual(await api().didit.pollDue(new Date(now + 5 * 60_000)), { polled: 0, applied: 0 });
    const first = await api().didit.pollDue(new Date(now + 11 * 60_000));
    assert.ok(first.polled >= 1);
    assert.equal((await status(reg.token)).state, 'identity_pending');
    const [waiting] = await t.deps.database.db
      .select()
      .from(diditSessions)
      .where(eq(diditSessions.sessionId, reg.sessionId));
    assert.equal(waiting?.pollAttempts, 1);
    // Backoff: the next poll is 20 minutes after the first, not 10.
    assert.equal(waiting!.nextPollAt!.getTime(), now + 11 * 60_000 + 20 * 60_000);
    fake.setStatus(reg.sessionId, 'Approved');
    await api().didit.pollDue(new Date(now + 25 * 60_000));
    assert.equal((await status(reg.token)).state, 'identity_pending');
    await api().didit.pollDue(new Date(now + 32 * 60_000));
    const read = await status(reg.token);
    assert.equal(read.state, 'identity_verified');
    assert.equal(read.identity.didit_status, 'Approved');
    assert.equal(await steps(reg.id, 'onboarding.didit_approved'), 1);
    // Final: polled no more.
    const later = await api().didit.pollDue(new Date(now + 600 * 60_000));
    assert.ok(
      !(
        await t.deps.database.db
          .select()
          .from(diditSessions)
          .where(eq(diditSessions.sessionId, reg.sessionId))
      )[0]?.nextPollAt,
    );
    assert.equal(await steps(reg.id, 'onboarding.didit_approved'), 1, JSON.stringify(later));
  });

  test('declined: the journey ends with a reason the customer can read', async () => {
    const reg = await opened();
    fake.setStatus(reg.sessionId, 'Declined', {
      failedFeature: 'id_verifications',
      warnings: [
        {
          risk: 'DOCUMENT_EXPIRED',
          short_description: 'The identity document has expired',
          long_description: 'The document expiration date is in the past.',
        },
      ],
    });
    assert.equal((await fake.deliver(reg.sessionId, {}, send)).status, 200);
    const read = await status(reg.token);
    assert.equal(read.state, 'declined');
    assert.deepEqual(read.expected_steps, []);
    assert.match(read.reason, /could not be verified: The identity document has expired/);
    const retry = await startDidit(reg.token, { ...DECLARED, first_name: 'Again' });
    assert.equal(retry.statusCode, 409);
    assert.equal(retry.json().error_code, 'REGISTRATION_STEP_OUT_OF_ORDER');
  });

  test('in review, then approved; the callback ignores its query and fetches the decision', async () => {
    const reg = await opened();
    fake.setStatus(reg.sessionId, 'In Review', { failedFeature: 'face_matches' });
    await fake.deliver(reg.sessionId, {}, send);
    assert.equal((await status(reg.token)).state, 'identity_review');
    const lied = await t.app.inject({
      method: 'GET',
      url: `/api/v1/mobile/register/didit/callback?verificationSessionId=${reg.sessionId}&status=Approved`,
    });
    assert.equal(lied.statusCode, 200, lied.body);
    assert.deepEqual(lied.json(), {
      state: 'identity_review',
      expected_steps: [],
      didit_status: 'In Review',
    });
    fake.setStatus(reg.sessionId, 'Approved');
    const back = await t.app.inject({
      method: 'GET',
      url: `/api/v1/mobile/register/didit/callback?verificationSessionId=${reg.sessionId}&status=Declined`,
    });
    assert.equal(back.json().state, 'identity_verified', back.body);
    assert.equal(back.json().didit_status, 'Approved');
    // The Approved webhook arriving after the callback changes nothing more.
    assert.deepEqual(JSON.parse((await fake.deliver(reg.sessionId, {}, send)).body), { status: 'ignored' });
    assert.equal(await steps(reg.id, 'onboarding.didit_approved'), 1);
    const unknown = await t.app.inject({
      method: 'GET',
      url: '/api/v1/mobile/register/didit/callback?verificationSessionId=00000000-0000-0000-0000-000000000000',
    });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error_code, 'NOT_FOUND');
  });

  test('expired or abandoned: the identity step may be started again, with a new session', async () => {
    const reg = await opened();
    fake.setStatus(reg.sessionId, 'Abandoned');
    await fake.deliver(reg.sessionId, {}, send);
    const read = await status(reg.token);
    assert.equal(read.state, 'identity_expired');
    assert.match(read.reason, /start it again/);
    assert.ok(read.expected_steps.includes('identity_didit'));
    const restart = await startDidit(reg.token);
    // The same details again: a restart (the old session is dead), not a replay of the first answer.
    assert.equal(restart.statusCode, 201, restart.body);
    assert.notEqual(restart.json().didit_session_id, reg.sessionId);
    // A retry of the restart answers the new session again.
    assert.deepEqual((await startDidit(reg.token)).json(), restart.json());
    assert.equal(fake.sessions().filter((item) => item.vendor_data === reg.id).length, 2);
    // A late delivery about the old session moves nothing.
    fake.setStatus(reg.sessionId, 'Approved');
    assert.deepEqual(JSON.parse((await fake.deliver(reg.sessionId, {}, send)).body), { status: 'ignored' });
    assert.equal((await status(reg.token)).state, 'identity_pending');
  });

  test('unverifiable webhooks answer 401 with the standard error body and change nothing', async () => {
    const reg = await opened();
    fake.setStatus(reg.sessionId, 'Approved');
    const cases: [string, DiditDelivery][] = [
      ['forged', fake.buildDelivery(reg.sessionId, { forge: true })],
      ['stale +301 s', fake.buildDelivery(reg.sessionId, { timestampOffsetSeconds: 301 })],
      ['stale -301 s', fake.buildDelivery(reg.sessionId, { timestampOffsetSeconds: -301 })],
      ['no signature', { ...fake.buildDelivery(reg.sessionId, { signatures: [] }) }],
      [
        'decision tampered, V2 only',
        fake.buildDelivery(reg.sessionId, { tamperDecision: true, signatures: ['v2'] }),
      ],
      [
        're-serialised, V1 only',
        fake.buildDelivery(reg.sessionId, { reserialise: true, signatures: ['v1'] }),
      ],
    ];
    for (const [name, delivery] of cases) {
      const answer = await send(delivery);
      assert.equal(answer.status, 401, `${name}: ${answer.body}`);
      const body = JSON.parse(answer.body);
      assert.equal(body.error_code, 'DIDIT_WEBHOOK_UNVERIFIED', name);
      assert.equal(body.status_code, 401);
      assert.ok(body.request_id && body.message, name);
    }
    const missingTimestamp = fake.buildDelivery(reg.sessionId);
    delete missingTimestamp.headers['x-timestamp'];
    assert.equal((await send(missingTimestamp)).status, 401);
    assert.equal((await status(reg.token)).state, 'identity_pending');
    assert.deepEqual(await receipts(reg.sessionId), []);
    assert.equal(await steps(reg.id, 'onboarding.didit_approved'), 0);
    assert.ok((await api().didit.metrics.count('webhook', 'rejected')) >= cases.length + 1);
  });

  test('Simple alone does not vouch for the decision: a tampered decision is replaced by the one fetched from Didit', async () => {
    const reg = await opened();
    fake.setStatus(reg.sessionId, 'Approved');
    const tampered = fake.buildDelivery(reg.sessionId, { tamperDecision: true });
    assert.equal(
      (tampered.body.decision as { id_verifications: { first_name: string }[] }).id_verifications[0]
        ?.first_name,
      'Mallory',
    );
    // Fetching the decision fails: 503 (Didit retries a 5xx) and nothing is recorded; the retry applies it.
    fake.failNext(1, 500);
    const failed = await send(tampered);
    assert.equal(failed.status, 503, failed.body);
    assert.equal(JSON.parse(failed.body).error_code, 'DIDIT_UNAVAILABLE');
    assert.deepEqual(await receipts(reg.sessionId), []);
    assert.equal((await send(tampered)).status, 200);
    const row = (await api().journey.byId(reg.id))!;
    assert.equal(api().journey.identity<{ first_name: string }>(row)?.first_name, 'Amina');
    assert.equal((await receipts(reg.sessionId))[0]?.scheme, 'simple');
  });

  test('replays: the same session and status has one effect, whatever the bytes or the timing', async () => {
    const reg = await opened();
    fake.setStatus(reg.sessionId, 'Approved');
    const delivery = fake.buildDelivery(reg.sessionId);
    assert.deepEqual(JSON.parse((await send(delivery)).body), { status: 'applied' });
    assert.deepEqual(JSON.parse((await send(delivery)).body), { status: 'duplicate' });
    const reserialised = fake.buildDelivery(reg.sessionId, { reserialise: true, signatures: ['v2'] });
    assert.deepEqual(JSON.parse((await send(reserialised)).body), { status: 'duplicate' });
    const concurrent = await Promise.all([1, 2, 3].map(() => send(fake.buildDelivery(reg.sessionId))));
    assert.ok(concurrent.every((answer) => answer.status === 200));
    assert.equal(await steps(reg.id, 'onboarding.didit_approved'), 1);
    assert.equal((await receipts(reg.sessionId)).length, 1);
  });

  test('deliveries made 1–5 times in shuffled orders end in the same state with one effect per status', async () => {
    const flows: { statuses: string[]; final: string; step: string }[] = [
      {
        statuses: ['In Progress', 'In Review', 'Approved'],
        final: 'identity_verified',
        step: 'onboarding.didit_approved',
      },
      {
        statuses: ['In Progress', 'In Review', 'Declined'],
        final: 'declined',
        step: 'onboarding.didit_declined',
      },
      { statuses: ['In Progress', 'Abandoned'], final: 'identity_expired', step: 'onboarding.didit_expired' },
    ];
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const flow = flows[seed % flows.length]!;
      const reg = await opened();
      const outcomes = await fake.deliverShuffled(
        flow.statuses.map((item) => ({ sessionId: reg.sessionId, status: item })),
        seed,
        send,
      );
      assert.ok(
        outcomes.every((outcome) => outcome.status === 200),
        `seed ${seed}`,
      );
      assert.equal((await status(reg.token)).state, flow.final, `seed ${seed}`);
      assert.equal(await steps(reg.id, flow.step), 1, `seed ${seed}`);
      assert.ok((await steps(reg.id, 'onboarding.didit_in_review')) <= 1, `seed ${seed}`);
      assert.equal((await receipts(reg.sessionId)).length, flow.statuses.length, `seed ${seed}`);
    }
  });

  test('secret rotation: the previous secret is accepted, on the main or the -Previous headers', async () => {
    const reg = await opened();
    fake.setStatus(reg.sessionId, 'In Review');
    const body = fake.webhookBody(reg.sessionId);
    const raw = JSON.stringify(body);
    // Didit rotated before us: the new secret (unknown here) signs the main headers, ours the -Previous ones.
    const rotatedAhead = signDiditWebhook({
      secret: 'didit-secret-next',
      previousSecret: 'didit-secret-current',
      body,
      rawBody: raw,
    });
    assert.deepEqual(JSON.parse((await send({ headers: rotatedAhead, raw, body })).body), {
      status: 'applied',
    });
    assert.equal((await status(reg.token)).state, 'identity_review');
    // We rotated before Didit: the old secret still signs the main headers.
    fake.setStatus(reg.sessionId, 'Approved');
    const approved = fake.webhookBody(reg.sessionId);
    const approvedRaw = JSON.stringify(approved);
    const old = signDiditWebhook({ secret: 'didit-secret-old', body: approved, rawBody: approvedRaw });
    assert.deepEqual(JSON.parse((await send({ headers: old, raw: approvedRaw, body: approved })).body), {
      status: 'applied',
    });
    assert.equal((await status(reg.token)).state, 'identity_verified');
    const unknownSecret = signDiditWebhook({
      secret: 'didit-secret-stolen',
      body: approved,
      rawBody: approvedRaw,
    });
    assert.equal((await send({ headers: unknownSecret, raw: approvedRaw, body: approved })).status, 401);
  });

  test('readiness reports Didit (not critical: the CBS path and the other steps work without it)', async () => {
    const ready = await t.app.inject({ method: 'GET', url: '/health/ready' });
    assert.equal(ready.statusCode, 200, ready.body);
    assert.equal(ready.json().checks['onboarding.didit'], 'ok');
  });

  test('Didit unavailable or throttled: 503 with Retry-After, and the same step can be sent again', async () => {
    const reg = await register();
    const { national_id: _, ...withoutId } = DECLARED;
    const invalid = await startDidit(reg.token, withoutId);
    assert.equal(invalid.statusCode, 422, invalid.body);
    assert.equal(invalid.json().error_code, 'VALIDATION_ERROR');
    fake.failNext(1, 429, JSON.stringify({ detail: 'Request was throttled.' }), '42');
    const throttled = await startDidit(reg.token);
    assert.equal(throttled.statusCode, 503, throttled.body);
    assert.equal(throttled.json().error_code, 'DIDIT_UNAVAILABLE');
    assert.equal(throttled.headers['retry-after'], '42');
    fake.failNext(1, 500);
    assert.equal((await startDidit(reg.token)).statusCode, 503);
    assert.equal((await status(reg.token)).state, 'phone_checked');
    assert.equal((await startDidit(reg.token)).statusCode, 201);
  });

  test('over the network with the typed client: the verification page approves, the webhook travels signed, the callback answers', async () => {
    const baseUrl = await t.app.listen({ host: '127.0.0.1', port: 0 });
    fake.webhookUrl = `${baseUrl}${WEBHOOK}`;
    fake.autoDeliver = true;
    const client = createCodeForgeClient({ baseUrl });
    const checked = await client.POST('/api/v1/mobile/register/phone/check', {
      body: {
        phone: '+254711000999',
        device_id: 'didit-network-device',
        app_version: '2.0.0',
        language: 'en',
      },
    });
    assert.equal(checked.response.status, 200, JSON.stringify(checked.error));
    const token = checked.data!.registration_token;
    const headers = { 'x-registration-token': token };
    const started = await client.POST('/api/v1/mobile/register/identity/didit', {
      params: { header: headers },
      body: { ...DECLARED, national_id: '29000999' },
    });
    assert.equal(started.response.status, 201, JSON.stringify(started.error));
    // The person picks "Approved" on the verification page: the fake posts the signed webhook to the API over HTTP,
    // then sends the browser to the callback.
    const page = await fetch(`${started.data!.verification_url}/complete?status=Approved`, {
      method: 'POST',
      redirect: 'manual',
    });
    assert.equal(page.status, 303);
    const delivered = fake.deliveries.at(-1)!;
    assert.equal(delivered.outcome.status, 200, delivered.outcome.body);
    assert.deepEqual(JSON.parse(delivered.outcome.body), { status: 'applied' });
    const location = new URL(page.headers.get('location')!);
    assert.equal(location.searchParams.get('status'), 'Approved');
    const back = await client.GET('/api/v1/mobile/register/didit/callback', {
      params: {
        query: {
          verificationSessionId: location.searchParams.get('verificationSessionId')!,
          status: location.searchParams.get('status')!,
        },
      },
    });
    assert.equal(back.response.status, 200, JSON.stringify(back.error));
    assert.equal(back.data!.state, 'identity_verified');
    const read = await client.GET('/api/v1/mobile/register/status', { params: { header: headers } });
    assert.equal(read.data!.state, 'identity_verified');
    assert.equal(read.data!.identity?.didit_status, 'Approved');
    fake.autoDeliver = false;
    fake.webhookUrl = undefined;
  });
});

describe('the Didit decision mapping', () => {
  const declared: DiditDeclared = {
    first_name: 'José',
    last_name: 'Mwangi Kamau',
    date_of_birth: '1988-07-09',
    national_id: '2345 6789',
    national_id_type: 'national_id',
    nationality: 'KE',
    email: null,
  };
  const decision = (document: Record<string, unknown>, liveness = 'Approved', face = 'Approved') => ({
    id_verifications: [
      {
        status: 'Approved',
        document_type: 'Identity Card',
        document_number: '23456789',
        first_name: 'KAMAU',
        last_name: 'JOSE MWANGI',
        date_of_birth: '1988-07-09',
        nationality: 'KEN',
        portrait_image: 'https://media.example/portrait.jpg',
        ...document,
      },
    ],
    liveness_checks: [{ status: liveness, score: 91.5, reference_image: 'https://media.example/l.jpg' }],
    face_matches: [{ status: face, score: 88 }],
  });

  test('names in another order, case and accents, the ID with spaces: no mismatch; no URL is taken', () => {
    const identity = identityFromDecision('s-1', decision({}));
    assert.deepEqual(compareDeclared(declared, identity), []);
    assert.doesNotMatch(JSON.stringify(identity), /https?:/);
  });

  test('a passport for a declared national ID leaves the ID unconfirmed; a failed liveness or face match is named', () => {
    const identity = identityFromDecision(
      's-2',
      decision({ document_type: 'Passport' }, 'Declined', 'In Review'),
    );
    assert.deepEqual(
      compareDeclared(declared, identity).map((mismatch) => mismatch.code),
      ['national_id_unconfirmed', 'liveness_not_passed', 'face_match_not_passed'],
    );
    const unread = identityFromDecision('s-3', decision({ date_of_birth: null }));
    assert.deepEqual(
      compareDeclared(declared, unread).map((mismatch) => mismatch.code),
      ['date_of_birth_missing'],
    );
  });

  test('a decline reads as the declined features say, or as what the feature checks', () => {
    assert.equal(
      declineReason({
        liveness_checks: [{ status: 'Declined', warnings: [] }],
        face_matches: [{ status: 'Approved' }],
      }),
      'Your identity could not be verified: the selfie did not pass the liveness check. Contact us if you think this is wrong.',
    );
    assert.equal(
      declineReason(null),
      'Your identity could not be verified. Contact us if you think this is wrong.',
    );
  });
});
