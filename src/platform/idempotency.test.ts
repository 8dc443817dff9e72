/** Idempotency-Key semantics on a real route (category creation), on real PostgreSQL. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { bearer, login, startTestApp, type TestContext } from '../../test/helpers/app.ts';
import { inTransaction } from './db.ts';
import { HOLDER_LOCK_CLASS, IdempotencyService, requestHash } from './idempotency.ts';

describe('Idempotency-Key', () => {
  let t: TestContext;
  let otherAdminToken: string;
  before(async () => {
    // A second administrator made over the API: privileged roles otherwise need a second staff member (ADR 0007).
    t = await startTestApp({ PRIVILEGED_ROLE_FOUR_EYES: 'false' });
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      headers: bearer(t.adminToken),
      payload: {
        username: 'ops2',
        email: 'ops2@bank.test',
        full_name: 'Ops Two',
        password: 'second admin pass 77',
        must_change_password: false,
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    // A role with category rights needs a second approver through the API; the test's second user gets it directly.
    await t.deps.database.db.execute(
      sql`insert into user_roles (user_id, role_id) select ${created.json().id}::uuid, id from roles where code = 'admin'`,
    );
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

  test('a claim left by a crashed request is taken over after its lock lapses; an expired key is forgotten', async (context) => {
    const service = new IdempotencyService(t.deps.database.db, 24);
    context.after(() => service.close());
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

  test('claims that arrive together are inserted together: each new key proceeds, a key twice in one batch once', async (context) => {
    const service = new IdempotencyService(t.deps.database.db, 24);
    context.after(() => service.close());
    const hash = requestHash('POST', '/x', {}, { a: 2 });
    const keys = Array.from({ length: 40 }, (_, index) => `together-${index}-${randomUUID()}`);
    const outcomes = await Promise.allSettled([
      ...keys.map((key) => service.begin('user:together', key, hash)),
      service.begin('user:together', keys[7]!, hash),
    ]);
    const proceeded = outcomes.filter(
      (outcome) => outcome.status === 'fulfilled' && outcome.value.kind === 'proceed',
    );
    assert.equal(proceeded.length, keys.length, 'one claim per key');
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
    assert.equal(refused.length, 1);
    assert.match(String((refused[0] as PromiseRejectedResult).reason), /still being processed/);
    const rows = (await t.deps.database.db.execute(
      sql`select count(*)::int as n from idempotency_keys where scope = 'user:together'`,
    )) as unknown as { rows: { n: number }[] };
    assert.equal(rows.rows[0]!.n, keys.length);
  });

  /** The advisory lock behind a claim's holder on PostgreSQL, as a test (or an operator) sees it. */
  const holderSession = async (key: string) => {
    const result = (await t.deps.database.db.execute(
      sql`select l.pid from idempotency_keys k join pg_locks l on l.locktype = 'advisory' and l.granted
            and l.database = (select oid from pg_database where datname = current_database())
            and l.classid = ${HOLDER_LOCK_CLASS}::oid and l.objid = k.holder::oid and l.objsubid = 2
          where k.key = ${key}`,
    )) as unknown as { rows: { pid: number }[] };
    return result.rows[0]?.pid ?? null;
  };

  test('a claim whose holder is gone is taken over at once; a live holder keeps it (409)', async (context) => {
    // Two services: two processes (PostgreSQL), or the one process of an embedded database (PGlite).
    const first = new IdempotencyService(t.deps.database.db, 24);
    const second = new IdempotencyService(t.deps.database.db, 24);
    context.after(() => Promise.all([first.close(), second.close()]));
    const hash = requestHash('POST', '/x', {}, { a: 2 });
    const held = await first.begin('user:holder', 'holder-key-1', hash);
    assert.equal(held.kind, 'proceed');
    // The holder is alive and its lease runs: the request is still running.
    await assert.rejects(second.begin('user:holder', 'holder-key-1', hash), /still being processed/);
    const lease = async () =>
      (
        (await t.deps.database.db.execute(
          sql`select locked_until > now() + interval '50 seconds' as running, holder from idempotency_keys
                where key = 'holder-key-1'`,
        )) as unknown as { rows: { running: boolean; holder: number | null }[] }
      ).rows[0]!;
    assert.ok((await lease()).holder !== null, 'the claim names its holder');
    if (t.deps.database.kind === 'postgres') {
      // The holder's process dies (the kernel closes its session; a process that lives on takes its claims back, see
      // below): the claim is free at once.
      assert.ok(await holderSession('holder-key-1'), "the holder's session holds its advisory lock");
      await first.close();
      for (let waited = 0; (await holderSession('holder-key-1')) !== null; waited += 20) {
        assert.ok(waited < 5_000, 'the closed session ends');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } else {
      // PGlite lives in this one process: every claim this process holds is live, and a claim of any other holder
      // was left by a previous life of the process (killed before it completed).
      await t.deps.database.db.execute(
        sql`update idempotency_keys set holder = holder + 1 where key = 'holder-key-1'`,
      );
    }
    assert.equal((await lease()).running, true, 'the lease has not lapsed');
    const takeover = await second.begin('user:holder', 'holder-key-1', hash);
    assert.equal(takeover.kind, 'proceed', 'taken over without waiting for the lease');
    // The first holder can no longer store anything (if it is still running somewhere): one effect.
    assert.ok(held.kind === 'proceed' && takeover.kind === 'proceed');
    await assert.rejects(
      inTransaction(t.deps.database.db, (tx) => held.claim.commit(tx, 201, { holder: 'first' })),
      /still being processed/,
    );
    assert.equal(await first.storeFailure(held.claim, 422, '{}'), false, 'nor its refusal');
    await first.release(held.claim);
    // The new holder is alive: a third copy waits for it.
    await assert.rejects(first.begin('user:holder', 'holder-key-1', hash), /still being processed/);
    await inTransaction(t.deps.database.db, (tx) => takeover.claim.commit(tx, 201, { holder: 'second' }));
    assert.deepEqual(await first.begin('user:holder', 'holder-key-1', hash), {
      kind: 'replay',
      status: 201,
      body: '{"holder":"second"}',
    });
  });

  test('a holder that loses its session while its request runs takes the claim back: a retry still gets 409', async (context) => {
    const first = new IdempotencyService(t.deps.database.db, 24);
    const second = new IdempotencyService(t.deps.database.db, 24);
    context.after(() => Promise.all([first.close(), second.close()]));
    const hash = requestHash('POST', '/x', {}, { a: 3 });
    const held = await first.begin('user:lost', 'lost-holder-key-1', hash);
    assert.ok(held.kind === 'proceed');
    if (t.deps.database.kind === 'postgres') {
      // The holder's connection dies (a terminated backend, a dropped link) but its process, and the request, live on.
      const pid = await holderSession('lost-holder-key-1');
      assert.ok(pid, "the holder's session holds its advisory lock");
      await t.deps.database.db.execute(sql`select pg_terminate_backend(${pid}::int)`);
      // The process opens a new session at once and names it the holder of the claims it still runs.
      for (let waited = 0; ; waited += 20) {
        const now = await holderSession('lost-holder-key-1');
        if (now !== null && now !== pid) break;
        assert.ok(waited < 5_000, 'the running claim is held by a new live session of its process');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    // The request is still running: a retry waits for it instead of running it a second time.
    await assert.rejects(second.begin('user:lost', 'lost-holder-key-1', hash), /still being processed/);
    await inTransaction(t.deps.database.db, (tx) => held.claim.commit(tx, 201, { holder: 'first' }));
    assert.deepEqual(await second.begin('user:lost', 'lost-holder-key-1', hash), {
      kind: 'replay',
      status: 201,
      body: '{"holder":"first"}',
    });
  });
});
