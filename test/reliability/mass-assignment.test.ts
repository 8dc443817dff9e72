/**
 * RELIABILITY property 11 — mass assignment. Every write operation of the app's OpenAPI document with a JSON body
 * (POST/PUT/PATCH) gets a valid-looking body built from its schema, once as is (the baseline) and once with fields
 * an attacker would add: `balance`, `role`, `roles`, `kyc_tier`, `owner_id`, `customer_id`, `status`,
 * `permissions`, `is_admin`, `password_hash` (each only where it is not a real field of the body). The injected
 * request must be refused (4xx; bodies are closed objects, so 422 naming the field) or, if accepted, none of the
 * injected values may come back or be stored. Sent by customer A on customer-reachable routes and by a
 * super_admin on staff routes (anonymous on public ones). The document upload (multipart, undocumented body) is
 * probed with extra form fields. Every response of the suite is then scanned for hashes, PANs and secrets.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { sharedServices } from '../helpers/app.ts';
import { needsSharedServices } from '../helpers/databases.ts';
import { createCustomer } from '../helpers/money.ts';
import { multipart } from '../helpers/multipart.ts';
import {
  destructiveLast,
  type JsonSchema,
  loadDocument,
  type Operation,
  operationsOf,
} from './support/openapi.ts';
import { buildRequest } from './support/samples.ts';
import { knownSecrets, type RecordedResponse, scanForSecrets } from './support/secrets.ts';
import { buildWorld, freshPhone, type Principal, TINY_PDF, type World } from './support/world.ts';

/** The injected values: plausible for an attacker, distinctive enough to find again. */
function injections(world: World): Record<string, unknown> {
  return {
    balance: 987_654_321,
    role: 'super_admin',
    roles: ['super_admin'],
    kyc_tier: 'premium',
    owner_id: OWNER_SENTINEL,
    customer_id: world.b.customerId,
    status: 'active',
    permissions: ['*'],
    is_admin: true,
    password_hash: PASSWORD_HASH_SENTINEL,
  };
}
const OWNER_SENTINEL = randomUUID();
const PASSWORD_HASH_SENTINEL =
  '$argon2id$v=19$m=19456,t=2,p=1$bWFzc2Fzc2lnbg$bWFzcy1hc3NpZ25tZW50LXNlbnRpbmVs';

/** The properties a body schema declares at the top level (any branch of a union). */
function declaredProperties(schema: JsonSchema): Set<string> {
  const names = new Set<string>();
  const visit = (node: JsonSchema) => {
    for (const name of Object.keys((node.properties as Record<string, unknown> | undefined) ?? {}))
      names.add(name);
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
      for (const branch of (node[key] as JsonSchema[] | undefined) ?? []) visit(branch);
    }
  };
  visit(schema);
  return names;
}

function senders(world: World, operation: Operation): Principal[] {
  const access = operation.access;
  const superAdmin = world.staff.get('super_admin')!;
  if (access.kind === 'public') return [world.anonymous];
  const staffOnly = /Staff accounts only/.test(operation.raw.description ?? '');
  if (/Customers only/.test(operation.raw.description ?? '')) return [world.customerA];
  if (access.kind === 'authenticated') return staffOnly ? [superAdmin] : [world.customerA, superAdmin];
  return access.allowCustomer ? [world.customerA, superAdmin] : [superAdmin];
}

/** Whether a JSON text holds `name: value` at any depth. */
function holds(text: string, name: string, value: unknown): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  const wanted = JSON.stringify(value);
  const visit = (node: unknown): boolean => {
    if (Array.isArray(node)) return node.some(visit);
    if (!node || typeof node !== 'object') return false;
    for (const [key, item] of Object.entries(node)) {
      if (key === name && JSON.stringify(item) === wanted) return true;
      if (visit(item)) return true;
    }
    return false;
  };
  return visit(parsed);
}

interface Probe {
  operation: string;
  principal: string;
  injected: string[];
  baseline: number;
  baselineBody: string;
  status: number;
  namedInError: boolean;
  body: string;
}

if (sharedServices)
  describe('property 11: mass assignment on every write operation', () => {
    let world: World;
    let operations: Operation[];
    const responses: RecordedResponse[] = [];
    const probes: Probe[] = [];

    before(async () => {
      world = await buildWorld({ roles: ['super_admin'] });
      operations = destructiveLast(operationsOf(await loadDocument(world.t))).filter(
        (operation) =>
          ['POST', 'PUT', 'PATCH'].includes(operation.method) &&
          operation.body?.contentType.includes('json') === true,
      );
    });
    after(async () => {
      await world?.close();
    });

    async function send(
      principal: Principal,
      operation: Operation,
      extra: Record<string, unknown>,
    ): Promise<{ status: number; body: string }> {
      const request = buildRequest(world, operation, principal);
      const payload = { ...request.body, ...extra };
      let response = await world.t.app.inject({
        method: request.method as 'POST',
        url: request.url,
        headers: request.headers,
        payload,
      });
      if (
        principal.relogin &&
        operation.access.kind !== 'public' &&
        response.statusCode === 401 &&
        ['UNAUTHORIZED', 'INVALID_TOKEN', 'TOKEN_REVOKED'].includes(response.json().error_code)
      ) {
        // An earlier operation ended this principal's session (logout, revoking sessions): sign in again.
        principal.token = await principal.relogin();
        response = await world.t.app.inject({
          method: request.method as 'POST',
          url: request.url,
          headers: { ...request.headers, authorization: `Bearer ${principal.token}` },
          payload,
        });
      }
      responses.push({
        operation: operation.key,
        principal: principal.name,
        status: response.statusCode,
        body: response.body,
      });
      return { status: response.statusCode, body: response.body };
    }

    test('every write refuses injected fields or ignores them', async () => {
      const values = injections(world);
      // Customers first (their objects must be intact), staff after; destructive staff writes come last.
      const plan: [Principal, Operation][] = [];
      for (const operation of operations) {
        for (const principal of senders(world, operation)) plan.push([principal, operation]);
      }
      plan.sort(([a], [b]) => Number(a.kind === 'staff') - Number(b.kind === 'staff'));
      for (const [principal, operation] of plan) {
        const declared = declaredProperties(operation.body!.schema);
        const extra = Object.fromEntries(Object.entries(values).filter(([name]) => !declared.has(name)));
        const baseline = await send(principal, operation, {});
        const injected = await send(principal, operation, extra);
        let namedInError = false;
        try {
          const fields = ((JSON.parse(injected.body).details?.errors ?? []) as { field: string }[]).map(
            (error) => error.field,
          );
          namedInError = Object.keys(extra).some((name) => fields.includes(`body.${name}`));
        } catch {
          // not an error body
        }
        probes.push({
          operation: operation.key,
          principal: principal.name,
          injected: Object.keys(extra),
          baseline: baseline.status,
          baselineBody: baseline.body,
          status: injected.status,
          namedInError,
          body: injected.body.slice(0, 300),
        });
      }
      const accepted = probes.filter((probe) => probe.status < 400);
      const baselineOk = probes.filter((probe) => probe.baseline < 400);
      process.stdout.write(
        `mass-assignment: ${operations.length} write operations, ${probes.length} probes ` +
          `(${baselineOk.length} with an accepted baseline); injected requests: ` +
          `${probes.filter((probe) => probe.status === 422 && probe.namedInError).length} refused with 422 naming the field, ` +
          `${probes.filter((probe) => probe.status >= 400 && !probe.namedInError).length} refused otherwise, ` +
          `${accepted.length} accepted\n`,
      );
      const problems: string[] = [];
      for (const probe of probes) {
        if (probe.status >= 500)
          problems.push(`${probe.principal} ${probe.operation}: ${probe.status} ${probe.body}`);
        // A baseline that passed validation must fail with the injected fields named: that is the refusal.
        if (probe.baseline !== 422 && probe.status === 422 && !probe.namedInError) {
          problems.push(
            `${probe.principal} ${probe.operation}: 422 without naming ${probe.injected.join(', ')}`,
          );
        }
        if (probe.status < 400) {
          // Accepted: no injected name may come back holding the injected value unless the baseline had it too.
          for (const name of probe.injected) {
            if (holds(probe.body, name, values[name]) && !holds(probe.baselineBody, name, values[name])) {
              problems.push(`${probe.principal} ${probe.operation}: accepted and returned ${name}`);
            }
          }
        }
      }
      assert.deepEqual(problems, []);
    });

    test('a document upload with extra form fields stores none of them', async () => {
      // A customer of its own: the staff writes above may have erased or suspended A.
      const uploader = await createCustomer(world.t, 'Uma', freshPhone());
      const variants: Record<string, string>[] = [
        { status: 'verified', owner_id: OWNER_SENTINEL },
        { status: 'verified', owner_id: OWNER_SENTINEL, kyc_tier: 'premium', reviewed_by: 'attacker' },
      ];
      for (const extra of variants) {
        const form = multipart(
          { customer_id: uploader.id, document_type: 'national_id', ...extra },
          TINY_PDF,
          'id.pdf',
        );
        const response = await world.t.app.inject({
          method: 'POST',
          url: '/api/v1/document/document/upload',
          headers: { authorization: `Bearer ${uploader.token}`, ...form.headers },
          payload: form.payload,
        });
        responses.push({
          operation: 'POST /api/v1/document/document/upload',
          principal: 'customer (uploader)',
          status: response.statusCode,
          body: response.body,
        });
        process.stdout.write(
          `mass-assignment: upload with extra form fields ${Object.keys(extra).join(', ')} → ${response.statusCode}\n`,
        );
        assert.ok(response.statusCode < 500, response.body);
        if (response.statusCode >= 400) continue;
        const stored = await world.t.app.inject({
          method: 'GET',
          url: `/api/v1/document/document/${response.json().id}`,
          headers: { authorization: `Bearer ${uploader.token}` },
        });
        for (const document of [response.json(), stored.json()]) {
          assert.equal(document.status, 'uploaded', 'the uploader cannot mark a document verified');
          assert.equal(document.reviewed_by, null);
          assert.equal(document.customer_id, uploader.id);
        }
        assert.ok(!response.body.includes(OWNER_SENTINEL) && !stored.body.includes(OWNER_SENTINEL));
      }
    });

    test('no injected value was stored anywhere, and A and the staff kept their balance, tier and roles', async () => {
      const client = new pg.Client({ connectionString: world.t.deps.database.connectionString });
      await client.connect();
      try {
        const tables = await client.query(
          "select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'",
        );
        const hits: string[] = [];
        for (const { table_name: table } of tables.rows as { table_name: string }[]) {
          // The audit log and idempotency records keep request metadata, never request bodies: they are searched too.
          for (const sentinel of [OWNER_SENTINEL, PASSWORD_HASH_SENTINEL]) {
            const found = await client.query(
              `select count(*)::int as n from "${table}" t where t::text like $1`,
              [`%${sentinel}%`],
            );
            if ((found.rows[0] as { n: number }).n > 0) hits.push(`${table} holds ${sentinel}`);
          }
        }
        assert.deepEqual(hits, []);
        const balance = await world.t.app.inject({
          method: 'GET',
          url: `/api/v1/wallet/wallet/${world.a.walletId}/balance`,
          headers: { authorization: `Bearer ${world.staff.get('super_admin')!.token}` },
        });
        assert.equal(balance.statusCode, 200, balance.body);
        assert.notEqual(balance.json().balance, 987_654_321);
        const customer = await client.query('select kyc_tier from customers where id = $1', [
          world.a.customerId,
        ]);
        assert.equal(
          (customer.rows[0] as { kyc_tier: string }).kyc_tier,
          'standard',
          "A's tier is unchanged",
        );
        const roles = await client.query(
          'select r.code from user_roles ur join roles r on r.id = ur.role_id where ur.user_id = $1',
          [world.targets.userId],
        );
        assert.ok(
          !(roles.rows as { code: string }[]).some((row) => row.code === 'super_admin'),
          'the target user did not become super_admin',
        );
      } finally {
        await client.end();
      }
    });

    test('no response carries a hash, a PAN, a sealed envelope or a key', async () => {
      const hits = scanForSecrets(responses, await knownSecrets(world.t));
      process.stdout.write(
        `mass-assignment: scanned ${responses.length} responses for secrets, ${hits.length} hits\n`,
      );
      assert.deepEqual(hits, []);
    });
  });
else test('property 11: mass assignment on every write operation', { skip: needsSharedServices }, () => {});
