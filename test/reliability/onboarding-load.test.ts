/**
 * Mobile registration under load (issue 17): N concurrent registrations go through the whole journey against a real
 * API process (`node src/main.ts`), real PostgreSQL and Redis, the Fineract fake (identity path A) and the Didit fake
 * (path B, one registration in four, approved by a signed webhook the fake posts to the API). The API is SIGKILLed
 * once while the registrations are in flight and restarted as a process manager would; every client retries what
 * had no definite answer (a network error, a 5xx) with the same body and Idempotency-Key until it has one.
 *
 * The property: every registration completes, and the database then holds exactly N customers with the registering
 * phones, each with one KES wallet, PIN credentials and one completed registration pointing at it: no duplicate, no
 * half-made record (a customer without a wallet or credentials, a registration completed without a customer, two
 * registrations for a phone), and each customer has the one device its PIN step sent the key of, registered for
 * push approvals. A sample of the customers signs in with the PIN chosen during registration. Any refusal (a 4xx such
 * as 409 REGISTRATION_STEP_OUT_OF_ORDER, 401 OTP_INVALID or 429 OTP_COOLDOWN after a retry) fails the run: a send
 * killed after issuing its code (in Redis, outside the step's transaction) is retried without the resend cooldown,
 * and a verify killed before its step committed succeeds on retry, the code being spent only after the commit
 * (test/reliability/README.md).
 *
 * OTP codes are read from the `otp.requested` outbox events (sealed; opened with the master key the harness gave the
 * API process), as src/modules/onboarding/activation.test.ts does: the API runs without a worker here.
 *
 * Runs only when TEST_DATABASE_URL and REDIS_URL are set (CI sets both). By default 40 registrations and one kill
 * (about 30 s); the full property of the issue:
 *
 *   ONBOARDING_LOAD_REGISTRATIONS=200 node_modules/.bin/node --test test/reliability/onboarding-load.test.ts
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type Envelope, keyRing, openEnvelope } from '../../src/platform/crypto.ts';
import { FakeDidit } from '../fakes/didit.ts';
import { FakeFineract } from '../fakes/fineract.ts';
import { ApiProcess, freePort } from './harness/api-process.ts';
import { errorCode } from './harness/client.ts';
import {
  apiEnvironment,
  type Bank,
  bounded,
  createBank,
  FIRST_START,
  reportIfStillAlive,
  sharedServices,
} from './harness/world.ts';

const REGISTRATIONS = Number(process.env.ONBOARDING_LOAD_REGISTRATIONS ?? 40);
const PIN = '482913';
const MASTER_KEY = randomBytes(32);
const WEBHOOK_SECRET = 'onboarding-load-webhook-secret';
/** The kill comes when this share of the journeys' calls has been answered. */
const KILL_AT = 0.35;
const STEPS_PER_JOURNEY = 8;
const SETUP_TIMEOUT_MS = 240_000;
const RUN_TIMEOUT_MS = REGISTRATIONS > 100 ? 600_000 : 180_000;

/** A fresh Ed25519 public key (SPKI PEM), as an app makes one per install. */
function devicePublicKey(): string {
  return generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

interface Reply {
  status: number;
  body: string;
  json: Record<string, unknown>;
}

/** What one journey met: answers the kill took. */
interface Trace {
  lost: number;
}

if (sharedServices)
  describe(`reliability: ${REGISTRATIONS} concurrent registrations, the API killed once`, () => {
    let bank: Bank;
    let api: ApiProcess;
    const fineract = new FakeFineract();
    const didit = new FakeDidit({ webhookSecret: WEBHOOK_SECRET });
    const closers: (() => Promise<void>)[] = [];
    const ring = keyRing('k1', MASTER_KEY, new Map());
    /** Answers by label (`200`, `net:ECONNREFUSED`, `503 …`): what the clients met. */
    const answers = new Map<string, number>();
    let answered = 0;
    let killed: Promise<unknown> | null = null;
    let retries = 0;

    before(
      async () => {
        bank = await createBank();
        const bankFake = await fineract.start();
        closers.push(bankFake.close);
        const diditFake = await didit.start();
        closers.push(diditFake.close);
        const port = await freePort();
        api = new ApiProcess({
          port,
          env: apiEnvironment(
            bank,
            { database: bank.databaseUrl, redis: bank.redisUrl },
            {
              MASTER_KEY: MASTER_KEY.toString('base64'),
              MASTER_KEY_ID: 'k1',
              FINERACT_BASE_URL: bankFake.baseUrl,
              FINERACT_USERNAME: 'mifos',
              FINERACT_PASSWORD: 'password',
              DIDIT_BASE_URL: diditFake.baseUrl,
              DIDIT_API_KEY: didit.apiKey,
              DIDIT_WORKFLOW_ID: didit.workflowId,
              DIDIT_WEBHOOK_SECRET: WEBHOOK_SECRET,
              ONBOARDING_EMAIL_OPTIONAL: 'true',
              ONBOARDING_CHECKS_PER_IP_HOUR: '100000',
              DATABASE_POOL_SIZE: '20',
            },
          ),
        });
        didit.webhookUrl = `${api.url}/api/v1/mobile/register/didit/webhook`;
        await api.start(FIRST_START, 180_000);
        api.supervise();
      },
      { timeout: SETUP_TIMEOUT_MS },
    );

    after(
      async () => {
        await bounded('API process', 30_000, async () => api?.stop());
        for (const close of closers) await bounded('fake', 10_000, close);
        await bounded('database', 60_000, async () => bank?.close());
        reportIfStillAlive('onboarding-load');
      },
      { timeout: 120_000 },
    );

    function count(label: string) {
      answers.set(label, (answers.get(label) ?? 0) + 1);
    }

    /** Kills the API once, when enough of the run has been answered (the requests in flight lose their answers). */
    function maybeKill() {
      answered += 1;
      if (killed || answered < REGISTRATIONS * STEPS_PER_JOURNEY * KILL_AT) return;
      killed = api.kill();
    }

    /**
     * One call, repeated with the same body and headers until the answer is definite: a network error (the API is
     * down or died mid-request) or a 5xx is retried after a short pause; any other answer is returned (a 429 too:
     * a resend cooldown met by the retry of a send the kill cut is a refusal, and fails the run).
     */
    async function send(
      method: 'GET' | 'POST',
      path: string,
      options: { headers?: Record<string, string>; body?: unknown } = {},
      trace: Trace = { lost: 0 },
    ): Promise<Reply & { lost: number }> {
      const deadline = Date.now() + 120_000;
      let lost = 0;
      for (let attempt = 0; ; attempt += 1) {
        let label: string;
        const pause = Math.min(200 * 2 ** attempt, 2000);
        try {
          const response = await fetch(`${api.url}${path}`, {
            method,
            headers: {
              ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
              ...options.headers,
            },
            body: options.body === undefined ? undefined : JSON.stringify(options.body),
            signal: AbortSignal.timeout(15_000),
          });
          const body = await response.text();
          const code = response.status >= 400 ? errorCode(body) : undefined;
          label = code ? `${response.status} ${code}` : String(response.status);
          count(label);
          if (response.status < 500) {
            maybeKill();
            return { status: response.status, body, json: body ? JSON.parse(body) : {}, lost };
          }
          lost += 1;
          trace.lost += 1;
        } catch (error) {
          const cause = (error as { cause?: { code?: string } }).cause;
          label = `net:${cause?.code ?? (error as Error).name}`;
          count(label);
          lost += 1;
          trace.lost += 1;
        }
        if (Date.now() > deadline) assert.fail(`${method} ${path}: no definite answer, last ${label}`);
        retries += 1;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }

    async function ok(
      what: string,
      method: 'GET' | 'POST',
      path: string,
      options: { headers?: Record<string, string>; body?: unknown } = {},
      status = 200,
      trace?: Trace,
    ): Promise<Record<string, unknown>> {
      const reply = await send(method, path, options, trace);
      assert.equal(reply.status, status, `${what}: ${reply.body}`);
      return reply.json;
    }

    /** The code of an OTP challenge, from its sealed `otp.requested` outbox event. */
    async function codeOf(challengeId: string): Promise<string> {
      for (let attempt = 0; attempt < 50; attempt += 1) {
        const rows = await bank.db.pool.query<{ payload: { code_sealed: string } }>(
          `select payload from outbox_events where topic = 'otp.requested' and payload->>'challenge_id' = $1`,
          [challengeId],
        );
        const sealed = rows.rows[0]?.payload.code_sealed;
        if (sealed)
          return openEnvelope(ring, JSON.parse(sealed) as Envelope, `otp:${challengeId}`).toString();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.fail(`no otp.requested event for challenge ${challengeId}`);
    }

    const phoneOf = (index: number) => `+2547130${String(index).padStart(5, '0')}`;

    /** One applicant's whole journey; answers the customer id. */
    async function journey(
      index: number,
      documents: { terms: string; privacy: string },
      trace: Trace,
    ): Promise<string> {
      const phone = phoneOf(index);
      const device = `load-device-${index}`;
      const nationalId = `8${String(index).padStart(7, '0')}`;
      const viaDidit = index % 4 === 3;
      const base = '/api/v1/mobile/register';
      const checked = await ok('phone check', 'POST', `${base}/phone/check`, {
        body: { phone, device_id: device, app_version: '3.1.0', language: 'en' },
      });
      assert.equal(checked.next_step, 'identity', JSON.stringify(checked));
      const headers = { 'x-registration-token': String(checked.registration_token), 'x-device-id': device };
      const step = (what: string, path: string, body: unknown = {}, status = 200, extra = {}) =>
        ok(what, 'POST', `${base}/${path}`, { headers: { ...headers, ...extra }, body }, status, trace);

      if (viaDidit) {
        const opened = await step(
          'identity/didit',
          'identity/didit',
          {
            first_name: 'Amina',
            last_name: 'Wanjiru Otieno',
            date_of_birth: '1992-03-14',
            national_id: nationalId,
          },
          201,
        );
        const sessionId = String(opened.didit_session_id);
        didit.setStatus(sessionId, 'Approved');
        // Didit retries a delivery until it gets a 2xx: so does the fake here.
        for (let attempt = 0; ; attempt += 1) {
          const outcome = await didit
            .deliver(sessionId)
            .catch((error: Error) => ({ status: 0, body: error.message }));
          count(`webhook ${outcome.status}`);
          if (outcome.status === 200) break;
          assert.ok(
            outcome.status === 0 || outcome.status >= 500,
            `webhook: ${outcome.status} ${outcome.body}`,
          );
          assert.ok(attempt < 100, 'the webhook never got through');
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
      } else {
        fineract.addClient({
          id: 100_000 + index,
          firstname: 'Wanjiku',
          middlename: 'Achieng',
          lastname: `Otieno${index}`,
          dateOfBirth: '1990-04-07',
          mobileNo: `07130${String(index).padStart(5, '0')}`,
          externalId: nationalId,
        });
        const found = await step('identity/cbs', 'identity/cbs', {
          lookup: 'national_id',
          national_id: nationalId,
          first_name: 'Wanjiku',
          last_name: `Otieno${index}`,
          date_of_birth: '1990-04-07',
        });
        assert.equal(found.state, 'identity_verified');
      }

      // The phone OTP. The code is checked under the registration's lock and spent only once the step commits, so a
      // verify whose answer the kill took succeeds on retry (or replays the committed step): never 401 OTP_INVALID.
      const sent = await step('phone otp send', 'phone/otp/send', {}, 200, {
        'idempotency-key': `otp-${index}`,
      });
      const challenge = String(sent.challenge_id);
      const verified = await step('phone otp verify', 'phone/otp/verify', {
        challenge_id: challenge,
        code: await codeOf(challenge),
      });
      assert.equal(verified.state, 'phone_verified', JSON.stringify(verified));
      await step('email skip', 'email/skip');
      await step('terms', 'terms/accept', { terms_hash: documents.terms, privacy_hash: documents.privacy });
      // The device's key: activation registers the device for push approvals in its one transaction.
      await step('pin', 'pin', {
        pin: PIN,
        device_public_key: devicePublicKey(),
        device_platform: 'android',
        push_token: `fcm-load-${index}`,
      });
      const done = await step('complete', 'complete', {}, 200, { 'idempotency-key': `complete-${index}` });
      assert.equal(done.state, 'completed', JSON.stringify(done));
      const status = await ok('status', 'GET', `${base}/status`, { headers });
      assert.equal(status.state, 'completed');
      assert.ok(status.customer_id, 'the status names the customer');
      return String(status.customer_id);
    }

    test(`${REGISTRATIONS} registrations end with ${REGISTRATIONS} customers and wallets, nothing duplicated or half-made`, {
      timeout: RUN_TIMEOUT_MS,
    }, async () => {
      const started = Date.now();
      const current = await ok('documents', 'GET', '/api/v1/mobile/register/documents');
      const documents = {
        terms: String((current.terms as { content_hash: string }).content_hash),
        privacy: String((current.privacy as { content_hash: string }).content_hash),
      };
      const traces = Array.from({ length: REGISTRATIONS }, () => ({ lost: 0 }));
      const outcomes = await Promise.allSettled(
        traces.map((trace, index) => journey(index, documents, trace)),
      );
      const failures = outcomes.flatMap((outcome, index) =>
        outcome.status === 'rejected' ? [`#${index}: ${(outcome.reason as Error).message}`] : [],
      );
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(
        `# onboarding-load: ${REGISTRATIONS} journeys in ${seconds} s, ${retries} retries, ` +
          `${traces.filter((trace) => trace.lost > 0).length} journeys lost an answer to the kill; ` +
          `answers ${JSON.stringify(Object.fromEntries([...answers].sort()))}\n`,
      );
      assert.deepEqual(failures.slice(0, 10), [], `${failures.length} journeys failed`);
      assert.ok(killed, 'the API was killed during the run');
      await killed;
      assert.ok(
        api.exits.some((exit) => exit.requested && exit.wasReady),
        'a ready API process was killed',
      );
      assert.ok(api.starts >= 2, 'the API was restarted');
      assert.ok(
        [...answers.keys()].some((label) => label.startsWith('net:')),
        'some request lost its answer to the kill',
      );
      assert.ok(
        api.exits.every((exit) => exit.requested),
        `an API process died by itself:\n${api.exits.map((exit) => exit.tail ?? '').join('\n')}`,
      );
      assert.deepEqual(api.errorLines.slice(0, 5), [], 'error-level log lines');

      const customerIds = outcomes.map((outcome) => (outcome as PromiseFulfilledResult<string>).value);
      assert.equal(new Set(customerIds).size, REGISTRATIONS, 'one customer per registration');
      const phones = Array.from({ length: REGISTRATIONS }, (_, index) => phoneOf(index));
      const query = async <T extends Record<string, unknown>>(text: string, values: unknown[]) =>
        (await bank.db.pool.query<T>(text, values)).rows;

      // Every customer of the run: exactly the ones the registrations made, one per phone.
      const byPhone = await query<{ phone: string; customers: number }>(
        `select phone, count(distinct customer_id)::int as customers from customer_phones
            where phone = any($1::text[]) group by phone`,
        [phones],
      );
      assert.equal(byPhone.length, REGISTRATIONS, 'every phone belongs to a customer');
      assert.ok(byPhone.every((row) => row.customers === 1));
      const [totals] = await query<{ customers: number; wallets: number; credentials: number }>(
        `select (select count(*) from customers)::int as customers,
                  (select count(*) from wallets where customer_id = any($1::uuid[]))::int as wallets,
                  (select count(*) from customer_credentials where customer_id = any($1::uuid[]))::int as credentials`,
        [customerIds],
      );
      assert.deepEqual(totals, {
        customers: REGISTRATIONS,
        wallets: REGISTRATIONS,
        credentials: REGISTRATIONS,
      });
      // No half-made customer: each one has its wallet (KES), its PIN and its active status.
      const halfMade = await query<{ id: string }>(
        `select c.id from customers c
            where c.id = any($1::uuid[])
              and (c.status <> 'active'
                or (select count(*) from wallets w where w.customer_id = c.id and w.currency = 'KES') <> 1
                or not exists (select 1 from customer_credentials k where k.customer_id = c.id))`,
        [customerIds],
      );
      assert.deepEqual(halfMade, []);
      // One registration per phone, completed, pointing at its customer.
      const registrations = await query<{ phone: string; state: string; customer_id: string | null }>(
        'select phone, state, customer_id from registrations where phone = any($1::text[])',
        [phones],
      );
      assert.equal(registrations.length, REGISTRATIONS, 'one registration per phone');
      assert.ok(
        registrations.every((row) => row.state === 'completed' && row.customer_id),
        JSON.stringify(registrations.filter((row) => row.state !== 'completed').slice(0, 3)),
      );
      assert.deepEqual(
        new Set(registrations.map((row) => row.customer_id)),
        new Set(customerIds),
        'each registration points at the customer its status named',
      );
      const [activated] = await query<{ n: number }>(
        `select count(*)::int as n from outbox_events where topic = 'onboarding.customer_activated'`,
        [],
      );
      assert.equal(activated?.n, REGISTRATIONS, 'one activation event per customer');
      // One device per customer, the one the registration was made on, with its push token.
      const devices = await query<{ principal_id: string; device_id: string; push_token: string }>(
        `select principal_id, device_id, push_token from registered_devices
            where principal_type = 'customer' and revoked_at is null`,
        [],
      );
      assert.equal(devices.length, REGISTRATIONS, 'one registered device per customer');
      assert.deepEqual(new Set(devices.map((row) => row.principal_id)), new Set(customerIds));
      assert.ok(
        devices.every((row) => row.push_token === `fcm-load-${row.device_id.slice('load-device-'.length)}`),
      );

      // A sample signs in with the PIN chosen during registration.
      for (const index of [0, 3, REGISTRATIONS - 1]) {
        const login = await send('POST', '/api/v1/auth/customer/login', {
          body: { phone: phoneOf(index), pin: PIN },
        });
        assert.equal(login.status, 200, login.body);
      }
    });
  });
