/** `/api/v1/core`: entity categories and the audit log (queries, hash chain, tamper detection, CLI). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';

describe('core module', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  const add = (payload: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/core/category/add',
      headers: bearer(t.adminToken),
      payload,
    });

  test('seeded categories are listed with filters and cursor pagination, no duplicates across pages', async () => {
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/api/v1/core/category?entity_type=document&limit=4${cursor ? `&cursor=${cursor}` : ''}`;
      const response = await t.app.inject({ method: 'GET', url, headers: bearer(t.adminToken) });
      assert.equal(response.statusCode, 200);
      const page = response.json() as {
        items: { id: string; entity_type: string }[];
        next_cursor: string | null;
      };
      for (const item of page.items) {
        assert.equal(item.entity_type, 'document');
        assert.ok(!seen.has(item.id));
        seen.add(item.id);
      }
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor && pages < 10);
    assert.equal(seen.size, 9);
    assert.equal(pages, 3);
  });

  test('a category is created, read, changed and retired, each audited', async () => {
    const created = await add({
      entity_type: 'customer',
      code: 'vip',
      name: 'VIP',
      description: 'High value',
    });
    assert.equal(created.statusCode, 201);
    const category = created.json();
    assert.equal(category.code, 'vip');
    assert.equal(category.active, true);

    const duplicate = await add({ entity_type: 'customer', code: 'vip', name: 'Again' });
    assert.equal(duplicate.statusCode, 409);
    assert.equal(duplicate.json().error_code, 'CATEGORY_EXISTS');

    const fetched = await t.app.inject({
      method: 'GET',
      url: `/api/v1/core/category/${category.id}`,
      headers: bearer(t.adminToken),
    });
    assert.deepEqual(fetched.json(), category);

    const changed = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/core/category/${category.id}`,
      headers: bearer(t.adminToken),
      payload: { name: 'Very important', description: null },
    });
    assert.equal(changed.statusCode, 200);
    assert.equal(changed.json().name, 'Very important');
    assert.equal(changed.json().description, null);

    const empty = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/core/category/${category.id}`,
      headers: bearer(t.adminToken),
      payload: {},
    });
    assert.equal(empty.statusCode, 422);

    const retired = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/core/category/${category.id}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(retired.statusCode, 200);
    assert.equal(retired.json().active, false);

    const audit = await t.app.inject({
      method: 'GET',
      url: `/api/v1/core/audit?entity_type=category&entity_id=${category.id}`,
      headers: bearer(t.adminToken),
    });
    const actions = audit.json().items.map((item: { action: string }) => item.action);
    assert.deepEqual(actions, ['category.updated', 'category.updated', 'category.created']);
    const update = audit.json().items[1];
    assert.equal(update.before.name, 'VIP');
    assert.equal(update.after.name, 'Very important');
    assert.equal(typeof update.request_id, 'string');
  });

  test('unknown and malformed ids answer 404 and 422', async () => {
    const missing = await t.app.inject({
      method: 'GET',
      url: '/api/v1/core/category/01a20000-0000-7000-8000-000000000000',
      headers: bearer(t.adminToken),
    });
    assert.equal(missing.statusCode, 404);
    const malformed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/core/category/42',
      headers: bearer(t.adminToken),
    });
    assert.equal(malformed.statusCode, 422);
  });

  test('the audit log filters by action and time and pages newest first', async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    const response = await t.app.inject({
      method: 'GET',
      url: `/api/v1/core/audit?action=auth.login&from=${encodeURIComponent(since)}&limit=1`,
      headers: bearer(t.adminToken),
    });
    assert.equal(response.statusCode, 200);
    const page = response.json();
    assert.equal(page.items.length, 1);
    assert.equal(page.items[0].action, 'auth.login');
    const future = await t.app.inject({
      method: 'GET',
      url: `/api/v1/core/audit?from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(future.json().items.length, 0);
  });

  test('the hash chain verifies, and a tampered row is found by the API and by the CLI', async () => {
    const intact = await t.app.inject({
      method: 'GET',
      url: '/api/v1/core/audit/verify',
      headers: bearer(t.adminToken),
    });
    assert.equal(intact.statusCode, 200);
    assert.equal(intact.json().ok, true);
    assert.ok(intact.json().checked >= 4);

    const cli = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['src/cli.ts', 'audit-verify'], {
        env: { ...process.env, DATABASE_URL: t.config.DATABASE_URL, LOG_LEVEL: 'silent', ...env },
        encoding: 'utf8',
      });
    if (t.config.DATABASE_URL) {
      const ok = cli({});
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, /audit chain intact/);
    }

    const db = t.deps.database.db;
    await assert.rejects(
      db.execute(sql`update audit_log set after = '{"name":"forged"}'::jsonb where seq = 3`),
      'the append-only trigger refuses updates',
    );
    await assert.rejects(db.execute(sql`delete from audit_log where seq = 3`));
    // An attacker with owner rights switches the trigger off: the hash chain still gives them away.
    await db.execute(sql`alter table audit_log disable trigger audit_log_append_only`);
    await db.execute(sql`update audit_log set after = '{"name":"forged"}'::jsonb where seq = 3`);
    await db.execute(sql`alter table audit_log enable trigger audit_log_append_only`);
    const broken = await t.app.inject({
      method: 'GET',
      url: '/api/v1/core/audit/verify',
      headers: bearer(t.adminToken),
    });
    assert.equal(broken.json().ok, false);
    assert.equal(broken.json().first_bad_seq, '3');
    assert.equal(broken.json().checked, 2);
    if (t.config.DATABASE_URL) {
      const failed = cli({});
      assert.equal(failed.status, 1);
      assert.match(failed.stdout, /BROKEN at seq 3/);
    }
  });
});
