/**
 * Routes of /api/v1/auth: login, brute-force lockout without account enumeration, registration and the password
 * policy, refresh-token rotation with reuse detection, logout, sessions, password change, and stored hashes
 * (RELIABILITY properties 14–17).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { eq } from 'drizzle-orm';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { ADMIN_PASSWORD, bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import type { IdentityConfig } from './identity.config.ts';
import { MUST_CHANGE_PASSWORD_BY_DEFAULT } from './identity.service.ts';
import { users } from './identity.tables.ts';
import { identityModule } from './index.ts';

/** The identity module's variables, as the app under test parsed them. */
const identityConfigOf = (t: TestContext) =>
  t.application.system.context(identityModule).config as IdentityConfig;

const ERROR_KEYS = ['details', 'error_code', 'message', 'request_id', 'status_code'];
const STRONG_PASSWORD = 'violet tractor harbour 93';

type Injected = Awaited<ReturnType<TestContext['app']['inject']>>;

function assertError(response: Injected, status: number, code: string) {
  assert.equal(response.statusCode, status, response.body);
  const body = response.json();
  assert.deepEqual(Object.keys(body).sort(), ERROR_KEYS);
  assert.equal(body.status_code, status);
  assert.equal(body.error_code, code);
  return body as { details: Record<string, unknown> | null; message: string; request_id: string };
}

/** The error body without its per-request id, to compare two answers. */
function comparable(response: Injected) {
  const { request_id: _ignored, ...rest } = response.json();
  return { status: response.statusCode, body: rest };
}

function loginRequest(t: TestContext, username: string, password: string, ip = '127.0.0.1') {
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password },
    remoteAddress: ip,
  });
}

async function loginOk(t: TestContext, username: string, password: string, ip?: string) {
  const response = await loginRequest(t, username, password, ip);
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as { access_token: string; refresh_token: string };
}

function me(t: TestContext, token: string) {
  return t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) });
}

function refresh(t: TestContext, refreshToken: string) {
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/refresh',
    payload: { refresh_token: refreshToken },
  });
}

function register(t: TestContext, body: Record<string, unknown>, token = t.adminToken) {
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    headers: bearer(token),
    payload: body,
  });
}

let userCounter = 0;
/** Registers a staff user through the API and returns its username. */
async function createStaff(t: TestContext, password = STRONG_PASSWORD, roles: string[] = []) {
  userCounter += 1;
  const username = `staff.member${userCounter}`;
  const response = await register(t, {
    username,
    email: `staff.member${userCounter}@bank.test`,
    full_name: `Staff Member ${userCounter}`,
    password,
    roles,
    must_change_password: false,
  });
  assert.equal(response.statusCode, 201, response.body);
  return username;
}

async function storedHash(t: TestContext, username: string): Promise<string> {
  const [row] = await t.deps.database.db
    .select({ hash: users.passwordHash })
    .from(users)
    .where(eq(users.username, username));
  assert.ok(row, `no user ${username}`);
  return row.hash;
}

function assertArgon2id(hash: string) {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(hash);
  assert.ok(match, `not an argon2id PHC string: ${hash.slice(0, 30)}`);
  assert.ok(Number(match[1]) >= 19456, `memory ${match[1]} KiB < 19456`);
  assert.ok(Number(match[2]) >= 2, `passes ${match[2]} < 2`);
  assert.equal(Number(match[3]), 1);
}

describe('identity routes', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  describe('login', () => {
    test('by username returns a bearer token pair of EdDSA JWTs', async () => {
      const response = await loginRequest(t, 'admin', ADMIN_PASSWORD);
      assert.equal(response.statusCode, 200);
      const body = response.json();
      assert.deepEqual(Object.keys(body).sort(), [
        'access_token',
        'expires_in',
        'refresh_expires_in',
        'refresh_token',
        'token_type',
      ]);
      assert.equal(body.token_type, 'bearer');
      assert.equal(body.expires_in, t.config.ACCESS_TOKEN_EXPIRE_MINUTES * 60);
      assert.equal(body.refresh_expires_in, t.config.REFRESH_TOKEN_EXPIRE_MINUTES * 60);
      assert.notEqual(body.access_token, body.refresh_token);
      const header = decodeProtectedHeader(body.access_token);
      assert.equal(header.alg, 'EdDSA');
      assert.equal(header.typ, 'at+jwt');
      assert.equal(typeof header.kid, 'string');
      assert.equal(decodeProtectedHeader(body.refresh_token).typ, 'refresh+jwt');
      const claims = decodeJwt(body.access_token);
      assert.equal(claims.iss, t.config.JWT_ISSUER);
      assert.equal(claims.aud, t.config.JWT_AUDIENCE);
      assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), t.config.ACCESS_TOKEN_EXPIRE_MINUTES * 60);
      assert.equal((await me(t, body.access_token)).statusCode, 200);
    });

    test('by username or email, case-insensitively', async () => {
      for (const identifier of ['ADMIN', 'Admin', 'admin@bank.test', 'ADMIN@Bank.Test', '  admin  ']) {
        const tokens = await loginOk(t, identifier, ADMIN_PASSWORD);
        const body = (await me(t, tokens.access_token)).json();
        assert.equal(body.user.username, 'admin', identifier);
      }
    });

    test('a wrong password is 401 INVALID_CREDENTIALS', async () => {
      const response = await loginRequest(t, 'admin', `${ADMIN_PASSWORD}x`);
      assertError(response, 401, 'INVALID_CREDENTIALS');
      assert.equal(response.headers['retry-after'], undefined);
      const wrongCase = await loginRequest(t, 'admin', ADMIN_PASSWORD.toUpperCase());
      assertError(wrongCase, 401, 'INVALID_CREDENTIALS');
    });

    test('an unknown user gets exactly the answer of a wrong password', async () => {
      const wrongPassword = await loginRequest(t, 'admin', 'not the password at all');
      const unknownUser = await loginRequest(t, 'nobody.here', 'not the password at all');
      assertError(unknownUser, 401, 'INVALID_CREDENTIALS');
      assert.deepEqual(comparable(unknownUser), comparable(wrongPassword));
      assert.equal(unknownUser.headers['content-type'], wrongPassword.headers['content-type']);
    });

    test('the body is validated: no extra fields, no empty password', async () => {
      const empty = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'admin', password: '' },
      });
      assertError(empty, 422, 'VALIDATION_ERROR');
    });
  });

  describe('brute force (default LOGIN_MAX_FAILURES=10, 30 min)', () => {
    test('10 wrong passwords lock the account; the correct one is then refused with 423 and Retry-After', async () => {
      const username = await createStaff(t);
      assert.equal(identityConfigOf(t).LOGIN_MAX_FAILURES, 10);
      for (let attempt = 1; attempt <= 10; attempt += 1) {
        const response = await loginRequest(t, username, `wrong guess ${attempt}`, '10.1.0.1');
        assertError(response, 401, 'INVALID_CREDENTIALS');
      }
      const locked = await loginRequest(t, username, STRONG_PASSWORD, '10.1.0.2');
      const body = assertError(locked, 423, 'ACCOUNT_LOCKED');
      const retryAfter = Number(locked.headers['retry-after']);
      assert.ok(Number.isInteger(retryAfter), `Retry-After ${locked.headers['retry-after']}`);
      const lockSeconds = identityConfigOf(t).LOGIN_LOCK_MINUTES * 60;
      assert.ok(lockSeconds >= 30 * 60);
      assert.ok(retryAfter > lockSeconds - 60 && retryAfter <= lockSeconds, `Retry-After ${retryAfter}`);
      assert.equal(body.details?.retry_after_seconds, retryAfter);
      // The lock is on the account, not the spelling: the email is refused too.
      const byEmail = await loginRequest(
        t,
        `${username.toUpperCase()}@BANK.TEST`,
        STRONG_PASSWORD,
        '10.1.0.3',
      );
      assertError(byEmail, 423, 'ACCOUNT_LOCKED');
      // Other accounts are not affected.
      await loginOk(t, 'admin', ADMIN_PASSWORD, '10.1.0.4');
    });

    test('an unknown username locks the same way, so the lock does not reveal existence', async () => {
      const known = await createStaff(t);
      const unknown = 'ghost.account';
      for (let attempt = 1; attempt <= 10; attempt += 1) {
        const a = await loginRequest(t, known, `wrong ${attempt}`, '10.2.0.1');
        const b = await loginRequest(t, unknown, `wrong ${attempt}`, '10.2.0.1');
        assertError(b, 401, 'INVALID_CREDENTIALS');
        assert.deepEqual(comparable(b), comparable(a));
      }
      const knownLocked = await loginRequest(t, known, STRONG_PASSWORD, '10.2.0.2');
      const unknownLocked = await loginRequest(t, unknown, STRONG_PASSWORD, '10.2.0.2');
      assertError(unknownLocked, 423, 'ACCOUNT_LOCKED');
      assertError(knownLocked, 423, 'ACCOUNT_LOCKED');
      const { body: knownBody } = comparable(knownLocked);
      const { body: unknownBody } = comparable(unknownLocked);
      assert.deepEqual(Object.keys(unknownBody).sort(), Object.keys(knownBody).sort());
      assert.equal(unknownBody.message, knownBody.message);
      assert.ok(
        Math.abs(Number(unknownLocked.headers['retry-after']) - Number(knownLocked.headers['retry-after'])) <=
          5,
      );
      // Different spellings of the same unknown identifier share the lock.
      assertError(await loginRequest(t, 'GHOST.Account', 'x', '10.2.0.3'), 423, 'ACCOUNT_LOCKED');
    });

    test('a successful login resets the failure count', async () => {
      const username = await createStaff(t);
      for (let attempt = 1; attempt <= 9; attempt += 1) {
        assertError(
          await loginRequest(t, username, `nope ${attempt}`, '10.3.0.1'),
          401,
          'INVALID_CREDENTIALS',
        );
      }
      await loginOk(t, username, STRONG_PASSWORD, '10.3.0.1');
      for (let attempt = 1; attempt <= 9; attempt += 1) {
        assertError(
          await loginRequest(t, username, `nope ${attempt}`, '10.3.0.1'),
          401,
          'INVALID_CREDENTIALS',
        );
      }
      await loginOk(t, username, STRONG_PASSWORD, '10.3.0.1');
    });
  });

  describe('me', () => {
    test('the admin token describes the administrator, without secrets', async () => {
      const response = await me(t, t.adminToken);
      assert.equal(response.statusCode, 200);
      const body = response.json();
      assert.equal(body.type, 'user');
      assert.deepEqual(body.roles, ['super_admin']);
      assert.ok(body.permissions.includes('user:create'));
      assert.equal(body.user.username, 'admin');
      assert.equal(body.user.email, 'admin@bank.test');
      assert.equal(body.user.status, 'active');
      assert.equal(body.id, body.user.id);
      assert.equal(body.id, decodeJwt(t.adminToken).sub);
      assert.doesNotMatch(response.body, /argon2|password_hash|passwordHash/);
    });

    test('no token, a malformed header or garbage is 401', async () => {
      assertError(await t.app.inject({ method: 'GET', url: '/api/v1/auth/me' }), 401, 'UNAUTHORIZED');
      const basic = await t.app.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` },
      });
      assert.equal(basic.statusCode, 401);
      assert.equal((await me(t, 'not.a.token')).statusCode, 401);
    });
  });

  describe('register', () => {
    test('creates a staff user (201) who can then log in', async () => {
      const response = await register(t, {
        username: 'teller.one',
        email: 'Teller.One@bank.test',
        full_name: 'Teller One',
        phone: '+254700000001',
        password: STRONG_PASSWORD,
        roles: ['support_agent'],
      });
      assert.equal(response.statusCode, 201, response.body);
      const body = response.json();
      assert.equal(body.username, 'teller.one');
      assert.equal(body.email, 'Teller.One@bank.test');
      assert.equal(body.phone, '+254700000001');
      assert.equal(body.status, 'active');
      assert.deepEqual(body.roles, ['support_agent']);
      assert.equal(
        body.must_change_password,
        true,
        'the password someone else chose is changed at first login',
      );
      assert.match(body.id, /^[0-9a-f-]{36}$/);
      assert.doesNotMatch(response.body, /argon2|password_hash|"password"|violet tractor/i);
      const tokens = await loginOk(t, 'teller.one', STRONG_PASSWORD);
      const mine = (await me(t, tokens.access_token)).json();
      assert.equal(mine.id, body.id);
      assert.deepEqual(mine.roles, ['support_agent']);
      assert.ok(!mine.permissions.includes('user:create'));
    });

    test('a duplicate username or email is 409 USER_EXISTS, whatever the case', async () => {
      await createStaff(t);
      const existing = `staff.member${userCounter}`;
      const byUsername = await register(t, {
        username: existing.toUpperCase(),
        email: 'somebody.else@bank.test',
        full_name: 'Duplicate',
        password: STRONG_PASSWORD,
      });
      assert.equal(assertError(byUsername, 409, 'USER_EXISTS').details?.field, 'username');
      const byEmail = await register(t, {
        username: 'somebody.else',
        email: `${existing.toUpperCase()}@BANK.TEST`,
        full_name: 'Duplicate',
        password: STRONG_PASSWORD,
      });
      assert.equal(assertError(byEmail, 409, 'USER_EXISTS').details?.field, 'email');
      const count = await t.deps.database.db
        .select({ id: users.id })
        .from(users)
        .where(eq(users.username, 'somebody.else'));
      assert.equal(count.length, 0);
    });

    test('the password policy: common, short, own-name and repeated passwords are 422 PASSWORD_POLICY', async () => {
      const rejected = [
        'password123',
        'Password123',
        'password',
        'aB3$xYz',
        'x'.repeat(12),
        'policy.tester-secret',
        'long phrase '.repeat(Math.ceil((t.config.PASSWORD_MAX_LENGTH + 1) / 12)),
      ];
      for (const password of rejected) {
        const response = await register(t, {
          username: 'policy.tester',
          email: 'policy.tester@bank.test',
          full_name: 'Policy Tester',
          password,
        });
        const body = assertError(response, 422, 'PASSWORD_POLICY');
        assert.ok(Array.isArray(body.details?.reasons) && body.details.reasons.length > 0, password);
        assert.ok(!response.body.includes(JSON.stringify(password)), 'the password is echoed back');
      }
      const [row] = await t.deps.database.db
        .select({ id: users.id })
        .from(users)
        .where(eq(users.username, 'policy.tester'));
      assert.equal(row, undefined);
    });

    test('zxcvbn refuses guessable passwords the old 239-entry list let through, with its feedback (F6)', async () => {
      const refused = [
        'Password123!',
        'Summer2024!',
        'Welcome2026!',
        'Qwerty12345!',
        'kq7!vzpe',
        'CodeForge2026!',
        'Wanjiku1990!',
      ];
      for (const password of refused) {
        const response = await register(t, {
          username: 'strength.tester',
          email: 'strength.tester@bank.test',
          full_name: 'Wanjiku Otieno',
          password,
        });
        const details = assertError(response, 422, 'PASSWORD_POLICY').details as {
          reasons: string[];
          feedback: { score: number; warning: string | null; suggestions: string[] };
        };
        assert.ok(
          details.reasons.some((reason) => /^is too (common|easy to guess)$/.test(reason)),
          `${password}: ${response.body}`,
        );
        const feedback = details.feedback;
        assert.ok(feedback.score < t.config.PASSWORD_MIN_SCORE, password);
        assert.ok(feedback.warning !== null || feedback.suggestions.length > 0, `${password}: some advice`);
      }
      const common = await register(t, {
        username: 'strength.tester',
        email: 'strength.tester@bank.test',
        full_name: 'Wanjiku Otieno',
        password: 'Password123!',
      });
      const commonDetails = assertError(common, 422, 'PASSWORD_POLICY').details as { reasons: string[] };
      assert.ok(commonDetails.reasons.includes('is too common'));
      const named = await register(t, {
        username: 'strength.tester',
        email: 'strength.tester@bank.test',
        full_name: 'Wanjiku Otieno',
        password: 'otienowanjiku',
      });
      assert.equal(named.statusCode, 422, 'the user’s own names count as known words');
      const other = await register(t, {
        username: 'strength.other',
        email: 'strength.other@bank.test',
        full_name: 'Someone Else',
        password: 'otienowanjiku',
      });
      assert.equal(other.statusCode, 201, 'the same words are fine for someone else');
    });

    test('the institution’s name (setting institution.name) counts as a known word', async () => {
      const password = 'Mwangaza2026!';
      const before = await register(t, {
        username: 'institution.before',
        email: 'institution.before@bank.test',
        full_name: 'Before Rename',
        password,
      });
      assert.equal(before.statusCode, 201, before.body);
      const renamed = await t.app.inject({
        method: 'PATCH',
        url: '/api/v1/admin/config/institution.name',
        headers: bearer(t.adminToken),
        payload: { value: 'Mwangaza Savings Bank' },
      });
      assert.equal(renamed.statusCode, 200, renamed.body);
      try {
        const after = await register(t, {
          username: 'institution.after',
          email: 'institution.after@bank.test',
          full_name: 'After Rename',
          password,
        });
        const details = assertError(after, 422, 'PASSWORD_POLICY').details as { reasons: string[] };
        assert.ok(details.reasons.includes('is too easy to guess'), after.body);
      } finally {
        await t.app.inject({
          method: 'PATCH',
          url: '/api/v1/admin/config/institution.name',
          headers: bearer(t.adminToken),
          payload: { value: 'CodeForge Suite' },
        });
      }
    });

    test('8, 15, 64 and 65+ character passphrases and Unicode ones are accepted and not truncated', async () => {
      const accepted = [
        // Eight characters are the floor; an eight-character random string scores 2, nine score 3.
        'kq7!vzpe9',
        'amber-kettle-17',
        'a long passphrase of sixty four characters for the policy test!!',
        'a long passphrase of ninety nine characters where truncation at seventy two would be a disaster, ok',
        'пароль-моей-бабушки ☕ 𝄞',
        '日本語のパスフレーズです',
      ];
      assert.equal([...accepted[2]!].length, 64);
      assert.equal([...accepted[3]!].length, 99);
      for (const [index, password] of accepted.entries()) {
        const username = `unicode.user${index}`;
        const response = await register(t, {
          username,
          email: `${username}@bank.test`,
          full_name: 'Passphrase User',
          password,
        });
        assert.equal(response.statusCode, 201, `${password}: ${response.body}`);
        await loginOk(t, username, password);
        assertArgon2id(await storedHash(t, username));
      }
      // No truncation: only the full 99-character passphrase logs in, not its first 72 characters.
      const long = accepted[3]!;
      assertError(await loginRequest(t, 'unicode.user3', long.slice(0, 72)), 401, 'INVALID_CREDENTIALS');
      assertError(await loginRequest(t, 'unicode.user3', long.slice(0, -1)), 401, 'INVALID_CREDENTIALS');
      // Unicode is normalised (NFKC): the decomposed spelling of the same word is the same password.
      const composed = 'café au lait crème 9';
      const response = await register(t, {
        username: 'nfkc.user',
        email: 'nfkc.user@bank.test',
        full_name: 'NFKC',
        password: composed,
      });
      assert.equal(response.statusCode, 201, response.body);
      await loginOk(t, 'nfkc.user', composed.normalize('NFD'));
    });

    test('a user without user:create gets 403 on /auth/register', async () => {
      const username = await createStaff(t, STRONG_PASSWORD, ['support_agent']);
      const tokens = await loginOk(t, username, STRONG_PASSWORD);
      const response = await register(
        t,
        {
          username: 'sneaky.admin',
          email: 'sneaky.admin@bank.test',
          full_name: 'Sneaky',
          password: STRONG_PASSWORD,
          roles: ['super_admin'],
        },
        tokens.access_token,
      );
      assertError(response, 403, 'FORBIDDEN');
      const [row] = await t.deps.database.db
        .select({ id: users.id })
        .from(users)
        .where(eq(users.username, 'sneaky.admin'));
      assert.equal(row, undefined);
      const anonymous = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: {
          username: 'anon.user',
          email: 'anon@bank.test',
          full_name: 'A',
          password: STRONG_PASSWORD,
        },
      });
      assertError(anonymous, 401, 'UNAUTHORIZED');
    });

    test('/auth/register and /user/user/add share one default: a new user changes the password first', async () => {
      const created: boolean[] = [];
      for (const [index, url] of ['/api/v1/auth/register', '/api/v1/user/user/add'].entries()) {
        const username = `first.login${index}`;
        const response = await t.app.inject({
          method: 'POST',
          url,
          headers: bearer(t.adminToken),
          payload: {
            username,
            email: `${username}@bank.test`,
            full_name: 'First Login',
            password: STRONG_PASSWORD,
          },
        });
        assert.equal(response.statusCode, 201, response.body);
        created.push(response.json().must_change_password);
        const token = (await loginOk(t, username, STRONG_PASSWORD)).access_token;
        const blocked = await t.app.inject({
          method: 'GET',
          url: '/api/v1/core/category',
          headers: bearer(token),
        });
        assertError(blocked, 403, 'PASSWORD_CHANGE_REQUIRED');
      }
      assert.deepEqual(created, [MUST_CHANGE_PASSWORD_BY_DEFAULT, MUST_CHANGE_PASSWORD_BY_DEFAULT]);
      assert.equal(MUST_CHANGE_PASSWORD_BY_DEFAULT, true);
      const optedOut = await register(t, {
        username: 'first.login.optout',
        email: 'first.login.optout@bank.test',
        full_name: 'Opted Out',
        password: STRONG_PASSWORD,
        must_change_password: false,
      });
      assert.equal(optedOut.json().must_change_password, false);
    });

    test('unknown roles are refused', async () => {
      const response = await register(t, {
        username: 'role.tester',
        email: 'role.tester@bank.test',
        full_name: 'Role Tester',
        password: STRONG_PASSWORD,
        roles: ['god_mode'],
      });
      assertError(response, 422, 'VALIDATION_ERROR');
    });
  });

  describe('refresh', () => {
    test('rotates; reusing a spent token revokes the whole family and its access tokens', async () => {
      const username = await createStaff(t);
      const first = await loginOk(t, username, STRONG_PASSWORD);
      const rotated = await refresh(t, first.refresh_token);
      assert.equal(rotated.statusCode, 200, rotated.body);
      const second = rotated.json();
      assert.notEqual(second.refresh_token, first.refresh_token);
      assert.notEqual(second.access_token, first.access_token);
      assert.equal(decodeJwt(second.access_token).sid, decodeJwt(first.access_token).sid);
      assert.equal((await me(t, second.access_token)).statusCode, 200);

      // The spent token comes back: theft assumed, the family dies.
      const reuse = await refresh(t, first.refresh_token);
      assert.equal(reuse.statusCode, 401, reuse.body);
      assert.equal((await refresh(t, second.refresh_token)).statusCode, 401);
      assert.equal((await me(t, second.access_token)).statusCode, 401);
      assert.equal((await me(t, first.access_token)).statusCode, 401);

      // Other sessions of the same user live on.
      const other = await loginOk(t, username, STRONG_PASSWORD);
      assert.equal((await me(t, other.access_token)).statusCode, 200);
      assert.equal((await refresh(t, other.refresh_token)).statusCode, 200);
    });

    test('a new refresh token keeps working along the chain', async () => {
      const username = await createStaff(t);
      let tokens = await loginOk(t, username, STRONG_PASSWORD);
      for (let step = 0; step < 3; step += 1) {
        const response = await refresh(t, tokens.refresh_token);
        assert.equal(response.statusCode, 200, response.body);
        tokens = response.json();
      }
      assert.equal((await me(t, tokens.access_token)).statusCode, 200);
    });

    test('an access token or garbage is not a refresh token', async () => {
      const tokens = await loginOk(t, 'admin', ADMIN_PASSWORD);
      assertError(await refresh(t, tokens.access_token), 401, 'INVALID_TOKEN');
      assertError(await refresh(t, 'garbage'), 401, 'INVALID_TOKEN');
    });

    test('parallel refreshes of one token: exactly one succeeds', async () => {
      const username = await createStaff(t);
      const tokens = await loginOk(t, username, STRONG_PASSWORD);
      const responses = await Promise.all(Array.from({ length: 10 }, () => refresh(t, tokens.refresh_token)));
      const ok = responses.filter((response) => response.statusCode === 200);
      assert.equal(ok.length, 1, responses.map((response) => response.statusCode).join(','));
      for (const response of responses) assert.ok([200, 401].includes(response.statusCode), response.body);
    });
  });

  describe('logout and sessions', () => {
    test('logout refuses the access token on the next request and its refresh token', async () => {
      const username = await createStaff(t);
      const tokens = await loginOk(t, username, STRONG_PASSWORD);
      const other = await loginOk(t, username, STRONG_PASSWORD);
      assert.equal((await me(t, tokens.access_token)).statusCode, 200);
      const logout = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: bearer(tokens.access_token),
      });
      assert.equal(logout.statusCode, 204);
      assert.equal((await me(t, tokens.access_token)).statusCode, 401);
      assert.equal((await refresh(t, tokens.refresh_token)).statusCode, 401);
      const again = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: bearer(tokens.access_token),
      });
      assert.equal(again.statusCode, 401);
      // Only that session ended.
      assert.equal((await me(t, other.access_token)).statusCode, 200);
    });

    test('list, revoke one, revoke the others', async () => {
      const username = await createStaff(t);
      const a = await loginOk(t, username, STRONG_PASSWORD);
      const b = await loginOk(t, username, STRONG_PASSWORD);
      const c = await loginOk(t, username, STRONG_PASSWORD);
      const sid = (token: string) => decodeJwt(token).sid as string;
      const list = async (token: string) => {
        const response = await t.app.inject({
          method: 'GET',
          url: '/api/v1/auth/sessions',
          headers: bearer(token),
        });
        assert.equal(response.statusCode, 200, response.body);
        return response.json().items as { id: string; current: boolean; ip: string | null }[];
      };

      const sessions = await list(a.access_token);
      assert.deepEqual(
        sessions.map((session) => session.id).sort(),
        [a, b, c].map((x) => sid(x.access_token)).sort(),
      );
      assert.deepEqual(
        sessions.filter((session) => session.current).map((session) => session.id),
        [sid(a.access_token)],
      );
      assert.equal(sessions[0]!.ip, '127.0.0.1');

      // Another user's session is not yours to revoke, nor to see.
      const adminSessions = await list(t.adminToken);
      assert.ok(!adminSessions.some((session) => session.id === sid(a.access_token)));
      const foreign = await t.app.inject({
        method: 'DELETE',
        url: `/api/v1/auth/sessions/${sid(a.access_token)}`,
        headers: bearer(t.adminToken),
      });
      assertError(foreign, 404, 'NOT_FOUND');
      assert.equal((await me(t, a.access_token)).statusCode, 200);

      const revokeB = await t.app.inject({
        method: 'DELETE',
        url: `/api/v1/auth/sessions/${sid(b.access_token)}`,
        headers: bearer(a.access_token),
      });
      assert.equal(revokeB.statusCode, 204);
      assert.equal((await me(t, b.access_token)).statusCode, 401);
      assert.equal((await refresh(t, b.refresh_token)).statusCode, 401);
      assert.equal((await me(t, c.access_token)).statusCode, 200);
      assert.equal((await list(a.access_token)).length, 2);

      const missing = await t.app.inject({
        method: 'DELETE',
        url: '/api/v1/auth/sessions/00000000-0000-4000-8000-000000000000',
        headers: bearer(a.access_token),
      });
      assertError(missing, 404, 'NOT_FOUND');

      const others = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/sessions/revoke-others',
        headers: bearer(a.access_token),
      });
      assert.equal(others.statusCode, 200);
      assert.deepEqual(others.json(), { revoked: 1 });
      assert.equal((await me(t, c.access_token)).statusCode, 401);
      assert.equal((await refresh(t, c.refresh_token)).statusCode, 401);
      assert.equal((await me(t, a.access_token)).statusCode, 200);
      const remaining = await list(a.access_token);
      assert.equal(remaining.length, 1);
      assert.equal(remaining[0]!.current, true);
    });
  });

  describe('password change', () => {
    test('ends every session; the old password stops working, the new one works', async () => {
      const username = await createStaff(t);
      const newPassword = 'quiet lantern meadow 58';
      const a = await loginOk(t, username, STRONG_PASSWORD);
      const b = await loginOk(t, username, STRONG_PASSWORD);
      const change = (token: string, current: string, next: string) =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/password/change',
          headers: bearer(token),
          payload: { current_password: current, new_password: next },
        });

      assertError(await change(a.access_token, 'not my password', newPassword), 401, 'INVALID_CREDENTIALS');
      assertError(await change(a.access_token, STRONG_PASSWORD, 'password123'), 422, 'PASSWORD_POLICY');
      assertError(await change(a.access_token, STRONG_PASSWORD, STRONG_PASSWORD), 422, 'PASSWORD_POLICY');
      assert.equal((await me(t, a.access_token)).statusCode, 200, 'a refused change ends nothing');

      const before = await storedHash(t, username);
      const ok = await change(a.access_token, STRONG_PASSWORD, newPassword);
      assert.equal(ok.statusCode, 204, ok.body);
      const afterHash = await storedHash(t, username);
      assert.notEqual(afterHash, before);
      assertArgon2id(afterHash);

      assert.equal((await me(t, a.access_token)).statusCode, 401);
      assert.equal((await me(t, b.access_token)).statusCode, 401);
      assert.equal((await refresh(t, a.refresh_token)).statusCode, 401);
      assert.equal((await refresh(t, b.refresh_token)).statusCode, 401);
      assertError(await loginRequest(t, username, STRONG_PASSWORD), 401, 'INVALID_CREDENTIALS');
      const fresh = await loginOk(t, username, newPassword);
      assert.equal((await me(t, fresh.access_token)).statusCode, 200);
    });
  });

  describe('password storage', () => {
    test('hashes are argon2id (m>=19456, t>=2, p=1) with a unique salt', async () => {
      const first = await createStaff(t);
      const second = await createStaff(t);
      const firstHash = await storedHash(t, first);
      const secondHash = await storedHash(t, second);
      assertArgon2id(firstHash);
      assertArgon2id(secondHash);
      assertArgon2id(await storedHash(t, 'admin'));
      assert.notEqual(firstHash, secondHash, 'same password, same hash: no salt');
      assert.ok(!firstHash.includes(STRONG_PASSWORD));
      if (t.deps.database.pool) {
        const { rows } = await t.deps.database.pool.query<{ hash: string }>(
          'select password_hash as hash from users',
        );
        assert.ok(rows.length >= 3);
        for (const row of rows) assertArgon2id(row.hash);
      }
    });

    test('a legacy bcrypt hash verifies at login and is re-hashed to argon2id', async () => {
      const username = await createStaff(t);
      const legacyPassword = 'old system secret 2019';
      await t.deps.database.db
        .update(users)
        .set({ passwordHash: bcrypt.hashSync(legacyPassword, 10) })
        .where(eq(users.username, username));
      assert.match(await storedHash(t, username), /^\$2[aby]\$10\$/);

      assertError(await loginRequest(t, username, 'old system secret 2018'), 401, 'INVALID_CREDENTIALS');
      assert.match(await storedHash(t, username), /^\$2[aby]\$/, 'a failed login must not rehash');

      const tokens = await loginOk(t, username, legacyPassword);
      assert.equal((await me(t, tokens.access_token)).statusCode, 200);
      const upgraded = await storedHash(t, username);
      assertArgon2id(upgraded);
      await loginOk(t, username, legacyPassword);
      assert.equal(await storedHash(t, username), upgraded, 'an up-to-date hash is not rewritten');
    });

    test('a weaker argon2id hash is upgraded at login', async () => {
      const username = await createStaff(t);
      const current = await storedHash(t, username);
      const { argon2Sync } = await import('node:crypto');
      const salt = Buffer.from('0123456789abcdef');
      const weakPassword = 'weakly hashed phrase 7';
      const tag = argon2Sync('argon2id', {
        message: Buffer.from(weakPassword),
        nonce: salt,
        memory: 8192,
        passes: 1,
        parallelism: 1,
        tagLength: 32,
      });
      const b64 = (buffer: Buffer) => buffer.toString('base64').replace(/=+$/, '');
      const weak = `$argon2id$v=19$m=8192,t=1,p=1$${b64(salt)}$${b64(Buffer.from(tag))}`;
      await t.deps.database.db.update(users).set({ passwordHash: weak }).where(eq(users.username, username));
      assert.notEqual(weak, current);
      await loginOk(t, username, weakPassword);
      const upgraded = await storedHash(t, username);
      assert.notEqual(upgraded, weak);
      assertArgon2id(upgraded);
    });
  });
});

describe('identity lockout with LOGIN_MAX_FAILURES=3', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp({ LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_MINUTES: '45' });
  });
  after(async () => t.close());

  test('3 wrong passwords then the correct one is 423 ACCOUNT_LOCKED with Retry-After', async () => {
    const username = await createStaff(t);
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      assertError(await loginRequest(t, username, `bad ${attempt}`, '10.5.0.1'), 401, 'INVALID_CREDENTIALS');
    }
    const locked = await loginRequest(t, username, STRONG_PASSWORD, '10.5.0.2');
    assertError(locked, 423, 'ACCOUNT_LOCKED');
    const retryAfter = Number(locked.headers['retry-after']);
    assert.ok(retryAfter > 45 * 60 - 60 && retryAfter <= 45 * 60, `Retry-After ${retryAfter}`);
  });

  test('the same for an unknown username', async () => {
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      assertError(
        await loginRequest(t, 'no.such.user', `bad ${attempt}`, '10.6.0.1'),
        401,
        'INVALID_CREDENTIALS',
      );
    }
    const locked = await loginRequest(t, 'no.such.user', STRONG_PASSWORD, '10.6.0.2');
    assertError(locked, 423, 'ACCOUNT_LOCKED');
    assert.ok(Number(locked.headers['retry-after']) > 45 * 60 - 60);
  });

  test('20 parallel wrong passwords: at most 3 are checked, the rest locked, then the right one is refused', async () => {
    const username = await createStaff(t);
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        loginRequest(t, username, `parallel ${index}`, `10.7.0.${index + 1}`),
      ),
    );
    const statuses = responses.map((response) => response.statusCode);
    assert.equal(statuses.filter((status) => status === 401).length, 3, statuses.join(','));
    assert.equal(statuses.filter((status) => status === 423).length, 17, statuses.join(','));
    for (const response of responses) {
      if (response.statusCode === 423) assert.ok(Number(response.headers['retry-after']) >= 1);
    }
    assertError(await loginRequest(t, username, STRONG_PASSWORD, '10.7.1.1'), 423, 'ACCOUNT_LOCKED');
  });

  test('a correct password before the limit resets the count', async () => {
    const username = await createStaff(t);
    for (let round = 0; round < 3; round += 1) {
      for (let attempt = 1; attempt <= 2; attempt += 1) {
        assertError(
          await loginRequest(t, username, `bad ${attempt}`, '10.8.0.1'),
          401,
          'INVALID_CREDENTIALS',
        );
      }
      await loginOk(t, username, STRONG_PASSWORD, '10.8.0.1');
    }
  });
});
