/** Maker-checker: configured actions wait for a second staff member, run exactly once, and never self-approve. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { systemContext } from '../../platform/audit.ts';

const PASSWORD = 'tidal compass morning 4';

describe('maker-checker', () => {
  let t: TestContext;
  let makerToken: string;
  let checkerToken: string;
  let weakCheckerToken: string;
  let targetId: string;

  async function staff(username: string, roles: string[]) {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/user/add',
      headers: bearer(t.adminToken),
      payload: {
        username,
        email: `${username}@bank.test`,
        full_name: username,
        password: PASSWORD,
        roles,
        must_change_password: false,
      },
    });
    assert.equal(response.statusCode, 201, response.body);
    return response.json().id as string;
  }

  /** Administrators made outside the API (like `cli create-admin`): over HTTP a privileged role needs four eyes. */
  async function administrator(username: string) {
    await t.application.identity.createUser(
      { username, email: `${username}@bank.test`, full_name: username, password: PASSWORD, roles: ['admin'] },
      systemContext(),
      { mustChangePassword: false },
    );
  }

  before(async () => {
    t = await startTestApp();
    await administrator('maker');
    await administrator('checker');
    await staff('weakchecker', ['operations']);
    targetId = await staff('target', []);
    makerToken = (await login(t.app, 'maker', PASSWORD)).access_token;
    checkerToken = (await login(t.app, 'checker', PASSWORD)).access_token;
    weakCheckerToken = (await login(t.app, 'weakchecker', PASSWORD)).access_token;
    const configured = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/admin/config/approvals.required_actions',
      headers: bearer(t.adminToken),
      payload: { value: ['user.role_assign'] },
    });
    assert.equal(configured.statusCode, 200, configured.body);
  });
  after(async () => t.close());

  const assign = (token: string, role: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/user/role/assign',
      headers: bearer(token),
      payload: { user_id: targetId, role },
    });
  const decide = (verb: 'approve' | 'reject' | 'cancel', token: string, payload: object) =>
    t.app.inject({ method: 'POST', url: `/api/v1/policy/approval/${verb}`, headers: bearer(token), payload });
  const rolesOfTarget = async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: `/api/v1/user/user/${targetId}`,
      headers: bearer(t.adminToken),
    });
    return response.json().roles as string[];
  };

  test('a configured action waits (202) and changes nothing until approved', async () => {
    const filed = await assign(makerToken, 'auditor');
    assert.equal(filed.statusCode, 202, filed.body);
    const request = filed.json();
    assert.equal(request.status, 'pending');
    assert.equal(request.action, 'user.role_assign');
    assert.deepEqual(await rolesOfTarget(), []);

    const queue = await t.app.inject({
      method: 'GET',
      url: '/api/v1/policy/approval?status=pending',
      headers: bearer(checkerToken),
    });
    assert.ok(queue.json().items.some((item: { id: string }) => item.id === request.id));

    const own = await decide('approve', makerToken, { request_id: request.id });
    assert.equal(own.statusCode, 403);
    assert.equal(own.json().error_code, 'OWN_REQUEST');

    const approved = await decide('approve', checkerToken, { request_id: request.id });
    assert.equal(approved.statusCode, 200, approved.body);
    assert.equal(approved.json().status, 'approved');
    assert.deepEqual(approved.json().result.roles, ['auditor']);
    assert.deepEqual(await rolesOfTarget(), ['auditor']);

    const again = await decide('approve', checkerToken, { request_id: request.id });
    assert.equal(again.statusCode, 409);
  });

  test('parallel approvals execute the action exactly once', async () => {
    const request = (await assign(makerToken, 'support_agent')).json();
    const [first, second] = await Promise.all([
      decide('approve', checkerToken, { request_id: request.id }),
      decide('approve', t.adminToken, { request_id: request.id }),
    ]);
    assert.deepEqual([first.statusCode, second.statusCode].sort(), [200, 409]);
    const audit = (await t.deps.database.db.execute(
      sql`select count(*)::int as n from audit_log where action = 'user.role_assigned' and after->>'role' = 'support_agent'`,
    )) as unknown as { rows: { n: number }[] };
    assert.equal(audit.rows[0]!.n, 1);
  });

  test('rejection needs a reason and leaves things unchanged; a checker without the permission cannot approve', async () => {
    const request = (await assign(makerToken, 'loan_officer')).json();
    assert.equal(
      (await decide('reject', checkerToken, { request_id: request.id, reason: 'no' })).statusCode,
      422,
    );
    const weak = await decide('approve', weakCheckerToken, { request_id: request.id });
    assert.equal(weak.statusCode, 403, 'operations may decide approvals but may not manage roles');
    const rejected = await decide('reject', checkerToken, {
      request_id: request.id,
      reason: 'not needed for this job',
    });
    assert.equal(rejected.json().status, 'rejected');
    assert.ok(!(await rolesOfTarget()).includes('loan_officer'));
  });

  test('the maker may cancel their own request, nobody else can; expired requests lapse', async () => {
    const request = (await assign(makerToken, 'field_agent')).json();
    assert.equal((await decide('cancel', checkerToken, { request_id: request.id })).statusCode, 404);
    const cancelled = await decide('cancel', makerToken, { request_id: request.id });
    assert.equal(cancelled.json().status, 'cancelled');

    const stale = (await assign(makerToken, 'field_agent')).json();
    await t.deps.database.db.execute(
      sql`update approval_requests set expires_at = now() - interval '1 minute' where id = ${stale.id}`,
    );
    const late = await decide('approve', checkerToken, { request_id: stale.id });
    assert.equal(late.statusCode, 409);
    const { expireStaleApprovals } = await import('./approvals.service.ts');
    assert.equal(await expireStaleApprovals(t.deps.database.db), 1);
  });

  test('actions not configured run at once; the catalogue says which are', async () => {
    const roles = (
      await t.app.inject({ method: 'GET', url: '/api/v1/user/role', headers: bearer(t.adminToken) })
    ).json();
    const auditor = roles.items.find((role: { code: string }) => role.code === 'auditor');
    const grant = await t.app.inject({
      method: 'POST',
      url: '/api/v1/permissions/role/grant',
      headers: bearer(t.adminToken),
      payload: { role_id: auditor.id, permissions: ['report:read'] },
    });
    assert.equal(grant.statusCode, 200);
    const catalogue = await t.app.inject({
      method: 'GET',
      url: '/api/v1/policy/approval/action',
      headers: bearer(checkerToken),
    });
    const byName = Object.fromEntries(
      catalogue
        .json()
        .items.map((item: { name: string; requires_approval: boolean }) => [
          item.name,
          item.requires_approval,
        ]),
    );
    assert.equal(byName['user.role_assign'], true);
    assert.equal(byName['permission.grant'], false);
    assert.equal(byName['kyc.approve'], false);
    assert.equal(byName['wallet.cash_withdrawal'], false, 'only above the threshold, decided per request');
    assert.equal(byName['transaction.reverse'], true, 'reversals always wait for a checker');
  });

  test('roles given at user creation cannot skip the approval of role assignment', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/user/add',
      headers: bearer(makerToken),
      payload: {
        username: 'sneaky',
        email: 'sneaky@bank.test',
        full_name: 'Sneaky',
        password: PASSWORD,
        roles: ['auditor'],
      },
    });
    assert.equal(response.statusCode, 409);
    assert.equal(response.json().error_code, 'ROLES_NEED_APPROVAL');
  });

  test('only registered actions can be put under maker-checker; outcomes are audited', async () => {
    const typo = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/admin/config/approvals.required_actions',
      headers: bearer(t.adminToken),
      payload: { value: ['user.role_asign'] },
    });
    assert.equal(typo.statusCode, 422);
    assert.match(typo.json().details.errors[0].message, /unknown actions: user\.role_asign/);
    const audit = await t.app.inject({
      method: 'GET',
      url: '/api/v1/core/audit?action=approval.executed',
      headers: bearer(t.adminToken),
    });
    assert.ok(audit.json().items.length >= 2);
  });

  test('filing the same request again answers 409 APPROVAL_ALREADY_PENDING naming the open one, whoever files it', async () => {
    const first = await assign(makerToken, 'compliance_officer');
    assert.equal(first.statusCode, 202, first.body);
    for (const token of [makerToken, checkerToken]) {
      const again = await assign(token, 'compliance_officer');
      assert.equal(again.statusCode, 409, again.body);
      assert.equal(again.json().error_code, 'APPROVAL_ALREADY_PENDING');
      assert.equal(again.json().details.request_id, first.json().id);
      assert.equal(again.json().details.status, 'pending');
    }
    // Another subject is another request.
    const other = await assign(makerToken, 'auditor');
    assert.equal(other.statusCode, 202, other.body);
    // Once the first is closed, the same request may be filed again.
    assert.equal((await decide('cancel', makerToken, { request_id: first.json().id })).statusCode, 200);
    const refiled = await assign(makerToken, 'compliance_officer');
    assert.equal(refiled.statusCode, 202, refiled.body);
    assert.notEqual(refiled.json().id, first.json().id);
    for (const id of [refiled.json().id, other.json().id])
      await decide('cancel', makerToken, { request_id: id });
  });

  test('concurrent filings of the same request leave exactly one pending; approving it runs it once', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => assign(makerToken, 'operations')));
    const statuses = answers.map((answer) => answer.statusCode).sort();
    assert.deepEqual(statuses, [202, 409, 409, 409, 409, 409], answers.map((a) => a.body).join('\n'));
    const open = (await t.deps.database.db.execute(
      sql`select count(*)::int as n from approval_requests
          where action = 'user.role_assign' and status = 'pending' and payload->>'role' = 'operations'`,
    )) as unknown as { rows: { n: number }[] };
    assert.equal(open.rows[0]!.n, 1);
    const filed = answers.find((answer) => answer.statusCode === 202)!.json();
    const approved = await decide('approve', checkerToken, { request_id: filed.id });
    assert.equal(approved.json().status, 'approved', approved.body);
    // Decided: the same assignment may be asked for again (it is a no-op when approved).
    const again = await assign(makerToken, 'operations');
    assert.equal(again.statusCode, 202, again.body);
    await decide('cancel', makerToken, { request_id: again.json().id });
  });

  test('a request past its expiry that the job has not swept yet does not block filing it again', async () => {
    const stale = (await assign(makerToken, 'loan_officer')).json();
    await t.deps.database.db.execute(
      sql`update approval_requests set expires_at = now() - interval '1 minute' where id = ${stale.id}`,
    );
    const fresh = await assign(makerToken, 'loan_officer');
    assert.equal(fresh.statusCode, 202, fresh.body);
    const old = await t.app.inject({
      method: 'GET',
      url: `/api/v1/policy/approval/${stale.id}`,
      headers: bearer(checkerToken),
    });
    assert.equal(old.json().status, 'cancelled');
    assert.equal(old.json().reason, 'expired');
    await decide('cancel', makerToken, { request_id: fresh.json().id });
  });

  test('cancel answers 404 for any request the caller did not file, decided or not, as for a random id', async () => {
    const request = (await assign(makerToken, 'field_agent')).json();
    const rejected = await decide('reject', checkerToken, {
      request_id: request.id,
      reason: 'not for this person',
    });
    assert.equal(rejected.json().status, 'rejected');
    const theirs = await decide('cancel', checkerToken, { request_id: request.id });
    const random = await decide('cancel', checkerToken, {
      request_id: '0193e0a0-0000-7000-8000-000000000000',
    });
    for (const answer of [theirs, random]) {
      assert.equal(answer.statusCode, 404, answer.body);
      assert.equal(answer.json().error_code, 'NOT_FOUND');
      assert.equal(answer.json().details?.status, undefined, 'nothing about the request leaks');
    }
    assert.equal(theirs.json().message, random.json().message);
    // The maker sees their own request: it is no longer pending.
    const own = await decide('cancel', makerToken, { request_id: request.id });
    assert.equal(own.statusCode, 409);
    assert.equal(own.json().error_code, 'NOT_PENDING');
  });
});
