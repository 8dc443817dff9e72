/**
 * Forgotten staff passwords: no account enumeration, a single-use token through the outbox (sealed), expiry, the
 * password policy, sessions revoked, a login lock lifted, and per-identifier / per-address throttling.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, desc, eq, sql } from 'drizzle-orm';
import { ADMIN_PASSWORD, bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { type Envelope, openEnvelope } from '../../platform/crypto.ts';
import { outboxEvents } from '../../platform/platform.tables.ts';
import { passwordResetTokens } from './identity.tables.ts';

const ERROR_KEYS = ['details', 'error_code', 'message', 'request_id', 'status_code'];
const FIRST_PASSWORD = 'lantern orchard mosaic 71';
const NEW_PASSWORD = 'granite pelican velvet 38';

type Injected = Awaited<ReturnType<TestContext['app']['inject']>>;

function assertError(response: Injected, status: number, code: string) {
  assert.equal(response.statusCode, status, response.body);
  const body = response.json();
  assert.deepEqual(Object.keys(body).sort(), ERROR_KEYS);
  assert.equal(body.error_code, code);
  return body;
}

describe('password reset', () => {
  let t: TestContext;
  let counter = 0;
  let ipCounter = 0;
  before(async () => {
    t = await startTestApp({ LOGIN_MAX_FAILURES: '3' });
  });
  after(async () => t.close());

  /** A fresh client address per call site, so the per-address cap only bites where a test wants it to. */
  const nextIp = () => {
    ipCounter += 1;
    return `10.9.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`;
  };

  async function createStaff(): Promise<{ id: string; username: string; email: string }> {
    counter += 1;
    const username = `reset.user${counter}`;
    const email = `reset.user${counter}@bank.test`;
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      headers: bearer(t.adminToken),
      payload: {
        username,
        email,
        full_name: `Reset User ${counter}`,
        password: FIRST_PASSWORD,
        roles: [],
        must_change_password: false,
      },
    });
    assert.equal(response.statusCode, 201, response.body);
    return { id: response.json().id, username, email };
  }

  const forgot = (payload: object, ip = nextIp()) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/password/forgot', payload, remoteAddress: ip });
  const reset = (token: string, new_password = NEW_PASSWORD) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password/reset',
      payload: { token, new_password },
      remoteAddress: nextIp(),
    });
  const login = (username: string, password: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });

  async function eventsFor(userId: string) {
    return t.deps.database.db
      .select()
      .from(outboxEvents)
      .where(and(eq(outboxEvents.topic, 'password.reset_requested'), eq(outboxEvents.aggregateId, userId)))
      .orderBy(desc(outboxEvents.id));
  }

  /** The token of the user's latest reset message, unsealed as the notification worker would. */
  async function latestToken(userId: string): Promise<string> {
    const [event] = await eventsFor(userId);
    assert.ok(event, 'a reset message was emitted');
    return openEnvelope(
      t.deps.keys,
      JSON.parse(String(event.payload.token_sealed)) as Envelope,
      `password-reset:${String(event.payload.reset_id)}`,
    ).toString();
  }

  test('known and unknown accounts get the same 202; only the known one gets a sealed token', async () => {
    const staff = await createStaff();
    const known = await forgot({ username: staff.username });
    const unknown = await forgot({ username: 'nobody.here' });
    const unknownEmail = await forgot({ email: 'nobody@bank.test' });
    for (const response of [known, unknown, unknownEmail])
      assert.equal(response.statusCode, 202, response.body);
    assert.deepEqual(known.json(), unknown.json());
    assert.deepEqual(known.json(), unknownEmail.json());
    assert.equal(known.json().expires_in, 1800);

    const events = await eventsFor(staff.id);
    assert.equal(events.length, 1);
    const payload = events[0]!.payload;
    // The name the message greets them by travels in the event (the notifications consumer reads no users table).
    assert.deepEqual(Object.keys(payload).sort(), [
      'channel',
      'email',
      'expires_at',
      'name',
      'reset_id',
      'token_sealed',
      'user_id',
    ]);
    const token = await latestToken(staff.id);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes');
    assert.ok(!JSON.stringify(payload).includes(token), 'the outbox never holds the token in clear');
    const rows = await t.deps.database.db
      .select()
      .from(passwordResetTokens)
      .where(eq(passwordResetTokens.userId, staff.id));
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0]!.tokenHash, token);
    assert.ok(!rows[0]!.tokenHash.includes(token), 'only a keyed hash is stored');
    const expiresInMs = rows[0]!.expiresAt.getTime() - Date.now();
    assert.ok(expiresInMs > 29 * 60_000 && expiresInMs <= 30 * 60_000);
  });

  test('a reset sets the password, works once, ends every session and is audited', async () => {
    const staff = await createStaff();
    const session = await login(staff.username, FIRST_PASSWORD);
    assert.equal(session.statusCode, 200);
    const accessToken = session.json().access_token as string;
    assert.equal((await forgot({ email: staff.email.toUpperCase() })).statusCode, 202);
    const token = await latestToken(staff.id);

    const done = await reset(token);
    assert.equal(done.statusCode, 204, done.body);
    assertError(await login(staff.username, FIRST_PASSWORD), 401, 'INVALID_CREDENTIALS');
    assert.equal((await login(staff.username, NEW_PASSWORD)).statusCode, 200);
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(accessToken) });
    assertError(me, 401, 'TOKEN_REVOKED');
    assertError(await reset(token, 'another fine passphrase 55'), 401, 'INVALID_TOKEN');
    assert.ok(!t.logs.text.includes(token), 'the token never reaches the logs');
    assert.ok(!t.logs.text.includes(NEW_PASSWORD), 'nor the password');

    const audit = await t.app.inject({
      method: 'GET',
      url: `/api/v1/core/audit?action=auth.password_reset&entity_id=${staff.id}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(audit.statusCode, 200, audit.body);
    assert.equal(
      audit.json().items.filter((item: { entity_id: string }) => item.entity_id === staff.id).length,
      1,
    );
  });

  test('the password policy applies, and a refused password leaves the token usable', async () => {
    const staff = await createStaff();
    await forgot({ username: staff.username });
    const token = await latestToken(staff.id);
    const common = assertError(await reset(token, 'password'), 422, 'PASSWORD_POLICY');
    assert.ok(common.details.reasons.includes('is too common'));
    const same = assertError(await reset(token, FIRST_PASSWORD), 422, 'PASSWORD_POLICY');
    assert.ok(same.details.reasons.includes('must differ from the current password'));
    const named = assertError(await reset(token, `${staff.username} is my name`), 422, 'PASSWORD_POLICY');
    assert.ok(named.details.reasons.includes('must not contain your username or email'));
    assert.equal((await reset(token)).statusCode, 204);
  });

  test('an expired token is refused with the standard body', async () => {
    const staff = await createStaff();
    await forgot({ username: staff.username });
    const token = await latestToken(staff.id);
    await t.deps.database.db
      .update(passwordResetTokens)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(passwordResetTokens.userId, staff.id));
    const expired = assertError(await reset(token), 401, 'INVALID_TOKEN');
    assert.equal(expired.status_code, 401);
    assert.equal((await login(staff.username, FIRST_PASSWORD)).statusCode, 200, 'the password is unchanged');
  });

  test('a new request voids the earlier token', async () => {
    const staff = await createStaff();
    await forgot({ username: staff.username });
    const first = await latestToken(staff.id);
    // Another identifier of the same account, so the per-identifier cooldown does not apply.
    await forgot({ email: staff.email });
    const second = await latestToken(staff.id);
    assert.notEqual(first, second);
    assertError(await reset(first), 401, 'INVALID_TOKEN');
    assert.equal((await reset(second)).statusCode, 204);
  });

  test('parallel resets with one token: exactly one succeeds', async () => {
    const staff = await createStaff();
    await forgot({ username: staff.username });
    const token = await latestToken(staff.id);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, index) => reset(token, `parallel attempt number ${index} ok`)),
    );
    const statuses = results.map((response) => response.statusCode).sort();
    assert.deepEqual(statuses, [204, ...Array(9).fill(401)]);
    const winner = results.findIndex((response) => response.statusCode === 204);
    assert.equal((await login(staff.username, `parallel attempt number ${winner} ok`)).statusCode, 200);
    const history = await t.deps.database.db.execute(
      sql`select count(*)::int as n from password_history where user_id = ${staff.id}`,
    );
    assert.equal((history as unknown as { rows: { n: number }[] }).rows[0]!.n, 1, 'one password change');
  });

  test('a reset lifts a login lock', async () => {
    const staff = await createStaff();
    for (let attempt = 0; attempt < 3; attempt += 1) await login(staff.username, 'wrong guess here 1');
    assertError(await login(staff.username, FIRST_PASSWORD), 423, 'ACCOUNT_LOCKED');
    await forgot({ username: staff.username });
    assert.equal((await reset(await latestToken(staff.id))).statusCode, 204);
    assert.equal((await login(staff.username, NEW_PASSWORD)).statusCode, 200);
  });

  test('inactive accounts get the same answer and no token', async () => {
    const staff = await createStaff();
    await t.deps.database.db.execute(sql`update users set status = 'suspended' where id = ${staff.id}`);
    const response = await forgot({ username: staff.username });
    assert.equal(response.statusCode, 202);
    assert.equal((await eventsFor(staff.id)).length, 0);
  });

  test('per identifier: a cooldown, for unknown identifiers too (429 with Retry-After)', async () => {
    const staff = await createStaff();
    for (const identifier of [staff.username, 'ghost.account']) {
      assert.equal((await forgot({ username: identifier })).statusCode, 202);
      const again = assertError(await forgot({ username: identifier }), 429, 'RATE_LIMITED');
      assert.ok(again.details.retry_after_seconds >= 1);
    }
    const known = await forgot({ username: staff.username });
    const unknown = await forgot({ username: 'ghost.account' });
    assert.equal(Number(known.headers['retry-after']) > 0, true);
    assert.equal(Number(unknown.headers['retry-after']) > 0, true);
    assert.equal((await eventsFor(staff.id)).length, 1, 'throttled requests send nothing');
  });

  test('per address: at most 30 requests an hour', async () => {
    const ip = '10.77.0.1';
    const statuses: number[] = [];
    for (let index = 0; index < 31; index += 1)
      statuses.push((await forgot({ username: `flood.${index}` }, ip)).statusCode);
    assert.deepEqual(statuses.slice(0, 30), Array(30).fill(202));
    assert.equal(statuses[30], 429);
    const refused = await forgot({ username: 'flood.extra' }, ip);
    assert.ok(Number(refused.headers['retry-after']) > 0);
  });

  test('bad input: neither or both identifiers, malformed or unknown tokens', async () => {
    assertError(await forgot({}), 422, 'VALIDATION_ERROR');
    assertError(await forgot({ username: 'admin', email: 'admin@bank.test' }), 422, 'VALIDATION_ERROR');
    assertError(await forgot({ username: 'admin', extra: 1 }), 422, 'VALIDATION_ERROR');
    assertError(await reset('short'), 401, 'INVALID_TOKEN');
    assertError(await reset('A'.repeat(43)), 401, 'INVALID_TOKEN');
    const missing = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password/reset',
      payload: { token: 'A'.repeat(43) },
    });
    assertError(missing, 422, 'VALIDATION_ERROR');
    assert.equal((await login('admin', ADMIN_PASSWORD)).statusCode, 200);
  });
});
