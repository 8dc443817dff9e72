/** Idempotency-Key semantics on a real route (category creation), on real PostgreSQL. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { bearer, login, startTestApp, type TestContext } from '../../test/helpers/app.ts';
import { inTransaction } from './db.ts';
import { IdempotencyService, requestHash } from './idempotency.ts';

describe('Idempotency-Key', () => {
  let t: TestContext;
  let otherAdminToken: string;
  before(async () => {
    t = await startTestApp();
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      headers: bearer(t.adminToken),
      payload: {
        username: 'ops2',
        email: 'ops2@bank.test',
        full_name: 'Ops Two',
        password: 'second admin pass 77',
        roles: ['admin'],
      },
    });
    assert.equal(created.statusCode, 201);
    otherAdminToken = (await login(t.app, 'ops2', 'second admin pass 77')).access_token;
  });
  after(async () => t.close());

  const post = (key: string | undefined, payload: Record<string, unknown>, token = t.adminToken) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/core/category/add',
      headers: { ...bearer(token), ...(key ? { 'idempotency-key': key } : {}) },
      payload,
    });

  const countCategories = async (code: string) => {
    const rows = (await t.deps.database.db.execute(
      sql`select count(*)::int as n from entity_categories where code = ${code}`,
    )) as unknown as { rows: { n: number }[] };
    return rows.rows[0]!.n;
  };

  test('replays are byte-identical and have exactly one effect, sequentially and concurrently', async () => {
    const key = randomUUID();
    const payload = { entity_type: 'merchant', code: 'once_only', name: 'Once' };
    const first = await post(key, payload);
    assert.equal(first.statusCode, 201);
    for (let index = 0; index < 10; index += 1) {
      const replay = await post(key, payload);
      assert.equal(replay.statusCode, 201);
      assert.equal(replay.body, first.body);
      assert.equal(replay.headers['idempotent-replayed'], 'true');
    }
    const concurrent = await Promise.all(Array.from({ length: 50 }, () => post(key, payload)));
    for (const response of concurrent) {
      assert.ok(response.statusCode === 201 || response.statusCode === 409, String(response.statusCode));
      if (response.statusCode === 201) assert.equal(response.body, first.body);
    }
    assert.equal(await countCategories('once_only'), 1);
  });

  test('concurrent first requests under one key: one effect, the rest replay or 409', async () => {
    const key = randomUUID();
    const payload = { entity_type: 'merchant', code: 'racing', name: 'Race' };
    const responses = await Promise.all(Array.from({ length: 30 }, () => post(key, payload)));
    const created = responses.filter((response) => response.statusCode === 201);
    assert.ok(created.length >= 1);
    for (const response of created) assert.equal(response.body, created[0]!.body);
    for (const response of responses.filter((item) => item.statusCode !== 201)) {
      assert.equal(response.statusCode, 409);
      assert.equal(response.json().error_code, 'IDEMPOTENCY_IN_PROGRESS');
    }
    assert.equal(await countCategories('racing'), 1);
  });

  test('the same key with another body is a 422 and changes nothing', async () => {
    const key = randomUUID();
    assert.equal(
      (await post(key, { entity_type: 'merchant', code: 'first_body', name: 'A' })).statusCode,
      201,
    );
    const misuse = await post(key, { entity_type: 'merchant', code: 'second_body', name: 'B' });
    assert.equal(misuse.statusCode, 422);
    assert.equal(misuse.json().error_code, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal(await countCategories('second_body'), 0);
  });

  test('keys are scoped to the principal: another user reusing a key acts independently', async () => {
    const key = randomUUID();
    const mine = await post(key, { entity_type: 'merchant', code: 'scoped_a', name: 'A' });
    const theirs = await post(key, { entity_type: 'merchant', code: 'scoped_b', name: 'B' }, otherAdminToken);
    assert.equal(mine.statusCode, 201);
    assert.equal(theirs.statusCode, 201);
    assert.notEqual(mine.json().id, theirs.json().id);
  });

  test('a definite refusal is stored and replayed; a malformed key is a 400', async () => {
    const key = randomUUID();
    const payload = { entity_type: 'merchant', code: 'once_only', name: 'Duplicate' };
    const refused = await post(key, payload);
    assert.equal(refused.statusCode, 409, 'duplicate code conflicts');
    // 409 is not stored (a conflict can clear), so the same key may run again and meet the same conflict.
    const again = await post(key, payload);
    assert.equal(again.statusCode, 409);
    const invalid = await post('short', { entity_type: 'merchant', code: 'bad_key', name: 'X' });
    assert.equal(invalid.statusCode, 400);
    assert.equal(invalid.json().error_code, 'IDEMPOTENCY_KEY_INVALID');
    const unknownCategory = await t.app.inject({
      method: 'POST',
      url: '/api/v1/core/category/add',
      headers: { ...bearer(t.adminToken), 'idempotency-key': 'x'.repeat(300) },
      payload: { entity_type: 'merchant', code: 'too_long_key', name: 'X' },
    });
    assert.equal(unknownCategory.statusCode, 400);
  });

  test('a claim left by a crashed request is taken over after its lock lapses; an expired key is forgotten', async () => {
    const service = new IdempotencyService(t.deps.database.db, 24);
    const hash = requestHash('POST', '/x', {}, { a: 1 });
    const first = await service.begin('user:crash', 'crash-key-1', hash);
    assert.equal(first.kind, 'proceed');
    await assert.rejects(service.begin('user:crash', 'crash-key-1', hash), /still being processed/);
    await t.deps.database.db.execute(
      sql`update idempotency_keys set locked_until = now() - interval '1 second' where key = 'crash-key-1'`,
    );
    const takeover = await service.begin('user:crash', 'crash-key-1', hash);
    assert.equal(takeover.kind, 'proceed');
    // The slow first holder can no longer store its effect: its transaction would roll back, so only one applies.
    assert.ok(first.kind === 'proceed' && takeover.kind === 'proceed');
    await assert.rejects(
      inTransaction(t.deps.database.db, (tx) => first.claim.commit(tx, 201, { holder: 'first' })),
      /still being processed/,
    );
    await inTransaction(t.deps.database.db, (tx) => takeover.claim.commit(tx, 201, { holder: 'second' }));
    const replay = await service.begin('user:crash', 'crash-key-1', hash);
    assert.deepEqual(replay, { kind: 'replay', status: 201, body: '{"holder":"second"}' });
    await t.deps.database.db.execute(
      sql`update idempotency_keys set expires_at = now() - interval '1 second' where key = 'crash-key-1'`,
    );
    assert.equal(await service.purgeExpired(), 1);
  });
});
