/** `/api/v1/user` and `/api/v1/permissions`: users, roles, permissions, with the guards against lock-out. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD, bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { systemContext } from '../../platform/audit.ts';

describe('staff users, roles and permissions', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  const call = (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: object,
    token = t.adminToken,
  ) => t.app.inject({ method, url, headers: bearer(token), ...(payload ? { payload } : {}) });

  const adminId = async () => (await call('GET', '/api/v1/auth/me')).json().id as string;

  async function createUser(username: string, roles: string[], mustChange = false) {
    const response = await call('POST', '/api/v1/user/user/add', {
      username,
      email: `${username}@bank.test`,
      full_name: `User ${username}`,
      password: 'quiet meadow lantern 8',
      roles,
      must_change_password: mustChange,
    });
    assert.equal(response.statusCode, 201, response.body);
    return response.json() as { id: string; roles: string[]; must_change_password: boolean };
  }

  /**
   * Administrators made outside the API, like `cli create-admin` does: over the API a privileged role needs a second
   * staff member, and with one super administrator there is nobody to approve it.
   */
  async function bootstrapAdministrator(username: string, role: 'admin' | 'super_admin') {
    return t.application.identity.createUser(
      {
        username,
        email: `${username}@bank.test`,
        full_name: `User ${username}`,
        password: 'quiet meadow lantern 8',
        roles: [role],
      },
      systemContext(),
      { mustChangePassword: false },
    );
  }

  test('users are created, listed with filters, read and changed; no hash ever leaves the API', async () => {
    const teller = await createUser('teller1', ['operations']);
    assert.deepEqual(teller.roles, ['operations']);
    const forced = await call('POST', '/api/v1/user/user/add', {
      username: 'newbie',
      email: 'newbie@bank.test',
      full_name: 'New Bie',
      password: 'quiet meadow lantern 8',
      roles: [],
    });
    assert.equal(
      forced.json().must_change_password,
      true,
      'new staff change their password at first login by default',
    );

    const byRole = await call('GET', '/api/v1/user/user?role=operations');
    assert.deepEqual(
      byRole.json().items.map((user: { username: string }) => user.username),
      ['teller1'],
    );
    const bySearch = await call('GET', '/api/v1/user/user?q=NEWB');
    assert.equal(bySearch.json().items[0].username, 'newbie');
    const wildcard = await call('GET', '/api/v1/user/user?q=%25');
    assert.equal(wildcard.json().items.length, 0, 'LIKE wildcards are matched literally');

    const changed = await call('PATCH', `/api/v1/user/user/${teller.id}`, {
      full_name: 'Teller One',
      phone: '+254700000001',
    });
    assert.equal(changed.statusCode, 200);
    assert.deepEqual([changed.json().full_name, changed.json().phone], ['Teller One', '+254700000001']);
    const clash = await call('PATCH', `/api/v1/user/user/${forced.json().id}`, {
      email: 'teller1@bank.test',
    });
    assert.equal(clash.statusCode, 409);

    const listing = await call('GET', '/api/v1/user/user?limit=100');
    assert.doesNotMatch(listing.body, /argon2|password_hash|\$2[aby]\$/);
    const missing = await call('GET', '/api/v1/user/user/01a20000-0000-7000-8000-000000000000');
    assert.equal(missing.statusCode, 404);
  });

  test('roles are assigned and removed, and the permissions follow on the next request', async () => {
    const clerk = await createUser('clerk1', []);
    const token = (await login(t.app, 'clerk1', 'quiet meadow lantern 8')).access_token;
    assert.equal((await call('GET', '/api/v1/core/audit', undefined, token)).statusCode, 403);
    assert.equal(
      (await call('POST', '/api/v1/user/role/assign', { user_id: clerk.id, role: 'auditor' })).statusCode,
      200,
    );
    assert.equal((await call('GET', '/api/v1/core/audit', undefined, token)).statusCode, 200);
    const removed = await call('POST', '/api/v1/user/role/remove', { user_id: clerk.id, role: 'auditor' });
    assert.deepEqual(removed.json().roles, []);
    assert.equal((await call('GET', '/api/v1/core/audit', undefined, token)).statusCode, 403);
    const unknown = await call('POST', '/api/v1/user/role/assign', { user_id: clerk.id, role: 'wizard' });
    assert.equal(unknown.statusCode, 422);
  });

  test('suspending a user ends their sessions at once; reactivating lets them log in again', async () => {
    const agent = await createUser('agent1', ['support_agent']);
    const token = (await login(t.app, 'agent1', 'quiet meadow lantern 8')).access_token;
    assert.equal((await call('GET', '/api/v1/auth/me', undefined, token)).statusCode, 200);
    const suspended = await call('POST', '/api/v1/user/user/status', {
      user_id: agent.id,
      status: 'suspended',
      reason: 'investigation',
    });
    assert.equal(suspended.json().status, 'suspended');
    assert.equal((await call('GET', '/api/v1/auth/me', undefined, token)).statusCode, 401);
    const refused = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'agent1', password: 'quiet meadow lantern 8' },
    });
    assert.equal(refused.statusCode, 403);
    await call('POST', '/api/v1/user/user/status', {
      user_id: agent.id,
      status: 'active',
      reason: 'cleared',
    });
    await login(t.app, 'agent1', 'quiet meadow lantern 8');
  });

  test('nobody changes their own status, and the last super administrator cannot be removed', async () => {
    const me = await adminId();
    const self = await call('POST', '/api/v1/user/user/status', {
      user_id: me,
      status: 'disabled',
      reason: 'oops',
    });
    assert.equal(self.statusCode, 409);
    assert.equal(self.json().error_code, 'SELF_STATUS_CHANGE');
    const last = await call('POST', '/api/v1/user/role/remove', { user_id: me, role: 'super_admin' });
    assert.equal(last.statusCode, 409);
    assert.equal(last.json().error_code, 'LAST_SUPER_ADMIN');

    const second = await bootstrapAdministrator('root2', 'super_admin');
    const secondToken = (await login(t.app, 'root2', 'quiet meadow lantern 8')).access_token;
    const disableFirst = await call(
      'POST',
      '/api/v1/user/user/status',
      { user_id: me, status: 'suspended', reason: 'rotation' },
      secondToken,
    );
    assert.equal(disableFirst.statusCode, 200);
    const disableLast = await call(
      'POST',
      '/api/v1/user/user/status',
      { user_id: second.id, status: 'disabled', reason: 'leaving' },
      secondToken,
    );
    assert.equal(disableLast.statusCode, 409, 'self change refused first');
    // Restore the first administrator for the remaining tests.
    await call(
      'POST',
      '/api/v1/user/user/status',
      { user_id: me, status: 'active', reason: 'back' },
      secondToken,
    );
    t.adminToken = (await login(t.app, 'admin', ADMIN_PASSWORD)).access_token;
  });

  test('custom roles: create with permissions, grant, revoke, delete when unused; system roles stay', async () => {
    const created = await call('POST', '/api/v1/user/role/add', {
      code: 'branch_teller',
      name: 'Branch teller',
      permissions: ['wallet:deposit', 'wallet:withdraw'],
    });
    assert.equal(created.statusCode, 201, created.body);
    const role = created.json();
    assert.deepEqual(role.permissions, ['wallet:deposit', 'wallet:withdraw']);
    assert.equal(
      (await call('POST', '/api/v1/user/role/add', { code: 'branch_teller', name: 'x', permissions: [] }))
        .statusCode,
      409,
    );
    const bogus = await call('POST', '/api/v1/permissions/role/grant', {
      role_id: role.id,
      permissions: ['wallet:teleport'],
    });
    assert.equal(bogus.statusCode, 422);
    const granted = await call('POST', '/api/v1/permissions/role/grant', {
      role_id: role.id,
      permissions: ['wallet:read'],
    });
    assert.deepEqual(granted.json().permissions, ['wallet:deposit', 'wallet:read', 'wallet:withdraw']);
    const revoked = await call('POST', '/api/v1/permissions/role/revoke', {
      role_id: role.id,
      permissions: ['wallet:withdraw'],
    });
    assert.deepEqual(revoked.json().permissions, ['wallet:deposit', 'wallet:read']);

    const holder = await createUser('teller2', ['branch_teller']);
    const inUse = await call('DELETE', `/api/v1/user/role/${role.id}`);
    assert.equal(inUse.statusCode, 409);
    await call('POST', '/api/v1/user/role/remove', { user_id: holder.id, role: 'branch_teller' });
    assert.equal((await call('DELETE', `/api/v1/user/role/${role.id}`)).statusCode, 204);
    assert.equal((await call('GET', `/api/v1/user/role/${role.id}`)).statusCode, 404);

    const roles = (await call('GET', '/api/v1/user/role')).json().items as {
      id: string;
      code: string;
      system: boolean;
    }[];
    const superAdmin = roles.find((item) => item.code === 'super_admin')!;
    assert.equal((await call('DELETE', `/api/v1/user/role/${superAdmin.id}`)).statusCode, 409);
    const lockout = await call('POST', '/api/v1/permissions/role/revoke', {
      role_id: superAdmin.id,
      permissions: ['permission:manage'],
    });
    assert.equal(lockout.statusCode, 409);
    assert.equal(
      roles.filter((item) => item.system).length,
      9,
      'seeded: super admin, admin, operations, loan officer, compliance, support, field agent, auditor, customer',
    );
  });

  test('permissions and actions are listed; only permission:manage may change role permissions', async () => {
    const list = await call('GET', '/api/v1/permissions/permission');
    const codes = list.json().items.map((item: { code: string }) => item.code);
    assert.ok(codes.includes('core:audit_read') && codes.includes('wallet:deposit'));
    const actions = await call('GET', '/api/v1/permissions/action');
    assert.ok(actions.json().items.some((item: { code: string }) => item.code === 'approve'));
    await bootstrapAdministrator('admin2', 'admin');
    const adminToken = (await login(t.app, 'admin2', 'quiet meadow lantern 8')).access_token;
    const roles = (await call('GET', '/api/v1/user/role')).json().items as { id: string; code: string }[];
    const auditor = roles.find((role) => role.code === 'auditor')!;
    const refused = await call(
      'POST',
      '/api/v1/permissions/role/grant',
      { role_id: auditor.id, permissions: ['wallet:deposit'] },
      adminToken,
    );
    assert.equal(refused.statusCode, 403, 'admins do not hold permission:manage');
  });

  test('nobody grants what they do not hold: an admin cannot make anyone a super administrator', async () => {
    const admin3 = await bootstrapAdministrator('admin3', 'admin');
    const token = (await login(t.app, 'admin3', 'quiet meadow lantern 8')).access_token;
    const self = await call(
      'POST',
      '/api/v1/user/role/assign',
      { user_id: admin3.id, role: 'super_admin' },
      token,
    );
    assert.equal(self.statusCode, 403);
    assert.equal(self.json().error_code, 'BEYOND_OWN_PERMISSIONS');
    assert.ok(self.json().details.permissions.includes('permission:manage'));
    const within = await call(
      'POST',
      '/api/v1/user/role/assign',
      { user_id: admin3.id, role: 'auditor' },
      token,
    );
    assert.equal(within.statusCode, 200, 'a role inside their own permissions is fine');
  });

  test('nobody changes the email or phone of a user holding more than they do (a password reset would hand it over)', async () => {
    const admin4 = await bootstrapAdministrator('admin4', 'admin');
    const token = (await login(t.app, 'admin4', 'quiet meadow lantern 8')).access_token;
    const root = await adminId();
    for (const change of [{ email: 'admin4-inbox@bank.test' }, { phone: '+254700000444' }]) {
      const response = await call('PATCH', `/api/v1/user/user/${root}`, change, token);
      assert.equal(response.statusCode, 403, response.body);
      assert.equal(response.json().error_code, 'BEYOND_OWN_PERMISSIONS');
    }
    const unchanged = (await call('GET', `/api/v1/user/user/${root}`)).json();
    assert.equal(unchanged.email, 'admin@bank.test');
    assert.equal(unchanged.phone, null);
    // A name is not a way in; and within their own permissions the change is theirs to make.
    const named = await call('PATCH', `/api/v1/user/user/${root}`, { full_name: 'Root Admin' }, token);
    assert.equal(named.statusCode, 200, named.body);
    const peer = await createUser('peer4', ['auditor']);
    const peerEmail = await call(
      'PATCH',
      `/api/v1/user/user/${peer.id}`,
      { email: 'peer4b@bank.test' },
      token,
    );
    assert.equal(peerEmail.statusCode, 200, peerEmail.body);
    // A super administrator may change an administrator's email.
    const down = await call('PATCH', `/api/v1/user/user/${admin4.id}`, { email: 'admin4b@bank.test' });
    assert.equal(down.statusCode, 200, down.body);
  });

  test('nobody suspends, or removes a role from, a user holding more than they do', async () => {
    const admin5 = await bootstrapAdministrator('admin5', 'admin');
    const token = (await login(t.app, 'admin5', 'quiet meadow lantern 8')).access_token;
    const root = await adminId();
    const root6 = await bootstrapAdministrator('root6', 'super_admin');
    for (const target of [root, root6.id]) {
      const suspended = await call(
        'POST',
        '/api/v1/user/user/status',
        { user_id: target, status: 'suspended', reason: 'taking over' },
        token,
      );
      assert.equal(suspended.statusCode, 403, suspended.body);
      assert.equal(suspended.json().error_code, 'BEYOND_OWN_PERMISSIONS');
    }
    const stripped = await call(
      'POST',
      '/api/v1/user/role/remove',
      { user_id: root6.id, role: 'super_admin' },
      token,
    );
    assert.equal(stripped.statusCode, 403, stripped.body);
    assert.equal(stripped.json().error_code, 'BEYOND_OWN_PERMISSIONS');
    const still = (await call('GET', `/api/v1/user/user/${root6.id}`)).json();
    assert.deepEqual([still.status, still.roles], ['active', ['super_admin']]);
    // Within their own permissions they may; and a super administrator may act on an administrator.
    const clerk = await createUser('clerk5', ['auditor']);
    const clerkSuspended = await call(
      'POST',
      '/api/v1/user/user/status',
      { user_id: clerk.id, status: 'suspended', reason: 'leave' },
      token,
    );
    assert.equal(clerkSuspended.statusCode, 200, clerkSuspended.body);
    const down = await call('POST', '/api/v1/user/role/remove', { user_id: admin5.id, role: 'admin' });
    assert.equal(down.statusCode, 200, down.body);
  });

  test('privileged roles and permissions need a second staff member by default, whatever is configured', async () => {
    const root2Token = (await login(t.app, 'root2', 'quiet meadow lantern 8')).access_token;
    const target = await createUser('promoted', []);
    const roleOf = async () => (await call('GET', `/api/v1/user/user/${target.id}`)).json().roles as string[];
    for (const role of ['super_admin', 'admin']) {
      const filed = await call('POST', '/api/v1/user/role/assign', { user_id: target.id, role });
      assert.equal(filed.statusCode, 202, `${role}: ${filed.body}`);
      assert.equal(filed.json().status, 'pending');
      assert.equal(filed.json().action, 'user.role_assign');
    }
    assert.deepEqual(await roleOf(), [], 'nothing changes before a checker approves');
    // Roles given at creation, on either route, cannot skip it.
    for (const url of ['/api/v1/user/user/add', '/api/v1/auth/register']) {
      const created = await call('POST', url, {
        username: `sneaky${url.length}`,
        email: `sneaky${url.length}@bank.test`,
        full_name: 'Sneaky',
        password: 'quiet meadow lantern 8',
        roles: ['super_admin'],
      });
      assert.equal(created.statusCode, 409, `${url}: ${created.body}`);
      assert.equal(created.json().error_code, 'ROLES_NEED_APPROVAL');
    }
    // A role without privileged permissions is given at once.
    const auditor = await call('POST', '/api/v1/user/role/assign', { user_id: target.id, role: 'auditor' });
    assert.equal(auditor.statusCode, 200, auditor.body);
    // A second super administrator approves the super_admin request.
    const pending = (
      await call('GET', '/api/v1/policy/approval?status=pending&action=user.role_assign')
    ).json().items as { id: string; payload: { role: string; user_id: string } }[];
    const request = pending.find(
      (item) => item.payload.user_id === target.id && item.payload.role === 'super_admin',
    )!;
    const own = await call('POST', '/api/v1/policy/approval/approve', { request_id: request.id });
    assert.equal(own.json().error_code, 'OWN_REQUEST');
    const approved = await call(
      'POST',
      '/api/v1/policy/approval/approve',
      { request_id: request.id },
      root2Token,
    );
    assert.equal(approved.json().status, 'approved', approved.body);
    assert.deepEqual((await roleOf()).sort(), ['auditor', 'super_admin']);

    // Granting a privileged permission to a role waits too; creating a role holding one is refused.
    const custom = await call('POST', '/api/v1/user/role/add', {
      code: 'desk',
      name: 'Desk',
      permissions: [],
    });
    const grant = await call('POST', '/api/v1/permissions/role/grant', {
      role_id: custom.json().id,
      permissions: ['report:read', 'permission:manage'],
    });
    assert.equal(grant.statusCode, 202, grant.body);
    const plain = await call('POST', '/api/v1/permissions/role/grant', {
      role_id: custom.json().id,
      permissions: ['report:read'],
    });
    assert.equal(plain.statusCode, 200, plain.body);
    const withPrivileged = await call('POST', '/api/v1/user/role/add', {
      code: 'desk2',
      name: 'Desk 2',
      permissions: ['policy:manage'],
    });
    assert.equal(withPrivileged.statusCode, 409);
    assert.equal(withPrivileged.json().error_code, 'PERMISSIONS_NEED_APPROVAL');
  });
});

describe('PRIVILEGED_ROLE_FOUR_EYES=false: privileged roles follow approvals.required_actions like any other', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp({ PRIVILEGED_ROLE_FOUR_EYES: 'false' });
  });
  after(async () => t.close());

  const call = (url: string, payload: object) =>
    t.app.inject({ method: 'POST', url, headers: bearer(t.adminToken), payload });

  test('super_admin is given at once, at creation too, and a privileged permission is granted at once', async () => {
    const created = await call('/api/v1/user/user/add', {
      username: 'root3',
      email: 'root3@bank.test',
      full_name: 'Root Three',
      password: 'quiet meadow lantern 8',
      roles: ['super_admin'],
      must_change_password: false,
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.deepEqual(created.json().roles, ['super_admin']);
    const plain = await call('/api/v1/user/user/add', {
      username: 'plain3',
      email: 'plain3@bank.test',
      full_name: 'Plain Three',
      password: 'quiet meadow lantern 8',
      roles: [],
      must_change_password: false,
    });
    const assigned = await call('/api/v1/user/role/assign', { user_id: plain.json().id, role: 'admin' });
    assert.equal(assigned.statusCode, 200, assigned.body);
    assert.deepEqual(assigned.json().roles, ['admin']);
    const role = await call('/api/v1/user/role/add', {
      code: 'desk3',
      name: 'Desk 3',
      permissions: ['policy:manage'],
    });
    assert.equal(role.statusCode, 201, role.body);
    const granted = await call('/api/v1/permissions/role/grant', {
      role_id: role.json().id,
      permissions: ['permission:manage'],
    });
    assert.equal(granted.statusCode, 200, granted.body);
    const pending = await t.app.inject({
      method: 'GET',
      url: '/api/v1/policy/approval?status=pending',
      headers: bearer(t.adminToken),
    });
    assert.deepEqual(pending.json().items, [], 'nothing was filed');
  });

  test('a configured user.role_assign still holds a privileged role for a second staff member', async () => {
    const target = await call('/api/v1/user/user/add', {
      username: 'plain4',
      email: 'plain4@bank.test',
      full_name: 'Plain Four',
      password: 'quiet meadow lantern 8',
      roles: [],
      must_change_password: false,
    });
    const configured = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/admin/config/approvals.required_actions',
      headers: bearer(t.adminToken),
      payload: { value: ['user.role_assign'] },
    });
    assert.equal(configured.statusCode, 200, configured.body);
    const filed = await call('/api/v1/user/role/assign', { user_id: target.json().id, role: 'super_admin' });
    assert.equal(filed.statusCode, 202, filed.body);
  });
});
