/**
 * RELIABILITY property 10 — BOLA + BFLA matrix. Every operation of the app's own OpenAPI document × every
 * principal: anonymous, customer A (the owner of the objects in the request), customer B (another customer),
 * and one staff user per role of seed/permissions.json (field_agent is the agent). The expected answer comes from
 * the document (public / any signed-in principal / `Requires \`P\``, customers allowed or not) and the role →
 * permission map expanded from the seed file:
 *   anonymous on a non-public route → 401; a role without P → 403; a customer on a staff-only route → 403;
 *   a principal allowed in → neither 401 nor 403 (nor 5xx); customer B on A's objects → 404; another principal on
 *   A's own sessions, devices, push challenges and inbox → 404.
 * Agent operators (issue 19): X's teller and X's agent admin, and the teller of another agent Y. Their permissions
 * are their role's (ROLE_PERMISSIONS of the agents module): an operator on staff routes and customer routes → 403;
 * on operator routes its role holds, within its scope → allowed; Y's teller on agent X's objects (agent, stores,
 * operators, cash-out requests, float deposits, X's store or agent named in the body or query) → 404. Staff on
 * operator-only routes (`agent_op:*`) → 403, AGENT_SCOPE_REQUIRED when a `*` pattern gave the role the permission
 * (the operator scope is resolved from an agent_operator principal only). The agent routes open to any signed-in
 * principal whose handler admits staff with a permission or an agent admin (MIXED_ACCESS) are expected that way.
 * New routes are covered automatically: the suite counts that every documented operation was exercised.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ROLE_PERMISSIONS } from '../../src/modules/agents/agents.auth.ts';
import { bearer, sharedServices } from '../helpers/app.ts';
import { needsSharedServices } from '../helpers/databases.ts';
import {
  type Access,
  destructiveLast,
  loadDocument,
  type Operation,
  operationsOf,
} from './support/openapi.ts';
import { readSeed, rolePermissionMap } from './support/permissions.ts';
import { buildRequest } from './support/samples.ts';
import { knownSecrets, type RecordedResponse, scanForSecrets } from './support/secrets.ts';
import { buildWorld, type Principal, type World } from './support/world.ts';

/** Codes the access guard and token checks answer with (as opposed to a handler's business refusal). */
const AUTHENTICATION_CODES = new Set(['UNAUTHORIZED', 'INVALID_TOKEN', 'TOKEN_REVOKED']);
const AUTHORIZATION_CODES = new Set([
  'FORBIDDEN',
  'PASSWORD_CHANGE_REQUIRED',
  'MFA_ENROLLMENT_REQUIRED',
  'ACCOUNT_INACTIVE',
  'POLICY_DENIED',
  'AGENT_SCOPE_REQUIRED',
  'AGENT_FLOAT_NOT_PERMITTED',
]);

/**
 * Agent routes whose access is "any signed-in principal" and whose handler admits staff holding `permission` or an
 * agent admin of the agent concerned (404 for another agent's); everyone else gets 403 `code`.
 */
const MIXED_ACCESS: Record<string, { permission: string; code: string }> = {
  requestAgentFloatDeposit: { permission: 'agent:float', code: 'AGENT_FLOAT_NOT_PERMITTED' },
  getAgentFloatDeposit: { permission: 'agent:read', code: 'AGENT_FLOAT_NOT_PERMITTED' },
  rebalanceAgentFloat: { permission: 'agent:float', code: 'AGENT_FLOAT_NOT_PERMITTED' },
  getAgentCommissionPayout: { permission: 'agent:read', code: 'FORBIDDEN' },
  getAgentCommissionTotals: { permission: 'agent:read', code: 'FORBIDDEN' },
  getAgentPerformance: { permission: 'agent:read', code: 'FORBIDDEN' },
};
/**
 * Routes open to any signed-in principal that serve customers and staff only (their in-app inbox, notification
 * preferences, push approvals): an agent operator gets 403.
 */
const NOT_FOR_OPERATORS = new Set([
  'listInbox',
  'markInboxRead',
  'markInboxAllRead',
  'getNotificationPreferences',
  'updateNotificationPreferences',
  'createPushChallenge',
]);

/** AUTHZ_PRINCIPALS=name,name…: only these principals (a quicker look at some; CI runs them all). */
const ONLY = process.env.AUTHZ_PRINCIPALS?.split(',').map((name) => name.trim());

/** Routes only an agent operator passes (its scope is resolved from the agent_operator principal). */
const OPERATOR_ONLY = /^agent_op:/;

/** Routes of A's that belong to A alone (no permission lets anyone else in): any other principal gets 404. */
const SELF_SERVICE = [
  /^\/api\/v1\/auth\/sessions\/\{id\}$/,
  /^\/api\/v1\/auth\/device\/\{device_id\}$/,
  /^\/api\/v1\/auth\/push\/challenge\/\{id\}$/,
  /^\/api\/v1\/notify\/inbox\/\{id\}\/read$/,
];

type Expected =
  | { kind: 'status'; status: 401 | 403 | 404; why: string; code?: string }
  | { kind: 'allowed'; why: string }
  | { kind: 'public'; why: string }
  /** A list filtered by A's ids, asked by B: 404, or a page holding none of A's objects. */
  | { kind: 'no-leak'; why: string };

/** Routes open to any signed-in principal by their access, but documented as refusing customers. */
const STAFF_ACCOUNTS_ONLY = /Staff accounts only/;
/** Routes open to customers and a permission, but documented as refusing staff (who get CUSTOMER_ONLY). */
const CUSTOMERS_ONLY = /Customers only/;

function expectation(
  operation: Operation,
  principal: Principal,
  refs: { ownedRefs: string[]; agentRefs: string[]; agentX: string },
  permissions: Map<string, Set<string>>,
): Expected {
  const { ownedRefs } = refs;
  const access: Access = operation.access;
  if (access.kind === 'public') return { kind: 'public', why: 'public operation' };
  if (principal.kind === 'anonymous') return { kind: 'status', status: 401, why: 'no token' };
  const selfService = SELF_SERVICE.some((pattern) => pattern.test(operation.path));
  const mixed = access.kind === 'authenticated' ? MIXED_ACCESS[operation.operationId] : undefined;
  if (principal.kind === 'operator') {
    const held = new Set(ROLE_PERMISSIONS[principal.role as keyof typeof ROLE_PERMISSIONS]);
    const foreign =
      principal.agentId !== refs.agentX && refs.agentRefs.length > 0
        ? ({ kind: 'status', status: 404, why: `agent X's objects (${refs.agentRefs.join(', ')})` } as const)
        : null;
    if (access.kind === 'permission') {
      if (!held.has(access.permission))
        return { kind: 'status', status: 403, why: `${principal.role} lacks ${access.permission}` };
      return foreign ?? { kind: 'allowed', why: `${principal.role} holds ${access.permission}` };
    }
    if (NOT_FOR_OPERATORS.has(operation.operationId))
      return { kind: 'status', status: 403, why: 'customers and staff only' };
    if (selfService) return { kind: 'status', status: 404, why: `A's own ${operation.path.split('/')[4]}` };
    if (mixed) {
      if (principal.role !== 'agent_admin')
        return { kind: 'status', status: 403, why: 'staff or agent admins only', code: mixed.code };
      return foreign ?? { kind: 'allowed', why: 'agent admin, own agent' };
    }
    if (STAFF_ACCOUNTS_ONLY.test(operation.raw.description ?? '')) {
      return { kind: 'status', status: 403, why: 'documented as staff accounts only' };
    }
    return { kind: 'allowed', why: 'any signed-in' };
  }
  if (mixed) {
    const holds =
      principal.kind === 'staff' && (permissions.get(principal.role!) ?? new Set()).has(mixed.permission);
    return holds
      ? { kind: 'allowed', why: `${principal.role} holds ${mixed.permission}` }
      : {
          kind: 'status',
          status: 403,
          why: `staff with ${mixed.permission} or agent admins`,
          code: mixed.code,
        };
  }
  if (principal.kind === 'customer') {
    if (access.kind === 'permission' && !access.allowCustomer) {
      return { kind: 'status', status: 403, why: `staff only (${access.permission})` };
    }
    if (access.kind === 'authenticated' && STAFF_ACCOUNTS_ONLY.test(operation.raw.description ?? '')) {
      return { kind: 'status', status: 403, why: 'documented as staff accounts only' };
    }
    if (principal.name === 'customer B' && ownedRefs.length > 0) {
      const why = `A's objects (${ownedRefs.join(', ')})`;
      return operation.method === 'GET' && ownedRefs.every((ref) => ref.startsWith('query '))
        ? { kind: 'no-leak', why }
        : { kind: 'status', status: 404, why };
    }
    return {
      kind: 'allowed',
      why: access.kind === 'authenticated' ? 'any signed-in' : 'customer, own resources',
    };
  }
  if (access.kind === 'authenticated') {
    return selfService
      ? { kind: 'status', status: 404, why: `A's own ${operation.path.split('/')[4]}` }
      : { kind: 'allowed', why: 'any signed-in' };
  }
  const held = permissions.get(principal.role!) ?? new Set<string>();
  if (!held.has(access.permission)) {
    return { kind: 'status', status: 403, why: `${principal.role} lacks ${access.permission}` };
  }
  if (OPERATOR_ONLY.test(access.permission)) {
    return {
      kind: 'status',
      status: 403,
      why: `${principal.role} holds ${access.permission} but is no agent operator`,
      code: 'AGENT_SCOPE_REQUIRED',
    };
  }
  return CUSTOMERS_ONLY.test(operation.raw.description ?? '')
    ? { kind: 'status', status: 403, why: 'documented as customers only', code: 'CUSTOMER_ONLY' }
    : { kind: 'allowed', why: `${principal.role} holds ${access.permission}` };
}

interface Outcome {
  operation: string;
  principal: string;
  expected: string;
  status: number;
  errorCode: string | null;
  body: string;
}

function errorCodeOf(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { error_code?: unknown };
    return typeof parsed.error_code === 'string' ? parsed.error_code : null;
  } catch {
    return null;
  }
}

function verdict(
  expected: Expected,
  response: { statusCode: number; body: string },
  errorCode: string | null,
  idsOfA: string[],
): boolean {
  const status = response.statusCode;
  if (status >= 500) return false;
  switch (expected.kind) {
    case 'public':
      // Only the guard's answer to a missing token is wrong here; handlers may refuse (bad signature, …).
      return !(status === 401 && errorCode === 'UNAUTHORIZED');
    case 'no-leak':
      return status === 404 || (status < 300 && !idsOfA.some((id) => response.body.includes(id)));
    case 'allowed':
      return (
        !(status === 401 && AUTHENTICATION_CODES.has(errorCode ?? '')) &&
        !(status === 403 && AUTHORIZATION_CODES.has(errorCode ?? ''))
      );
    case 'status':
      if (expected.status === 401) return status === 401 && errorCode === 'UNAUTHORIZED';
      if (expected.status === 403) return status === 403 && errorCode === (expected.code ?? 'FORBIDDEN');
      return status === 404;
  }
}

// Defined where PostgreSQL and Redis are configured (always in CI), like the other cross-process suites.
if (sharedServices)
  describe('property 10: BOLA + BFLA matrix over every documented operation', () => {
    let world: World;
    let operations: Operation[];
    const permissions = rolePermissionMap();
    const responses: RecordedResponse[] = [];
    const failures: Outcome[] = [];
    const exercised = new Map<string, Set<string>>();
    const tally = new Map<string, number>();
    /** Time spent per operation over every principal, to show the slowest. */
    const timings = new Map<string, number>();
    let relogins = 0;

    before(async () => {
      world = await buildWorld({ roles: readSeed().roles.map((role) => role.code) });
      operations = destructiveLast(operationsOf(await loadDocument(world.t)));
      process.stdout.write(
        `authz: ${operations.length} documented operations × ${2 + 1 + 3 + world.staff.size} principals\n`,
      );
    });
    after(async () => {
      await world?.close();
    });

    test('the role → permission map expanded from the seed file is the one the app enforces', async () => {
      const response = await world.t.app.inject({
        method: 'GET',
        url: '/api/v1/user/role',
        headers: bearer(world.t.adminToken),
      });
      assert.equal(response.statusCode, 200, response.body);
      const appRoles = new Map(
        (response.json().items as { code: string; permissions: string[] }[]).map((role) => [
          role.code,
          new Set(role.permissions),
        ]),
      );
      for (const [role, expected] of permissions) {
        assert.deepEqual(
          [...(appRoles.get(role) ?? [])].sort(),
          [...expected].sort(),
          `role ${role}: the app's permissions differ from seed/permissions.json expanded`,
        );
      }
      assert.ok(world.staff.has('field_agent'), 'the agent role exists');
    });

    async function run(principal: Principal) {
      const idsOfA = Object.values(world.a);
      for (const operation of operations) {
        const started = performance.now();
        const send = async () => {
          const built = buildRequest(world, operation, principal);
          const answer = await world.t.app.inject({
            method: built.method as 'GET',
            url: built.url,
            headers: built.headers,
            ...(built.payload === undefined ? {} : { payload: built.payload }),
          });
          return { request: built, response: answer };
        };
        let { request, response } = await send();
        if (
          principal.relogin &&
          operation.access.kind !== 'public' &&
          response.statusCode === 401 &&
          AUTHENTICATION_CODES.has(errorCodeOf(response.body) ?? '')
        ) {
          // An earlier operation (logout, revoking sessions, …) ended this principal's session: sign in again.
          principal.token = await principal.relogin();
          relogins += 1;
          ({ request, response } = await send());
        }
        const expected = expectation(
          operation,
          principal,
          { ownedRefs: request.ownedRefs, agentRefs: request.agentRefs, agentX: world.agents.agentId },
          permissions,
        );
        const errorCode = errorCodeOf(response.body);
        timings.set(operation.key, (timings.get(operation.key) ?? 0) + performance.now() - started);
        responses.push({
          operation: operation.key,
          principal: principal.name,
          status: response.statusCode,
          body: response.body,
        });
        const seen = exercised.get(operation.key) ?? new Set<string>();
        seen.add(principal.name);
        exercised.set(operation.key, seen);
        const label = expected.kind === 'status' ? String(expected.status) : expected.kind;
        if (process.env.AUTHZ_VERBOSE === '1') {
          process.stdout.write(
            `authz: ${principal.name} ${operation.key} expected ${label} (${expected.why}) → ${response.statusCode} ${errorCode ?? ''}\n`,
          );
        }
        tally.set(label, (tally.get(label) ?? 0) + 1);
        if (!verdict(expected, response, errorCode, idsOfA)) {
          failures.push({
            operation: operation.key,
            principal: principal.name,
            expected: `${label} (${expected.why})`,
            status: response.statusCode,
            errorCode,
            body: response.body.slice(0, 300),
          });
        }
      }
    }

    /**
     * B first, while A's objects are intact; then the operators (Y's teller first, while X's objects are intact),
     * before staff suspend or close X's agent, stores and operators; then A; then staff, whose writes (status
     * changes, erasure, freezes) only ever change A's and X's objects, never a principal.
     */
    const order = (): Principal[] =>
      [
        world.anonymous,
        world.customerB,
        world.operators.tellerY,
        world.operators.tellerX,
        world.operators.adminX,
        world.customerA,
        ...world.staff.values(),
      ].filter((principal) => !ONLY || ONLY.includes(principal.name));

    test('every principal gets the expected answer on every operation', async () => {
      for (const principal of order()) await run(principal);
      const report = failures.map(
        (failure) =>
          `  ${failure.principal.padEnd(28)} ${failure.operation}\n` +
          `      expected ${failure.expected}, got ${failure.status} ${failure.errorCode ?? ''} ${failure.body}`,
      );
      const checks = [...tally.values()].reduce((sum, count) => sum + count, 0);
      process.stdout.write(
        `authz: ${checks} checks (${[...tally].map(([label, count]) => `${label}: ${count}`).join(', ')}), ` +
          `${failures.length} unexpected, ${relogins} sessions re-established after a route ended them\n`,
      );
      const slowest = [...timings].sort((x, y) => y[1] - x[1]).slice(0, 8);
      process.stdout.write(
        `authz: slowest operations (all principals): ${slowest.map(([key, ms]) => `${key} ${Math.round(ms)} ms`).join('; ')}\n`,
      );
      assert.equal(failures.length, 0, `unexpected answers:\n${report.join('\n')}`);
    });

    test('every documented operation was exercised by every principal', () => {
      const principals = order().map((principal) => principal.name);
      assert.equal(exercised.size, operations.length);
      for (const operation of operations) {
        assert.deepEqual(
          [...(exercised.get(operation.key) ?? [])].sort(),
          [...principals].sort(),
          `${operation.key} was not exercised by every principal`,
        );
      }
      process.stdout.write(
        `authz: covered ${exercised.size}/${operations.length} operations × ${principals.length} principals\n`,
      );
    });

    test('no response carries a hash, a PAN, a sealed envelope or a key', async () => {
      const hits = scanForSecrets(responses, await knownSecrets(world.t));
      process.stdout.write(`authz: scanned ${responses.length} responses for secrets, ${hits.length} hits\n`);
      assert.deepEqual(hits, []);
    });
  });
else
  test('property 10: BOLA + BFLA matrix over every documented operation', {
    skip: needsSharedServices,
  }, () => {});
