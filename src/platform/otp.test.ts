/**
 * One-time codes: one behavioural suite run against the in-process store and against Redis when REDIS_URL is
 * set (CI always sets it): single use, expiry, attempt limits under parallel submits, binding, resend throttles.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { needsRedis } from '../../test/helpers/databases.ts';
import { type EphemeralStore, MemoryStore, RedisStore } from './cache.ts';
import { AppError } from './errors.ts';
import { canonical, OTP_MAX_TTL_MS, OtpService, type OtpServiceOptions } from './otp.ts';

const RUN = randomBytes(4).toString('hex');
const PEPPER = 'test-pepper-for-otp';
const INVALID_MESSAGE = 'The code is wrong or has expired';

function requireRedisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) {
    throw new Error(
      'REDIS_URL is not set: the RedisStore tests need a Redis server (e.g. REDIS_URL=redis://127.0.0.1:6379); ' +
        'set it to run them',
    );
  }
  return url;
}

/** Deletes every key under the prefix (the Redis suites share a server with other runs). */
async function deleteKeys(store: RedisStore, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await store.client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await store.client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** The AppError a promise rejects with; fails when it resolves or rejects with anything else. */
async function refusal(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

function assertInvalid(error: AppError, attemptsLeft: number): void {
  assert.equal(error.statusCode, 401);
  assert.equal(error.errorCode, 'OTP_INVALID');
  assert.equal(error.message, INVALID_MESSAGE);
  assert.deepEqual(error.details, { attempts_left: attemptsLeft });
}

/** Another 6-digit code than `code`. */
function wrongCode(code: string, offset = 1): string {
  return String((Number(code) + offset) % 1_000_000).padStart(6, '0');
}

/** Wraps a store, recording every key and value written or read through it. */
function recording(inner: EphemeralStore, seen: string[]): EphemeralStore {
  return {
    kind: inner.kind,
    get: (key) => {
      seen.push(key);
      return inner.get(key);
    },
    set: (key, value, ttlMs) => {
      seen.push(key, value);
      return inner.set(key, value, ttlMs);
    },
    setIfAbsent: (key, value, ttlMs) => {
      seen.push(key, value);
      return inner.setIfAbsent(key, value, ttlMs);
    },
    delete: (key) => {
      seen.push(key);
      return inner.delete(key);
    },
    increment: (key, ttlMs) => {
      seen.push(key);
      return inner.increment(key, ttlMs);
    },
    hit: (key, windowMs) => {
      seen.push(key);
      return inner.hit(key, windowMs);
    },
    ttlMs: (key) => inner.ttlMs(key),
    publish: (channel, message) => inner.publish(channel, message),
    subscribe: (channel, handler) => inner.subscribe(channel, handler),
    subscriptionEpoch: () => inner.subscriptionEpoch(),
    acquireLock: (name, ttlMs) => inner.acquireLock(name, ttlMs),
    lockAndGet: (lock, ttlMs, key) => {
      seen.push(key);
      return inner.lockAndGet(lock, ttlMs, key);
    },
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}

/** The behaviour OtpService must have on every EphemeralStore. `open` is called once, in `before`. */
function otpSuite(name: string, open: () => Promise<EphemeralStore>, cleanUp: () => Promise<void>) {
  describe(`OtpService on ${name}`, () => {
    let store: EphemeralStore;
    let counter = 0;
    /** A subject unique to one test, so tests never see each other's cooldowns and caps. */
    const subject = (label: string) => {
      counter += 1;
      return `${label}:${RUN}:${counter}`;
    };
    const service = (options: Partial<OtpServiceOptions> = {}) =>
      new OtpService({ store, pepper: PEPPER, ...options });

    before(async () => {
      store = await open();
      await store.ping();
    });
    after(async () => {
      await cleanUp();
      await store.close();
    });

    test('issue returns a 6-digit code, a challenge id and the expiry, nothing else; codes differ', async () => {
      const otp = service({ now: () => 1_000_000, ttlMs: 120_000 });
      const issued = await Promise.all(
        Array.from({ length: 10 }, () => otp.issue({ purpose: 'login', subject: subject('shape') })),
      );
      for (const result of issued) {
        assert.deepEqual(Object.keys(result).sort(), ['challengeId', 'code', 'expiresAt']);
        assert.match(result.code, /^\d{6}$/);
        assert.equal(result.expiresAt.getTime(), 1_000_000 + 120_000);
      }
      assert.equal(new Set(issued.map((result) => result.challengeId)).size, 10);
      assert.ok(new Set(issued.map((result) => result.code)).size > 1, 'ten issues gave one code');
    });

    test('check does not spend the code (a retry after a failed commit passes); consume spends it once', async () => {
      const otp = service();
      const binding = { registration: 'r1' };
      const { challengeId, code } = await otp.issue({ purpose: 'login', subject: subject('check'), binding });
      const input = { purpose: 'login', challengeId, code, binding };
      assertInvalid(await refusal(otp.check({ ...input, code: wrongCode(code) })), 4);
      assertInvalid(await refusal(otp.check({ ...input, binding: { registration: 'r2' } })), 3);
      await otp.check(input);
      await otp.check(input);
      const taken = await Promise.all([1, 2, 3].map(() => otp.consume(challengeId)));
      assert.deepEqual(
        taken.filter((value) => value),
        [true],
        'one consumer wins',
      );
      assertInvalid(await refusal(otp.check(input)), 0);
      assertInvalid(await refusal(otp.verify(input)), 0);
      assert.equal(await otp.consume('not a challenge id'), false);
    });

    test('consume of a code voided by a newer one is false', async () => {
      const otp = service({ resendCooldownMs: 0 });
      const who = subject('voided');
      const first = await otp.issue({ purpose: 'login', subject: who });
      await otp.check({ purpose: 'login', challengeId: first.challengeId, code: first.code });
      await otp.issue({ purpose: 'login', subject: who });
      assert.equal(await otp.consume(first.challengeId), false);
    });

    test('the right code succeeds once; a second use fails like an unknown code', async () => {
      const otp = service();
      const { challengeId, code } = await otp.issue({ purpose: 'login', subject: subject('once') });
      await otp.verify({ purpose: 'login', challengeId, code });
      assertInvalid(await refusal(otp.verify({ purpose: 'login', challengeId, code })), 0);
    });

    test('an unknown or malformed challenge id fails with the same answer', async () => {
      const otp = service();
      assertInvalid(
        await refusal(otp.verify({ purpose: 'login', challengeId: 'A'.repeat(24), code: '123456' })),
        0,
      );
      assertInvalid(
        await refusal(otp.verify({ purpose: 'login', challengeId: '../*:bad key', code: '123456' })),
        0,
      );
    });

    test('a code expires after ttlMs', async () => {
      const otp = service({ ttlMs: 200 });
      const { challengeId, code } = await otp.issue({ purpose: 'login', subject: subject('expiry') });
      await sleep(350);
      assertInvalid(await refusal(otp.verify({ purpose: 'login', challengeId, code })), 0);
    });

    test('five wrong codes lock the challenge: then even the right code is refused', async () => {
      const otp = service();
      const { challengeId, code } = await otp.issue({ purpose: 'login', subject: subject('lock') });
      for (let attempt = 1; attempt <= 5; attempt += 1) {
        const error = await refusal(
          otp.verify({ purpose: 'login', challengeId, code: wrongCode(code, attempt) }),
        );
        assertInvalid(error, 5 - attempt);
      }
      const locked = await refusal(otp.verify({ purpose: 'login', challengeId, code }));
      assert.equal(locked.statusCode, 423);
      assert.equal(locked.errorCode, 'OTP_LOCKED');
    });

    test('a code for one purpose fails for another', async () => {
      const otp = service();
      const { challengeId, code } = await otp.issue({ purpose: 'login', subject: subject('purpose') });
      assertInvalid(await refusal(otp.verify({ purpose: 'pin_reset', challengeId, code })), 4);
      await otp.verify({ purpose: 'login', challengeId, code });
    });

    test('50 parallel submits of the right code: exactly one succeeds', async () => {
      const otp = service();
      const { challengeId, code } = await otp.issue({ purpose: 'transfer', subject: subject('race') });
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, () => otp.verify({ purpose: 'transfer', challengeId, code })),
      );
      assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
      for (const result of results) {
        if (result.status === 'fulfilled') continue;
        assert.ok(result.reason instanceof AppError);
        assert.ok(['OTP_INVALID', 'OTP_LOCKED'].includes(result.reason.errorCode), result.reason.errorCode);
      }
    });

    test('50 parallel right submits with a high attempt limit: one success, 49 OTP_INVALID', async () => {
      // With room for every comparison, only the atomic consume keeps it to one success.
      const otp = service({ maxAttempts: 100 });
      const { challengeId, code } = await otp.issue({ purpose: 'transfer', subject: subject('consume') });
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, () => otp.verify({ purpose: 'transfer', challengeId, code })),
      );
      assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
      const refusals = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
      assert.equal(refusals.length, 49);
      for (const error of refusals) assertInvalid(error, 0);
    });

    test('50 parallel wrong codes: exactly maxAttempts comparisons, the rest locked', async () => {
      const otp = service();
      const { challengeId, code } = await otp.issue({ purpose: 'transfer', subject: subject('brute') });
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, index) =>
          otp.verify({ purpose: 'transfer', challengeId, code: wrongCode(code, index + 1) }),
        ),
      );
      const refusals = results.map((result) => {
        assert.equal(result.status, 'rejected');
        assert.ok(result.reason instanceof AppError);
        return result.reason;
      });
      const compared = refusals.filter((error) => error.errorCode === 'OTP_INVALID');
      const locked = refusals.filter((error) => error.errorCode === 'OTP_LOCKED');
      assert.deepEqual(
        compared.map((error) => (error.details as { attempts_left: number }).attempts_left).sort(),
        [0, 1, 2, 3, 4],
      );
      assert.equal(locked.length, 45);
      for (const error of locked) assert.equal(error.statusCode, 423);
      const after = await refusal(otp.verify({ purpose: 'transfer', challengeId, code }));
      assert.equal(after.errorCode, 'OTP_LOCKED');
    });

    test('a code is bound to its binding: another payee or amount fails like a wrong code', async () => {
      const otp = service();
      const binding = { payee: 'A', amount: 100, currency: 'KES', transaction_id: 'tx-1' };
      const { challengeId, code } = await otp.issue({
        purpose: 'transfer',
        subject: subject('bind'),
        binding,
      });
      const attempt = (other: Record<string, string | number | bigint> | undefined) =>
        refusal(otp.verify({ purpose: 'transfer', challengeId, code, binding: other }));
      assertInvalid(await attempt({ ...binding, payee: 'B' }), 4);
      assertInvalid(await attempt({ ...binding, amount: 101 }), 3);
      assertInvalid(await attempt({ payee: 'A', amount: 100 }), 2);
      assertInvalid(await attempt(undefined), 1);
      // Key order does not matter, and 100n, 100 and '100' are the same amount.
      await otp.verify({
        purpose: 'transfer',
        challengeId,
        code,
        binding: { transaction_id: 'tx-1', currency: 'KES', amount: 100n, payee: 'A' },
      });
    });

    test('a resend within the cooldown is 429 OTP_COOLDOWN with Retry-After; the first code still works', async () => {
      const otp = service();
      const who = subject('cooldown');
      const first = await otp.issue({ purpose: 'login', subject: who });
      const error = await refusal(otp.issue({ purpose: 'login', subject: who }));
      assert.equal(error.statusCode, 429);
      assert.equal(error.errorCode, 'OTP_COOLDOWN');
      const seconds = Number(error.headers['retry-after']);
      assert.ok(seconds >= 59 && seconds <= 60, `retry-after ${seconds}`);
      assert.deepEqual(error.details, { retry_after_seconds: seconds });
      // The cooldown is per subject+purpose.
      await otp.issue({ purpose: 'pin_reset', subject: who });
      await otp.issue({ purpose: 'login', subject: subject('cooldown-other') });
      await otp.verify({ purpose: 'login', challengeId: first.challengeId, code: first.code });
    });

    test('a resend after the cooldown voids the old code', async () => {
      const otp = service({ resendCooldownMs: 150 });
      const who = subject('resend');
      const old = await otp.issue({ purpose: 'login', subject: who });
      await sleep(250);
      const fresh = await otp.issue({ purpose: 'login', subject: who });
      assertInvalid(
        await refusal(otp.verify({ purpose: 'login', challengeId: old.challengeId, code: old.code })),
        0,
      );
      await otp.verify({ purpose: 'login', challengeId: fresh.challengeId, code: fresh.code });
    });

    test('the hourly cap is 429 OTP_RATE_LIMITED with Retry-After until the window ends', async () => {
      const otp = service({ resendCooldownMs: 0, hourlyCap: 3 });
      const who = subject('cap');
      let last = await otp.issue({ purpose: 'login', subject: who });
      for (let index = 1; index < 3; index += 1) last = await otp.issue({ purpose: 'login', subject: who });
      const error = await refusal(otp.issue({ purpose: 'login', subject: who }));
      assert.equal(error.statusCode, 429);
      assert.equal(error.errorCode, 'OTP_RATE_LIMITED');
      const seconds = Number(error.headers['retry-after']);
      assert.ok(seconds > 3500 && seconds <= 3600, `retry-after ${seconds}`);
      assert.deepEqual(error.details, { retry_after_seconds: seconds });
      // Refused requests do not void the current code; other subjects are unaffected.
      await otp.verify({ purpose: 'login', challengeId: last.challengeId, code: last.code });
      await otp.issue({ purpose: 'login', subject: subject('cap-other') });
    });

    test('the default hourly cap is 5', async () => {
      const otp = service({ resendCooldownMs: 0 });
      const who = subject('cap-default');
      for (let index = 0; index < 5; index += 1) await otp.issue({ purpose: 'login', subject: who });
      assert.equal(
        (await refusal(otp.issue({ purpose: 'login', subject: who }))).errorCode,
        'OTP_RATE_LIMITED',
      );
    });

    test('the store never sees the code or the subject', async () => {
      const seen: string[] = [];
      const otp = new OtpService({ store: recording(store, seen), pepper: PEPPER });
      const phone = `+2547${String(counter).padStart(8, '0')}${RUN}`;
      counter += 1;
      const { challengeId, code } = await otp.issue({ purpose: 'login', subject: phone });
      await refusal(otp.verify({ purpose: 'login', challengeId, code: wrongCode(code) }));
      await otp.verify({ purpose: 'login', challengeId, code });
      assert.ok(seen.length > 0);
      for (const entry of seen) {
        assert.ok(!entry.includes(phone), `subject in ${entry}`);
        assert.ok(!entry.includes(`:${code}`) && entry !== code, `code in ${entry}`);
      }
    });
  });
}

describe('OtpService configuration and canonical bindings', () => {
  test('ttlMs above 10 minutes is refused at construction; 10 minutes is accepted', () => {
    const store = new MemoryStore();
    assert.equal(OTP_MAX_TTL_MS, 600_000);
    assert.throws(() => new OtpService({ store, pepper: PEPPER, ttlMs: 600_001 }), RangeError);
    assert.throws(() => new OtpService({ store, pepper: PEPPER, ttlMs: 0 }), RangeError);
    assert.throws(() => new OtpService({ store, pepper: '' }), RangeError);
    assert.throws(() => new OtpService({ store, pepper: PEPPER, maxAttempts: 0 }), RangeError);
    new OtpService({ store, pepper: PEPPER, ttlMs: 600_000 });
    void store.close();
  });

  test('canonical sorts keys and writes bigints and numbers as decimal strings', () => {
    assert.equal(canonical(undefined), '{}');
    assert.equal(canonical({}), '{}');
    assert.equal(
      canonical({ payee: 'A', amount: 12345678901234567890n, currency: 'KES' }),
      '{"amount":"12345678901234567890","currency":"KES","payee":"A"}',
    );
    assert.equal(canonical({ b: 1, a: '1' }), canonical({ a: 1n, b: '1' }));
    assert.notEqual(canonical({ a: 'x', b: 'y' }), canonical({ a: 'x","b":"y' }));
    assert.throws(() => canonical({ amount: Number.NaN }), TypeError);
  });
});

otpSuite(
  'MemoryStore',
  async () => new MemoryStore(),
  async () => {},
);

const redisPrefix = `cft:otp:${RUN}:`;
let redisCleaner: RedisStore | undefined;
// Redis suites exist where Redis does (always in CI); `npm test` on a bare clone exercises the memory store only.
if (process.env.REDIS_URL)
  otpSuite(
    'RedisStore',
    async () => {
      const url = requireRedisUrl();
      redisCleaner = new RedisStore(url, redisPrefix);
      return new RedisStore(url, redisPrefix);
    },
    async () => {
      if (!redisCleaner) return;
      await deleteKeys(redisCleaner, redisPrefix);
      await redisCleaner.close();
    },
  );
else test('OtpService on RedisStore', { skip: needsRedis }, () => {});
