/** Password history, expiry forcing a change, and the optional complexity rules (runtime settings). */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';

describe('password policy', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp({ PASSWORD_HISTORY: '2' });
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/user/add',
      headers: bearer(t.adminToken),
      payload: {
        username: 'cashier',
        email: 'cashier@bank.test',
        full_name: 'Cash Ier',
        password: 'first river stone 1',
        roles: ['operations'],
        must_change_password: false,
      },
    });
    assert.equal(created.statusCode, 201, created.body);
  });
  after(async () => t.close());

  async function change(current: string, next: string) {
    const token = (await login(t.app, 'cashier', current)).access_token;
    return t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password/change',
      headers: bearer(token),
      payload: { current_password: current, new_password: next },
    });
  }

  test('the last PASSWORD_HISTORY passwords cannot be reused; older ones can', async () => {
    assert.equal((await change('first river stone 1', 'second river stone 2')).statusCode, 204);
    const reuse = await change('second river stone 2', 'first river stone 1');
    assert.equal(reuse.statusCode, 422);
    assert.deepEqual(reuse.json().details.reasons, ['must differ from your recent passwords']);
    assert.equal((await change('second river stone 2', 'third river stone 3')).statusCode, 204);
    assert.equal((await change('third river stone 3', 'fourth river stone 4')).statusCode, 204);
    // History depth 2: "first" has dropped out of the window (current "fourth", history "third", "second").
    assert.equal((await change('fourth river stone 4', 'first river stone 1')).statusCode, 204);
  });

  test('an expired password lets the user in only to change it', async () => {
    await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/admin/config/auth.password_expiry_days',
      headers: bearer(t.adminToken),
      payload: { value: 90 },
    });
    await t.deps.database.db.execute(
      sql`update users set password_changed_at = now() - interval '91 days' where username = 'cashier'`,
    );
    const token = (await login(t.app, 'cashier', 'first river stone 1')).access_token;
    const blocked = await t.app.inject({
      method: 'GET',
      url: '/api/v1/core/category',
      headers: bearer(token),
    });
    assert.equal(blocked.json().error_code, 'PASSWORD_CHANGE_REQUIRED');
    assert.equal((await change('first river stone 1', 'fifth river stone 5')).statusCode, 204);
    const fresh = (await login(t.app, 'cashier', 'fifth river stone 5')).access_token;
    const open = await t.app.inject({ method: 'GET', url: '/api/v1/core/category', headers: bearer(fresh) });
    assert.equal(open.statusCode, 200);
  });

  test('complexity rules apply only when the setting is on', async () => {
    const weak = 'only lowercase words here';
    assert.equal((await change('fifth river stone 5', weak)).statusCode, 204);
    await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/admin/config/auth.password_complexity',
      headers: bearer(t.adminToken),
      payload: { value: true },
    });
    const refused = await change(weak, 'another lowercase phrase');
    assert.equal(refused.statusCode, 422);
    assert.ok(refused.json().details.reasons.includes('must contain an upper-case letter'));
    assert.equal((await change(weak, 'Another Phrase 9!')).statusCode, 204);
  });
});
