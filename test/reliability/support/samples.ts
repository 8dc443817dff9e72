/**
 * Requests built from the document: a valid-looking value for any schema (required properties, plus optional ones
 * this file knows a good value for), path parameters and ids filled with customer A's real objects where a route
 * takes one, and the list of A's objects a request references (so customer B must get 404).
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { TEST_PIN } from '../../helpers/money.ts';
import { multipart } from '../../helpers/multipart.ts';
import type { JsonSchema, Operation } from './openapi.ts';
import { fillPath, queryString } from './openapi.ts';
import { freshPhone, type Principal, TINY_PDF, type World } from './world.ts';

let freshCounter = 0;
export function fresh(): number {
  freshCounter += 1;
  return freshCounter;
}

const patternCache = new Map<string, string[]>();

/** Strings matching `pattern` within the length bounds (fast-check's regex generator, fixed seed). */
export function stringsMatching(pattern: string, minLength = 0, maxLength = 64): string[] {
  const key = `${pattern}|${minLength}|${maxLength}`;
  let found = patternCache.get(key);
  if (!found) {
    const candidates = fc.sample(fc.stringMatching(new RegExp(pattern)), { seed: 7, numRuns: 400 });
    found = [
      ...new Set(candidates.filter((value) => value.length >= minLength && value.length <= maxLength)),
    ];
    if (found.length === 0) throw new Error(`no sample of /${pattern}/ within ${minLength}..${maxLength}`);
    patternCache.set(key, found);
  }
  return found;
}

function stringSample(schema: JsonSchema): string {
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Math.max(min, 64);
  switch (schema.format) {
    case 'uuid':
      return randomUUID();
    case 'date-time':
      return new Date().toISOString();
    case 'date':
      return '1990-01-15';
    case 'email':
      return `sample${fresh()}@bank.test`;
  }
  if (typeof schema.pattern === 'string') {
    const options = stringsMatching(
      schema.pattern,
      min,
      typeof schema.maxLength === 'number' ? schema.maxLength : 4096,
    );
    // Prefer a non-blank value: some routes reject whitespace-only strings after validation.
    return options.find((value) => value.trim().length > 0) ?? options[0]!;
  }
  const base = 'sample';
  const length = Math.min(max, Math.max(min, base.length));
  return base.repeat(Math.ceil(length / base.length) + 1).slice(0, length);
}

export interface SampleContext {
  /** Value for a property of this name, or undefined to sample from the schema. */
  hint: (name: string, schema: JsonSchema) => unknown;
  /** Also fill optional properties the hint knows. */
  hintedOptional: boolean;
}

const noHints: SampleContext = { hint: () => undefined, hintedOptional: false };

/** A valid-looking value for the schema (first branch of a union, minimum sizes). */
export function sample(schema: JsonSchema, context: SampleContext = noHints, name = ''): unknown {
  if (name) {
    const hinted = context.hint(name, schema);
    if (hinted !== undefined) return hinted;
  }
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = schema[key] as JsonSchema[] | undefined;
    if (branches) {
      const branch = branches.find((item) => item.type !== 'null') ?? branches[0]!;
      return sample(branch, context, name);
    }
  }
  if (Array.isArray(schema.allOf)) {
    return Object.assign({}, ...(schema.allOf as JsonSchema[]).map((item) => sample(item, context, name)));
  }
  if ('default' in schema) return schema.default;
  const type = Array.isArray(schema.type) ? schema.type.find((item) => item !== 'null') : schema.type;
  switch (type) {
    case 'string':
      return stringSample(schema);
    case 'integer':
    case 'number': {
      const minimum = typeof schema.minimum === 'number' ? schema.minimum : 1;
      const maximum = typeof schema.maximum === 'number' ? schema.maximum : Math.max(minimum, 100);
      return Math.min(Math.max(minimum, 1), maximum);
    }
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'array': {
      const count = typeof schema.minItems === 'number' ? schema.minItems : 0;
      const items = (schema.items as JsonSchema | undefined) ?? {};
      const values: unknown[] = [];
      for (let index = 0; index < count; index += 1) {
        let value = sample(items, context);
        // uniqueItems with enums: walk through the enum.
        const options = enumOptions(items);
        if (options) value = options[index % options.length];
        else if (typeof value === 'string' && schema.uniqueItems) value = `${value}${index}`;
        values.push(value);
      }
      return values;
    }
    case 'object': {
      const properties = (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
      const required = new Set((schema.required as string[] | undefined) ?? []);
      const result: Record<string, unknown> = {};
      for (const [property, propertySchema] of Object.entries(properties)) {
        if (required.has(property)) result[property] = sample(propertySchema, context, property);
        else if (context.hintedOptional) {
          const hinted = context.hint(property, propertySchema);
          if (hinted !== undefined) result[property] = hinted;
        }
      }
      const minProperties = typeof schema.minProperties === 'number' ? schema.minProperties : 0;
      for (const [property, propertySchema] of Object.entries(properties)) {
        if (Object.keys(result).length >= minProperties) break;
        if (!(property in result)) result[property] = sample(propertySchema, context, property);
      }
      return result;
    }
  }
  return null;
}

function enumOptions(schema: JsonSchema): unknown[] | null {
  if (Array.isArray(schema.enum)) return schema.enum;
  const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (branches?.every((branch) => Array.isArray(branch.enum) || 'const' in branch)) {
    return branches.flatMap((branch) => (Array.isArray(branch.enum) ? branch.enum : [branch.const]));
  }
  return null;
}

/** Fields whose value, filled from customer A's objects, makes a request act on A's resources. */
export const OWNED_FIELDS = new Set([
  'customer_id',
  'owner_customer_id',
  'wallet_id',
  'source_wallet_id',
  'transaction_id',
  'application_id',
  'document_id',
  'bank_account_id',
  'merchant_id',
  'dispute_id',
  'loan_id',
]);

/** Fields whose value, filled from agent X's objects, makes a request act on agent X's network. */
export const AGENT_FIELDS = new Set(['agent_id', 'store_id']);

interface PathValue {
  value: string;
  ownedByA: boolean;
  /** One of agent X's objects (another agent's operator must get 404). */
  ofAgentX?: boolean;
}

/** Path templates → the object of A (or target) their `{id}`-like parameter names. */
function pathValue(world: World, path: string, name: string): PathValue {
  const a = world.a;
  const x = world.agents;
  const own = (value: string) => ({ value, ownedByA: true });
  const other = (value: string) => ({ value, ownedByA: false });
  // Agent X's objects take the `{id}` parameter; another (`{device_id}`) is a sample.
  const agentX = (value: string) =>
    name === 'id' ? { value, ownedByA: false, ofAgentX: true } : { value: 'sample', ownedByA: false };
  const rules: [RegExp, () => PathValue][] = [
    [/^\/api\/v1\/agent\/agent\/\{id\}/, () => agentX(x.agentId)],
    [/^\/api\/v1\/agent\/store\/\{id\}/, () => agentX(x.otherStoreId)],
    [/^\/api\/v1\/agent\/operator\/\{id\}/, () => agentX(x.spareTellerId)],
    [/^\/api\/v1\/agent\/admin\/operator\/\{id\}/, () => agentX(x.spareTellerId)],
    [/^\/api\/v1\/agent\/transaction\/cash-out\/\{id\}/, () => agentX(x.cashOutRequestId)],
    [/^\/api\/v1\/agent\/float\/deposit\/\{id\}/, () => agentX(x.floatDepositId)],
    // A's side of the same cash-out request, and A's withdrawal code.
    [/^\/api\/v1\/agent\/cash-out\/\{id\}/, () => own(x.cashOutRequestId)],
    [/^\/api\/v1\/agent\/withdrawal-code\/\{id\}/, () => own(x.withdrawalCodeId)],
    [/^\/api\/v1\/agent\/commission\/plan\/\{id\}/, () => other(x.planId)],
    [/^\/api\/v1\/wallet\/wallet\/\{id\}/, () => own(a.walletId)],
    [/^\/api\/v1\/transaction\/transaction\/\{id\}/, () => own(a.transactionId)],
    [/^\/api\/v1\/customer\/customer\/\{id\}/, () => own(a.customerId)],
    [/^\/api\/v1\/document\/document\/\{id\}/, () => own(a.documentId)],
    [/^\/api\/v1\/merchant\/merchant\/\{id\}/, () => own(a.merchantId)],
    [/^\/api\/v1\/merchant\/qr\/\{id\}/, () => own(a.qrId)],
    [/^\/api\/v1\/wallet\/bank-account\/\{id\}/, () => own(a.bankAccountId)],
    [/^\/api\/v1\/transaction\/dispute\/\{id\}/, () => own(a.disputeId)],
    [/^\/api\/v1\/auth\/sessions\/\{id\}/, () => own(a.spareSessionId)],
    [/^\/api\/v1\/auth\/device\/\{device_id\}/, () => own(a.deviceId)],
    [/^\/api\/v1\/auth\/push\/challenge\/\{id\}/, () => own(a.pushChallengeId)],
    [/^\/api\/v1\/notify\/inbox\/\{id\}/, () => own(a.inboxId)],
    [/^\/api\/v1\/support\/chat\/conversation\/\{id\}/, () => own(a.conversationId)],
    [/^\/api\/v1\/loan\/loan\/\{id\}/, () => own(a.loanId)],
    [/^\/api\/v1\/loan\/application\/\{id\}/, () => own(a.loanApplicationId)],
    [/^\/api\/v1\/loan\/product\/\{id\}/, () => other(world.targets.loanProductId)],
    [/^\/api\/v1\/wallet\/biller\/\{id\}/, () => other(world.targets.billerId)],
    [/^\/api\/v1\/user\/user\/\{id\}/, () => other(world.targets.userId)],
    [/^\/api\/v1\/user\/role\/\{id\}/, () => other(world.targets.roleId)],
    [/^\/api\/v1\/core\/category\/\{id\}/, () => other(world.targets.categoryId)],
    [/^\/api\/v1\/policy\/access\/\{id\}/, () => other(world.targets.accessPolicyId)],
    [/^\/api\/v1\/policy\/transaction\/\{id\}/, () => other(world.targets.limitId)],
    [/^\/api\/v1\/wallet\/product\/\{id\}/, () => other(world.targets.productId)],
    [/^\/api\/v1\/notify\/template\/\{id\}/, () => other(world.targets.templateId)],
    [/^\/api\/v1\/notify\/notification\/\{id\}/, () => other(world.targets.notificationId)],
    [/^\/api\/v1\/admin\/config\/\{key\}/, () => other('app.support_contact')],
    [/^\/api\/v1\/customer\/kyc\/tier\/\{code\}/, () => other('premium')],
  ];
  for (const [pattern, value] of rules) if (pattern.test(path)) return value();
  return { value: name === 'id' ? randomUUID() : 'sample', ownedByA: false };
}

/**
 * Values for properties (body and query) by name. `undefined`: sample from the schema. Ids are A's objects, payees
 * are B's, names and codes are fresh so creations do not collide.
 */
export function hintFor(world: World, operation: Operation, principal: Principal) {
  const a = world.a;
  return (name: string, schema: JsonSchema): unknown => {
    switch (name) {
      case 'customer_id':
        // Staff-only on conversion; customers act on themselves there.
        return operation.operationId === 'convertCurrency' && principal.kind === 'customer'
          ? undefined
          : a.customerId;
      case 'owner_customer_id':
      case 'recipient_id':
        return a.customerId;
      case 'wallet_id':
      case 'source_wallet_id':
        return a.walletId;
      case 'to_wallet_number':
        return world.b.walletNumber;
      case 'transaction_id':
        return a.transactionId;
      case 'application_id':
        // The loan routes take A's loan application; the KYC routes A's KYC application.
        return operation.path.startsWith('/api/v1/loan/') ? a.loanApplicationId : a.kycApplicationId;
      case 'loan_id':
        return a.loanId;
      case 'amount_minor':
        // Within the loan product's range, so an application goes through eligibility, fraud and scoring.
        return operation.operationId === 'addLoanApplication' ? 200_000 : undefined;
      case 'product_id':
        return operation.path.startsWith('/api/v1/loan/') ? world.targets.loanProductId : undefined;
      case 'document_id':
        return a.documentId;
      case 'bank_account_id':
        return a.bankAccountId;
      case 'merchant_id':
        return a.merchantId;
      case 'dispute_id':
        return a.disputeId;
      case 'user_id':
        return world.targets.userId;
      case 'role_id':
        return world.targets.roleId;
      case 'role':
        return operation.operationId === 'assignRole' || operation.operationId === 'removeRole'
          ? 'auditor'
          : undefined;
      case 'pin':
      case 'current_pin':
      case 'new_pin':
        return TEST_PIN;
      case 'currency':
        return typeof schema.pattern === 'string' || schema.type === 'string' ? 'KES' : undefined;
      case 'from_currency':
      case 'base_currency':
        return 'USD';
      case 'to_currency':
      case 'quote_currency':
        return 'KES';
      case 'amount':
        // Inside every biller's and product's range, and within the schema's bounds.
        return schema.type === 'integer'
          ? Math.min(Number(schema.maximum ?? 5000), Math.max(5000, Number(schema.minimum ?? 0)))
          : undefined;
      case 'phone':
        return schema.type === 'string' ? freshPhone() : undefined;
      case 'tier':
        return 'standard';
      case 'username':
        return `sample.user${fresh()}`;
      case 'email':
        return schema.type === 'string' ? `sample${fresh()}@bank.test` : undefined;
      case 'biller_code':
        return 'KPLC_POSTPAID';
      case 'reference':
        return operation.operationId === 'createDynamicMerchantQr' ? `REF${fresh()}` : '1234567';
      case 'target_tier':
        return 'premium';
      case 'kyc_tier':
        return schema.type === 'string' ? 'basic' : undefined;
      case 'template':
        return 'auth.new_device';
      case 'variables':
        return operation.path.startsWith('/api/v1/notify/notification/send') ||
          operation.path === '/api/v1/notify/send'
          ? { name: 'Alice', device: 'phone', time: 'now' }
          : undefined;
      case 'value':
        return operation.operationId === 'updateSetting' ? 'support@bank.test' : undefined;
      case 'password':
      case 'current_password':
        // Never the real one: these routes must not change or disable anything of the principal.
        return 'not the password 123';
      case 'new_password':
        return 'a brand new passphrase 9';
      case 'code':
        return typeof schema.pattern === 'string' ? uniqueFromPattern(schema) : undefined;
      // The agent network: agent X's own float, teller X's store, X's number.
      case 'agent_id':
        // A float is named by exactly one of agent_id and store_id: these name X's store.
        if (['requestAgentFloatDeposit', 'rebalanceAgentFloat'].includes(operation.operationId))
          return undefined;
        return operation.path.startsWith('/api/v1/agent/') ? world.agents.agentId : undefined;
      case 'store_id':
        return operation.path.startsWith('/api/v1/agent/') ? world.agents.storeId : undefined;
      case 'agent_number':
        return world.agents.agentNumber;
      default:
        return undefined;
    }
  };
}

function uniqueFromPattern(schema: JsonSchema): string {
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : 64;
  const pattern = schema.pattern as string;
  const candidates = fc.sample(fc.stringMatching(new RegExp(pattern)), { seed: fresh(), numRuns: 50 });
  const fitting = candidates.filter((value) => value.length >= Math.max(min, 4) && value.length <= max);
  return fitting[0] ?? stringsMatching(pattern, min, max)[0]!;
}

export interface BuiltRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer | object;
  /** A's objects the request references (path, query or body). */
  ownedRefs: string[];
  /** Agent X's objects the request references (path, query or top-level body). */
  agentRefs: string[];
  /** The JSON body sent, when there is one. */
  body?: Record<string, unknown>;
}

/** Operations whose request body the document does not describe (multipart, provider callbacks). */
export const UNDOCUMENTED_BODIES: Record<
  string,
  (world: World) => { payload: Buffer | string; type: string }
> = {
  uploadDocument: (world) => {
    const form = multipart(
      { customer_id: world.a.customerId, document_type: 'national_id' },
      TINY_PDF,
      'id.pdf',
    );
    return { payload: form.payload, type: form.headers['content-type'] };
  },
  twilioStatusCallback: () => ({
    payload: 'MessageSid=SM0000&MessageStatus=delivered',
    type: 'application/x-www-form-urlencoded',
  }),
  africasTalkingDeliveryReport: () => ({
    payload: 'id=ATXid_0000&status=Success',
    type: 'application/x-www-form-urlencoded',
  }),
  sendGridEventWebhook: () => ({ payload: '[]', type: 'application/json' }),
};

/** A minimal, valid-looking request for the operation as this principal would send it. */
export function buildRequest(world: World, operation: Operation, principal: Principal): BuiltRequest {
  const ownedRefs: string[] = [];
  const agentRefs: string[] = [];
  const context: SampleContext = { hint: hintFor(world, operation, principal), hintedOptional: true };
  const pathValues: Record<string, string> = {};
  for (const parameter of operation.pathParams) {
    const { value, ownedByA, ofAgentX } = pathValue(world, operation.path, parameter.name);
    pathValues[parameter.name] = value;
    if (ownedByA) ownedRefs.push(`path ${parameter.name}`);
    if (ofAgentX) agentRefs.push(`path ${parameter.name}`);
  }
  const query: Record<string, unknown> = {};
  for (const parameter of operation.queryParams) {
    const hinted = context.hint(parameter.name, parameter.schema);
    if (parameter.required)
      query[parameter.name] = hinted ?? sample(parameter.schema, context, parameter.name);
    else if (hinted !== undefined && (OWNED_FIELDS.has(parameter.name) || AGENT_FIELDS.has(parameter.name)))
      query[parameter.name] = hinted;
    if (query[parameter.name] !== undefined && OWNED_FIELDS.has(parameter.name)) {
      ownedRefs.push(`query ${parameter.name}`);
    }
    if (query[parameter.name] !== undefined && AGENT_FIELDS.has(parameter.name)) {
      agentRefs.push(`query ${parameter.name}`);
    }
  }
  const headers: Record<string, string> = {};
  if (principal.token) headers.authorization = `Bearer ${principal.token}`;
  if (operation.method === 'POST') headers['idempotency-key'] = `reliability-${randomUUID()}`;
  let payload: BuiltRequest['payload'];
  let body: Record<string, unknown> | undefined;
  if (operation.body?.contentType.includes('json')) {
    body = sample(operation.body.schema, context) as Record<string, unknown>;
    for (const field of Object.keys(body ?? {})) {
      if (OWNED_FIELDS.has(field)) ownedRefs.push(`body ${field}`);
      if (AGENT_FIELDS.has(field) && operation.path.startsWith('/api/v1/agent/'))
        agentRefs.push(`body ${field}`);
    }
    payload = body as object;
  } else if (UNDOCUMENTED_BODIES[operation.operationId]) {
    const special = UNDOCUMENTED_BODIES[operation.operationId]!(world);
    payload = special.payload;
    headers['content-type'] = special.type;
    if (operation.operationId === 'uploadDocument') ownedRefs.push('form customer_id');
  }
  return {
    method: operation.method,
    url: fillPath(operation.path, pathValues) + queryString(query),
    headers,
    payload,
    ownedRefs,
    agentRefs,
    body,
  };
}
