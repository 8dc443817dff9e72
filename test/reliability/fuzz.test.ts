/**
 * RELIABILITY property 12 — schema fuzzing. For every operation of the app's own OpenAPI document, fast-check
 * generates requests from the operation's schemas (path and query parameters, JSON body): valid ones (formats,
 * patterns, ranges, enums; ids drawn from real objects as well as random ones) and invalid ones (wrong types, out of
 * range, too long and huge strings, unicode and NUL bytes, missing required, extra and prototype-polluting keys,
 * malformed and deeply nested JSON, missing or odd Idempotency-Keys). They are sent with an authorised principal
 * (super_admin on staff routes, customer A or super_admin on customer routes, anonymous from a random address on
 * public ones; agent X's teller and admin on the operator routes, X's admin too on the agent routes that admit staff
 * or an agent admin). Every response must be < 500 and inside the document: a documented status, a documented content
 * type, and a JSON body valid under the documented schema (ajv, draft 2020-12, with formats).
 *
 * CI default: FUZZ_RUNS (30) cases per operation. RELIABILITY_LONG=1: 1,000 per operation (soak). FUZZ_SEED replays
 * a run; the seed is printed first. Operations the schemas cannot describe are handled explicitly and listed.
 */
import assert from 'node:assert/strict';
import { createHash, randomInt, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { inside, outside } from '../helpers/agents-money.ts';
import { sharedServices } from '../helpers/app.ts';
import { needsSharedServices } from '../helpers/databases.ts';
import { TEST_PIN } from '../helpers/money.ts';
import { multipart } from '../helpers/multipart.ts';
import { type Hints, invalidBody, invalidValue, validValue } from './support/arbitraries.ts';
import {
  destructiveLast,
  fillPath,
  type JsonSchema,
  loadDocument,
  type Operation,
  operationsOf,
  queryString,
  ResponseChecker,
} from './support/openapi.ts';
import { UNDOCUMENTED_BODIES } from './support/samples.ts';
import { SecretCatalog, type SecretHit, scanForSecrets } from './support/secrets.ts';
import { buildWorld, type Principal, TINY_PDF, type World } from './support/world.ts';

const LONG = process.env.RELIABILITY_LONG === '1';
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : randomInt(2 ** 31 - 1);
const RUNS = Number(process.env.FUZZ_RUNS ?? (LONG ? 1000 : 30));
assert.ok(Number.isInteger(SEED), 'FUZZ_SEED must be an integer');
assert.ok(Number.isInteger(RUNS) && RUNS > 0, 'FUZZ_RUNS must be a positive integer');
process.stdout.write(
  `fuzz: FUZZ_SEED=${SEED} (replay with FUZZ_SEED=${SEED}), ${RUNS} cases per operation` +
    `${LONG ? ' (RELIABILITY_LONG)' : ''}\n`,
);

/** How operations outside what a JSON schema describes are fuzzed (each is listed in the output). */
const SPECIAL: Record<string, string> = {
  connectRealtime:
    'WebSocket upgrade: fuzzed as plain GETs (426); the socket protocol is the realtime tests’',
  uploadDocument: 'multipart upload (body not in the document): hostile form fields, names, types and bytes',
  twilioStatusCallback: 'provider callback (form body not in the document): random forms, unsigned',
  africasTalkingDeliveryReport:
    'provider callback (form body not in the document): random forms, wrong secret',
  sendGridEventWebhook: 'provider callback (JSON body not in the document): random events, unsigned',
  downloadDocument: 'binary response: status, content type and error bodies checked',
  exportWalletStatement: 'CSV/PDF response: status, content type and error bodies checked',
  getTransactionReceipt: 'JSON or PDF response: the PDF by content type only',
  getMerchantQrPng: 'PNG response: status, content type and error bodies checked',
  metrics: 'Prometheus text response: status and content type checked',
};

/** Settings the fuzzer may change: none of them locks the fuzzing principals out (MFA, approvals). */
const HARMLESS_SETTINGS = [
  'app.support_contact',
  'app.maintenance_mode',
  'app.min_version_android',
  'app.supported_languages',
  'features.loans',
  'payments.dispute_window_days',
  'payments.dynamic_qr_ttl_seconds',
];

type Who = 'anonymous' | 'customer' | 'staff' | 'operator' | 'operator_admin';

/** Agent routes open to any signed-in principal whose handler admits staff or an agent admin. */
const AGENT_ADMIN_OR_STAFF = /^\/api\/v1\/agent\//;

interface Case {
  who: Who;
  path: Record<string, string>;
  query: Record<string, unknown>;
  body: { text: string | Buffer; type: string } | null;
  idempotency: 'fresh' | 'missing' | 'odd';
  remoteAddress: string;
  valid: boolean;
  how: string;
  /** Path values sent as they are, not percent-encoded (malformed encodings). */
  rawPath?: boolean;
}

/** A stable per-operation seed, so adding an operation does not change the others' cases. */
function seedOf(key: string): number {
  return (SEED ^ createHash('sha256').update(key).digest().readUInt32BE(0)) >>> 0;
}

function principalsFor(operation: Operation): Who[] {
  const access = operation.access;
  if (access.kind === 'public') return ['anonymous'];
  if (/Staff accounts only/.test(operation.raw.description ?? '')) return ['staff'];
  if (/Customers only/.test(operation.raw.description ?? '')) return ['customer'];
  if (access.kind === 'authenticated') {
    return AGENT_ADMIN_OR_STAFF.test(operation.path)
      ? ['customer', 'staff', 'operator_admin']
      : ['customer', 'staff'];
  }
  // Operator routes: X's teller where a teller may, X's admin always (staff only get AGENT_SCOPE_REQUIRED).
  if (access.permission === 'agent_op:admin') return ['operator_admin'];
  if (access.permission.startsWith('agent_op:')) return ['operator', 'operator_admin'];
  return access.allowCustomer ? ['customer', 'staff'] : ['staff'];
}

const isStringSchema = (schema: JsonSchema) => schema.type === 'string' || typeof schema.pattern === 'string';

function buildFuzzer(world: World) {
  const a = world.a;
  const b = world.b;
  const ids = (...values: string[]) =>
    fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...values) }, fc.uuid());
  const phone = fc.integer({ min: 0, max: 99_999_999 }).map((n) => `+2547${String(n).padStart(8, '0')}`);

  /** Values by property name; customers act on A (and try B), staff on B and the targets, never on a principal. */
  const x = world.agents;
  const hints = (who: Who, operation: Operation): Hints => {
    const customer = who === 'customer';
    const operator = who === 'operator' || who === 'operator_admin';
    const agentRoute = operation.path.startsWith('/api/v1/agent/');
    return (name, schema) => {
      if (agentRoute) {
        switch (name) {
          case 'agent_id':
            return { arbitrary: ids(x.agentId, x.otherAgentId) };
          case 'store_id':
            return { arbitrary: ids(x.storeId, x.otherStoreId) };
          case 'agent_number':
            return isStringSchema(schema)
              ? { arbitrary: fc.constantFrom(x.agentNumber, 'A0000000') }
              : undefined;
          case 'phone':
            // Operators serve A (a real customer) or an unknown number.
            return operator && isStringSchema(schema)
              ? { arbitrary: fc.oneof(fc.constant(world.customerA.phone!), phone) }
              : undefined;
          case 'location':
            return operator
              ? { arbitrary: fc.oneof(fc.constant(inside()), fc.constant(outside())) }
              : undefined;
        }
      }
      const isString = schema.type === 'string' || typeof schema.pattern === 'string';
      switch (name) {
        case 'customer_id':
        case 'owner_customer_id':
        case 'recipient_id':
          return { arbitrary: customer ? ids(a.customerId, b.customerId) : ids(b.customerId) };
        case 'wallet_id':
        case 'source_wallet_id':
          return { arbitrary: customer ? ids(a.walletId, b.walletId) : ids(b.walletId, a.walletId) };
        case 'to_wallet_number':
          return { arbitrary: fc.constantFrom(b.walletNumber, a.walletNumber) };
        case 'transaction_id':
          return { arbitrary: ids(a.transactionId) };
        case 'application_id':
          return { arbitrary: ids(a.kycApplicationId) };
        case 'document_id':
          return { arbitrary: ids(a.documentId) };
        case 'bank_account_id':
          return { arbitrary: ids(a.bankAccountId) };
        case 'merchant_id':
          return { arbitrary: ids(a.merchantId) };
        case 'dispute_id':
          return { arbitrary: ids(a.disputeId) };
        case 'user_id':
          return { arbitrary: ids(world.targets.userId) };
        case 'role_id':
          return { arbitrary: ids(world.targets.roleId) };
        case 'role':
          return isString ? { arbitrary: fc.constantFrom('auditor', world.targets.roleCode) } : undefined;
        case 'role_code':
          // An access policy for everyone could lock the fuzzing staff out: policies target the target role only.
          return operation.path.startsWith('/api/v1/policy/access')
            ? { arbitrary: fc.constant(world.targets.roleCode), always: true }
            : undefined;
        case 'pin':
        case 'current_pin':
        case 'new_pin':
          // Only A's real PIN: a wrong one would lock A (and A's sign-in) for the rest of the run.
          return customer ? { arbitrary: fc.constant(TEST_PIN), always: true } : undefined;
        case 'phone':
        case 'to_phone':
          return isString ? { arbitrary: phone } : undefined;
        case 'currency':
          return isString ? { arbitrary: fc.constantFrom('KES', 'KES', 'USD', 'UGX', 'XXX') } : undefined;
        case 'amount':
          return schema.type === 'integer' && typeof schema.maximum === 'number' && schema.maximum > 100_000
            ? { arbitrary: fc.integer({ min: 1, max: 100_000 }) }
            : undefined;
        case 'biller_code':
          return { arbitrary: fc.constantFrom('KPLC_POSTPAID', 'KPLC_PREPAID', 'NAIROBI_WATER', 'DSTV_KE') };
        case 'template':
          return { arbitrary: fc.constantFrom('auth.new_device', 'transfer.received') };
        case 'variables':
          return operation.path.includes('/notify/') && operation.path.endsWith('send')
            ? { arbitrary: fc.constant({ name: 'Alice', device: 'phone', time: 'now' }) }
            : undefined;
        default:
          return undefined;
      }
    };
  };

  /** Path parameters: a real object of the right kind (A's for customers), or anything the schema allows. */
  const pathParameter = (who: Who, operation: Operation, schema: JsonSchema): fc.Arbitrary<string> => {
    const path = operation.path;
    const customer = who === 'customer';
    const real: [RegExp, string[]][] = [
      [/\/wallet\/wallet\/\{id\}/, customer ? [a.walletId, b.walletId] : [b.walletId]],
      [/\/transaction\/transaction\/\{id\}/, [a.transactionId]],
      [/\/customer\/customer\/\{id\}/, customer ? [a.customerId, b.customerId] : [b.customerId]],
      [/\/document\/document\/\{id\}/, [a.documentId]],
      [/\/merchant\/merchant\/\{id\}/, [a.merchantId]],
      [/\/merchant\/qr\/\{id\}/, [a.qrId]],
      [/\/wallet\/bank-account\/\{id\}/, [a.bankAccountId]],
      [/\/transaction\/dispute\/\{id\}/, [a.disputeId]],
      [/\/auth\/sessions\/\{id\}/, [a.spareSessionId]],
      [/\/auth\/device\/\{device_id\}/, [a.deviceId]],
      [/\/auth\/push\/challenge\/\{id\}/, [a.pushChallengeId]],
      [/\/notify\/inbox\/\{id\}/, [a.inboxId]],
      [/\/support\/chat\/conversation\/\{id\}/, [a.conversationId]],
      [/\/wallet\/biller\/\{id\}/, [world.targets.billerId]],
      [/\/user\/user\/\{id\}/, [world.targets.userId]],
      [/\/user\/role\/\{id\}/, [world.targets.roleId]],
      [/\/core\/category\/\{id\}/, [world.targets.categoryId]],
      [/\/policy\/access\/\{id\}/, [world.targets.accessPolicyId]],
      [/\/policy\/transaction\/\{id\}/, [world.targets.limitId]],
      [/\/wallet\/product\/\{id\}/, [world.targets.productId]],
      [/\/notify\/template\/\{id\}/, [world.targets.templateId]],
      [/\/notify\/notification\/\{id\}/, [world.targets.notificationId]],
      [/\/customer\/kyc\/tier\/\{code\}/, ['basic', 'standard', 'premium']],
      [/\/agent\/agent\/\{id\}/, [world.agents.agentId, world.agents.otherAgentId]],
      [/\/agent\/store\/\{id\}/, [world.agents.otherStoreId]],
      [/\/agent\/operator\/\{id\}/, [world.agents.spareTellerId]],
      [/\/agent\/admin\/operator\/\{id\}/, [world.agents.spareTellerId]],
      [/\/agent\/(transaction\/)?cash-out\/\{id\}/, [world.agents.cashOutRequestId]],
      [/\/agent\/withdrawal-code\/\{id\}/, [world.agents.withdrawalCodeId]],
      [/\/agent\/float\/deposit\/\{id\}/, [world.agents.floatDepositId]],
      [/\/agent\/commission\/plan\/\{id\}/, [world.agents.planId]],
    ];
    if (/\/admin\/config\/\{key\}/.test(path)) {
      // Only harmless keys for writes (MFA or approval settings would lock the fuzzing staff out).
      return operation.method === 'GET'
        ? fc.oneof(
            fc.constantFrom(...HARMLESS_SETTINGS, 'auth.staff_mfa_required'),
            validValue(schema) as fc.Arbitrary<string>,
          )
        : fc.constantFrom(...HARMLESS_SETTINGS);
    }
    const match = real.find(([pattern]) => pattern.test(path));
    const valid = validValue(schema) as fc.Arbitrary<string>;
    return match ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...match[1]) }, valid) : valid;
  };

  const remote = fc
    .tuple(
      fc.integer({ min: 1, max: 254 }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 1, max: 254 }),
    )
    .map(([x, y, z]) => `10.${x}.${y}.${z}`);
  const idempotency = fc.constantFrom<Case['idempotency']>(
    'fresh',
    'fresh',
    'fresh',
    'fresh',
    'missing',
    'odd',
  );

  function special(operation: Operation, who: Who): fc.Arbitrary<Case['body']> | null {
    switch (operation.operationId) {
      case 'uploadDocument': {
        const file = fc.oneof(
          fc.constant(TINY_PDF),
          fc.constant(Buffer.from('\x89PNG\r\n\x1a\n')),
          fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
        );
        const field = fc.oneof(
          fc.constantFrom('national_id', 'selfie', 'passport', ''),
          fc.string({ maxLength: 300 }),
        );
        const customer = who === 'customer' ? a.customerId : b.customerId;
        return fc.oneof(
          fc
            .tuple(
              fc.oneof(fc.constant(customer), fc.uuid(), fc.string({ maxLength: 40 })),
              field,
              file,
              fc.oneof(fc.constantFrom('id.pdf', '../../etc/passwd', 'a\u0000.pdf', '𝕏.png'), fc.string()),
              fc.constantFrom('application/pdf', 'image/png', 'text/html', 'image/svg+xml'),
            )
            .map(([customerId, type, bytes, name, mime]) => {
              const form = multipart(
                { customer_id: customerId, document_type: type },
                bytes,
                name.replaceAll('"', ''),
                mime,
              );
              return { text: form.payload, type: form.headers['content-type'] };
            }),
          fc.jsonValue().map((value) => ({ text: JSON.stringify(value), type: 'application/json' })),
          fc.constant({ text: '--x\r\n', type: 'multipart/form-data; boundary=x' }),
        );
      }
      case 'twilioStatusCallback':
      case 'africasTalkingDeliveryReport': {
        const example = UNDOCUMENTED_BODIES[operation.operationId]!(world);
        return fc.oneof(
          fc.constant({ text: example.payload, type: example.type }),
          fc
            .dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 60 }), { maxKeys: 6 })
            .map((form) => ({
              text: new URLSearchParams(form).toString(),
              type: 'application/x-www-form-urlencoded',
            })),
          fc.jsonValue().map((value) => ({ text: JSON.stringify(value), type: 'application/json' })),
        );
      }
      case 'sendGridEventWebhook':
        return fc.oneof(
          fc
            .array(
              fc.record({
                event: fc.constantFrom('delivered', 'bounce', 'dropped', 'open', '__proto__'),
                sg_message_id: fc.string({ maxLength: 40 }),
                timestamp: fc.integer(),
              }),
              { maxLength: 5 },
            )
            .map((events) => ({ text: JSON.stringify(events), type: 'application/json' })),
          fc.jsonValue().map((value) => ({ text: JSON.stringify(value), type: 'application/json' })),
        );
    }
    return null;
  }

  function caseFor(operation: Operation, who: Who): fc.Arbitrary<Case> {
    const pathArbitraries: Record<string, fc.Arbitrary<string>> = {};
    for (const parameter of operation.pathParams) {
      pathArbitraries[parameter.name] = pathParameter(who, operation, parameter.schema);
    }
    const validPath = fc.record(pathArbitraries);
    const queryModel: Record<string, fc.Arbitrary<unknown>> = {};
    const requiredQuery: string[] = [];
    const hinted = hints(who, operation);
    for (const parameter of operation.queryParams) {
      const hint = hinted(parameter.name, parameter.schema);
      queryModel[parameter.name] = hint
        ? fc.oneof(hint.arbitrary, validValue(parameter.schema))
        : validValue(parameter.schema);
      if (parameter.required) requiredQuery.push(parameter.name);
    }
    const validQuery = fc.record(queryModel, { requiredKeys: requiredQuery });
    const specialBody = special(operation, who);
    const jsonBody = operation.body?.contentType.includes('json') ? operation.body.schema : null;
    const validBody: fc.Arbitrary<Case['body']> = specialBody
      ? specialBody
      : jsonBody
        ? validValue(jsonBody, hinted).map((value) => ({
            text: JSON.stringify(value),
            type: 'application/json',
          }))
        : fc.constant(null);
    const common = fc.record({ idempotency, remoteAddress: remote });

    const valid = fc.tuple(validPath, validQuery, validBody, common).map(
      ([path, query, body, extra]): Case => ({
        who,
        path,
        query,
        body,
        ...extra,
        valid: true,
        how: 'valid',
      }),
    );
    const invalids: fc.Arbitrary<Case>[] = [];
    if (jsonBody) {
      invalids.push(
        fc
          .tuple(validPath, validQuery, invalidBody(jsonBody, validValue(jsonBody, hinted)), common)
          .map(([path, query, broken, extra]) => ({
            who,
            path,
            query,
            body: { text: broken.text, type: 'application/json' },
            ...extra,
            valid: false,
            how: `body: ${broken.how}`,
          })),
      );
    }
    if (operation.pathParams.length > 0) {
      const first = operation.pathParams[0]!.name;
      invalids.push(
        fc
          .tuple(validPath, fc.constantFrom('%', '%E0%A4%A', '%zz', '%c0%af', '..%2F..%2F', '%00'), common)
          .map(([path, raw, extra]) => ({
            who,
            path: { ...path, [first]: raw },
            query: {},
            body: null,
            ...extra,
            valid: false,
            how: `raw path ${first}`,
            rawPath: true,
          })),
      );
    }
    for (const parameter of operation.pathParams) {
      invalids.push(
        fc
          .tuple(validPath, validQuery, validBody, invalidValue(parameter.schema), common)
          .map(([path, query, body, bad, extra]) => ({
            who,
            path: { ...path, [parameter.name]: typeof bad === 'string' ? bad : JSON.stringify(bad) },
            query,
            body,
            ...extra,
            valid: false,
            how: `path ${parameter.name}`,
          })),
      );
    }
    for (const parameter of operation.queryParams) {
      invalids.push(
        fc
          .tuple(validPath, validQuery, validBody, invalidValue(parameter.schema), common)
          .map(([path, query, body, bad, extra]) => ({
            who,
            path,
            query: { ...query, [parameter.name]: bad },
            body,
            ...extra,
            valid: false,
            how: `query ${parameter.name}`,
          })),
      );
      if (parameter.required) {
        invalids.push(
          fc.tuple(validPath, validQuery, validBody, common).map(([path, query, body, extra]) => {
            const copy = { ...query };
            delete copy[parameter.name];
            return {
              who,
              path,
              query: copy,
              body,
              ...extra,
              valid: false,
              how: `missing query ${parameter.name}`,
            };
          }),
        );
      }
    }
    // Anything may also arrive with a body the operation does not take, or in another media type.
    invalids.push(
      fc
        .tuple(
          validPath,
          validQuery,
          fc.oneof(
            fc.jsonValue().map((value) => ({ text: JSON.stringify(value), type: 'application/json' })),
            fc.string().map((text) => ({ text, type: 'text/plain' })),
            fc.constant({ text: '<x/>', type: 'application/xml' }),
          ),
          common,
        )
        .map(([path, query, body, extra]) => ({
          who,
          path,
          query,
          body,
          ...extra,
          valid: false,
          how: 'odd body',
        })),
    );
    return fc.oneof({ weight: invalids.length > 0 ? 2 : 1, arbitrary: valid }, ...invalids);
  }

  // Built once per operation and principal (building regex arbitraries is the costly part).
  return (operation: Operation): fc.Arbitrary<Case> =>
    fc.oneof(...principalsFor(operation).map((principal) => caseFor(operation, principal)));
}

/** What the app logged for a failed request: the error's type and message, from the captured log. */
function failureLogged(world: World, requestId: string): string {
  for (const line of world.t.logs.lines) {
    if (!line.includes(requestId) || !line.includes('"err"')) continue;
    try {
      const entry = JSON.parse(line) as { err?: { type?: string; message?: string } };
      if (entry.err) return `logged ${entry.err.type ?? 'Error'}: ${String(entry.err.message).slice(0, 300)}`;
    } catch {
      // not JSON
    }
  }
  return 'nothing logged';
}

interface Problem {
  operation: string;
  input: string;
  status: number;
  problem: string;
  body: string;
}

if (sharedServices)
  describe('property 12: schema fuzzing of every documented operation', () => {
    let world: World;
    let operations: Operation[];
    let checker: ResponseChecker;
    let catalog: SecretCatalog;
    /** Responses are scanned as they come (a soak run keeps no bodies): the hits, and how many were scanned. */
    const secretHits: SecretHit[] = [];
    let scanned = 0;

    before(async () => {
      world = await buildWorld({ roles: ['super_admin'] });
      const document = await loadDocument(world.t);
      // FUZZ_PATHS=<regex>: only the operations whose path matches (a quicker look at some; CI fuzzes them all).
      const only = process.env.FUZZ_PATHS ? new RegExp(process.env.FUZZ_PATHS) : null;
      operations = destructiveLast(operationsOf(document)).filter(
        (operation) => !only || only.test(operation.path),
      );
      checker = new ResponseChecker(document);
      catalog = new SecretCatalog(world.t);
    });
    after(async () => {
      await catalog?.close();
      await world?.close();
    });

    test(`every response is < 500 and inside the documented schema (${RUNS} cases per operation)`, async () => {
      const fuzzer = buildFuzzer(world);
      const problems: Problem[] = [];
      const perOperation: string[] = [];
      const started = Date.now();
      let total = 0;
      let relogins = 0;
      let refreshMs = 0;
      let generateMs = 0;
      const principals: Record<Who, Principal> = {
        anonymous: world.anonymous,
        customer: world.customerA,
        staff: world.staff.get('super_admin')!,
        operator: world.operators.tellerX,
        operator_admin: world.operators.adminX,
      };
      for (const operation of operations) {
        // Sessions, PIN and password hashes appear as the run goes: the secrets to look for, as of now.
        let mark = performance.now();
        const secrets = await catalog.refresh();
        refreshMs += performance.now() - mark;
        mark = performance.now();
        const cases = fc.sample(fuzzer(operation), { seed: seedOf(operation.key), numRuns: RUNS });
        generateMs += performance.now() - mark;
        const statuses = new Map<number, number>();
        let valid = 0;
        const opStarted = Date.now();
        for (const item of cases) {
          const principal = principals[item.who];
          const send = () => {
            const headers: Record<string, string> = {};
            if (principal.token) headers.authorization = `Bearer ${principal.token}`;
            if (item.idempotency === 'fresh') headers['idempotency-key'] = `fuzz-${randomUUID()}`;
            if (item.idempotency === 'odd')
              headers['idempotency-key'] = item.remoteAddress.endsWith('1') ? 'x' : 'k'.repeat(300);
            if (item.body) headers['content-type'] = item.body.type;
            const url = item.rawPath
              ? operation.path.replace(/\{([^}]+)\}/g, (_match, name: string) => item.path[name] ?? '')
              : fillPath(operation.path, item.path) + queryString(item.query);
            return world.t.app.inject({
              method: operation.method as 'GET',
              url,
              headers,
              remoteAddress: item.who === 'anonymous' ? item.remoteAddress : '127.0.0.1',
              ...(item.body ? { payload: item.body.text } : {}),
            });
          };
          let response = await send();
          if (
            principal.relogin &&
            response.statusCode === 401 &&
            /"error_code":"(UNAUTHORIZED|INVALID_TOKEN|TOKEN_REVOKED)"/.test(response.body)
          ) {
            // An earlier case logged the principal out or revoked its session: sign in again and resend.
            principal.token = await principal.relogin();
            relogins += 1;
            response = await send();
          }
          total += 1;
          if (item.valid) valid += 1;
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
          scanned += 1;
          secretHits.push(
            ...scanForSecrets(
              [
                {
                  operation: operation.key,
                  principal: principal.name,
                  status: response.statusCode,
                  body: response.body,
                  request: `${JSON.stringify(item.path)} ${JSON.stringify(item.query)} ${item.body ? String(item.body.text) : ''}`,
                },
              ],
              secrets,
            ),
          );
          const verdict = checker.check(operation, {
            statusCode: response.statusCode,
            headers: response.headers,
            body: response.body,
            rawPayload: response.rawPayload,
          });
          const problem =
            response.statusCode >= 500
              ? `status ${response.statusCode}`
              : verdict.ok
                ? null
                : verdict.problem!;
          if (problem) {
            const bodyText = item.body ? String(item.body.text) : '';
            const limit = response.statusCode >= 500 ? 4000 : 300;
            problems.push({
              operation: operation.key,
              input:
                `${item.who} ${item.how}; path ${JSON.stringify(item.path)} query ${JSON.stringify(item.query)}` +
                ` body(${item.body?.type ?? 'none'}) ${bodyText.length > limit ? `${bodyText.slice(0, limit)}… (${bodyText.length} chars)` : bodyText}`,
              status: response.statusCode,
              problem:
                response.statusCode >= 500
                  ? `${problem} (${failureLogged(world, String(response.headers['x-request-id'] ?? ''))})`
                  : problem,
              body: response.body.slice(0, 300),
            });
          }
        }
        perOperation.push(
          `  ${operation.key}: ${cases.length} cases (${valid} valid) in ${Date.now() - opStarted} ms → ` +
            [...statuses]
              .sort(([x], [y]) => x - y)
              .map(([status, count]) => `${status}×${count}`)
              .join(' ') +
            (SPECIAL[operation.operationId] ? `  [special: ${SPECIAL[operation.operationId]}]` : ''),
        );
      }
      const specials = operations.filter((operation) => SPECIAL[operation.operationId]);
      process.stdout.write(
        `fuzz: ${operations.length} operations, ${total} cases (${RUNS} per operation), seed ${SEED}, ` +
          `${Math.round((Date.now() - started) / 1000)} s (generating ${Math.round(generateMs / 1000)} s, ` +
          `reading secrets ${Math.round(refreshMs / 1000)} s), ${relogins} sessions re-established\n` +
          `fuzz: handled explicitly (${specials.length}): ${specials.map((operation) => operation.key).join('; ')}\n` +
          (process.env.FUZZ_VERBOSE === '1' || problems.length > 0 ? `${perOperation.join('\n')}\n` : ''),
      );
      // The list of special cases stays true to the document: each one names an operation that exists.
      for (const id of process.env.FUZZ_PATHS ? [] : Object.keys(SPECIAL)) {
        assert.ok(
          operations.some((operation) => operation.operationId === id),
          `special case ${id} is no longer in the document`,
        );
      }
      const byProblem = new Map<string, Problem[]>();
      for (const problem of problems) {
        const key = `${problem.operation} — ${problem.problem.replace(/\d+ bytes/, 'n bytes')}`;
        byProblem.set(key, [...(byProblem.get(key) ?? []), problem]);
      }
      const report = [...byProblem].map(
        ([key, items]) =>
          `${key} (${items.length}×)\n    input: ${items[0]!.input}\n    response ${items[0]!.status}: ${items[0]!.body}`,
      );
      assert.equal(
        problems.length,
        0,
        `seed ${SEED}: ${problems.length} responses outside the contract:\n${report.join('\n')}`,
      );
    });

    test('no prototype was polluted in the app process', () => {
      const probe = {} as Record<string, unknown>;
      assert.equal(probe.polluted, undefined);
      assert.equal(probe.isAdmin, undefined);
      assert.deepEqual(Object.keys(Object.prototype), []);
    });

    test('no response carries a hash, a PAN, a sealed envelope or a key', () => {
      process.stdout.write(`fuzz: scanned ${scanned} responses for secrets, ${secretHits.length} hits\n`);
      assert.ok(scanned > 0, 'the fuzzing ran');
      assert.deepEqual(secretHits.slice(0, 20), []);
    });
  });
else
  test('property 12: schema fuzzing of every documented operation', { skip: needsSharedServices }, () => {});
